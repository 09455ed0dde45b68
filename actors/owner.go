package actors

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/nn"
)

// dataOwner is a data owner's actor. Its shard never leaves it: it trains
// the global model locally and sends only protected updates, and, in schemes
// where data owners hold shares, combines the shares addressed to it.
type dataOwner struct {
	*env
	idx  int
	self Owner

	opt    nn.Optimizer // kept between rounds unless Train.ResetOptimizer
	params []float64    // the trained model, until it is protected
	global []float64    // the round's global model, until then too
	noise  *rand.Rand   // DP noise, with distributed Privacy

	flow      crypto.Flow
	protector crypto.Protector
	holder    crypto.Combiner // with Flow.HoldingOwners > idx
	// Key generation progress (Flow.KeyGen).
	needCollective bool
	peerShares     map[string]bool
	keyRound       int32           // round of the latest key shares sent (0: set-up)
	early          []proto.Message // key messages for a later key round

	round   int32                       // the latest round
	silent  Dropout                     // whether and when this owner drops out of round
	pending *OwnerReport                // trained, waiting for the round's keys
	shares  map[int32]map[string][]byte // holder: round -> sender -> share
	resumed bool                        // the optimizer state was restored
}

func newDataOwner(e *env, idx int) *dataOwner {
	return &dataOwner{
		env:    e,
		idx:    idx,
		self:   e.fed.Owners[idx],
		shares: map[int32]map[string][]byte{},
	}
}

// Receive implements actor.Actor.
func (o *dataOwner) Receive(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Restarting:
		o.fed.Logger.Warn("data owner failed and is restarted by its supervisor", "owner", o.self.Name, "round", o.round)
		o.pending = nil
	case *Setup:
		err = o.setup(ctx, m)
	case *KeyShare:
		err = o.keyShare(ctx, m)
	case *CollectiveKey:
		err = o.collectiveKey(ctx, m)
	case *GlobalModel:
		o.trainRound(ctx, m)
	case *ProtectedUpdate:
		err = o.holdShare(m)
	case *CombineRequest:
		o.combine(ctx, m)
	case *RevealRequest:
		err = o.revealShare(ctx, m)
	case *Stop:
		o.stop(o.self.Name)
	}
	if err != nil {
		o.fed.Logger.Warn("data owner rejected a message", "owner", o.self.Name, "err", err)
	}
}

func (o *dataOwner) setup(ctx actor.Context, m *Setup) error {
	if o.protector != nil {
		return errors.New("duplicate set-up")
	}
	s := o.fed.Scheme
	if m.Scheme != s.Name() {
		return fmt.Errorf("set-up for scheme %q, running %q", m.Scheme, s.Name())
	}
	p, err := s.NewProtector(o.idx, m.Payload, o.fed.Rand)
	if err != nil {
		return o.ready(ctx, fmt.Errorf("set-up: %w", err))
	}
	o.protector, o.flow = p, s.Flow()
	if o.idx < o.flow.HoldingOwners {
		if o.holder, err = s.NewCombiner(m.Payload); err != nil {
			return o.ready(ctx, fmt.Errorf("set-up: %w", err))
		}
	}
	if !o.flow.KeyGen {
		return o.ready(ctx, nil)
	}
	o.needCollective = true
	o.peerShares = map[string]bool{}
	if err := o.sendKeyShares(ctx, 0); err != nil {
		return o.ready(ctx, err)
	}
	return o.maybeReady(ctx)
}

// sendKeyShares sends this owner's key-generation messages for round (0:
// set-up) and then takes the peers' messages that came before them.
func (o *dataOwner) sendKeyShares(ctx actor.Context, round int32) error {
	msgs, err := o.protector.KeyShares()
	if err != nil {
		return fmt.Errorf("key shares: %w", err)
	}
	o.keyRound = round
	for _, msg := range msgs {
		to, err := o.partyName(msg.To)
		if err != nil {
			return err
		}
		o.send(ctx, to, &KeyShare{Sender: o.self.Name, Payload: msg.Payload, Round: round})
	}
	early := o.early
	o.early = nil
	for _, m := range early {
		var err error
		switch e := m.(type) {
		case *KeyShare:
			err = o.keyShare(ctx, e)
		case *CollectiveKey:
			err = o.collectiveKey(ctx, e)
		}
		if err != nil {
			o.fed.Logger.Warn("data owner rejected a message", "owner", o.self.Name, "err", err)
		}
	}
	return nil
}

// keep holds a key-generation message until this owner has made its own
// key shares for that round.
func (o *dataOwner) keep(m proto.Message) error {
	if len(o.early) >= 2*len(o.fed.Owners) {
		return fmt.Errorf("too many early %s messages", kindOf(m))
	}
	o.early = append(o.early, m)
	return nil
}

// keyShare takes a peer owner's key-generation message.
func (o *dataOwner) keyShare(ctx actor.Context, m *KeyShare) error {
	from := o.fed.ownerIndex(m.Sender)
	switch {
	case from < 0 || from == o.idx:
		return fmt.Errorf("key share from unknown sender %q", m.Sender)
	case o.protector == nil || m.Round > o.keyRound:
		return o.keep(m)
	case m.Round < o.keyRound:
		return fmt.Errorf("key share from %s for round %d at round %d", m.Sender, m.Round, o.keyRound)
	case !o.flow.PeerShares || o.peerShares[m.Sender]:
		return fmt.Errorf("unexpected key share from %s", m.Sender)
	}
	if err := o.protector.ReceiveSetup(crypto.Party(from), m.Payload); err != nil {
		err = fmt.Errorf("key share from %s: %w", m.Sender, err)
		if m.Round == 0 {
			return o.ready(ctx, err)
		}
		return err
	}
	o.peerShares[m.Sender] = true
	if m.Round == 0 {
		return o.maybeReady(ctx)
	}
	return nil
}

func (o *dataOwner) collectiveKey(ctx actor.Context, m *CollectiveKey) error {
	switch {
	case o.protector == nil || m.Round > o.keyRound:
		return o.keep(m)
	case m.Round < o.keyRound || !o.needCollective:
		return fmt.Errorf("unexpected collective key for round %d", m.Round)
	}
	if err := o.protector.ReceiveSetup(crypto.SecureWorker, m.Payload); err != nil {
		err = fmt.Errorf("collective key: %w", err)
		if m.Round == 0 {
			return o.ready(ctx, err)
		}
		return err
	}
	o.needCollective = false
	if m.Round == 0 {
		return o.maybeReady(ctx)
	}
	o.protectPending(ctx)
	return nil
}

// maybeReady reports readiness once key generation is complete.
func (o *dataOwner) maybeReady(ctx actor.Context) error {
	if o.needCollective || (o.flow.PeerShares && len(o.peerShares) < len(o.fed.Owners)-1) {
		return nil
	}
	return o.ready(ctx, nil)
}

// ready tells the model owner how set-up ended and returns err.
func (o *dataOwner) ready(ctx actor.Context, err error) error {
	r := &Ready{Sender: o.self.Name}
	if err != nil {
		r.Error = err.Error()
	}
	o.send(ctx, ModelOwnerName, r)
	return err
}

// trainRound trains the global model on the owner's shard and protects
// and sends the result (once the round's keys are in, with Flow.RoundKeys).
func (o *dataOwner) trainRound(ctx actor.Context, m *GlobalModel) {
	rep := &OwnerReport{Round: m.Round, Sender: o.self.Name}
	if err := o.checkGlobal(m); err != nil {
		o.fed.Logger.Warn("data owner rejected a message", "owner", o.self.Name, "err", err)
		return
	}
	o.round, o.silent, o.pending = m.Round, Stay, nil
	var err error
	if o.flow.RoundKeys {
		o.needCollective = true
		o.peerShares = map[string]bool{}
		err = o.sendKeyShares(ctx, m.Round)
	}
	if o.self.Drop != nil {
		o.silent = o.self.Drop(int(m.Round))
	}
	if o.silent == BeforeSend {
		o.fed.Logger.Debug("data owner drops out before sending", "owner", o.self.Name, "round", m.Round)
		return
	}
	if err == nil {
		start := time.Now()
		rep.TrainLoss, err = o.train(m)
		rep.TrainSeconds = time.Since(start).Seconds()
	}
	o.pending = rep
	if err != nil {
		o.fail(ctx, err)
		return
	}
	o.protectPending(ctx)
}

// protectPending protects and sends the trained update, unless it still
// waits for the round's collective key.
func (o *dataOwner) protectPending(ctx actor.Context) {
	rep := o.pending
	if rep == nil || rep.Round != o.round || (o.flow.RoundKeys && o.needCollective) {
		return
	}
	o.pending = nil
	start := time.Now()
	msgs, err := o.protect(rep.Round)
	o.params, o.global = nil, nil // an owner holds no model between rounds
	rep.ProtectSeconds = time.Since(start).Seconds()
	type addressed struct {
		to string
		u  *ProtectedUpdate
	}
	var out []addressed
	for _, msg := range msgs {
		if err != nil {
			break
		}
		u := &ProtectedUpdate{Round: rep.Round, Sender: o.self.Name, Payload: msg.Payload}
		if msg.To == crypto.Party(o.idx) {
			err = o.holdShare(u) // our own share stays here
			continue
		}
		to := o.fed.updateWorker(o.idx) // in a tree, its group's worker
		if msg.To != crypto.SecureWorker {
			to, err = o.partyName(msg.To)
		}
		if err == nil {
			rep.BytesSent += int64(len(msg.Payload))
			out = append(out, addressed{to, u})
		}
	}
	if err != nil {
		o.fail(ctx, err)
		return
	}
	// The report goes first: the updates reach the model owner only
	// through a holder, so it arrives before the round can close.
	o.send(ctx, ModelOwnerName, rep)
	for _, a := range out {
		o.send(ctx, a.to, a.u)
	}
	if o.silent == BeforeUnmask {
		o.fed.Logger.Debug("data owner drops out before unmasking", "owner", o.self.Name, "round", rep.Round)
	}
}

// protect protects the trained model of round with its weight, clipped
// and noised first with Privacy.
func (o *dataOwner) protect(round int32) ([]crypto.Message, error) {
	_, _, n := o.shard(o.idx, round)
	weight := o.fed.Strategy.Weight(n)
	if p := o.fed.Privacy; p != nil {
		if o.noise == nil && p.Distributed {
			var err error
			if o.noise, err = noiseSource(o.fed.Rand); err != nil {
				return nil, err
			}
		}
		if err := p.privatize(o.params, o.global, len(o.fed.Owners), o.noise); err != nil {
			return nil, fmt.Errorf("privacy: %w", err)
		}
		weight = 1
	}
	return o.protector.Protect(o.params, weight)
}

// fail reports a failed round to the model owner.
func (o *dataOwner) fail(ctx actor.Context, err error) {
	rep := o.pending
	if rep == nil {
		rep = &OwnerReport{Round: o.round, Sender: o.self.Name}
	}
	o.pending = nil
	rep.Error = err.Error()
	o.fed.Logger.Warn("data owner failed its round", "owner", o.self.Name, "round", rep.Round, "err", err)
	o.send(ctx, ModelOwnerName, rep)
}

// checkGlobal validates a global model before training on it.
func (o *dataOwner) checkGlobal(m *GlobalModel) error {
	switch {
	case o.protector == nil:
		return errors.New("global model before set-up")
	case m.Round <= o.round:
		return fmt.Errorf("global model for round %d after round %d", m.Round, o.round)
	case len(m.Weights) != o.fed.Model.NumParams():
		return fmt.Errorf("global model has %d weights, want %d", len(m.Weights), o.fed.Model.NumParams())
	case m.Epochs < 0 || int(m.Epochs) > o.fed.Train.Epochs:
		return fmt.Errorf("global model asks for %d epochs, the federation agreed on %d", m.Epochs, o.fed.Train.Epochs)
	}
	for i, w := range m.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("global model weight %d is %g", i, w)
		}
	}
	return nil
}

// train runs the round's local epochs and leaves the trained parameters in
// o.params. It returns the last epoch's mean loss.
func (o *dataOwner) train(m *GlobalModel) (loss float64, err error) {
	f := o.fed
	if o.opt == nil || f.Train.ResetOptimizer {
		if o.opt, err = f.Train.newOptimizer(); err != nil {
			return 0, err
		}
		if f.Resume && !f.Train.ResetOptimizer && !o.resumed {
			o.resumed = true
			st, err := f.loadOwnerState(o.self.Name, int(m.Round)-1)
			if err != nil {
				return 0, fmt.Errorf("resume: %w", err)
			}
			if st != nil {
				if err := o.opt.SetState(st); err != nil {
					return 0, fmt.Errorf("resume: optimizer state: %w", err)
				}
			}
		}
	}
	// Each round shuffles from its own seed, so that a resumed run trains
	// exactly as an uninterrupted one.
	rng := rand.New(rand.NewPCG(f.Seed, uint64(o.idx+1)<<32|uint64(m.Round)))
	epochs := int(m.Epochs)
	if epochs == 0 {
		epochs = f.Train.Epochs
	}
	data, indices, _ := o.shard(o.idx, m.Round)
	threads := f.ownerThreads()
	o.cores.acquire(threads)
	defer o.cores.release(threads)
	t := o.pool.get(threads)
	defer o.pool.put(t)
	if err := t.Model.SetParams(m.Weights); err != nil {
		return 0, err
	}
	t.Optimizer = o.opt
	if f.Train.Prox > 0 {
		t.Prox, t.Anchor = f.Train.Prox, m.Weights
	}
	for range epochs {
		if o.quitting() {
			return 0, errShutdown
		}
		if loss, err = t.TrainEpoch(data, indices, rng); err != nil {
			return 0, fmt.Errorf("train: %w", err)
		}
	}
	o.params, o.global = t.Model.Params(o.params), m.Weights
	if f.Train.ResetOptimizer {
		o.opt = nil // nothing to keep until the next round
	} else if f.Checkpoint != "" && !o.quitting() {
		if err := f.saveOwnerState(o.self.Name, int(m.Round), o.opt.State(nil)); err != nil {
			return 0, err
		}
	}
	return loss, nil
}

// holdShare keeps a share addressed to this owner until the secure worker
// names the round's contributors.
func (o *dataOwner) holdShare(m *ProtectedUpdate) error {
	switch {
	case o.holder == nil:
		return fmt.Errorf("share from %s, but this owner holds no shares", m.Sender)
	case o.fed.ownerIndex(m.Sender) < 0:
		return fmt.Errorf("share from unknown sender %q", m.Sender)
	case m.Round < o.round || m.Round > o.round+1:
		return fmt.Errorf("share from %s for round %d, at round %d", m.Sender, m.Round, o.round)
	}
	byRound := o.shares[m.Round]
	if byRound == nil {
		byRound = map[string][]byte{}
		o.shares[m.Round] = byRound
	}
	if _, dup := byRound[m.Sender]; dup {
		return fmt.Errorf("duplicate share from %s for round %d", m.Sender, m.Round)
	}
	byRound[m.Sender] = m.Payload
	return nil
}

// combine sums the shares of the round's contributors and sends the
// partial to the model owner.
func (o *dataOwner) combine(ctx actor.Context, m *CombineRequest) {
	if o.holder == nil || (m.Round == o.round && o.silent != Stay) {
		return
	}
	p := &Partial{Round: m.Round, Holder: o.self.Name, Contributors: m.Contributors}
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
		if acc == nil {
			acc = share
		} else if acc, err = o.holder.Combine(acc, share); err != nil {
			break
		}
	}
	for r := range o.shares {
		if r <= m.Round {
			delete(o.shares, r)
		}
	}
	p.CombineSeconds = time.Since(start).Seconds()
	if err != nil {
		p.Error = err.Error()
	} else {
		p.Payload = acc
	}
	o.send(ctx, ModelOwnerName, p)
}

// revealShare answers the secure worker's request for a reveal share.
func (o *dataOwner) revealShare(ctx actor.Context, m *RevealRequest) error {
	if o.protector == nil || m.Round != o.round {
		return fmt.Errorf("reveal request for round %d at round %d", m.Round, o.round)
	}
	if o.silent != Stay {
		return nil
	}
	ints := func(v []int32) []int {
		out := make([]int, len(v))
		for i, x := range v {
			out[i] = int(x)
		}
		return out
	}
	start := time.Now()
	share, err := o.protector.RevealShare(m.Aggregate, ints(m.Contributors), ints(m.Active))
	if err != nil {
		return fmt.Errorf("reveal share: %w", err)
	}
	o.send(ctx, SecureWorkerName, &RevealShare{Round: m.Round, Sender: o.self.Name, Payload: share,
		Seconds: time.Since(start).Seconds(), Attempt: m.Attempt})
	return nil
}

// partyName maps a crypto party to its actor's name.
func (o *dataOwner) partyName(p crypto.Party) (string, error) {
	switch {
	case p == crypto.SecureWorker:
		return SecureWorkerName, nil
	case p == crypto.ModelOwner:
		return ModelOwnerName, nil
	case int(p) >= 0 && int(p) < len(o.fed.Owners):
		return o.fed.Owners[p].Name, nil
	}
	return "", fmt.Errorf("message for unknown party %v", p)
}

// errShutdown ends a data owner's work when its node shuts down.
var errShutdown = errors.New("node is shutting down")
