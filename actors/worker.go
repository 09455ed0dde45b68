package actors

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// secureWorker is the root secure worker's actor. It holds a
// crypto.Combiner, which carries parameters and public keys only: it
// combines protected updates it cannot read and forwards the aggregate to
// the model owner. Each phase of a round is a behaviour of its own:
//
//	settingUp → idle → [keying: worker_keys.go] → collecting
//	  → [revealing: worker_reveal.go] → idle → ...
//
// In an aggregation tree it collects its groups' aggregates (group.go)
// instead of the owners' updates.
type secureWorker struct {
	party
	behavior actor.Behavior
	cancel   func()
	combiner crypto.Combiner
	keys     *workerKeys   // the key exchange, in KeyGen schemes
	reveal   *workerReveal // reveal shares, in RevealSharing schemes
	groups   [][]string    // an aggregation tree's groups; nil when flat
	rejected rejectLog
	early    early // messages of the next round, before its RoundStart

	// The current round: when its RoundStart came (wall) and was sent
	// (simulated), its deadline, its collection, its aggregate once
	// collecting closed, and its steps in simulated time.
	started  instant
	deadline time.Duration
	col      collection // flat: the owners' updates; tree: the groups' contributors
	groupIn  map[string]float64
	partial  *Partial
	spans    []*Span
}

// phaseDeadline ends the wait of a phase of a round (attempt: the reveal
// request it ends).
type phaseDeadline struct {
	round   int32
	phase   string
	attempt int32
}

func newSecureWorker(e *env) *secureWorker {
	w := &secureWorker{party: party{env: e, name: SecureWorkerName, dev: e.fed.Server}, groups: e.fed.Groups(), rejected: rejectLog{party: SecureWorkerName}}
	if kg, ok := e.fed.Scheme.(crypto.KeyGen); ok {
		w.keys = &workerKeys{everyRound: kg.KeysEveryRound()}
	}
	if rs, ok := e.fed.Scheme.(crypto.RevealSharing); ok {
		w.reveal = &workerReveal{}
		w.reveal.threshold, w.reveal.fixed = rs.Quorum()
	}
	w.behavior.Become(w.settingUp)
	return w
}

// Receive implements actor.Actor: the current phase's behaviour takes the
// message, after the next round's messages are put aside.
func (w *secureWorker) Receive(ctx actor.Context) {
	if w.keepsForNextRound(ctx) {
		return
	}
	w.behavior.Receive(ctx)
}

// settingUp takes the model owner's set-up.
func (w *secureWorker) settingUp(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *Setup:
		w.refuse(ctx, w.setup(ctx, m))
	default:
		w.anyPhase(ctx)
	}
}

// idle waits, between rounds, for the next RoundStart.
func (w *secureWorker) idle(ctx actor.Context) { w.anyPhase(ctx) }

// collecting takes the round's protected updates (flat) or group
// aggregates (tree) until every expected one is in or the deadline passes.
func (w *secureWorker) collecting(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *ProtectedUpdate:
		w.refuse(ctx, w.update(ctx, m))
	case *Partial:
		w.refuse(ctx, w.groupAggregate(ctx, m))
	case *phaseDeadline:
		if w.current(m, "collecting") {
			w.timedOut()
			w.closeCollecting(ctx)
		}
	default:
		w.anyPhase(ctx)
	}
}

// anyPhase takes what every phase takes the same way, and refuses a
// message the current phase does not take with the reason that fits it.
func (w *secureWorker) anyPhase(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *Setup:
		err = reject(ReasonDuplicate, "duplicate set-up")
	case *RoundStart:
		err = w.startRound(ctx, m)
	case *ProtectedUpdate:
		if err = w.checkUpdate(m); err == nil {
			err = reject(ReasonLate, "update from %s after the round's deadline", m.Sender)
		}
	case *Partial:
		if err = w.checkGroupAggregate(m); err == nil {
			err = reject(ReasonLate, "group aggregate from %s after the round's deadline", m.Holder)
		}
	case *KeyShare:
		err = w.outOfKeying(m)
	case *RevealShare:
		err = w.outOfRevealing(m)
	case *phaseDeadline: // of a phase already over
	case *Stop:
		w.stopTimer()
		w.stop(SecureWorkerName)
	case proto.Message:
		err = reject(ReasonUnexpected, "the secure worker takes no %s", kindOf(m))
	}
	w.refuse(ctx, err)
}

// refuse records the message being handled as refused with err, if any.
func (w *secureWorker) refuse(ctx actor.Context, err error) {
	if err != nil {
		w.rejected.add(w.env, w.col.round, ctx.Message().(proto.Message), err)
	}
}

func (w *secureWorker) setup(ctx actor.Context, m *Setup) error {
	w.wait(w.arrival(m, 1))
	var err error
	if w.combiner, err = w.fed.Scheme.NewCombiner(m.Payload); err != nil {
		return w.ready(ctx, fmt.Errorf("set-up: %w", err))
	}
	if w.keys != nil && !w.keys.everyRound {
		return w.startKeys(ctx) // ready once the collective key is out
	}
	w.behavior.Become(w.idle)
	return w.ready(ctx, nil)
}

func (w *secureWorker) ready(ctx actor.Context, err error) error {
	r := &Ready{Sender: SecureWorkerName}
	if err != nil {
		r.Error = err.Error()
	}
	w.send(ctx, ModelOwnerName, r)
	return err
}

// startRound opens a round: with round keys its key exchange, else the
// collection of updates. Then it takes the messages of the round that
// came before it.
func (w *secureWorker) startRound(ctx actor.Context, m *RoundStart) error {
	if err := w.fed.checkRoundStart(m, w.combiner != nil && (w.keys == nil || w.keys.everyRound || w.keys.done), w.col.round); err != nil {
		return err
	}
	w.stopTimer()
	w.wait(w.arrival(m, 1))
	w.started, w.deadline = instant{time.Now(), w.sentAt(m)}, time.Duration(m.DeadlineMs)*time.Millisecond
	w.col.start(m.Round, slices.Clone(m.Owners), w.due(m, w.collectFor()))
	w.groupIn, w.partial, w.spans = map[string]float64{}, nil, nil
	if w.keys != nil && w.keys.everyRound {
		w.startKeys(ctx)
	} else {
		w.collect(ctx)
	}
	for _, e := range w.early.take() {
		w.Receive(childContext{ctx, e})
	}
	return nil
}

// collect opens the round's wait for protected updates, until the round's
// deadline (at the root of a tree, for group aggregates, a grace period
// longer).
func (w *secureWorker) collect(ctx actor.Context) {
	w.behavior.Become(w.collecting)
	w.phaseTimer(ctx, w.collectFor()-time.Since(w.started.wall), w.col.due, "collecting")
	if w.complete() {
		w.closeCollecting(ctx)
	}
}

// collectFor is how long after the round's start collecting may last:
// the deadline and, at the root of a tree, a grace period for the hop
// from the group workers.
func (w *secureWorker) collectFor() time.Duration {
	if w.groups != nil {
		return w.deadline + w.fed.grace()
	}
	return w.deadline
}

// complete reports whether every owner the round waits for is in (at the
// root of a tree, or every group has answered).
func (w *secureWorker) complete() bool {
	return w.col.complete() || (w.groups != nil && len(w.groupIn) == len(w.groups))
}

// checkUpdate validates an owner's protected update for this round.
func (w *secureWorker) checkUpdate(m *ProtectedUpdate) error {
	switch {
	case w.combiner == nil:
		return reject(ReasonUnexpected, "update from %q before set-up", m.Sender)
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "update from unknown sender %q", m.Sender)
	case w.groups != nil:
		return reject(ReasonUnexpected, "update from %s: in an aggregation tree the root takes group aggregates", m.Sender)
	}
	return w.col.check(w.combiner, m)
}

// update folds one protected update into the round's aggregate.
func (w *secureWorker) update(ctx actor.Context, m *ProtectedUpdate) error {
	if err := w.checkUpdate(m); err != nil {
		return err
	}
	arrival := w.arrival(m, len(w.col.expected))
	if w.col.late(arrival) {
		return reject(ReasonLate, "update from %s arrived at %v, after the round's deadline (simulated)", m.Sender, arrival)
	}
	w.spans = append(w.spans, w.upload(m, m.Sender, arrival))
	if err := w.col.add(w.combiner, m.Payload, arrival, m.Sender); err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	if w.complete() {
		w.closeCollecting(ctx)
	}
	return nil
}

// checkGroupAggregate validates a group worker's aggregate for this round.
func (w *secureWorker) checkGroupAggregate(m *Partial) error {
	g := w.fed.groupIndex(m.Holder)
	switch {
	case w.groups == nil:
		return reject(ReasonUnexpected, "the secure worker of flat aggregation takes no Partial")
	case w.combiner == nil:
		return reject(ReasonUnexpected, "group aggregate from %q before set-up", m.Holder)
	case g < 0:
		return reject(ReasonUnknownSender, "group aggregate from %q, not a group worker", m.Holder)
	case w.col.stragglers.late("group/"+m.Holder, m.Round):
		return reject(ReasonLate, "group aggregate from %s after round %d closed", m.Holder, m.Round)
	case m.Round != w.col.round:
		return roundCheck("group aggregate", m.Round, w.col.round)
	case m.Error != "" || len(m.RevealShare) > 0 || len(m.GroupCombineSeconds) > 0:
		return reject(ReasonMalformed, "group aggregate from %s has fields a group worker does not send", m.Holder)
	case math.IsNaN(m.CombineSeconds) || math.IsInf(m.CombineSeconds, 0) || m.CombineSeconds < 0:
		return reject(ReasonOutOfRange, "group aggregate from %s: combine time %g", m.Holder, m.CombineSeconds)
	}
	for i, c := range m.Contributors {
		switch {
		case !slices.Contains(w.groups[g], c):
			return reject(ReasonUnknownSender, "group aggregate from %s names %q, not a member of its group", m.Holder, c)
		case slices.Contains(m.Contributors[:i], c):
			return reject(ReasonDuplicate, "group aggregate from %s names %s twice", m.Holder, c)
		case !slices.Contains(w.col.expected, c) || !slices.Contains(w.col.keyed, c):
			return reject(ReasonUnknownSender, "group aggregate from %s names %s, not a participant of round %d", m.Holder, c, m.Round)
		}
	}
	// The payload is checked on its own before anything else is said of
	// it, as an update's is.
	if len(m.Contributors) == 0 {
		if len(m.Payload) > 0 {
			return reject(ReasonMalformed, "group aggregate from %s has a payload but no contributors", m.Holder)
		}
	} else if err := w.combiner.Check(m.Payload, len(m.Contributors)); err != nil {
		return fmt.Errorf("group aggregate from %s: %w", m.Holder, err)
	}
	switch {
	case w.groupAnswered(m.Holder):
		return reject(ReasonDuplicate, "duplicate group aggregate from %s in round %d", m.Holder, m.Round)
	case slices.ContainsFunc(m.Contributors, func(c string) bool { return w.col.got[c] }):
		return reject(ReasonDuplicate, "group aggregate from %s names an owner already counted", m.Holder)
	}
	return nil
}

// groupAggregate folds a group worker's aggregate into the round's (the
// root of an aggregation tree).
func (w *secureWorker) groupAggregate(ctx actor.Context, m *Partial) error {
	if err := w.checkGroupAggregate(m); err != nil {
		return err
	}
	arrival := w.arrival(m, len(w.groups))
	if w.col.late(arrival) {
		return reject(ReasonLate, "group aggregate from %s arrived at %v, after the round's deadline (simulated)", m.Holder, arrival)
	}
	w.spans = append(append(w.spans, m.Spans...), w.upload(m, m.Holder, arrival))
	if len(m.Contributors) > 0 {
		if err := w.col.add(w.combiner, m.Payload, arrival, m.Contributors...); err != nil {
			return fmt.Errorf("group aggregate from %s: %w", m.Holder, err)
		}
	}
	w.groupIn[m.Holder] = m.CombineSeconds
	w.rejected.recordAll(m.Holder, m.Rejected) // its refusals join the root's
	if w.complete() {
		w.closeCollecting(ctx)
	}
	return nil
}

// groupAnswered reports whether group worker n's aggregate is in.
func (w *secureWorker) groupAnswered(n string) bool {
	_, in := w.groupIn[n]
	return in
}

// closeCollecting fixes the contributors; then, in Holding schemes, it
// asks the holding owners to combine theirs, and it either asks for
// reveal shares or forwards the aggregate.
func (w *secureWorker) closeCollecting(ctx actor.Context) {
	w.stopTimer()
	w.behavior.Become(w.idle)
	start, end := w.col.folded(w.step(sim.OpCombine, 0))
	w.wait(end)
	w.spans = append(w.spans, &Span{Party: w.name, Step: "combine", StartNs: int64(start), EndNs: int64(end)})
	w.partial = w.col.close(SecureWorkerName)
	for i := range w.groups {
		if n := GroupWorkerName(i); !w.groupAnswered(n) {
			w.col.stragglers["group/"+n] = w.col.round
		}
	}
	p := w.partial
	if len(p.Contributors) == 0 {
		p.Error = "no data owner contributed"
		w.forward(ctx)
		return
	}
	var holders []string
	for _, o := range w.fed.holdingOwners() {
		holders = append(holders, o.Name)
	}
	w.broadcast(ctx, holders, &CombineRequest{Round: p.Round, Contributors: p.Contributors})
	if w.reveal != nil {
		w.askRevealShares(ctx)
		return
	}
	w.forward(ctx)
}

// forward sends the round's aggregate to the model owner, with the
// refusals of the round.
func (w *secureWorker) forward(ctx actor.Context) {
	w.stopTimer()
	w.behavior.Become(w.idle)
	w.revealStragglers()
	p := w.partial
	p.CombineSeconds = w.col.combine.Seconds()
	if w.groups != nil {
		p.GroupCombineSeconds = w.groupIn
	}
	p.Rejected, p.Spans = w.rejected.take(), w.spans
	w.send(ctx, ModelOwnerName, p)
}

// keepsForNextRound puts aside an owner's or group worker's message of the
// next round, whose RoundStart is on the way, and reports whether it did.
func (w *secureWorker) keepsForNextRound(ctx actor.Context) bool {
	var round int32
	switch m := ctx.Message().(type) {
	case *ProtectedUpdate:
		round = m.Round
		if w.fed.ownerIndex(m.Sender) < 0 {
			return false
		}
	case *KeyShare:
		round = m.Round
		if w.fed.ownerIndex(m.Sender) < 0 || w.keys == nil || !w.keys.everyRound {
			return false
		}
	case *Partial:
		round = m.Round
		if w.fed.groupIndex(m.Holder) < 0 {
			return false
		}
	default:
		return false
	}
	if w.combiner == nil || round != w.col.round+1 {
		return false
	}
	w.refuse(ctx, w.early.keep(ctx.Message().(proto.Message), 2*len(w.fed.Owners)))
	return true
}

// phaseTimer has the current phase end after wall of wall time, or at
// simulated instant due.
func (w *secureWorker) phaseTimer(ctx actor.Context, wall, due time.Duration, phase string) {
	var attempt int32
	if w.reveal != nil {
		attempt = w.reveal.attempt
	}
	w.stopTimer()
	w.cancel = w.timer(ctx, wall, due, &phaseDeadline{round: w.col.round, phase: phase, attempt: attempt})
}

// current reports whether d is the deadline of the phase under way.
func (w *secureWorker) current(d *phaseDeadline, phase string) bool {
	return d.round == w.col.round && d.phase == phase && (w.reveal == nil || d.attempt == w.reveal.attempt)
}

func (w *secureWorker) stopTimer() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
}

// childContext hands a held message to Receive as if it had just arrived.
type childContext struct {
	actor.Context
	msg proto.Message
}

func (c childContext) Message() any { return c.msg }
