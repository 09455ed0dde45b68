package actors

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/nn"
)

// env is what the parties of one run share besides their messages: how to
// find a party by name, the cores they train on and the traffic counter.
// None of it carries secrets.
type env struct {
	fed     *Federation
	pid     Lookup
	cores   *cores
	traffic *traffic
	stop    func(party string) // tells the node a party was stopped
	quit    chan struct{}      // closed when the node shuts down
	pool    *trainers
	// clock is the virtual clock of a run in simulated time (nil: wall
	// clock deadlines), costs the crypto cost table.
	clock *sim.Clock
	costs *sim.Costs

	mu     sync.Mutex
	cohort struct {
		round   int
		clients []int
	}
}

// shard returns the data owner idx trains on in round, and its size.
func (e *env) shard(idx int, round int32) (nn.Source, []int, int) {
	f := e.fed
	if f.Clients == nil {
		o := f.Owners[idx]
		return o.Data, o.Indices, o.shardLen()
	}
	c := f.Clients[e.cohortOf(int(round))[idx]]
	return c.Data, c.Indices, c.Len()
}

// ownerDevice returns the device data owner idx trains on in round: its
// own, or with client sampling its client's.
func (e *env) ownerDevice(idx int, round int32) sim.Device {
	if e.fed.Clients == nil {
		return e.fed.Devices[idx]
	}
	return e.fed.Devices[e.cohortOf(int(round))[idx]]
}

// cohortOf is f.Cohort(round), computed once per round for the node.
func (e *env) cohortOf(round int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cohort.clients == nil || e.cohort.round != round {
		e.cohort.round, e.cohort.clients = round, e.fed.Cohort(round)
	}
	return e.cohort.clients
}

// step returns the simulated time of crypto step op (sim.OpProtect, ...)
// on one update of this run's model, for a step whose work grows with
// parties parties.
func (e *env) step(op string, parties int) time.Duration {
	return e.costs.Step(e.fed.Scheme.Name(), op, e.fed.Model.NumParams()+1, parties)
}

// quitting reports whether the node is shutting down.
func (e *env) quitting() bool {
	select {
	case <-e.quit:
		return true
	default:
		return false
	}
}

// send counts msg's serialized size under its kind and sends it to the
// party called to.
func (e *env) send(ctx actor.SenderContext, to string, msg proto.Message) {
	e.traffic.add(msg)
	if e.fed.Observe != nil {
		e.fed.Observe(to, msg)
	}
	pid := e.pid(to)
	if pid != nil && e.clock != nil {
		e.clock.Sent()
	}
	if pid == nil {
		e.fed.Logger.Warn("party unreachable, message dropped", "to", to, "kind", msg.ProtoReflect().Descriptor().Name())
		return
	}
	ctx.Send(pid, msg)
}

// traffic counts the bytes of every message sent, by kind (the message
// type's name). It is safe for concurrent use.
type traffic struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func newTraffic() *traffic { return &traffic{bytes: map[string]int64{}} }

func (t *traffic) add(msg proto.Message) {
	n := int64(wireSize(msg))
	kind := string(msg.ProtoReflect().Descriptor().Name())
	t.mu.Lock()
	t.bytes[kind] += n
	t.mu.Unlock()
}

// snapshot returns a copy of the counts so far.
func (t *traffic) snapshot() map[string]int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := make(map[string]int64, len(t.bytes))
	for k, v := range t.bytes {
		s[k] = v
	}
	return s
}

// since returns the counts added after the snapshot before, and their sum.
func (t *traffic) since(before map[string]int64) (map[string]int64, int64) {
	now := t.snapshot()
	var total int64
	for k, v := range now {
		now[k] = v - before[k]
		if now[k] == 0 {
			delete(now, k)
		}
		total += now[k]
	}
	return now, total
}
