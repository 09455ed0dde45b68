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
	combine  time.Duration // time spent folding
	// stragglers are the owners ("update/<owner>") a closed collection
	// did not get: an update that comes later is late, not a replay.
	stragglers stragglers
}

// start opens the collection of round from expected.
func (c *collection) start(round int32, expected []string) {
	c.round, c.expected, c.keyed = round, expected, expected
	c.got, c.acc, c.combine = map[string]bool{}, nil, 0
}

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

// add folds the payload of owners into the aggregate.
func (c *collection) add(comb crypto.Combiner, payload []byte, owners ...string) error {
	start := time.Now()
	acc, err := fold(comb, c.acc, payload)
	c.combine += time.Since(start)
	if err != nil {
		return err
	}
	c.acc = acc
	for _, o := range owners {
		c.got[o] = true
	}
	return nil
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
