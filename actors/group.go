package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
)

// Aggregation trees (Federation.GroupSize). Each group of owners has a
// group worker that only collects and forwards: it folds its members'
// protected updates and, when all of the round's members are in or the
// deadline passes, sends the group's aggregate to the root secure worker
// as a Partial. Keys and reveal shares stay with the root.
//
//	data owner   --ProtectedUpdate---------------> its group worker
//	group worker --Partial(group aggregate)------> root secure worker
//	root         --Partial(round aggregate)------> model owner

// groupWorker is the secure worker of one group. Like the root it holds a
// crypto.Combiner only: parameters and public keys.
type groupWorker struct {
	party
	members  []string
	cancel   func()
	combiner crypto.Combiner
	rejected rejectLog
	early    early // updates of the next round, before its RoundStart

	col  collection
	open bool // taking the round's updates
}

// groupDeadline ends a group worker's wait for its members' updates.
type groupDeadline struct{ round int32 }

func newGroupWorker(e *env, group int) *groupWorker {
	name := GroupWorkerName(group)
	return &groupWorker{party: party{env: e, name: name, dev: e.fed.Server}, members: e.fed.Groups()[group], rejected: rejectLog{party: name}}
}

// Receive implements actor.Actor.
func (g *groupWorker) Receive(ctx actor.Context) {
	var err error
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.start(ctx)
	case *Setup:
		err = g.setup(ctx, m)
	case *RoundStart:
		err = g.startRound(ctx, m)
	case *ProtectedUpdate:
		err = g.update(ctx, m)
	case *groupDeadline:
		if m.round == g.col.round && g.open {
			g.timedOut()
			g.forward(ctx)
		}
	case *Stop:
		g.stopTimer()
		g.stop(g.name)
	case proto.Message:
		err = reject(ReasonUnexpected, "%s takes no %s", g.name, kindOf(m))
	}
	if err != nil {
		g.rejected.add(g.env, g.col.round, ctx.Message().(proto.Message), err)
	}
}

func (g *groupWorker) setup(ctx actor.Context, m *Setup) error {
	if g.combiner != nil {
		return reject(ReasonDuplicate, "duplicate set-up")
	}
	g.wait(g.arrival(m, 1))
	var err error
	if g.combiner, err = g.fed.Scheme.NewCombiner(m.Payload); err != nil {
		err = fmt.Errorf("set-up: %w", err)
	}
	r := &Ready{Sender: g.name}
	if err != nil {
		r.Error = err.Error()
	}
	g.send(ctx, ModelOwnerName, r)
	return err
}

// startRound opens the round's collection of the members' updates, until
// the round's deadline.
func (g *groupWorker) startRound(ctx actor.Context, m *RoundStart) error {
	if err := g.fed.checkRoundStart(m, g.combiner != nil, g.col.round); err != nil {
		return err
	}
	g.stopTimer()
	g.wait(g.arrival(m, 1))
	deadline := time.Duration(m.DeadlineMs) * time.Millisecond
	expected := slices.DeleteFunc(slices.Clone(m.Owners), func(n string) bool { return !slices.Contains(g.members, n) })
	g.col.start(m.Round, expected, g.due(m, deadline))
	g.open = true
	g.cancel = g.timer(ctx, deadline, g.col.due, &groupDeadline{round: m.Round})
	for _, e := range g.early.take() {
		if err := g.update(ctx, e.(*ProtectedUpdate)); err != nil {
			g.rejected.add(g.env, g.col.round, e, err)
		}
	}
	if g.col.complete() {
		g.forward(ctx)
	}
	return nil
}

// update folds one member's protected update into the group's aggregate.
func (g *groupWorker) update(ctx actor.Context, m *ProtectedUpdate) error {
	switch {
	case g.combiner == nil:
		return reject(ReasonUnexpected, "update from %q before set-up", m.Sender)
	case g.fed.ownerIndex(m.Sender) < 0:
		return reject(ReasonUnknownSender, "update from unknown sender %q", m.Sender)
	case !slices.Contains(g.members, m.Sender):
		return reject(ReasonUnknownSender, "update from %s, not a member of the group of %s", m.Sender, g.name)
	case m.Round == g.col.round+1:
		return g.early.keep(m, 2*len(g.members)) // its RoundStart is on the way
	}
	if err := g.col.check(g.combiner, m); err != nil {
		return err
	}
	arrival := g.arrival(m, len(g.col.expected))
	if !g.open || g.col.late(arrival) {
		return reject(ReasonLate, "update from %s after the round's deadline", m.Sender)
	}
	g.col.uploads = append(g.col.uploads, g.upload(m, m.Sender, arrival))
	if err := g.col.add(g.combiner, m.Payload, arrival, m.Sender); err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	if g.col.complete() {
		g.forward(ctx)
	}
	return nil
}

// forward sends the group's aggregate to the root, even with no
// contributors, with the refusals of the round.
func (g *groupWorker) forward(ctx actor.Context) {
	g.stopTimer()
	g.open = false
	start, end := g.col.folded(g.step(sim.OpCombine, 0))
	g.wait(end)
	spans := append(g.col.uploads, &Span{Party: g.name, Step: "combine", StartNs: int64(start), EndNs: int64(end)})
	p := g.col.close(g.name)
	p.Rejected, p.Spans = g.rejected.take(), spans
	g.send(ctx, SecureWorkerName, p)
}

func (g *groupWorker) stopTimer() {
	if g.cancel != nil {
		g.cancel()
		g.cancel = nil
	}
}

// checkRoundStart validates a RoundStart at a secure worker that is set
// up (or not) and at round at.
func (f *Federation) checkRoundStart(m *RoundStart, setUp bool, at int32) error {
	if !setUp || m.Round <= at {
		return reject(ReasonStale, "round start %d at round %d", m.Round, at)
	}
	if m.DeadlineMs <= 0 {
		return reject(ReasonOutOfRange, "round start %d with deadline %d ms", m.Round, m.DeadlineMs)
	}
	for i, name := range m.Owners {
		switch {
		case f.ownerIndex(name) < 0:
			return reject(ReasonUnknownSender, "round start names unknown owner %q", name)
		case slices.Contains(m.Owners[:i], name):
			return reject(ReasonDuplicate, "round start names %s twice", name)
		}
	}
	return nil
}

// Groups returns the data owners' names split into the groups of the
// aggregation tree, in order: group i is served by GroupWorkerName(i).
// It returns nil for flat aggregation (GroupSize 0).
func (f *Federation) Groups() [][]string {
	if f.GroupSize <= 0 {
		return nil
	}
	var groups [][]string
	for lo := 0; lo < len(f.Owners); lo += f.GroupSize {
		var g []string
		for _, o := range f.Owners[lo:min(lo+f.GroupSize, len(f.Owners))] {
			g = append(g, o.Name)
		}
		groups = append(groups, g)
	}
	return groups
}

// numGroups is the number of groups of the aggregation tree (0: flat).
func (f *Federation) numGroups() int {
	if f.GroupSize <= 0 {
		return 0
	}
	return (len(f.Owners) + f.GroupSize - 1) / f.GroupSize
}

// groupIndex returns i if name is the group worker GroupWorkerName(i) of
// this federation, else -1.
func (f *Federation) groupIndex(name string) int {
	if i := groupNumber(name); i >= 0 && i < f.numGroups() {
		return i
	}
	return -1
}

// secureWorkers returns the names of the secure workers: the root, then
// the group workers of an aggregation tree.
func (f *Federation) secureWorkers() []string {
	names := []string{SecureWorkerName}
	for i := range f.numGroups() {
		names = append(names, GroupWorkerName(i))
	}
	return names
}

// updateWorker returns the secure worker to which data owner idx sends
// what its scheme addresses to crypto.SecureWorker in a round: its
// group's worker in an aggregation tree, else the root.
func (f *Federation) updateWorker(idx int) string {
	if f.GroupSize <= 0 {
		return SecureWorkerName
	}
	return GroupWorkerName(idx / f.GroupSize)
}
