package actors

import "sync"

// cores shares the machine's cores among parties that compute: an owner
// takes the cores it trains with and gives them back afterwards, so that N
// owners on C cores never run more than C training threads at once.
type cores struct {
	mu   sync.Mutex
	cond sync.Cond
	free int
	size int
}

func newCores(n int) *cores {
	c := &cores{free: n, size: n}
	c.cond.L = &c.mu
	return c
}

// acquire blocks until n cores are free and takes them.
func (c *cores) acquire(n int) {
	n = min(n, c.size)
	c.mu.Lock()
	for c.free < n {
		c.cond.Wait()
	}
	c.free -= n
	c.mu.Unlock()
}

// release gives back n cores taken by acquire.
func (c *cores) release(n int) {
	n = min(n, c.size)
	c.mu.Lock()
	c.free += n
	c.mu.Unlock()
	c.cond.Broadcast()
}
