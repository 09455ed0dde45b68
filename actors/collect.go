package actors

import (
	"fmt"
	"slices"
	"time"

	"github.com/fedactor/fedactor/crypto"
)

// collection is one round's wait for protected updates at a secure worker
// (a group's, or the root with flat aggregation): whom it waits for, whose
// update is folded in, and the aggregate so far.
type collection struct {
	round    int32
	expected []string        // owners asked to contribute, in index order
	keyed    []string        // of those, the ones that may (with round keys, the keyed ones)
	got      map[string]bool // owners whose update is in acc
	acc      []byte
	combine  time.Duration // wall time spent folding
	// due is the simulated instant after which an update is late (0: the
	// wall clock decides); in holds the simulated arrival of each payload
	// folded, and uploads its senders' upload spans.
	due     time.Duration
	in      []time.Duration
	uploads []*Span
	// stragglers are the owners ("update/<owner>") a closed collection
	// did not get: an update that comes later is late, not a replay.
	stragglers stragglers
}

// start opens the collection of round from expected; in simulated time
// an update arriving after due is late.
func (c *collection) start(round int32, expected []string, due time.Duration) {
	c.round, c.expected, c.keyed, c.due = round, expected, expected, due
	c.got, c.acc, c.combine, c.in, c.uploads = map[string]bool{}, nil, 0, nil, nil
}

// late reports whether a payload arriving at arrival missed the
// collection's deadline in simulated time.
func (c *collection) late(arrival time.Duration) bool { return c.due > 0 && arrival > c.due }

// check validates m, an update whose sender is a party this worker takes
// updates from: its round, its sender's part in the round, then its
// payload (so that a forged message is blamed for what it is), then
// duplicates. Whether the worker takes updates now is its caller's call.
func (c *collection) check(comb crypto.Combiner, m *ProtectedUpdate) error {
	switch {
	case c.stragglers.late("update/"+m.Sender, m.Round):
		return reject(ReasonLate, "update from %s after round %d closed", m.Sender, m.Round)
	case m.Round != c.round:
		return roundCheck("update", m.Round, c.round)
	case !slices.Contains(c.expected, m.Sender) || !slices.Contains(c.keyed, m.Sender):
		return reject(ReasonUnknownSender, "update from %s, not a participant of round %d", m.Sender, m.Round)
	}
	if err := comb.Check(m.Payload, 1); err != nil {
		return fmt.Errorf("update from %s: %w", m.Sender, err)
	}
	if c.got[m.Sender] {
		return reject(ReasonDuplicate, "duplicate update from %s in round %d", m.Sender, m.Round)
	}
	return nil
}

// add folds the payload of owners, which arrived at arrival in simulated
// time, into the aggregate.
func (c *collection) add(comb crypto.Combiner, payload []byte, arrival time.Duration, owners ...string) error {
	start := time.Now()
	acc, err := fold(comb, c.acc, payload)
	c.combine += time.Since(start)
	if err != nil {
		return err
	}
	c.acc = acc
	c.in = append(c.in, arrival)
	for _, o := range owners {
		c.got[o] = true
	}
	return nil
}

// folded returns when, in simulated time, a holder that folds each
// payload as it arrives, each fold after the first costing step, starts
// and ends its folding.
func (c *collection) folded(step time.Duration) (start, end time.Duration) {
	return folding(slices.Sorted(slices.Values(c.in)), step)
}

// folding returns when a party that folds payloads as they arrive, at the
// sorted instants in, each fold after the first costing step, starts and
// ends its folding (0, 0 for none).
func folding(in []time.Duration, step time.Duration) (start, end time.Duration) {
	for i, a := range in {
		if i == 0 {
			start, end = a, a // the first payload is kept, not folded
			continue
		}
		end = max(end, a) + step
	}
	return start, end
}

// complete reports whether every owner that may contribute is in.
func (c *collection) complete() bool { return len(c.got) == len(c.keyed) }

// close ends the collection and returns the partial of holder: the
// contributors in index order, the others as late.
func (c *collection) close(holder string) *Partial {
	p := &Partial{Round: c.round, Holder: holder, Payload: c.acc, CombineSeconds: c.combine.Seconds()}
	c.stragglers = stragglers{}
	for _, name := range c.expected {
		if c.got[name] {
			p.Contributors = append(p.Contributors, name)
		} else {
			p.Late = append(p.Late, name)
			c.stragglers["update/"+name] = c.round
		}
	}
	c.acc = nil
	return p
}

// fold returns p when acc is nil and c.Combine(acc, p) otherwise.
func fold(c crypto.Combiner, acc, p []byte) ([]byte, error) {
	if acc == nil {
		return p, nil
	}
	return c.Combine(acc, p)
}
