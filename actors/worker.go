package actors

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"

	"github.com/fedactor/fedactor/crypto"
)

// secureWorker is the secure worker's actor. It holds a crypto.Combiner,
// which carries parameters and public keys only: it combines protected
// updates it cannot read and forwards the aggregate to the model owner.
type secureWorker struct {
	*env
	timers   *scheduler.TimerScheduler
	flow     crypto.Flow
	combiner crypto.Combiner

	// Key generation (Flow.KeyGen).
	keyAcc  []byte
	keyFrom map[string]bool

	// The current round.
	round    int32
	phase    workerPhase
	expected []string        // owners asked to contribute, in index order
	got      map[string]bool // owners whose update is in acc
	acc      []byte
	early    []*ProtectedUpdate // updates for the next round
	combine  time.Duration
	rejected []string
	// Reveal shares (Flow.RevealShares).
	partial    *Partial
	active     []int32
	revealAcc  []byte
	revealFrom map[string]bool
	cancel     scheduler.CancelFunc
}

type workerPhase int

const (
	idle workerPhase = iota
	collecting
	revealing
)

// workerDeadline fires when a round's wait for data owners is over.
type workerDeadline struct {
	round int32
	phase workerPhase
}

// Receive implements actor.Actor.
func (w *secureWorker) Receive(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.timers = scheduler.NewTimerScheduler(ctx)
	case *Setup:
		err = w.setup(ctx, m)
	case *KeyShare:
		err = w.keyShare(ctx, m)
	case *RoundStart:
		err = w.startRound(ctx, m)
	case *ProtectedUpdate:
		err = w.update(ctx, m)
	case *RevealShare:
		err = w.revealShare(ctx, m)
	case *workerDeadline:
		if m.round == w.round && m.phase == w.phase {
			w.closePhase(ctx)
		}
	case *Stop:
		w.stopTimer()
		w.stop(SecureWorkerName)
	}
	if err != nil {
		w.fed.Logger.Warn("secure worker rejected a message", "round", w.round, "err", err)
		w.rejected = append(w.rejected, err.Error())
	}
}

func (w *secureWorker) setup(ctx actor.Context, m *Setup) error {
	if w.combiner != nil {
		return errors.New("duplicate set-up")
	}
	var err error
	if w.combiner, err = w.fed.Scheme.NewCombiner(m.Payload); err != nil {
		return w.ready(ctx, fmt.Errorf("set-up: %w", err))
	}
	w.flow = w.fed.Scheme.Flow()
	if w.flow.KeyGen {
		w.keyFrom = map[string]bool{}
		return nil
	}
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

// keyShare folds one owner's key-generation share; with all of them in,
// it sends the collective key to every owner.
func (w *secureWorker) keyShare(ctx actor.Context, m *KeyShare) error {
	switch {
	case w.keyFrom == nil:
		return fmt.Errorf("unexpected key share from %q", m.Sender)
	case w.fed.ownerIndex(m.Sender) < 0:
		return fmt.Errorf("key share from unknown sender %q", m.Sender)
	case w.keyFrom[m.Sender]:
		return fmt.Errorf("duplicate key share from %s", m.Sender)
	}
	acc, err := fold(w.combiner, w.keyAcc, m.Payload)
	if err != nil {
		return fmt.Errorf("key share from %s: %w", m.Sender, err)
	}
	w.keyAcc = acc
	w.keyFrom[m.Sender] = true
	if len(w.keyFrom) < len(w.fed.Owners) {
		return nil
	}
	ck, err := w.combiner.CollectiveKey(w.keyAcc)
	if err != nil {
		return w.ready(ctx, fmt.Errorf("collective key: %w", err))
	}
	for _, o := range w.fed.Owners {
		w.send(ctx, o.Name, &CollectiveKey{Payload: ck})
	}
	w.keyFrom, w.keyAcc = nil, nil
	return w.ready(ctx, nil)
}

func (w *secureWorker) startRound(ctx actor.Context, m *RoundStart) error {
	if w.combiner == nil || m.Round <= w.round {
		return fmt.Errorf("round start %d at round %d", m.Round, w.round)
	}
	for _, name := range m.Owners {
		if w.fed.ownerIndex(name) < 0 {
			return fmt.Errorf("round start names unknown owner %q", name)
		}
	}
	w.stopTimer()
	w.round, w.phase = m.Round, collecting
	w.expected = slices.Clone(m.Owners)
	w.got = map[string]bool{}
	w.acc, w.combine, w.rejected, w.partial = nil, 0, nil, nil
	w.cancel = w.timers.SendOnce(time.Duration(m.DeadlineMs)*time.Millisecond, ctx.Self(), &workerDeadline{round: m.Round, phase: collecting})
	early := w.early
	w.early = nil
	for _, u := range early {
		if err := w.update(ctx, u); err != nil {
			w.rejected = append(w.rejected, err.Error())
		}
	}
	return nil
}

// update folds one protected update into the round's aggregate.
func (w *secureWorker) update(ctx actor.Context, m *ProtectedUpdate) error {
	switch {
	case w.combiner == nil:
		return fmt.Errorf("update from %q before set-up", m.Sender)
	case m.Round == w.round+1 && len(w.early) < len(w.fed.Owners):
		w.early = append(w.early, m) // its RoundStart is on the way
		return nil
	case m.Round != w.round || w.phase != collecting:
		return fmt.Errorf("update from %q for round %d at round %d: stale or early", m.Sender, m.Round, w.round)
	case !slices.Contains(w.expected, m.Sender):
		return fmt.Errorf("update from %q, not a participant of round %d", m.Sender, m.Round)
	case w.got[m.Sender]:
		return fmt.Errorf("duplicate update from %s in round %d", m.Sender, m.Round)
	}
	start := time.Now()
	acc, err := fold(w.combiner, w.acc, m.Payload)
	w.combine += time.Since(start)
	if err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	w.acc = acc
	w.got[m.Sender] = true
	if len(w.got) == len(w.expected) {
		w.closePhase(ctx)
	}
	return nil
}

// closePhase ends the current phase: after collecting, it fixes the
// contributors and either asks for reveal shares or forwards the aggregate;
// after revealing, it forwards the aggregate with the combined reveal share.
func (w *secureWorker) closePhase(ctx actor.Context) {
	w.stopTimer()
	if w.phase == revealing {
		w.phase = idle
		if len(w.revealFrom) < len(w.active) {
			w.partial.Error = fmt.Sprintf("%v: %d of %d reveal shares arrived", crypto.ErrTooFewShares, len(w.revealFrom), len(w.active))
			w.partial.Payload = nil
		} else {
			w.partial.RevealShare = w.revealAcc
		}
		w.forward(ctx)
		return
	}
	w.phase = idle
	p := &Partial{Round: w.round, Holder: SecureWorkerName, Payload: w.acc}
	for _, name := range w.expected {
		if w.got[name] {
			p.Contributors = append(p.Contributors, name)
		} else {
			p.Late = append(p.Late, name)
		}
	}
	w.partial = p
	if len(p.Contributors) == 0 {
		p.Error = "no data owner contributed"
		w.forward(ctx)
		return
	}
	if w.flow.OwnersHold {
		req := &CombineRequest{Round: w.round, Contributors: p.Contributors}
		for _, o := range w.fed.Owners {
			w.send(ctx, o.Name, req)
		}
	}
	if !w.flow.RevealShares {
		w.forward(ctx)
		return
	}
	w.askRevealShares(ctx)
}

// askRevealShares sends the aggregate to Threshold owners, contributors
// first, for their reveal shares.
func (w *secureWorker) askRevealShares(ctx actor.Context) {
	var names []string
	names = append(names, w.partial.Contributors...)
	for _, o := range w.fed.Owners {
		if !slices.Contains(names, o.Name) {
			names = append(names, o.Name)
		}
	}
	if len(names) < w.flow.Threshold {
		w.partial.Error = fmt.Sprintf("%v: %d owners, threshold %d", crypto.ErrTooFewShares, len(names), w.flow.Threshold)
		w.forward(ctx)
		return
	}
	names = names[:w.flow.Threshold]
	w.active = w.active[:0]
	for _, n := range names {
		w.active = append(w.active, int32(w.fed.ownerIndex(n)))
	}
	slices.Sort(w.active)
	w.revealAcc, w.revealFrom = nil, map[string]bool{}
	w.phase = revealing
	req := &RevealRequest{Round: w.round, Aggregate: w.acc, Active: w.active}
	for _, a := range w.active {
		w.send(ctx, w.fed.Owners[a].Name, req)
	}
	w.cancel = w.timers.SendOnce(w.fed.revealDeadline(), ctx.Self(), &workerDeadline{round: w.round, phase: revealing})
}

func (w *secureWorker) revealShare(ctx actor.Context, m *RevealShare) error {
	idx := w.fed.ownerIndex(m.Sender)
	switch {
	case m.Round != w.round || w.phase != revealing:
		return fmt.Errorf("reveal share from %q for round %d at round %d: stale or early", m.Sender, m.Round, w.round)
	case idx < 0 || !slices.Contains(w.active, int32(idx)):
		return fmt.Errorf("reveal share from %q, not asked", m.Sender)
	case w.revealFrom[m.Sender]:
		return fmt.Errorf("duplicate reveal share from %s", m.Sender)
	}
	start := time.Now()
	acc, err := fold(w.combiner, w.revealAcc, m.Payload)
	w.combine += time.Since(start)
	if err != nil {
		return fmt.Errorf("reveal share from %s: %w", m.Sender, err)
	}
	w.revealAcc = acc
	w.revealFrom[m.Sender] = true
	if len(w.revealFrom) == len(w.active) {
		w.closePhase(ctx)
	}
	return nil
}

// forward sends the round's partial to the model owner.
func (w *secureWorker) forward(ctx actor.Context) {
	w.partial.CombineSeconds = w.combine.Seconds()
	w.partial.Rejected = w.rejected
	w.send(ctx, ModelOwnerName, w.partial)
	w.acc, w.revealAcc = nil, nil
}

func (w *secureWorker) stopTimer() {
	if w.cancel != nil {
		w.cancel()
		w.cancel = nil
	}
}

// fold returns p when acc is nil and c.Combine(acc, p) otherwise.
func fold(c crypto.Combiner, acc, p []byte) ([]byte, error) {
	if acc == nil {
		return p, nil
	}
	return c.Combine(acc, p)
}
