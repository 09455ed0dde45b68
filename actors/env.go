package actors

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

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

// cohortOf is f.Cohort(round), computed once per round for the node.
func (e *env) cohortOf(round int) []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cohort.clients == nil || e.cohort.round != round {
		e.cohort.round, e.cohort.clients = round, e.fed.Cohort(round)
	}
	return e.cohort.clients
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

// party is what each actor holds of its node: the shared env, and its own
// name, under which it stamps what it sends.
type party struct {
	*env
	name string
}

// send stamps msg as sent by p (the same stamp for every recipient of a
// message sent to several) and sends it to the party called to.
func (p party) send(ctx actor.SenderContext, to string, msg proto.Message) {
	stamp(msg, p.name)
	p.env.send(ctx, to, msg)
}

// stamp sets msg's Stamp to one from party, unless it has that one
// already: a message sent to several parties is stamped before the first
// send and only read afterwards.
func stamp(msg proto.Message, from string) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("stamp")
	if fd == nil {
		return
	}
	if s, ok := m.Get(fd).Message().Interface().(*Stamp); ok && s.GetFrom() == from {
		return
	}
	m.Set(fd, protoreflect.ValueOfMessage((&Stamp{From: from}).ProtoReflect()))
}

// send counts msg's serialized size under its kind and sends it to the
// party called to.
func (e *env) send(ctx actor.SenderContext, to string, msg proto.Message) {
	e.traffic.add(msg)
	if e.fed.Observe != nil {
		e.fed.Observe(to, msg)
	}
	pid := e.pid(to)
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
	n := int64(proto.Size(msg))
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
