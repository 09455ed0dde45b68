package actors

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/nn"
)

// modelOwner is the model owner's actor. It holds the global model and the
// crypto.Revealer (the secret key in single-key schemes); it runs set-up,
// starts every round, reveals the aggregate, applies the strategy,
// evaluates and records the round.
type modelOwner struct {
	party
	cancel   func()
	revealer crypto.Revealer
	checker  crypto.Combiner // validates partials; holds no secret
	done     func(*Result, error)

	global    []float64
	noise     *rand.Rand // central DP noise
	eval      *nn.Model
	evaluator *nn.Trainer
	ready     map[string]bool
	result    Result
	setupAt   time.Time

	// The current round: its start (wall and simulated), the partials and
	// the simulated arrival of every holder's answer.
	round    int32
	began    instant
	traffic0 map[string]int64
	partials map[string]*Partial
	answered map[string]time.Duration
	spans    []*Span // the model owner's own steps
	reports  map[string]*OwnerReport
	rejected rejectLog
	owners   rejectLog // what the data owners refused, from their reports
	// pending are the partials and reports ("partial/<holder>",
	// "report/<owner>") the last closed round did not get: one that comes
	// later is a straggler, not a replay.
	pending stragglers
}

func newModelOwner(e *env, done func(*Result, error)) *modelOwner {
	return &modelOwner{party: party{env: e, name: ModelOwnerName, dev: e.fed.Server}, done: done, rejected: rejectLog{party: ModelOwnerName}}
}

// errCrashed ends a run whose model owner panicked: a bug, not bad input.
var errCrashed = errors.New("actors: model owner failed")

// Time-outs the model owner sends itself.
type (
	setupDeadline struct{}
	roundDeadline struct{ round int32 }
)

// Receive implements actor.Actor.
func (mo *modelOwner) Receive(ctx actor.Context) {
	// The model owner's state is the run: restarting it would lose the
	// run and leave everyone waiting, so a bug ends the run instead.
	defer func() {
		if r := recover(); r != nil {
			mo.finish(ctx, fmt.Errorf("%w: %v\n%s", errCrashed, r, debug.Stack()))
		}
	}()
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		mo.start(ctx)
	case *Start:
		if mo.ready != nil {
			err = reject(ReasonDuplicate, "duplicate start")
			break
		}
		mo.startSetup(ctx)
	case *Ready:
		err = mo.onReady(ctx, m)
	case *setupDeadline:
		if mo.round == 0 {
			var missing []string
			for _, n := range mo.parties() {
				if !mo.ready[n] {
					missing = append(missing, n)
				}
			}
			mo.finish(ctx, fmt.Errorf("set-up timed out waiting for %v", missing))
		}
	case *OwnerReport:
		err = mo.onReport(m)
	case *Partial:
		err = mo.onPartial(ctx, m)
	case *roundDeadline:
		if m.round == mo.round && mo.partials != nil {
			mo.roundTimedOut(ctx)
		}
	case proto.Message:
		err = reject(ReasonUnexpected, "the model owner takes no %s", kindOf(m))
	}
	if err != nil {
		mo.rejected.add(mo.env, mo.round, ctx.Message().(proto.Message), err)
	}
}

// parties are the parties the model owner sets up and stops: the secure
// workers and the data owners.
func (mo *modelOwner) parties() []string {
	names := mo.fed.secureWorkers()
	for _, o := range mo.fed.Owners {
		names = append(names, o.Name)
	}
	return names
}

func (mo *modelOwner) startSetup(ctx actor.Context) {
	f := mo.fed
	mo.setupAt = time.Now()
	mo.global = f.Model.Params(nil)
	mo.eval = f.Model.Clone()
	mo.evaluator = &nn.Trainer{Model: mo.eval, BatchSize: 1000, Threads: f.Cores}
	mo.ready = map[string]bool{}
	mo.cancel = func() {}
	if f.Resume {
		if err := mo.resume(); err != nil {
			mo.finish(ctx, err)
			return
		}
		if int(mo.round) >= f.Rounds {
			mo.result.Final = mo.global
			mo.finish(ctx, nil)
			return
		}
	}
	var err error
	if mo.revealer, err = f.Scheme.NewRevealer(f.Rand); err != nil {
		mo.finish(ctx, fmt.Errorf("set-up: %w", err))
		return
	}
	if mo.checker, err = f.Scheme.NewCombiner(mo.revealer.Setup()); err != nil {
		mo.finish(ctx, fmt.Errorf("set-up: %w", err))
		return
	}
	s := &Setup{Scheme: f.Scheme.Name(), Payload: mo.revealer.Setup()}
	for _, o := range f.Owners {
		s.Owners = append(s.Owners, o.Name)
	}
	mo.broadcast(ctx, mo.parties(), s)
	mo.cancel = mo.after(ctx, f.roundDeadline(mo.simulated()), &setupDeadline{})
}

func (mo *modelOwner) onReady(ctx actor.Context, m *Ready) error {
	if mo.ready == nil || mo.partials != nil || mo.result.SetupSeconds != 0 || !slices.Contains(mo.parties(), m.Sender) {
		return reject(ReasonUnexpected, "unexpected ready from %q", m.Sender)
	}
	if m.Error != "" {
		mo.finish(ctx, fmt.Errorf("set-up failed at %s: %s", m.Sender, m.Error))
		return nil
	}
	mo.wait(mo.arrival(m, len(mo.parties())))
	mo.ready[m.Sender] = true
	if len(mo.ready) == len(mo.parties()) {
		mo.cancel()
		mo.result.SetupSeconds = time.Since(mo.setupAt).Seconds()
		mo.startRound(ctx)
	}
	return nil
}

// startRound sends the global model to every owner and tells the secure
// workers whom to expect.
func (mo *modelOwner) startRound(ctx actor.Context) {
	f := mo.fed
	mo.round++
	mo.began = mo.mark()
	mo.traffic0 = mo.traffic.snapshot()
	mo.partials, mo.answered = map[string]*Partial{}, map[string]time.Duration{}
	mo.reports = map[string]*OwnerReport{}
	names := make([]string, len(f.Owners))
	for i, o := range f.Owners {
		names[i] = o.Name
	}
	rs := &RoundStart{Round: mo.round, Owners: names, DeadlineMs: f.Deadline.Milliseconds()}
	g := &GlobalModel{Round: mo.round, Weights: mo.global, Epochs: int32(f.Train.Epochs), DeadlineMs: f.Deadline.Milliseconds()}
	var out []outgoing
	for _, w := range f.secureWorkers() {
		out = append(out, outgoing{w, rs})
	}
	for _, n := range names {
		out = append(out, outgoing{n, g})
	}
	mo.sendAll(ctx, out)
	mo.cancel = mo.after(ctx, f.roundDeadline(mo.simulated()), &roundDeadline{round: mo.round})
}

func (mo *modelOwner) onReport(m *OwnerReport) error {
	switch {
	case mo.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "report from unknown sender %q", m.Sender)
	case !finiteNonNegative(m.TrainSeconds, m.ProtectSeconds) || m.BytesSent < 0:
		return reject(ReasonOutOfRange, "report from %s: times %g and %g s, %d bytes", m.Sender, m.TrainSeconds, m.ProtectSeconds, m.BytesSent)
	case mo.pending.late("report/"+m.Sender, m.Round):
		mo.ownerRefusals(m) // what it refused still counts
		return reject(ReasonLate, "report from %s after round %d closed", m.Sender, m.Round)
	case m.Round != mo.round:
		return roundCheck("report", m.Round, mo.round)
	case mo.reports == nil:
		return reject(ReasonLate, "report from %s after the round closed", m.Sender)
	case mo.reports[m.Sender] != nil:
		return reject(ReasonDuplicate, "duplicate report from %s", m.Sender)
	}
	mo.reports[m.Sender] = m
	mo.ownerRefusals(m)
	return nil
}

// ownerRefusals records the refusals a data owner reports, as its own.
func (mo *modelOwner) ownerRefusals(m *OwnerReport) { mo.owners.recordAll(m.Sender, m.Rejected) }

// finiteNonNegative reports whether every x is finite and >= 0.
func finiteNonNegative(xs ...float64) bool {
	for _, x := range xs {
		if !(x >= 0) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// holders are the parties whose partials the model owner may receive, the
// secure worker first (in Holding schemes the holding owners too); needed
// is how many of them Reveal needs.
func (mo *modelOwner) holders() (names []string, needed int) {
	names = []string{SecureWorkerName}
	for _, o := range mo.fed.holdingOwners() {
		names = append(names, o.Name)
	}
	_, needed = crypto.HoldingOwners(mo.fed.Scheme)
	return names, min(needed, len(names))
}

func (mo *modelOwner) onPartial(ctx actor.Context, m *Partial) error {
	holders, needed := mo.holders()
	switch {
	case !slices.Contains(holders, m.Holder):
		return reject(ReasonUnknownSender, "partial from %q, not a holder", m.Holder)
	case mo.pending.late("partial/"+m.Holder, m.Round):
		return reject(ReasonLate, "partial from %s after round %d closed", m.Holder, m.Round)
	case m.Round != mo.round:
		return roundCheck("partial", m.Round, mo.round)
	case mo.partials == nil:
		return reject(ReasonUnexpected, "partial from %s outside a round", m.Holder)
	case mo.partials[m.Holder] != nil:
		return reject(ReasonDuplicate, "duplicate partial from %s", m.Holder)
	case m.Error == "" && m.Payload == nil:
		return reject(ReasonMalformed, "partial from %s without payload", m.Holder)
	}
	if m.Error == "" {
		if err := mo.checker.Check(m.Payload, len(m.Contributors)); err != nil {
			return fmt.Errorf("partial from %s: %w", m.Holder, err)
		}
	}
	arrival := mo.arrival(m, len(holders))
	if mo.simulated() && arrival > mo.began.sim+mo.fed.roundDeadline(mo.simulated()) {
		return reject(ReasonLate, "partial from %s arrived at %v, after the round's deadline (simulated)", m.Holder, arrival)
	}
	w := mo.partials[SecureWorkerName]
	if w != nil && m.Holder != SecureWorkerName && !slices.Equal(m.Contributors, w.Contributors) {
		return reject(ReasonMismatch, "%s combined %v, the secure worker %v", m.Holder, m.Contributors, w.Contributors)
	}
	if m.Holder == SecureWorkerName {
		for h, p := range mo.partials {
			if !slices.Equal(p.Contributors, m.Contributors) {
				delete(mo.partials, h)
				mo.rejected.add(mo.env, mo.round, p, reject(ReasonMismatch, "%s combined %v, the secure worker %v", h, p.Contributors, m.Contributors))
			}
		}
	}
	mo.partials[m.Holder], mo.answered[m.Holder] = m, arrival
	switch {
	case m.Holder == SecureWorkerName && m.Error != "":
		mo.wait(arrival)
		mo.endRound(ctx, fmt.Errorf("%s: %s", m.Holder, m.Error))
		return nil
	case m.Error != "":
		delete(mo.partials, m.Holder) // a holder that failed is a holder that dropped out
		mo.fed.Logger.Warn("holder failed", "round", mo.round, "holder", m.Holder, "err", m.Error)
	}
	// On the wall clock enough partials end the round at once; in
	// simulated time the first enough to arrive do, which only every
	// holder's answer (or the deadline) tells.
	if mo.enough(needed) && (!mo.simulated() || len(mo.answered) == len(holders)) {
		mo.endRound(ctx, nil)
	}
	return nil
}

// enough reports whether the partials in reveal the aggregate: the secure
// worker's and needed in all.
func (mo *modelOwner) enough(needed int) bool {
	return mo.partials[SecureWorkerName] != nil && len(mo.partials) >= needed
}

// roundTimedOut ends a round whose deadline passed: in simulated time with
// the partials that arrived by then, if they are enough; else as failed.
func (mo *modelOwner) roundTimedOut(ctx actor.Context) {
	if _, needed := mo.holders(); mo.simulated() && mo.enough(needed) {
		mo.endRound(ctx, nil)
		return
	}
	mo.timedOut()
	mo.endRound(ctx, errors.New("round deadline passed before the aggregate was complete"))
}

// revealAt returns when, in simulated time, the partials that reveal the
// round were in: the secure worker's and the first needed-1 of the
// others to arrive.
func (mo *modelOwner) revealAt(needed int) time.Duration {
	var others []time.Duration
	for h := range mo.partials {
		if h != SecureWorkerName {
			others = append(others, mo.answered[h])
		}
	}
	slices.Sort(others)
	at := mo.answered[SecureWorkerName]
	if k := min(needed-1, len(others)); k > 0 {
		at = max(at, others[k-1])
	}
	return at
}

// endRound reveals the aggregate (unless failed is set), updates and
// evaluates the global model, records the round and starts the next one.
func (mo *modelOwner) endRound(ctx actor.Context, failed error) {
	mo.cancel()
	f := mo.fed
	rm := RoundMetrics{Round: int(mo.round), Parties: map[string]PartyTimes{}, Cohort: f.Cohort(int(mo.round))}
	w := mo.partials[SecureWorkerName]
	if w != nil {
		rm.Contributors = w.Contributors
		var theirs rejectLog
		theirs.recordAll("", w.Rejected)
		rm.Rejected = append(rm.Rejected, theirs.take()...)
	}
	holders, _ := mo.holders()
	mo.pending = stragglers{}
	for _, h := range holders {
		if mo.partials[h] == nil {
			mo.pending["partial/"+h] = mo.round
		}
	}
	for _, o := range f.Owners {
		if mo.reports[o.Name] == nil {
			mo.pending["report/"+o.Name] = mo.round
		}
	}
	err := failed
	if err == nil {
		_, needed := mo.holders()
		mo.wait(mo.revealAt(needed))
		err = mo.reveal(&rm)
		mo.spans = append(mo.spans, mo.work("reveal", mo.step(sim.OpReveal, len(w.Contributors))))
	}
	if err != nil {
		rm.Err = err.Error()
		rm.Contributors = nil
		f.Logger.Warn("round failed", "round", mo.round, "err", err)
	}
	mo.collectTimes(&rm)
	if rm.Evaluated = f.evaluated(int(mo.round)); rm.Evaluated {
		start := time.Now()
		mo.cores.acquire(f.Cores)
		acc, loss, evalErr := mo.evaluator.Evaluate(f.Test, f.TestIndices)
		mo.cores.release(f.Cores)
		if evalErr != nil {
			mo.finish(ctx, fmt.Errorf("round %d: evaluate: %w", mo.round, evalErr))
			return
		}
		rm.TestAccuracy, rm.TestLoss = acc, loss
		rm.Evaluate = time.Since(start).Seconds()
		mo.spans = append(mo.spans, mo.work("evaluate", mo.dev.Evaluate(f.Model.FLOPs(), mo.testExamples())))
	}
	mo.simTimes(&rm)
	mo.addTimes(&rm, ModelOwnerName, PartyTimes{Evaluate: rm.Evaluate, Reveal: rm.Reveal})
	rm.Rejected = append(rm.Rejected, mo.owners.take()...)
	rm.Rejected = append(rm.Rejected, mo.rejected.take()...)
	rm.Bytes, rm.BytesSent = mo.traffic.since(mo.traffic0)
	rm.Seconds = time.Since(mo.began.wall).Seconds()
	mo.partials, mo.reports, mo.spans = nil, nil, nil
	if f.Privacy != nil {
		var err error
		if rm.Epsilon, err = mo.epsilon(rm); err != nil {
			mo.finish(ctx, fmt.Errorf("round %d: %w", mo.round, err))
			return
		}
	}
	mo.result.Rounds = append(mo.result.Rounds, rm)
	if f.Checkpoint != "" {
		if err := mo.checkpoint(); err != nil {
			mo.finish(ctx, fmt.Errorf("round %d: %w", mo.round, err))
			return
		}
	}
	if f.OnRound != nil {
		f.OnRound(rm)
	}
	if int(mo.round) == f.Rounds {
		mo.result.Final = mo.global
		mo.finish(ctx, nil)
		return
	}
	mo.startRound(ctx)
}

// reveal turns the round's partials into the next global model.
func (mo *modelOwner) reveal(rm *RoundMetrics) error {
	start := time.Now()
	var partials [][]byte
	holders, _ := mo.holders()
	for _, h := range holders[1:] { // data owners first, in index order
		if p := mo.partials[h]; p != nil {
			partials = append(partials, p.Payload)
		}
	}
	w := mo.partials[SecureWorkerName]
	partials = append(partials, w.Payload)
	sum, weight, err := mo.revealer.Reveal(partials, w.RevealShare)
	if err != nil {
		return fmt.Errorf("reveal: %w", err)
	}
	if p := mo.fed.Privacy; p != nil {
		if mo.noise == nil && !p.Distributed {
			if mo.noise, err = noiseSource(mo.fed.Rand); err != nil {
				return err
			}
		}
		if weight, err = p.noisySum(sum, mo.global, weight, len(mo.fed.Owners), mo.noise); err != nil {
			return fmt.Errorf("privacy: %w", err)
		}
	}
	next := make([]float64, len(mo.global))
	if err := mo.fed.Strategy.Aggregate(next, mo.global, sum, weight); err != nil {
		return fmt.Errorf("aggregate: %w", err)
	}
	if err := mo.eval.SetParams(next); err != nil {
		return fmt.Errorf("aggregate: %w", err)
	}
	mo.global = next
	rm.Reveal = time.Since(start).Seconds()
	return nil
}

// finish tells every party that the run is over and reports its end, once.
func (mo *modelOwner) finish(ctx actor.Context, err error) {
	if mo.done == nil {
		return
	}
	done := mo.done
	mo.done = nil
	mo.cancel()
	stop := &Stop{Reason: "run complete"}
	if err != nil {
		stop.Reason = err.Error()
	}
	for _, n := range mo.parties() {
		mo.send(ctx, n, stop)
	}
	mo.stop(ModelOwnerName)
	if err != nil {
		done(nil, err)
		return
	}
	r := mo.result
	done(&r, nil)
}
