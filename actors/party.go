package actors

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/fedactor/fedactor/actors/sim"
)

// party is what each actor holds of its node and of time: the shared env,
// its own name, under which it stamps what it sends, its device, and its
// simulated clock (see package sim).
//
// A party's clock advances by the work it does (work) and by what it waits
// for (wait, with the simulated arrival of a message from arrival). Its
// timers run on the run's virtual clock in simulated time, or on the wall
// clock with Federation.WallClock.
type party struct {
	*env
	name   string
	dev    sim.Device
	now    time.Duration // the simulated clock
	timers *scheduler.TimerScheduler
	// timerAt is the simulated instant of the party's latest timer on
	// the virtual clock: a party has one timer pending at most.
	timerAt time.Duration
}

// start readies p's timers; every party calls it on actor.Started.
func (p *party) start(ctx actor.Context) { p.timers = scheduler.NewTimerScheduler(ctx) }

// send stamps msg as sent by p now, with p's whole uplink, and sends it to
// the party called to.
func (p *party) send(ctx actor.SenderContext, to string, msg proto.Message) {
	p.stamp(msg, 1)
	p.env.send(ctx, to, msg)
}

// broadcast sends msg to every party in to at once: p's uplink is shared
// among them.
func (p *party) broadcast(ctx actor.SenderContext, to []string, msg proto.Message) {
	p.stamp(msg, len(to))
	for _, n := range to {
		p.env.send(ctx, n, msg)
	}
}

// outgoing is a message for one party.
type outgoing struct {
	to  string
	msg proto.Message
}

// sendAll sends messages that leave at once: p's uplink is shared among
// them.
func (p *party) sendAll(ctx actor.SenderContext, out []outgoing) {
	for _, o := range out {
		p.stamp(o.msg, len(out))
	}
	for _, o := range out {
		p.env.send(ctx, o.to, o.msg)
	}
}

// stamp sets msg's Stamp: from p, now, at p's uplink rate shared among
// fanOut messages. A message already stamped so (one sent to several
// parties) is left alone: it is only read once sent.
func (p *party) stamp(msg proto.Message, fanOut int) {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("stamp")
	if fd == nil {
		return
	}
	s := &Stamp{From: p.name, SimNs: int64(p.now), UpBps: p.dev.Up / float64(max(fanOut, 1)), LatencyNs: int64(p.dev.Latency)}
	if old, ok := m.Get(fd).Message().Interface().(*Stamp); ok && proto.Equal(old, s) {
		return
	}
	m.Set(fd, protoreflect.ValueOfMessage(s.ProtoReflect()))
}

// stampOf returns msg's Stamp, or nil.
func stampOf(msg proto.Message) *Stamp {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("stamp")
	if fd == nil || !m.Has(fd) {
		return nil
	}
	s, _ := m.Get(fd).Message().Interface().(*Stamp)
	return s
}

// arrival returns when msg reaches p in simulated time, its sender's
// uplink share and p's downlink shared among fanIn uploads that p waits
// for at once. A message without a stamp (from outside the federation)
// arrives now.
func (p *party) arrival(msg proto.Message, fanIn int) time.Duration {
	s := stampOf(msg)
	if s == nil || !(s.UpBps > 0) {
		return p.now
	}
	from := sim.Link{Up: s.UpBps, Latency: time.Duration(s.LatencyNs)}
	return time.Duration(s.SimNs) + sim.Transfer(wireSize(msg), from, p.dev.Link, 1, fanIn)
}

// wireSize is msg's serialized size without the simulation's bookkeeping,
// its stamp and its spans (times, rates): it is not traffic, and without
// it a message's size does not depend on the clock's values.
func wireSize(msg proto.Message) int {
	m := msg.ProtoReflect()
	n := proto.Size(msg)
	fields := m.Descriptor().Fields()
	for _, name := range []protoreflect.Name{"stamp", "spans"} {
		fd := fields.ByName(name)
		if fd == nil || !m.Has(fd) {
			continue
		}
		tag := protowire.SizeTag(fd.Number())
		if fd.IsList() {
			l := m.Get(fd).List()
			for i := range l.Len() {
				k := proto.Size(l.Get(i).Message().Interface())
				n -= tag + protowire.SizeBytes(k)
			}
			continue
		}
		k := proto.Size(m.Get(fd).Message().Interface())
		n -= tag + protowire.SizeBytes(k)
	}
	return n
}

// sentAt returns the simulated instant msg was sent (p's present for a
// message without a stamp).
func (p *party) sentAt(msg proto.Message) time.Duration {
	if s := stampOf(msg); s != nil && s.UpBps > 0 {
		return time.Duration(s.SimNs)
	}
	return p.now
}

// due returns the simulated instant d after msg was sent: the end of the
// step msg opens, after which what arrives is late. On the wall clock it
// is 0: there the timers decide.
func (p *party) due(msg proto.Message, d time.Duration) time.Duration {
	if !p.simulated() {
		return 0
	}
	return p.sentAt(msg) + d
}

// timedOut catches p's clock up with the instant of its timer, which has
// just fired. (The virtual clock may be further on: a party that waited
// for a deadline and then found that it could have closed earlier, such
// as a model owner whose silent holder was not needed, ends its step at
// the earlier instant.)
func (p *party) timedOut() {
	if p.simulated() {
		p.wait(p.timerAt)
	}
}

// upload is the span of msg's way from its sender to p.
func (p *party) upload(msg proto.Message, sender string, arrival time.Duration) *Span {
	return &Span{Party: sender, Step: "upload", StartNs: int64(p.sentAt(msg)), EndNs: int64(arrival)}
}

// wait advances p's clock to t, if t is later.
func (p *party) wait(t time.Duration) { p.now = max(p.now, t) }

// work advances p's clock by d and returns the span it took.
func (p *party) work(step string, d time.Duration) *Span {
	s := &Span{Party: p.name, Step: step, StartNs: int64(p.now), EndNs: int64(p.now + d)}
	p.now += d
	return s
}

// simulated reports whether deadlines are decided in simulated time.
func (p *party) simulated() bool { return p.clock != nil }

// instant is a moment on both clocks.
type instant struct {
	wall time.Time
	sim  time.Duration
}

// mark returns the present moment.
func (p *party) mark() instant { return instant{time.Now(), p.now} }

// since returns the time since i on the clock deadlines run on.
func (p *party) since(i instant) time.Duration {
	if p.simulated() {
		return p.now - i.sim
	}
	return time.Since(i.wall)
}

// after has msg delivered to p when d has passed on the clock deadlines
// run on (at once if d <= 0), and returns a function that cancels it.
func (p *party) after(ctx actor.Context, d time.Duration, msg any) (cancel func()) {
	d = max(d, 0)
	if !p.simulated() {
		return p.timers.SendOnce(d, ctx.Self(), msg)
	}
	p.timerAt = p.now + d
	return p.clock.After(p.timerAt, timeout{to: ctx.Self(), msg: msg})
}

// timer has msg delivered to p at the end of a step: at simulated
// instant due on the virtual clock, or after wall of wall time.
func (p *party) timer(ctx actor.Context, wall, due time.Duration, msg any) (cancel func()) {
	if !p.simulated() {
		return p.timers.SendOnce(max(wall, 0), ctx.Self(), msg)
	}
	p.timerAt = max(due, p.now)
	return p.clock.After(p.timerAt, timeout{to: ctx.Self(), msg: msg})
}

// timeout is a timer of the virtual clock: msg for the party to.
type timeout struct {
	to  *actor.PID
	msg any
}
