package actors

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Aggregation trees (Federation.GroupSize). Each group worker is a
// secureWorker in group mode: it takes Setup, RoundStart and its members'
// protected updates, and when all of the round's members are in or the
// deadline passes it sends its group's aggregate to the root as a
// Partial. The root takes those instead of updates, a grace period longer
// than the owners' deadline, and then goes on as in flat aggregation.
//
//	data owner   --ProtectedUpdate---------------> its group worker
//	group worker --Partial(group aggregate)------> root secure worker
//	root         --Partial(round aggregate)------> model owner

// newSecureWorker returns the root secure worker (group < 0) or the
// worker of that group of the aggregation tree.
func newSecureWorker(e *env, group int) *secureWorker {
	w := &secureWorker{env: e, name: SecureWorkerName, parent: ModelOwnerName}
	if group < 0 {
		w.groups = e.fed.Groups()
		return w
	}
	w.name, w.parent = GroupWorkerName(group), SecureWorkerName
	w.members = e.fed.Groups()[group]
	return w
}

// groupAggregate folds a group worker's aggregate into the round's (the
// root of an aggregation tree).
func (w *secureWorker) groupAggregate(ctx actor.Context, m *Partial) error {
	g := w.fed.groupIndex(m.Holder)
	switch {
	case w.groups == nil:
		return reject(ReasonUnexpected, "%s takes no Partial", w.name)
	case w.combiner == nil:
		return reject(ReasonUnexpected, "group aggregate from %q before set-up", m.Holder)
	case g < 0:
		return reject(ReasonUnknownSender, "group aggregate from %q, not a group worker", m.Holder)
	case m.Round == w.round+1:
		return w.defer_(m) // its RoundStart is on the way
	case w.stragglers.late("group/"+m.Holder, m.Round):
		return reject(ReasonLate, "group aggregate from %s after round %d closed", m.Holder, m.Round)
	case m.Round != w.round:
		return roundCheck("group aggregate", m.Round, w.round)
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
		case !slices.Contains(w.expected, c) || !slices.Contains(w.keyed, c):
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
	case w.groupFrom[m.Holder]:
		return reject(ReasonDuplicate, "duplicate group aggregate from %s in round %d", m.Holder, m.Round)
	case slices.ContainsFunc(m.Contributors, func(c string) bool { return w.got[c] }):
		return reject(ReasonDuplicate, "group aggregate from %s names an owner already counted", m.Holder)
	case w.phase == keying && len(m.Contributors) > 0:
		return reject(ReasonUnexpected, "group aggregate from %s before the round's keys", m.Holder)
	case w.phase != collecting && w.phase != keying:
		return reject(ReasonLate, "group aggregate from %s after the round's deadline", m.Holder)
	}
	if len(m.Contributors) > 0 {
		start := time.Now()
		acc, err := fold(w.combiner, w.acc, m.Payload)
		w.combine += time.Since(start)
		if err != nil {
			return fmt.Errorf("group aggregate from %s: %w", m.Holder, err)
		}
		w.acc = acc
	}
	w.groupFrom[m.Holder] = true
	w.groupCombine[m.Holder] = m.CombineSeconds
	for _, c := range m.Contributors {
		w.got[c] = true
	}
	// Its refusals join the root's, through the root's bounded log.
	for _, r := range m.Rejected {
		if r != nil {
			w.rejected.record(&Rejection{Party: m.Holder, Sender: r.Sender, Kind: r.Kind, Reason: r.Reason, Detail: r.Detail, Count: r.Count})
		}
	}
	if w.phase == collecting && w.complete() {
		w.closePhase(ctx)
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
