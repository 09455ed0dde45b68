package actors_test

import (
	"context"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/hostile"
)

// runAttacked runs f in this process with in attacking it.
func runAttacked(t testing.TB, f actors.Federation, in *hostile.Injector) *actors.Result {
	t.Helper()
	var l actors.Local
	in.Send = l.Send
	f.Observe = in.Observe
	res, err := l.Run(context.Background(), f)
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
