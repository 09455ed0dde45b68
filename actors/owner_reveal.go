package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// A data owner's answer to the secure worker in RevealSharing schemes
// (crypto.RevealSharing: ckks-threshold, secagg):
//
//	secure worker --RevealRequest(aggregate, contributors, active)--> data owner
//	data owner    --RevealShare--------------------------------------> secure worker

// revealShare answers the secure worker's request for a reveal share.
func (o *dataOwner) revealShare(ctx actor.Context, m *RevealRequest) error {
	rs, ok := o.protector.(crypto.RevealSharer)
	switch {
	case !ok:
		return reject(ReasonUnexpected, "reveal request: %s has no reveal shares (or no set-up yet)", o.fed.Scheme.Name())
	case m.Round != o.round:
		return roundCheck("reveal request", m.Round, o.round)
	case o.silent != Stay:
		return nil // dropped out: it answers nothing this round
	}
	contributors, err := o.indices("contributors", m.Contributors)
	if err != nil {
		return err
	}
	active, err := o.indices("active owners", m.Active)
	if err != nil {
		return err
	}
	o.wait(o.arrival(m, 1))
	start := time.Now()
	share, err := rs.RevealShare(m.Aggregate, contributors, active)
	if err != nil {
		return fmt.Errorf("reveal share: %w", err)
	}
	o.work("reveal share", o.step(sim.OpRevealShare, len(active)))
	o.send(ctx, SecureWorkerName, &RevealShare{Round: m.Round, Sender: o.self.Name, Payload: share,
		Seconds: time.Since(start).Seconds(), Attempt: m.Attempt})
	return nil
}

// indices maps owner names, the list called what of a request, to their
// indices in index order, refusing unknown and repeated names.
func (o *dataOwner) indices(what string, names []string) ([]int, error) {
	out := make([]int, 0, len(names))
	for _, n := range names {
		i := o.fed.ownerIndex(n)
		switch {
		case i < 0:
			return nil, reject(ReasonUnknownSender, "reveal request's %s name unknown owner %q", what, n)
		case slices.Contains(out, i):
			return nil, reject(ReasonDuplicate, "reveal request's %s name %s twice", what, n)
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return out, nil
}
