package actors

import (
	"sync"

	"github.com/fedactor/fedactor/nn"
)

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

// trainers lends models with their trainers to the data owners that are
// training, so that an owner holds no model between rounds: a node keeps
// at most as many as train at once (bounded by cores), whatever the number
// of owners it hosts.
type trainers struct {
	mu    sync.Mutex
	free  []*nn.Trainer
	model *nn.Model // the architecture to copy
	batch int
}

// get returns an idle trainer with threads threads, making one if none is
// idle. Its model's parameters are whatever the last borrower left.
func (p *trainers) get(threads int) *nn.Trainer {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		t := p.free[n-1]
		p.free = p.free[:n-1]
		t.Threads = threads
		return t
	}
	return &nn.Trainer{Model: p.model.Clone(), BatchSize: p.batch, Threads: threads}
}

// put gives back a trainer returned by get.
func (p *trainers) put(t *nn.Trainer) {
	t.Optimizer, t.Prox, t.Anchor = nil, 0, nil
	p.mu.Lock()
	p.free = append(p.free, t)
	p.mu.Unlock()
}
