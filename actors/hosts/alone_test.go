package hosts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/hosts"
	"github.com/fedactor/fedactor/internal/hostile"
)

// pair prepares two members on free loopback ports, each the other's seed.
func pair(t *testing.T) (a, b *hosts.Member) {
	t.Helper()
	home, away := hosts.FreeAddr(t), hosts.FreeAddr(t)
	a, err := hosts.New(hosts.Config{Bind: home, Seeds: []string{away}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = hosts.New(hosts.Config{Bind: away, Seeds: []string{home}}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestWaitAlone: a member waiting to be alone waits while another member
// is in the cluster, and returns once that member has left.
func TestWaitAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a two-member cluster")
	}
	f, _, err := hostile.ToyFederation("plain", 0)
	if err != nil {
		t.Fatal(err)
	}
	node, err := actors.NewNode(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := pair(t)
	if err := a.Start(nil, nil); err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()
	alice := actors.OwnerName(0)
	if err := b.Start(node, []string{alice}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.WaitFor(ctx, []string{alice}); err != nil {
		t.Fatal(err)
	}

	brief, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if err := a.WaitAlone(brief); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("with %s's member in the cluster, WaitAlone returned %v", alice, err)
	}
	b.Shutdown()
	if err := a.WaitAlone(ctx); err != nil {
		t.Fatal(err)
	}
}
