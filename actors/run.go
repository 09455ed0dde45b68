package actors

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
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
	if _, err := fed.withDefaults(); err != nil {
		return nil, err
	}
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return discardIfNil(fed.Logger).With("lib", "protoactor")
	}))
	defer system.Shutdown()
	pids := map[string]*actor.PID{}
	node, err := NewNode(fed, func(name string) *actor.PID { return pids[name] })
	if err != nil {
		return nil, err
	}
	defer stopAll(system, node, pids)
	for _, name := range node.Parties() {
		props, err := node.Props(name)
		if err != nil {
			return nil, err
		}
		if pids[name], err = system.Root.SpawnNamed(props, name); err != nil {
			return nil, fmt.Errorf("actors: spawn %s: %w", name, err)
		}
	}
	system.Root.Send(pids[ModelOwnerName], &Start{})
	return Wait(ctx, node)
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

// stopAll closes node and waits for its actors to stop, so that no party
// of a finished run is still training or writing a checkpoint.
func stopAll(system *actor.ActorSystem, node *Node, pids map[string]*actor.PID) {
	node.Close()
	var futures []*actor.Future
	for _, pid := range pids {
		futures = append(futures, system.Root.StopFuture(pid))
	}
	for _, f := range futures {
		if err := f.Wait(); err != nil {
			node.fed.Logger.Warn("actor did not stop in time", "err", err)
		}
	}
}

func discardIfNil(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
