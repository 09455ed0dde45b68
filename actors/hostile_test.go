package actors_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/hostile"
)

// runAttacked runs f in this process with in attacking it.
func runAttacked(t testing.TB, f actors.Federation, in *hostile.Injector) *actors.Result {
	t.Helper()
	system := actor.NewActorSystem()
	defer system.Shutdown()
	var (
		mu   sync.Mutex
		pids = map[string]*actor.PID{}
	)
	lookup := func(name string) *actor.PID {
		mu.Lock()
		defer mu.Unlock()
		return pids[name]
	}
	in.Send = func(to string, msg proto.Message) { system.Root.Send(lookup(to), msg) }
	f.Observe = in.Observe
	node, err := actors.NewNode(f, lookup)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range node.Parties() {
		props, err := node.Props(name)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := system.Root.SpawnNamed(props, name)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		pids[name] = pid
		mu.Unlock()
	}
	system.Root.Send(lookup(actors.ModelOwnerName), &actors.Start{})
	res, err := actors.Wait(context.Background(), node)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestHostileMessagesAreRejected sends every kind of broken and hostile
// message to the secure worker and the model owner during round 2: each
// is refused with its reason, and every round still aggregates all three
// owners.
func TestHostileMessagesAreRejected(t *testing.T) {
	for _, scheme := range []string{"plain", "ckks", "secagg"} {
		t.Run(scheme, func(t *testing.T) {
			f, cfg, err := hostile.ToyFederation(scheme, 0, 500*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			kit, err := hostile.NewKit(scheme, cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := &hostile.Injector{Kit: kit}
			res := runAttacked(t, f, in)
			if n := len(in.Sent()); n < 15 {
				t.Fatalf("only %d attacks were sent", n)
			}
			for _, rm := range res.Rounds {
				if rm.Err != "" || len(rm.Contributors) != 3 {
					t.Errorf("round %d: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
				}
			}
			problems := hostile.Unanswered(res.Rounds, in.Sent())
			for _, p := range problems {
				t.Error(p)
			}
			if len(problems) > 0 {
				for _, rm := range res.Rounds {
					for _, r := range rm.Rejected {
						t.Logf("round %d: %v", rm.Round, r)
					}
				}
			}
		})
	}
}
