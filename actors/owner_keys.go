package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// A data owner's part in a KeyGen scheme's key exchange (crypto.KeyGen):
// once at set-up (ckks-threshold) or at the start of every round
// (secagg).
//
//	data owner --KeyShare--------> secure worker, and other data owners
//	secure worker --CollectiveKey--> every data owner whose share it took
//
// At set-up the owner answers Ready once its keys are complete; in a round
// it protects its trained update once they are.

// ownerKeys is the state of a data owner's key exchange.
type ownerKeys struct {
	x          crypto.KeyExchanger
	everyRound bool
	round      int32           // the exchange under way: 0 at set-up, else its round
	peers      map[string]bool // owners whose key message of this exchange is in
	collective bool            // the secure worker's collective key is in
	complete   bool            // every key this owner needs is in
}

// startKeys starts the exchange of round (0: set-up): it sends this
// owner's key messages and then takes the ones that came before them.
func (o *dataOwner) startKeys(ctx actor.Context, round int32) error {
	k := o.keys
	if k.x == nil {
		if k.x, _ = o.protector.(crypto.KeyExchanger); k.x == nil {
			return fmt.Errorf("a %s protector makes no keys", o.fed.Scheme.Name())
		}
	}
	msgs, err := k.x.KeyShares()
	if err != nil {
		return fmt.Errorf("key shares: %w", err)
	}
	o.spans = append(o.spans, o.work("key shares", o.step(sim.OpKeyShare, len(o.fed.Owners))))
	k.round, k.peers, k.collective, k.complete = round, map[string]bool{}, false, false
	var out []outgoing
	for _, msg := range msgs {
		to, err := o.partyName(msg.To)
		if err != nil {
			return err
		}
		out = append(out, outgoing{to, &KeyShare{Sender: o.self.Name, Payload: msg.Payload, Round: round}})
	}
	o.sendAll(ctx, out)
	for _, m := range o.early.take() {
		var err error
		switch e := m.(type) {
		case *KeyShare:
			err = o.keyShare(ctx, e)
		case *CollectiveKey:
			err = o.collectiveKey(ctx, e)
		}
		if err != nil {
			o.rejected.add(o.env, o.round, m, err)
		}
	}
	return nil
}

// keyShare takes a peer owner's key message.
func (o *dataOwner) keyShare(ctx actor.Context, m *KeyShare) error {
	k := o.keys
	from := o.fed.ownerIndex(m.Sender)
	switch {
	case k == nil:
		return reject(ReasonUnexpected, "key share from %s: %s makes no keys", m.Sender, o.fed.Scheme.Name())
	case from < 0 || from == o.idx:
		return reject(ReasonUnknownSender, "key share from unknown sender %q", m.Sender)
	case k.x == nil || m.Round > k.round:
		return o.keepKeyMessage(m)
	case m.Round < k.round:
		return reject(ReasonStale, "key share from %s for round %d at round %d", m.Sender, m.Round, k.round)
	case k.peers[m.Sender]:
		return reject(ReasonDuplicate, "duplicate key share from %s", m.Sender)
	}
	complete, err := k.x.ReceiveKey(crypto.Party(from), m.Payload)
	if err != nil {
		return o.keysFailed(ctx, fmt.Errorf("key share from %s: %w", m.Sender, err))
	}
	o.wait(o.arrival(m, len(o.fed.Owners)))
	k.peers[m.Sender] = true
	o.keysIn(ctx, complete)
	return nil
}

// collectiveKey takes the secure worker's collective key.
func (o *dataOwner) collectiveKey(ctx actor.Context, m *CollectiveKey) error {
	k := o.keys
	switch {
	case k == nil:
		return reject(ReasonUnexpected, "collective key: %s makes no keys", o.fed.Scheme.Name())
	case k.x == nil || m.Round > k.round:
		return o.keepKeyMessage(m)
	case m.Round < k.round:
		return reject(ReasonStale, "collective key for round %d at round %d", m.Round, k.round)
	case k.collective:
		return reject(ReasonDuplicate, "duplicate collective key for round %d", m.Round)
	}
	complete, err := k.x.ReceiveKey(crypto.SecureWorker, m.Payload)
	if err != nil {
		return o.keysFailed(ctx, fmt.Errorf("collective key: %w", err))
	}
	o.wait(o.arrival(m, 1))
	k.collective = true
	o.keysIn(ctx, complete)
	return nil
}

// keepKeyMessage holds a key message until this owner starts its exchange.
func (o *dataOwner) keepKeyMessage(m proto.Message) error {
	return o.early.keep(m, 2*len(o.fed.Owners))
}

// keysIn goes on once the owner's keys are complete: at set-up it is
// ready, in a round it protects.
func (o *dataOwner) keysIn(ctx actor.Context, complete bool) {
	k := o.keys
	if !complete || k.complete {
		return
	}
	k.complete = true
	if k.round == 0 {
		_ = o.ready(ctx, nil)
		return
	}
	o.protectPending(ctx)
}

// keysFailed reports a failed set-up exchange to the model owner, and
// returns err to refuse the message that made it fail.
func (o *dataOwner) keysFailed(ctx actor.Context, err error) error {
	if o.keys.round == 0 {
		return o.ready(ctx, err)
	}
	return err
}
