package actors_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/hostile"
)

// runAttacked runs f in this process with in attacking it.
func runAttacked(t testing.TB, f actors.Federation, in *hostile.Injector) *actors.Result {
	t.Helper()
	var l actors.Local
	in.Send, in.Rounds = l.Send, f.Rounds
	f.Observe = in.Observe
	f.Logger = slog.New(in.Handler(slog.DiscardHandler))
	res, err := l.Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestHostileMessagesAreRejected sends every kind of broken and hostile
// message to the secure worker, the model owner and a data owner during
// round 2, which the last owner holds open until every attack has been
// refused: each is refused with its reason, and every round still
// aggregates all three owners. In the tree cases (groups of 2) the
// attacks on updates go to the group worker that received the run's
// first update.
func TestHostileMessagesAreRejected(t *testing.T) {
	for _, c := range []struct {
		scheme string
		group  int
	}{{"plain", 0}, {"ckks", 0}, {"secagg", 0}, {"plain", 2}, {"ckks", 2}} {
		name := c.scheme
		if c.group > 0 {
			name += "/tree"
		}
		t.Run(name, func(t *testing.T) {
			scheme := c.scheme
			f, cfg, err := hostile.ToyFederation(scheme, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.GroupSize = c.group
			kit, err := hostile.NewKit(scheme, cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := &hostile.Injector{Kit: kit, Gate: hostile.HoldRound(&f, 2)}
			res := runAttacked(t, f, in)
			sent := in.Sent()
			if !slices.ContainsFunc(sent, func(a hostile.Attack) bool { return a.To == actors.OwnerName(0) }) {
				t.Errorf("no attack on a data owner: %v", sent)
			}
			if len(sent) < 20 {
				t.Fatalf("only %d attacks were sent", len(sent))
			}
			if c.group > 0 && !slices.ContainsFunc(sent, func(a hostile.Attack) bool {
				return a.To == actors.GroupWorkerName(0) || a.To == actors.GroupWorkerName(1)
			}) {
				t.Errorf("no attack on a group worker: %v", sent)
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
