package sim

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the virtual time of an in-process run. The parties tell it of
// every message they send (Sent) and of every message they finish handling
// (Done); whenever none is in flight, it fires the earliest pending timer,
// at its simulated instant, through fire. Waiting for a deadline therefore
// costs no wall time: it lasts until the parties have nothing else to do.
//
// Timers fire in the order of their instants, ties in the order they were
// set; a fired timer counts as a message in flight until its party has
// handled it. Clock is safe for concurrent use.
type Clock struct {
	mu       sync.Mutex
	now      time.Duration
	inflight int
	seq      uint64
	timers   timerHeap
	fire     func(payload any)
	idle     func()
}

// NewClock returns a clock at time 0 that fires due timers with fire and
// calls idle (if not nil) whenever nothing is in flight and no timer is
// pending: the run is over, or stuck.
func NewClock(fire func(payload any), idle func()) *Clock {
	return &Clock{fire: fire, idle: idle}
}

// Now returns the simulated instant of the last timer fired.
func (c *Clock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sent counts a message on its way.
func (c *Clock) Sent() {
	c.mu.Lock()
	c.inflight++
	c.mu.Unlock()
}

// Done counts a message handled; with none left in flight, it fires the
// earliest timer.
func (c *Clock) Done() {
	c.mu.Lock()
	c.inflight--
	if c.inflight > 0 {
		c.mu.Unlock()
		return
	}
	if len(c.timers) == 0 {
		c.mu.Unlock()
		if c.idle != nil {
			c.idle()
		}
		return
	}
	t := heap.Pop(&c.timers).(*timer)
	c.now = max(c.now, t.at)
	c.inflight++
	c.mu.Unlock()
	c.fire(t.payload)
}

// After sets a timer that fires payload at simulated instant at, and
// returns a function that cancels it (a no-op once it fired).
func (c *Clock) After(at time.Duration, payload any) (cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{at: at, seq: c.seq, payload: payload, index: -1}
	heap.Push(&c.timers, t)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if t.index >= 0 {
			heap.Remove(&c.timers, t.index)
		}
	}
}

// Pending returns the number of timers set and not fired or cancelled.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

type timer struct {
	at      time.Duration
	seq     uint64
	payload any
	index   int // in the heap; -1 once popped or removed
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}
