package hosts_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/hosts"
	"github.com/fedactor/fedactor/internal/hostile"
)

// TestHostileMessagesOverRemote runs a federation on one cluster member
// and attacks it from another member over ProtoActor remote: every
// hostile message is refused with its reason, and every round still
// aggregates all owners.
func TestHostileMessagesOverRemote(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a two-member cluster")
	}
	const scheme = "ckks"
	f, cfg, err := hostile.ToyFederation(scheme, 0)
	if err != nil {
		t.Fatal(err)
	}
	gate := hostile.HoldRound(&f, 2)
	kit, err := hostile.NewKit(scheme, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pair(t)
	var mu sync.Mutex
	var sendErrs []error
	in := &hostile.Injector{Kit: kit, Gate: gate, Rounds: f.Rounds, Send: func(to string, msg proto.Message) {
		if err := b.Send(to, msg); err != nil { // from the attacker's member, over the network
			mu.Lock()
			sendErrs = append(sendErrs, err)
			mu.Unlock()
		}
	}}
	f.Observe = in.Observe
	f.Logger = slog.New(in.Handler(slog.DiscardHandler))
	node, err := actors.NewNode(f, a.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(node, node.Parties()); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	if err := b.Start(nil, nil); err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, m := range []*hosts.Member{a, b} {
		if err := m.WaitFor(ctx, node.Parties()); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Send(actors.ModelOwnerName, &actors.Start{}); err != nil {
		t.Fatal(err)
	}
	res, err := actors.Wait(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(sendErrs...); err != nil {
		t.Fatalf("sending the attacks: %v", err)
	}
	if n := len(in.Sent()); n < 20 {
		t.Fatalf("only %d attacks were sent", n)
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" || len(rm.Contributors) != 3 {
			t.Errorf("round %d: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
		}
	}
	for _, p := range hostile.Unanswered(res.Rounds, in.Sent()) {
		t.Error(p)
	}
}
