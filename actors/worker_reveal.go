package actors

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// The secure worker's reveal step in RevealSharing schemes
// (crypto.RevealSharing: ckks-threshold, secagg): after collecting it
// asks owners for reveal shares of the aggregate, folds them, and
// forwards the aggregate with the combined share. With a fixed quorum
// (ckks-threshold) it asks exactly threshold owners and, if one stays
// silent, asks again without it; otherwise (secagg) it asks every
// candidate once and goes on with the first threshold answers.
//
//	secure worker --RevealRequest(aggregate, contributors, active)--> owners
//	data owner    --RevealShare-------------------------------------> secure worker

// workerReveal is the state of the secure worker's reveal step.
type workerReveal struct {
	threshold  int
	fixed      bool
	candidates []string // owners that may still answer, in asking order
	attempt    int32
	asked      []string
	acc        []byte
	from       map[string]bool
	// due is the simulated instant after which a share of this attempt is
	// late (0: the wall clock decides); in holds each share's arrival and
	// uploads its way from its owner.
	due     time.Duration
	in      map[string]time.Duration
	uploads []*Span
}

// askRevealShares starts the reveal step of the aggregate just collected:
// the contributors are the first candidates (they were alive a moment
// ago), then the other owners keyed for the round.
func (w *secureWorker) askRevealShares(ctx actor.Context) {
	r := w.reveal
	r.candidates, r.attempt = slices.Clone(w.partial.Contributors), 0
	for _, n := range w.col.keyed {
		if !slices.Contains(r.candidates, n) {
			r.candidates = append(r.candidates, n)
		}
	}
	w.ask(ctx)
}

// ask sends one attempt's reveal requests: to every candidate, or with a
// fixed quorum to the first threshold of them.
func (w *secureWorker) ask(ctx actor.Context) {
	r := w.reveal
	if len(r.candidates) < r.threshold {
		w.partial.Error = fmt.Sprintf("%v: %d owners can answer, threshold %d", crypto.ErrTooFewShares, len(r.candidates), r.threshold)
		w.partial.Payload = nil
		w.forward(ctx)
		return
	}
	r.asked = slices.Clone(r.candidates)
	if r.fixed {
		r.asked = r.asked[:r.threshold]
	}
	r.attempt++
	r.acc, r.from, r.in, r.uploads, r.due = nil, map[string]bool{}, map[string]time.Duration{}, nil, 0
	active := slices.Clone(r.asked)
	slices.SortFunc(active, func(a, b string) int { return w.fed.ownerIndex(a) - w.fed.ownerIndex(b) })
	req := &RevealRequest{Round: w.col.round, Aggregate: w.partial.Payload, Attempt: r.attempt,
		Active: active, Contributors: w.partial.Contributors}
	w.behavior.Become(w.revealing)
	w.broadcast(ctx, r.asked, req)
	wait := w.fed.revealDeadline()
	if w.simulated() {
		wait += w.revealTransfers(req, r.asked)
		r.due = w.now + wait
	}
	w.phaseTimer(ctx, wait, r.due, "revealing")
}

// revealTransfers is what a reveal request adds to the wait in simulated
// time: its way to the slowest asked owner and the way back of an answer
// as large, every asked owner sharing the worker's links. It is at most
// the owners' deadline: their updates, as large, arrived within it.
func (w *secureWorker) revealTransfers(req *RevealRequest, asked []string) time.Duration {
	size, n := wireSize(req), len(asked)
	var slowest time.Duration
	for _, name := range asked {
		dev := w.ownerDevice(w.fed.ownerIndex(name), w.col.round)
		slowest = max(slowest, sim.Transfer(size, w.dev.Link, dev.Link, n, 1)+sim.Transfer(size, dev.Link, w.dev.Link, 1, n))
	}
	return min(slowest, w.fed.Deadline)
}

// revealing takes the asked owners' reveal shares.
func (w *secureWorker) revealing(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *RevealShare:
		w.refuse(ctx, w.revealShare(ctx, m))
	case *phaseDeadline:
		if w.current(m, "revealing") {
			w.closeReveal(ctx, true)
		}
	default:
		w.anyPhase(ctx)
	}
}

// checkRevealShare validates an owner's reveal share for the request
// under way.
func (w *secureWorker) checkRevealShare(m *RevealShare) error {
	r := w.reveal
	switch {
	case r == nil:
		return reject(ReasonUnexpected, "reveal share from %s: %s has no reveal shares", m.Sender, w.fed.Scheme.Name())
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "reveal share from unknown sender %q", m.Sender)
	case w.col.stragglers.late("reveal/"+m.Sender, m.Round):
		return reject(ReasonLate, "reveal share from %s after round %d closed", m.Sender, m.Round)
	case m.Round != w.col.round:
		return roundCheck("reveal share", m.Round, w.col.round)
	case !slices.Contains(r.asked, m.Sender) || m.Attempt > r.attempt || m.Attempt < 1:
		return reject(ReasonUnknownSender, "reveal share from %s, not asked (attempt %d)", m.Sender, m.Attempt)
	case m.Attempt < r.attempt:
		return reject(ReasonLate, "reveal share from %s for a closed request", m.Sender)
	case r.from[m.Sender]:
		return reject(ReasonDuplicate, "duplicate reveal share from %s", m.Sender)
	}
	return nil
}

// revealShare folds one reveal share; with enough of them in, it closes
// the step.
func (w *secureWorker) revealShare(ctx actor.Context, m *RevealShare) error {
	if err := w.checkRevealShare(m); err != nil {
		return err
	}
	r := w.reveal
	arrival := w.arrival(m, len(r.asked))
	if r.due > 0 && arrival > r.due {
		return reject(ReasonLate, "reveal share from %s arrived at %v, after the request's deadline (simulated)", m.Sender, arrival)
	}
	start := time.Now()
	acc, err := fold(w.combiner, r.acc, m.Payload)
	w.col.combine += time.Since(start)
	if err != nil {
		return fmt.Errorf("reveal share from %s: %w", m.Sender, err)
	}
	r.acc, r.from[m.Sender], r.in[m.Sender] = acc, true, arrival
	up := w.upload(m, m.Sender, arrival)
	up.Step = "reveal share upload"
	r.uploads = append(r.uploads, up)
	// On the wall clock any threshold answers close the step at once; in
	// simulated time the first threshold to arrive do, which only every
	// answer tells.
	if len(r.from) == len(r.asked) || (!w.simulated() && !r.fixed && len(r.from) >= r.threshold) {
		w.closeReveal(ctx, false)
	}
	return nil
}

// outOfRevealing refuses a reveal share outside the reveal step.
func (w *secureWorker) outOfRevealing(m *RevealShare) error {
	if err := w.checkRevealShare(m); err != nil {
		return err
	}
	return reject(ReasonLate, "reveal share from %s for a closed request", m.Sender)
}

// closeReveal forwards the aggregate once enough reveal shares are in;
// otherwise, with a fixed quorum, it asks again without the owners that
// did not answer. The step ends, in simulated time, when the shares it
// needs have arrived and been folded, or at its deadline (timedOut).
func (w *secureWorker) closeReveal(ctx actor.Context, timedOut bool) {
	r := w.reveal
	if len(r.from) >= r.threshold && (!r.fixed || len(r.from) == len(r.asked)) {
		in := slices.Sorted(maps.Values(r.in))
		if !r.fixed {
			in = in[:r.threshold] // the first threshold to arrive reveal
		}
		start, end := folding(in, w.step(sim.OpCombine, 0))
		w.wait(end)
		for _, up := range r.uploads {
			if time.Duration(up.EndNs) <= in[len(in)-1] { // the shares that revealed
				w.spans = append(w.spans, up)
			}
		}
		w.spans = append(w.spans, &Span{Party: w.name, Step: "reveal shares", StartNs: int64(start), EndNs: int64(end)})
		w.partial.RevealShare = r.acc
		w.forward(ctx)
		return
	}
	if timedOut {
		w.timedOut()
	}
	var silent []string
	for _, n := range r.asked {
		if !r.from[n] {
			silent = append(silent, n)
		}
	}
	w.fed.Logger.Debug("owners did not send reveal shares", "round", w.col.round, "attempt", r.attempt, "silent", silent)
	r.candidates = slices.DeleteFunc(r.candidates, func(n string) bool { return slices.Contains(silent, n) })
	if !r.fixed {
		r.candidates = nil // asking the same owners again cannot help
	}
	w.ask(ctx)
}

// revealStragglers marks the asked owners whose share did not come: one
// that comes later is late, not a replay.
func (w *secureWorker) revealStragglers() {
	r := w.reveal
	if r == nil {
		return
	}
	for _, n := range r.asked {
		if !r.from[n] {
			w.col.stragglers["reveal/"+n] = w.col.round
		}
	}
	r.asked, r.from = nil, nil
}
