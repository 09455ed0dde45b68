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
	f, err := fed.withDefaults()
	if err != nil {
		return nil, err
	}
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return f.Logger.With("lib", "protoactor")
	}))
	defer system.Shutdown()
	e := &env{
		fed:     &f,
		pid:     func(name string) *actor.PID { return system.NewLocalPID(name) },
		cores:   newCores(f.Cores),
		traffic: newTraffic(),
	}
	type outcome struct {
		r   *Result
		err error
	}
	done := make(chan outcome, 1)
	root := system.Root
	spawn := func(name string, a actor.Actor) error {
		if _, err := root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor { return a }), name); err != nil {
			return fmt.Errorf("actors: spawn %s: %w", name, err)
		}
		return nil
	}
	if err := spawn(SecureWorkerName, &secureWorker{env: e}); err != nil {
		return nil, err
	}
	for i, o := range f.Owners {
		if err := spawn(o.Name, newDataOwner(e, i)); err != nil {
			return nil, err
		}
	}
	mo := &modelOwner{env: e, done: func(r *Result, err error) { done <- outcome{r, err} }}
	if err := spawn(ModelOwnerName, mo); err != nil {
		return nil, err
	}
	select {
	case out := <-done:
		return out.r, out.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
