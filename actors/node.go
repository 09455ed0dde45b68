package actors

import (
	"fmt"
	"slices"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// Lookup finds the actor of the party called name, wherever it runs. It
// returns nil if the party cannot be reached (yet).
type Lookup func(name string) *actor.PID

// Node hosts some of a federation's parties in one actor system: all of
// them for an in-process Run, or the ones named on a cluster member. Its
// parties find the others through the Lookup, so the same actors run in
// one process and across hosts.
type Node struct {
	env  *env
	fed  *Federation
	done chan outcome

	mu      sync.Mutex
	hosted  []string
	actors  map[string]actor.Actor // the parties' actors once made, by name
	stopped map[string]bool
	allStop chan struct{}
	close   sync.Once
}

type outcome struct {
	r   *Result
	err error
}

// NewNode validates fed and prepares a node whose parties reach each other
// through lookup.
func NewNode(fed Federation, lookup Lookup) (*Node, error) {
	f, err := fed.withDefaults()
	if err != nil {
		return nil, err
	}
	n := &Node{fed: &f, done: make(chan outcome, 1), stopped: map[string]bool{}, allStop: make(chan struct{}), actors: map[string]actor.Actor{}}
	n.env = &env{fed: &f, pid: lookup, costs: f.Costs, cores: newCores(f.Cores), traffic: newTraffic(), stop: n.partyStopped, quit: make(chan struct{}),
		pool: &trainers{model: f.Model, batch: f.Train.BatchSize}}
	return n, nil
}

// Parties returns the names of every party of the federation: the secure
// worker, the group workers of an aggregation tree (Federation.GroupSize),
// the data owners in index order and the model owner.
func (n *Node) Parties() []string {
	names := n.fed.secureWorkers()
	for _, o := range n.fed.Owners {
		names = append(names, o.Name)
	}
	return append(names, ModelOwnerName)
}

// Props returns the props of the party called name, to spawn it on this
// node (or to register it as a cluster kind). Each party may be hosted once.
func (n *Node) Props(name string) (*actor.Props, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if slices.Contains(n.hosted, name) {
		return nil, fmt.Errorf("actors: party %s is already hosted on this node", name)
	}
	var producer actor.Producer
	switch i := n.fed.ownerIndex(name); {
	case name == SecureWorkerName:
		producer = func() actor.Actor { return newSecureWorker(n.env) }
	case n.fed.groupIndex(name) >= 0:
		g := n.fed.groupIndex(name)
		producer = func() actor.Actor { return newGroupWorker(n.env, g) }
	case name == ModelOwnerName:
		producer = func() actor.Actor {
			return newModelOwner(n.env, func(r *Result, err error) { n.done <- outcome{r, err} })
		}
	case i >= 0:
		// One instance for the node's life: when the owner panics, its
		// supervisor restarts it with the same keys and shares, and it
		// rejoins the next round.
		o := newDataOwner(n.env, i)
		producer = func() actor.Actor { return o }
	default:
		return nil, fmt.Errorf("actors: no party called %q", name)
	}
	n.hosted = append(n.hosted, name)
	return actor.PropsFromProducer(func() actor.Actor {
		a := producer()
		n.mu.Lock()
		n.actors[name] = a
		n.mu.Unlock()
		return a
	}), nil
}

// party returns the actor of the party called name, once made (tests).
func (n *Node) party(name string) actor.Actor {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.actors[name]
}

// Done delivers the model owner's result, once, if this node hosts it.
func (n *Node) Done() <-chan outcome { return n.done }

// Stopped is closed when every party hosted on this node has been told
// that the run is over.
func (n *Node) Stopped() <-chan struct{} { return n.allStop }

// Traffic returns the bytes this node's parties sent, by message kind.
func (n *Node) Traffic() map[string]int64 { return n.env.traffic.snapshot() }

// Close tells the node's parties that it is shutting down: a data owner
// stops training at the next epoch and writes no more checkpoints.
func (n *Node) Close() { n.close.Do(func() { close(n.env.quit) }) }

func (n *Node) partyStopped(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped[name] {
		return
	}
	n.stopped[name] = true
	if len(n.stopped) == len(n.hosted) {
		close(n.allStop)
	}
}
