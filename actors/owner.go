package actors

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/nn"
)

// dataOwner is a data owner's actor. Its shard never leaves it: it trains
// the global model locally and sends only protected updates. A round:
//
//	GlobalModel → [round keys: owner_keys.go] → train → protect
//	→ OwnerReport to the model owner, ProtectedUpdate(s) to the holders
//	→ [CombineRequest: owner_holding.go] → [RevealRequest: owner_reveal.go]
//
// Set-up takes the model owner's Setup, runs a set-up key exchange if the
// scheme has one, and answers Ready. Every message it refuses is recorded
// with a reason code and reaches the model owner on its next OwnerReport.
type dataOwner struct {
	party
	idx  int
	self Owner

	opt    nn.Optimizer // kept between rounds unless Train.ResetOptimizer
	params []float64    // the trained model, until it is protected
	global []float64    // the round's global model, until then too
	noise  *rand.Rand   // DP noise, with distributed Privacy

	protector crypto.Protector
	keys      *ownerKeys      // the key exchange, in KeyGen schemes
	holder    crypto.Combiner // a share holder's, in Holding schemes
	shares    map[int32]map[string][]byte
	sharesIn  map[int32]time.Duration // the simulated arrival of a round's last share
	early     early                   // key messages for an exchange not yet started

	round    int32        // the latest round
	silent   Dropout      // whether and when this owner drops out of round
	pending  *OwnerReport // trained, waiting for the round's keys
	spans    []*Span      // the round's steps in simulated time, for the report
	lastSent int          // bytes of the last update sent to the secure worker
	resumed  bool         // the optimizer state was restored
	rejected rejectLog
}

func newDataOwner(e *env, idx int) *dataOwner {
	name := e.fed.Owners[idx].Name
	o := &dataOwner{party: party{env: e, name: name, dev: e.ownerDevice(idx, 1)}, idx: idx, self: e.fed.Owners[idx], rejected: rejectLog{party: name}}
	if kg, ok := e.fed.Scheme.(crypto.KeyGen); ok {
		o.keys = &ownerKeys{everyRound: kg.KeysEveryRound()}
	}
	return o
}

// Receive implements actor.Actor.
func (o *dataOwner) Receive(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		o.start(ctx)
	case *actor.Restarting:
		o.fed.Logger.Warn("data owner failed and is restarted by its supervisor", "owner", o.self.Name, "round", o.round)
		o.pending = nil
	case *Setup:
		err = o.setup(ctx, m)
	case *GlobalModel:
		err = o.trainRound(ctx, m)
	case *KeyShare:
		err = o.keyShare(ctx, m)
	case *CollectiveKey:
		err = o.collectiveKey(ctx, m)
	case *ProtectedUpdate:
		err = o.holdShare(m)
	case *CombineRequest:
		err = o.combine(ctx, m)
	case *RevealRequest:
		err = o.revealShare(ctx, m)
	case *Stop:
		o.stop(o.self.Name)
	case proto.Message:
		err = reject(ReasonUnexpected, "a data owner takes no %s", kindOf(m))
	}
	o.refuse(ctx, err)
}

// refuse records the message being handled as refused with err, if any.
func (o *dataOwner) refuse(ctx actor.Context, err error) {
	if err != nil {
		o.rejected.add(o.env, o.round, ctx.Message().(proto.Message), err)
	}
}

func (o *dataOwner) setup(ctx actor.Context, m *Setup) error {
	s := o.fed.Scheme
	switch {
	case o.protector != nil:
		return reject(ReasonDuplicate, "duplicate set-up")
	case m.Scheme != s.Name():
		return o.ready(ctx, reject(ReasonMismatch, "set-up for scheme %q, running %q", m.Scheme, s.Name()))
	}
	if o.fed.Resume && !o.fed.Train.ResetOptimizer {
		if err := o.fed.checkOwnerCheckpoint(o.self.Name); err != nil {
			_ = o.ready(ctx, fmt.Errorf("resume: %w", err))
			return nil // the checkpoint failed, not the message
		}
	}
	o.wait(o.arrival(m, 1))
	p, err := s.NewProtector(o.idx, m.Payload, o.fed.Rand)
	if err != nil {
		return o.ready(ctx, fmt.Errorf("set-up: %w", err))
	}
	if k, _ := crypto.HoldingOwners(s); o.idx < k {
		if o.holder, err = s.NewCombiner(m.Payload); err != nil {
			return o.ready(ctx, fmt.Errorf("set-up: %w", err))
		}
		o.shares, o.sharesIn = map[int32]map[string][]byte{}, map[int32]time.Duration{}
	}
	o.protector = p
	if o.keys == nil || o.keys.everyRound {
		return o.ready(ctx, nil)
	}
	if err := o.startKeys(ctx, 0); err != nil {
		return o.ready(ctx, err)
	}
	return nil // Ready once the keys are complete
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
// and sends the result (in schemes with round keys, once they are in).
func (o *dataOwner) trainRound(ctx actor.Context, m *GlobalModel) error {
	if err := o.checkGlobal(m); err != nil {
		return err
	}
	o.round, o.silent, o.pending, o.spans = m.Round, Stay, nil, nil
	o.dev = o.ownerDevice(o.idx, m.Round)
	o.wait(o.arrival(m, 1))
	rep := &OwnerReport{Round: m.Round, Sender: o.self.Name}
	var err error
	if o.keys != nil && o.keys.everyRound {
		err = o.startKeys(ctx, m.Round)
	}
	if o.self.Drop != nil {
		o.silent = o.self.Drop(int(m.Round))
	}
	plan := o.plan(m)
	if !o.dev.Available(o.now) || plan.epochs == 0 {
		o.silent = BeforeSend // away, or no epoch fits
	}
	if o.silent == BeforeSend {
		o.fed.Logger.Debug("data owner drops out before sending", "owner", o.self.Name, "round", m.Round)
		return nil
	}
	if err == nil {
		start := time.Now()
		rep.TrainLoss, err = o.train(m, plan.epochs)
		rep.TrainSeconds = time.Since(start).Seconds()
		o.spans = append(o.spans, o.work("train", plan.time))
	}
	o.pending = rep
	if err != nil {
		o.fail(ctx, err)
		return nil
	}
	o.protectPending(ctx)
	return nil
}

// protectPending protects and sends the trained update, unless it still
// waits for the round's keys.
func (o *dataOwner) protectPending(ctx actor.Context) {
	rep := o.pending
	if rep == nil || rep.Round != o.round || (o.keys != nil && o.keys.everyRound && !o.keys.complete) {
		return
	}
	o.pending = nil
	start := time.Now()
	msgs, err := o.protect(rep.Round)
	o.params, o.global = nil, nil // an owner holds no model between rounds
	rep.ProtectSeconds = time.Since(start).Seconds()
	o.spans = append(o.spans, o.work("protect", o.step(sim.OpProtect, o.protectParties())))
	if until, ok := o.dev.AvailableUntil(o.now); !ok || o.now >= until {
		o.silent = BeforeSend // its window closed while it worked
		o.fed.Logger.Debug("data owner's window closed before it could send", "owner", o.self.Name, "round", rep.Round)
		return
	}
	var out []outgoing
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
			out = append(out, outgoing{to, u})
			if msg.To == crypto.SecureWorker {
				o.lastSent = wireSize(u)
			}
		}
	}
	if err != nil {
		o.fail(ctx, err)
		return
	}
	// The report goes first: the updates reach the model owner only
	// through a holder, so it arrives before the round can close.
	rep.Rejected, rep.Spans = o.rejected.take(), o.spans
	o.sendAll(ctx, append([]outgoing{{ModelOwnerName, rep}}, out...))
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
	if o.fed.protecting != nil {
		o.fed.protecting(o.self.Name, o.params, weight)
	}
	return o.protector.Protect(o.params, weight)
}

// report sends rep to the model owner with the refusals recorded since
// the last report and the round's steps.
func (o *dataOwner) report(ctx actor.Context, rep *OwnerReport) {
	rep.Rejected, rep.Spans = o.rejected.take(), o.spans
	o.send(ctx, ModelOwnerName, rep)
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
	o.report(ctx, rep)
}

// checkGlobal validates a global model before training on it.
func (o *dataOwner) checkGlobal(m *GlobalModel) error {
	switch {
	case o.protector == nil:
		return reject(ReasonUnexpected, "global model before set-up")
	case m.Round <= o.round:
		return reject(ReasonStale, "global model for round %d after round %d", m.Round, o.round)
	case len(m.Weights) != o.fed.Model.NumParams():
		return reject(ReasonMismatch, "global model has %d weights, want %d", len(m.Weights), o.fed.Model.NumParams())
	case m.Epochs < 0 || int(m.Epochs) > o.fed.Train.Epochs:
		return reject(ReasonOutOfRange, "global model asks for %d epochs, the federation agreed on %d", m.Epochs, o.fed.Train.Epochs)
	}
	for i, w := range m.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return reject(ReasonOutOfRange, "global model weight %d is %g", i, w)
		}
	}
	return nil
}

// train runs the round's local epochs and leaves the trained parameters in
// o.params. It returns the last epoch's mean loss.
func (o *dataOwner) train(m *GlobalModel, epochs int) (loss float64, err error) {
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
