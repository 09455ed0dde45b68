package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/fedactor/fedactor/actors/sim"
	"google.golang.org/protobuf/proto"
)

// Result is the outcome of a federated run.
type Result struct {
	// Rounds holds one entry per round, in order.
	Rounds []RoundMetrics
	// Final is the global model's parameter vector after the last round.
	Final []float64
	// SetupSeconds is the time the scheme's set-up took.
	SetupSeconds float64
}

// Run runs the federation in this process: it starts an actor system with
// one actor per party, runs set-up and every round, and returns the
// model owner's record. Cancelling ctx stops the run.
func Run(ctx context.Context, fed Federation) (*Result, error) {
	return new(Local).Run(ctx, fed)
}

// Local hosts every party of one federation in an actor system of its
// own. Its zero value is ready for one Run; Send lets a test or a tracer
// deliver messages of its own to the parties meanwhile.
type Local struct {
	mu     sync.Mutex
	system *actor.ActorSystem
	pids   map[string]*actor.PID
	node   *Node
	clock  *sim.Clock // the virtual clock of a run in simulated time
}

// Lookup returns the actor of the party called name, or nil.
func (l *Local) Lookup(name string) *actor.PID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pids[name]
}

// Send delivers msg to the party called to, from outside the federation.
// Messages to unknown parties, or sent before Run has spawned them, are
// dropped.
func (l *Local) Send(to string, msg proto.Message) {
	l.mu.Lock()
	system, pid, clock := l.system, l.pids[to], l.clock
	l.mu.Unlock()
	if system != nil && pid != nil {
		if clock != nil {
			clock.Sent()
		}
		system.Root.Send(pid, msg)
	}
}

// Run is the package's Run on l's actor system.
func (l *Local) Run(ctx context.Context, fed Federation) (*Result, error) {
	if _, err := fed.withDefaults(); err != nil {
		return nil, err
	}
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return discardIfNil(fed.Logger).With("lib", "protoactor")
	}))
	defer system.Shutdown()
	l.mu.Lock()
	l.system, l.pids = system, map[string]*actor.PID{}
	l.mu.Unlock()
	node, err := NewNode(fed, l.Lookup)
	if err != nil {
		return nil, err
	}
	var clock *sim.Clock
	if !fed.WallClock {
		clock = sim.NewClock(func(payload any) {
			t := payload.(timeout)
			system.Root.Send(t.to, t.msg)
		}, nil)
		node.env.clock = clock
	}
	l.mu.Lock()
	l.node, l.clock = node, clock
	l.mu.Unlock()
	defer l.stopAll(node)
	for _, name := range node.Parties() {
		props, err := node.Props(name)
		if err != nil {
			return nil, err
		}
		if clock != nil {
			props = props.Configure(actor.WithReceiverMiddleware(handled(clock)))
		}
		pid, err := system.Root.SpawnNamed(props, name)
		if err != nil {
			return nil, fmt.Errorf("actors: spawn %s: %w", name, err)
		}
		l.mu.Lock()
		l.pids[name] = pid
		l.mu.Unlock()
	}
	l.Send(ModelOwnerName, &Start{})
	return Wait(ctx, node)
}

// stopAll closes node and waits for l's actors to stop, so that no party
// of a finished run is still training or writing a checkpoint.
func (l *Local) stopAll(node *Node) {
	node.Close()
	l.mu.Lock()
	var futures []*actor.Future
	for _, pid := range l.pids {
		futures = append(futures, l.system.Root.StopFuture(pid))
	}
	l.mu.Unlock()
	for _, f := range futures {
		if err := f.Wait(); err != nil {
			node.fed.Logger.Warn("actor did not stop in time", "err", err)
		}
	}
}

// Wait waits for the model owner hosted on node to finish, or for ctx.
func Wait(ctx context.Context, node *Node) (*Result, error) {
	select {
	case out := <-node.Done():
		return out.r, out.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func discardIfNil(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// handled is the middleware that tells the virtual clock when a party has
// handled a message that counted as in flight: every protobuf message and
// every timer.
func handled(clock *sim.Clock) actor.ReceiverMiddleware {
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch env.Message.(type) {
			case proto.Message, deadline:
				defer clock.Done()
			}
			next(c, env)
		}
	}
}

// deadline is a timer message a party sends itself.
type deadline interface{ deadline() }

func (*phaseDeadline) deadline() {}
func (*groupDeadline) deadline() {}
func (*setupDeadline) deadline() {}
func (*roundDeadline) deadline() {}
