package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/fedactor/fedactor/actors/sim"
)

// A data owner that holds shares, in Holding schemes (crypto.Holding: ss,
// ss-shamir): it keeps the shares other owners address to it until the
// secure worker names the round's contributors, then folds exactly theirs.
//
//	data owner    --ProtectedUpdate(share)--> holding data owner
//	secure worker --CombineRequest(contributors)--> holding data owner
//	holding owner --Partial-------------------> model owner

// holdShare keeps a share addressed to this owner until the secure worker
// names the round's contributors.
func (o *dataOwner) holdShare(m *ProtectedUpdate) error {
	switch {
	case o.holder == nil:
		return reject(ReasonUnexpected, "share from %s, but this owner holds no shares", m.Sender)
	case o.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "share from unknown sender %q", m.Sender)
	case m.Round < o.round:
		return reject(ReasonStale, "share from %s for round %d at round %d", m.Sender, m.Round, o.round)
	case m.Round > o.round+1:
		return reject(ReasonFuture, "share from %s for round %d at round %d", m.Sender, m.Round, o.round)
	}
	if err := o.holder.Check(m.Payload, 1); err != nil {
		return fmt.Errorf("share from %s: %w", m.Sender, err)
	}
	byRound := o.shares[m.Round]
	if byRound == nil {
		byRound = map[string][]byte{}
		o.shares[m.Round] = byRound
	}
	if _, dup := byRound[m.Sender]; dup {
		return reject(ReasonDuplicate, "duplicate share from %s for round %d", m.Sender, m.Round)
	}
	byRound[m.Sender] = m.Payload
	o.sharesIn[m.Round] = max(o.sharesIn[m.Round], o.arrival(m, len(o.fed.Owners)))
	return nil
}

// combine sums the shares of the round's contributors and sends the
// partial to the model owner. The request may come before the round's
// global model (from another sender, it may overtake it): the shares are
// already here.
func (o *dataOwner) combine(ctx actor.Context, m *CombineRequest) error {
	switch {
	case o.holder == nil:
		return reject(ReasonUnexpected, "combine request, but this owner holds no shares")
	case m.Round < o.round:
		return reject(ReasonStale, "combine request for round %d at round %d", m.Round, o.round)
	case m.Round > o.round+1:
		return reject(ReasonFuture, "combine request for round %d at round %d", m.Round, o.round)
	case m.Round == o.round && o.silent != Stay:
		return nil // dropped out: it answers nothing this round
	}
	for i, c := range m.Contributors {
		switch {
		case o.fed.ownerIndex(c) < 0:
			return reject(ReasonUnknownSender, "combine request names unknown owner %q", c)
		case slices.Contains(m.Contributors[:i], c):
			return reject(ReasonDuplicate, "combine request names %s twice", c)
		}
	}
	o.wait(max(o.arrival(m, 1), o.sharesIn[m.Round]))
	span := o.work("combine", time.Duration(len(m.Contributors)-1)*o.step(sim.OpCombine, 0))
	p := &Partial{Round: m.Round, Holder: o.self.Name, Contributors: m.Contributors, Spans: []*Span{span}}
	start := time.Now()
	var acc []byte
	var err error
	byRound := o.shares[m.Round]
	for _, c := range m.Contributors {
		share, ok := byRound[c]
		if !ok {
			err = fmt.Errorf("no share from %s", c)
			break
		}
		if acc, err = fold(o.holder, acc, share); err != nil {
			break
		}
	}
	for r := range o.shares {
		if r <= m.Round {
			delete(o.shares, r)
			delete(o.sharesIn, r)
		}
	}
	p.CombineSeconds = time.Since(start).Seconds()
	if err != nil {
		p.Error = err.Error()
	} else {
		p.Payload = acc
	}
	o.send(ctx, ModelOwnerName, p)
	return nil
}
