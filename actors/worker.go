package actors

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/crypto"
)

// secureWorker is the secure worker's actor. It holds a crypto.Combiner,
// which carries parameters and public keys only: it combines protected
// updates it cannot read and forwards the aggregate to the model owner.
// In an aggregation tree (see tree.go) the same type serves as a group
// worker, which forwards its group's aggregate to the root instead.
type secureWorker struct {
	*env
	name     string // SecureWorkerName, or a group worker's name
	parent   string // where the aggregate goes
	timers   *scheduler.TimerScheduler
	flow     crypto.Flow // zero at a group worker: no keys, no reveal
	combiner crypto.Combiner
	rejected rejectLog

	// An aggregation tree: a group worker's members, or the root's groups.
	members []string
	groups  [][]string

	// Key generation: at set-up (Flow.KeyGen, round 0) or at the start of
	// every round (Flow.RoundKeys).
	keyAcc  []byte
	keyFrom map[string]bool
	keyed   []string // owners in the round's collective key (Flow.RoundKeys)

	// The current round.
	round    int32
	phase    workerPhase
	started  time.Time
	deadline time.Duration
	expected []string        // owners asked to contribute, in index order
	got      map[string]bool // owners whose update is in acc
	acc      []byte
	early    []proto.Message // messages for the next round, before its RoundStart
	combine  time.Duration
	// The root of a tree: the groups whose aggregate is in, and their
	// combine times.
	groupFrom    map[string]bool
	groupCombine map[string]float64
	// Reveal shares (Flow.RevealShares).
	partial    *Partial
	candidates []string // owners that may still answer, in asking order
	attempt    int32
	asked      []string
	revealAcc  []byte
	revealFrom map[string]bool
	cancel     scheduler.CancelFunc
	// stragglers are the updates and reveal shares ("update/<owner>",
	// "reveal/<owner>") a closed step did not get: one that comes later is
	// late, not a replay.
	stragglers stragglers
}

type workerPhase int

const (
	idle workerPhase = iota
	keying
	collecting
	revealing
)

// workerDeadline fires when a step's wait for data owners is over.
type workerDeadline struct {
	round   int32
	phase   workerPhase
	attempt int32
}

// Receive implements actor.Actor.
func (w *secureWorker) Receive(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.timers = scheduler.NewTimerScheduler(ctx)
		w.rejected.party = w.name
	case *Setup:
		err = w.setup(ctx, m)
	case *KeyShare:
		err = w.keyShare(ctx, m)
	case *RoundStart:
		err = w.startRound(ctx, m)
	case *ProtectedUpdate:
		err = w.update(ctx, m)
	case *Partial:
		err = w.groupAggregate(ctx, m)
	case *RevealShare:
		err = w.revealShare(ctx, m)
	case *workerDeadline:
		if m.round == w.round && m.phase == w.phase && m.attempt == w.attempt {
			w.closePhase(ctx)
		}
	case *Stop:
		w.stopTimer()
		w.stop(w.name)
	case proto.Message:
		err = reject(ReasonUnexpected, "%s takes no %s", w.name, kindOf(m))
	}
	if err != nil {
		w.rejected.add(w.env, w.round, ctx.Message().(proto.Message), err)
	}
}

func (w *secureWorker) setup(ctx actor.Context, m *Setup) error {
	if w.combiner != nil {
		return reject(ReasonDuplicate, "duplicate set-up")
	}
	var err error
	if w.combiner, err = w.fed.Scheme.NewCombiner(m.Payload); err != nil {
		return w.ready(ctx, fmt.Errorf("set-up: %w", err))
	}
	if w.members != nil {
		return w.ready(ctx, nil) // keys and reveal shares stay with the root
	}
	w.flow = w.fed.Scheme.Flow()
	if w.flow.KeyGen {
		w.keyFrom = map[string]bool{}
		return nil
	}
	return w.ready(ctx, nil)
}

func (w *secureWorker) ready(ctx actor.Context, err error) error {
	r := &Ready{Sender: w.name}
	if err != nil {
		r.Error = err.Error()
	}
	w.send(ctx, ModelOwnerName, r)
	return err
}

// keyShare folds one owner's key-generation share; with all of them in,
// it sends the collective key to every owner.
func (w *secureWorker) keyShare(ctx actor.Context, m *KeyShare) error {
	if w.members != nil {
		return reject(ReasonUnexpected, "%s takes no key shares", w.name)
	}
	if w.flow.RoundKeys && m.Round == w.round+1 && w.phase != keying {
		return w.defer_(m)
	}
	switch {
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "key share from unknown sender %q", m.Sender)
	case m.Round != w.round:
		return roundCheck("key share", m.Round, w.round)
	case w.keyFrom == nil:
		return reject(ReasonLate, "key share from %s after the key step closed", m.Sender)
	case w.flow.RoundKeys && !slices.Contains(w.expected, m.Sender):
		return reject(ReasonUnknownSender, "key share from %s, not a participant of round %d", m.Sender, m.Round)
	case w.keyFrom[m.Sender]:
		return reject(ReasonDuplicate, "duplicate key share from %s", m.Sender)
	}
	acc, err := fold(w.combiner, w.keyAcc, m.Payload)
	if err != nil {
		return fmt.Errorf("key share from %s: %w", m.Sender, err)
	}
	w.keyAcc = acc
	w.keyFrom[m.Sender] = true
	want := len(w.fed.Owners)
	if w.flow.RoundKeys {
		want = len(w.expected)
	}
	if len(w.keyFrom) == want {
		w.closeKeys(ctx)
	}
	return nil
}

// closeKeys turns the key shares into the collective key and sends it to
// the owners that took part; at set-up it reports readiness.
func (w *secureWorker) closeKeys(ctx actor.Context) {
	setup := w.round == 0
	keyed := make([]string, 0, len(w.keyFrom))
	for _, o := range w.fed.Owners {
		if w.keyFrom[o.Name] {
			keyed = append(keyed, o.Name)
		}
	}
	ck, err := []byte(nil), error(nil)
	if len(keyed) == 0 {
		err = errors.New("no data owner sent a key share")
	} else {
		ck, err = w.combiner.CollectiveKey(w.keyAcc)
	}
	w.keyFrom, w.keyAcc = nil, nil
	if setup {
		if err == nil {
			for _, n := range keyed {
				w.send(ctx, n, &CollectiveKey{Payload: ck})
			}
		}
		_ = w.ready(ctx, err)
		return
	}
	w.stopTimer()
	if err != nil {
		w.phase = idle
		w.partial = &Partial{Round: w.round, Holder: w.name, Late: w.expected, Error: "round keys: " + err.Error()}
		w.forward(ctx)
		return
	}
	w.keyed = keyed
	for _, n := range keyed {
		w.send(ctx, n, &CollectiveKey{Payload: ck, Round: w.round})
	}
	w.collect(ctx)
}

func (w *secureWorker) startRound(ctx actor.Context, m *RoundStart) error {
	if w.combiner == nil || m.Round <= w.round {
		return reject(ReasonStale, "round start %d at round %d", m.Round, w.round)
	}
	for _, name := range m.Owners {
		if w.fed.ownerIndex(name) < 0 {
			return reject(ReasonUnknownSender, "round start names unknown owner %q", name)
		}
	}
	w.stopTimer()
	w.round, w.attempt = m.Round, 0
	w.started, w.deadline = time.Now(), time.Duration(m.DeadlineMs)*time.Millisecond
	w.expected = slices.Clone(m.Owners)
	if w.members != nil {
		w.expected = slices.DeleteFunc(w.expected, func(n string) bool { return !slices.Contains(w.members, n) })
	}
	w.got = map[string]bool{}
	w.groupFrom, w.groupCombine = map[string]bool{}, map[string]float64{}
	w.acc, w.combine, w.partial, w.keyed = nil, 0, nil, w.expected
	if w.flow.RoundKeys {
		w.phase = keying
		w.keyFrom, w.keyAcc = map[string]bool{}, nil
		w.cancel = w.timers.SendOnce(min(w.fed.grace(), w.deadline), ctx.Self(), &workerDeadline{round: m.Round, phase: keying})
	} else {
		w.collect(ctx)
	}
	early := w.early
	w.early = nil
	for _, msg := range early {
		var err error
		switch e := msg.(type) {
		case *KeyShare:
			err = w.keyShare(ctx, e)
		case *ProtectedUpdate:
			err = w.update(ctx, e)
		case *Partial:
			err = w.groupAggregate(ctx, e)
		}
		if err != nil {
			w.rejected.add(w.env, w.round, msg, err)
		}
	}
	return nil
}

// collect opens the round's wait for protected updates, until the
// round's deadline (at the root of a tree, for group aggregates, a grace
// period longer).
func (w *secureWorker) collect(ctx actor.Context) {
	w.phase = collecting
	wait := w.deadline
	if w.groups != nil {
		wait += w.fed.grace()
	}
	left := max(wait-time.Since(w.started), 0)
	w.cancel = w.timers.SendOnce(left, ctx.Self(), &workerDeadline{round: w.round, phase: collecting})
	if w.complete() {
		w.closePhase(ctx)
	}
}

// complete reports whether every owner the round waits for is in (at the
// root of a tree, or every group has answered).
func (w *secureWorker) complete() bool {
	return len(w.got) == len(w.keyed) || (w.groups != nil && len(w.groupFrom) == len(w.groups))
}

// defer_ keeps a message of the next round until its RoundStart arrives.
func (w *secureWorker) defer_(m proto.Message) error {
	if len(w.early) >= 2*len(w.fed.Owners) {
		return reject(ReasonFuture, "%s for round %d at round %d: too many early messages", kindOf(m), w.round+1, w.round)
	}
	w.early = append(w.early, m)
	return nil
}

// update folds one protected update into the round's aggregate.
func (w *secureWorker) update(ctx actor.Context, m *ProtectedUpdate) error {
	switch {
	case w.combiner == nil:
		return reject(ReasonUnexpected, "update from %q before set-up", m.Sender)
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "update from unknown sender %q", m.Sender)
	case w.groups != nil:
		return reject(ReasonUnexpected, "update from %s: in an aggregation tree the root takes group aggregates", m.Sender)
	case w.members != nil && !slices.Contains(w.members, m.Sender):
		return reject(ReasonUnknownSender, "update from %s, not a member of the group of %s", m.Sender, w.name)
	case m.Round == w.round+1:
		return w.defer_(m) // its RoundStart is on the way
	case w.stragglers.late("update/"+m.Sender, m.Round):
		return reject(ReasonLate, "update from %s after round %d closed", m.Sender, m.Round)
	case m.Round != w.round:
		return roundCheck("update", m.Round, w.round)
	case !slices.Contains(w.expected, m.Sender) || !slices.Contains(w.keyed, m.Sender):
		return reject(ReasonUnknownSender, "update from %s, not a participant of round %d", m.Sender, m.Round)
	}
	// The payload is checked on its own before anything else is said of
	// it, so that a forged message is blamed for what it is.
	if err := w.combiner.Check(m.Payload, 1); err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	switch {
	case w.got[m.Sender]:
		return reject(ReasonDuplicate, "duplicate update from %s in round %d", m.Sender, m.Round)
	case w.phase == keying:
		return reject(ReasonUnexpected, "update from %s before the round's keys", m.Sender)
	case w.phase != collecting:
		return reject(ReasonLate, "update from %s after the round's deadline", m.Sender)
	}
	start := time.Now()
	acc, err := fold(w.combiner, w.acc, m.Payload)
	w.combine += time.Since(start)
	if err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	w.acc = acc
	w.got[m.Sender] = true
	if w.complete() {
		w.closePhase(ctx)
	}
	return nil
}

// closePhase ends the current step: after key generation it sends the
// round's keys; after collecting it fixes the contributors and either asks
// for reveal shares or forwards the aggregate; after revealing it forwards
// the aggregate with the combined reveal share, or asks again.
func (w *secureWorker) closePhase(ctx actor.Context) {
	w.stopTimer()
	switch w.phase {
	case keying:
		w.closeKeys(ctx)
		return
	case revealing:
		w.closeReveal(ctx)
		return
	}
	w.phase = idle
	p := &Partial{Round: w.round, Holder: w.name, Payload: w.acc}
	for _, name := range w.expected {
		if w.got[name] {
			p.Contributors = append(p.Contributors, name)
		} else {
			p.Late = append(p.Late, name)
		}
	}
	w.partial = p
	if w.members != nil {
		w.forward(ctx) // to the root, even with no contributors
		return
	}
	if len(p.Contributors) == 0 {
		p.Error = "no data owner contributed"
		w.forward(ctx)
		return
	}
	if w.flow.HoldingOwners > 0 {
		req := &CombineRequest{Round: w.round, Contributors: p.Contributors}
		for _, o := range w.fed.holdingOwners() {
			w.send(ctx, o.Name, req)
		}
	}
	if !w.flow.RevealShares {
		w.forward(ctx)
		return
	}
	// Contributors first: they were alive a moment ago.
	w.candidates = slices.Clone(p.Contributors)
	for _, n := range w.keyed {
		if !slices.Contains(w.candidates, n) {
			w.candidates = append(w.candidates, n)
		}
	}
	w.askRevealShares(ctx)
}

// askRevealShares asks candidates for reveal shares: with Flow.AnyReveal
// all of them, else exactly Threshold of them, whose set fixes the shares.
func (w *secureWorker) askRevealShares(ctx actor.Context) {
	if len(w.candidates) < w.flow.Threshold {
		w.partial.Error = fmt.Sprintf("%v: %d owners can answer, threshold %d", crypto.ErrTooFewShares, len(w.candidates), w.flow.Threshold)
		w.partial.Payload = nil
		w.forward(ctx)
		return
	}
	w.asked = slices.Clone(w.candidates)
	if !w.flow.AnyReveal {
		w.asked = w.asked[:w.flow.Threshold]
	}
	w.attempt++
	req := &RevealRequest{Round: w.round, Aggregate: w.acc, Attempt: w.attempt}
	for _, n := range w.asked {
		req.Active = append(req.Active, int32(w.fed.ownerIndex(n)))
	}
	slices.Sort(req.Active)
	for _, n := range w.partial.Contributors {
		req.Contributors = append(req.Contributors, int32(w.fed.ownerIndex(n)))
	}
	w.revealAcc, w.revealFrom = nil, map[string]bool{}
	w.phase = revealing
	for _, n := range w.asked {
		w.send(ctx, n, req)
	}
	w.cancel = w.timers.SendOnce(w.fed.revealDeadline(), ctx.Self(), &workerDeadline{round: w.round, phase: revealing, attempt: w.attempt})
}

// closeReveal forwards the aggregate once enough reveal shares are in;
// otherwise, with a fixed active set, it asks again without the owners
// that did not answer.
func (w *secureWorker) closeReveal(ctx actor.Context) {
	w.phase = idle
	if len(w.revealFrom) >= w.flow.Threshold && (w.flow.AnyReveal || len(w.revealFrom) == len(w.asked)) {
		w.partial.RevealShare = w.revealAcc
		w.forward(ctx)
		return
	}
	var silent []string
	for _, n := range w.asked {
		if !w.revealFrom[n] {
			silent = append(silent, n)
		}
	}
	w.fed.Logger.Debug("owners did not send reveal shares", "round", w.round, "attempt", w.attempt, "silent", silent)
	w.candidates = slices.DeleteFunc(w.candidates, func(n string) bool { return slices.Contains(silent, n) })
	if w.flow.AnyReveal {
		w.candidates = nil // asking the same owners again cannot help
	}
	w.askRevealShares(ctx)
}

func (w *secureWorker) revealShare(ctx actor.Context, m *RevealShare) error {
	switch {
	case w.members != nil:
		return reject(ReasonUnexpected, "%s takes no reveal shares", w.name)
	case w.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "reveal share from unknown sender %q", m.Sender)
	case w.stragglers.late("reveal/"+m.Sender, m.Round):
		return reject(ReasonLate, "reveal share from %s after round %d closed", m.Sender, m.Round)
	case m.Round != w.round:
		return roundCheck("reveal share", m.Round, w.round)
	case !slices.Contains(w.asked, m.Sender) || m.Attempt > w.attempt || m.Attempt < 1:
		return reject(ReasonUnknownSender, "reveal share from %s, not asked (attempt %d)", m.Sender, m.Attempt)
	case m.Attempt < w.attempt || w.phase != revealing:
		return reject(ReasonLate, "reveal share from %s for a closed request", m.Sender)
	case w.revealFrom[m.Sender]:
		return reject(ReasonDuplicate, "duplicate reveal share from %s", m.Sender)
	}
	start := time.Now()
	acc, err := fold(w.combiner, w.revealAcc, m.Payload)
	w.combine += time.Since(start)
	if err != nil {
		return fmt.Errorf("reveal share from %s: %w", m.Sender, err)
	}
	w.revealAcc = acc
	w.revealFrom[m.Sender] = true
	if len(w.revealFrom) == len(w.asked) || (w.flow.AnyReveal && len(w.revealFrom) >= w.flow.Threshold) {
		w.closePhase(ctx)
	}
	return nil
}

// forward sends the round's partial to the model owner (from a group
// worker, to the root).
func (w *secureWorker) forward(ctx actor.Context) {
	w.stragglers = stragglers{}
	for _, n := range w.expected {
		if !w.got[n] {
			w.stragglers["update/"+n] = w.round
		}
	}
	for _, n := range w.asked {
		if !w.revealFrom[n] {
			w.stragglers["reveal/"+n] = w.round
		}
	}
	for i := range w.groups {
		if n := GroupWorkerName(i); !w.groupFrom[n] {
			w.stragglers["group/"+n] = w.round
		}
	}
	w.partial.CombineSeconds = w.combine.Seconds()
	if w.groups != nil {
		w.partial.GroupCombineSeconds = w.groupCombine
	}
	w.partial.Rejected = w.rejected.take()
	w.send(ctx, w.parent, w.partial)
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
