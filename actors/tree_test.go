package actors

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
)

// treeSchemes are the schemes the aggregation-tree tests cover, with the
// reveal threshold of their dropout runs (0: the scheme's default).
var treeSchemes = map[string]int{"plain": 0, "ss": 3, "ckks": 0, "secagg": 3, "ckks-threshold": 3}

// treeGroups are the groups of 7 owners with GroupSize 3.
var treeGroups = [][]string{{"bob", "alice", "carol"}, {"dave", "eve", "frank"}, {"grace"}}

func TestGroups(t *testing.T) {
	f := toyFederationN(t, "plain", 7, 0)
	if g := f.Groups(); g != nil {
		t.Errorf("flat federation has groups %v", g)
	}
	f.GroupSize = 3
	if g := f.Groups(); !reflect.DeepEqual(g, treeGroups) {
		t.Errorf("groups %v, want %v", g, treeGroups)
	}
	node, err := NewNode(f, func(string) *actor.PID { return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"secure-worker", "secure-worker-1", "secure-worker-2", "secure-worker-3"}, OwnerNames(7)...)
	if got := node.Parties(); !reflect.DeepEqual(got, append(want, ModelOwnerName)) {
		t.Errorf("parties %v", got)
	}
	for _, name := range []string{"secure-worker-0", "secure-worker-4", "secure-worker-01", "secure-worker-x"} {
		if _, err := node.Props(name); err == nil {
			t.Errorf("props for %q", name)
		}
	}
	f.Owners[2].Name = GroupWorkerName(6)
	if _, err := NewNode(f, nil); err == nil {
		t.Error("an owner may take a group worker's name")
	}
	f.Owners[2].Name, f.GroupSize = "carol", -1
	if _, err := NewNode(f, nil); err == nil {
		t.Error("negative group size accepted")
	}
}

// TestTreeMatchesFlat runs every scheme flat and through a tree of groups
// of 3, 3 and 1: both reveal the same model, the group workers get only
// protected updates, the root only group aggregates, and each group
// worker's combine time is recorded under its name.
func TestTreeMatchesFlat(t *testing.T) {
	tolerance := map[string]float64{"plain": 1e-12, "ss": 1e-12, "secagg": 1e-12, "ckks": 1e-6, "ckks-threshold": 1e-6}
	for scheme := range treeSchemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := toyFederationN(t, scheme, 7, 0)
			flat, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			f.GroupSize = 3
			var mu sync.Mutex
			kinds := map[string]map[string]int{} // to -> kind -> count
			f.Observe = func(to string, msg proto.Message) {
				mu.Lock()
				defer mu.Unlock()
				if kinds[to] == nil {
					kinds[to] = map[string]int{}
				}
				kinds[to][kindOf(msg)]++
			}
			tree, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(tree.Final, flat.Final); d > tolerance[scheme] {
				t.Errorf("tree and flat final models differ by %g", d)
			}
			for _, rm := range tree.Rounds {
				if rm.Err != "" || !reflect.DeepEqual(rm.Contributors, OwnerNames(7)) {
					t.Errorf("round %d: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
				}
				for i, g := range treeGroups {
					pt, ok := rm.Parties[GroupWorkerName(i)]
					if !ok || (len(g) > 1 && pt.Combine <= 0) {
						t.Errorf("round %d: %s times %+v (recorded: %v)", rm.Round, GroupWorkerName(i), pt, ok)
					}
				}
			}
			groupKinds := []string{"Setup", "RoundStart", "ProtectedUpdate", "Stop"}
			rootKinds := []string{"Setup", "KeyShare", "RoundStart", "Partial", "RevealShare", "Stop"}
			for i, g := range treeGroups {
				got := kinds[GroupWorkerName(i)]
				if got["ProtectedUpdate"] != len(g)*f.Rounds {
					t.Errorf("%s got %d updates, want %d", GroupWorkerName(i), got["ProtectedUpdate"], len(g)*f.Rounds)
				}
				for k := range got {
					if !slices.Contains(groupKinds, k) {
						t.Errorf("%s got a %s", GroupWorkerName(i), k)
					}
				}
			}
			for k := range kinds[SecureWorkerName] {
				if !slices.Contains(rootKinds, k) {
					t.Errorf("the root got a %s", k)
				}
			}
			if n := kinds[SecureWorkerName]["Partial"]; n != len(treeGroups)*f.Rounds {
				t.Errorf("the root got %d group aggregates, want %d", n, len(treeGroups)*f.Rounds)
			}
		})
	}
}

// TestTreeDropouts drops owners out of a tree before sending (in round 2
// all of group 3) and before unmasking: every scheme still reveals exactly
// the contributors' FedAvg.
func TestTreeDropouts(t *testing.T) {
	drops := map[int]map[int]Dropout{
		1: {1: BeforeSend, 2: BeforeUnmask},
		2: {3: BeforeUnmask, 4: BeforeSend, 6: BeforeSend},
	}
	for scheme, threshold := range treeSchemes {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := toyFederationN(t, scheme, 7, threshold)
			f.GroupSize, f.Deadline = 3, time.Second // BeforeSend waits out the deadline
			schedule(&f, drops)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			checkDropouts(t, f, res, drops)
		})
	}
}

// TestTreeRejectsForgeries sends, as bob's first update goes to his group
// worker, his update to another group's worker and to the root, and
// forged group aggregates to the root: each is refused with its reason,
// and every round aggregates all seven owners.
func TestTreeRejectsForgeries(t *testing.T) {
	f := toyFederationN(t, "plain", 7, 0)
	f.GroupSize = 3
	type want struct{ party, kind, sender, reason string }
	wants := []want{
		{"secure-worker-2", "ProtectedUpdate", "bob", ReasonUnknownSender},    // another group's member
		{SecureWorkerName, "ProtectedUpdate", "bob", ReasonUnexpected},        // the root takes no updates
		{SecureWorkerName, "Partial", "secure-worker-9", ReasonUnknownSender}, // no such group
		{SecureWorkerName, "Partial", "secure-worker-2", ReasonUnknownSender}, // bob is not in group 2
		{SecureWorkerName, "Partial", "secure-worker-1", ReasonDuplicate},     // bob twice
		{SecureWorkerName, "Partial", "secure-worker-1", ReasonMismatch},      // 2 contributors, payload of 1
	}
	var once sync.Once
	res := runInjected(t, f, func(send func(string, proto.Message), to string, msg proto.Message) {
		u, ok := msg.(*ProtectedUpdate)
		if !ok || u.Sender != "bob" || u.Round != 1 {
			return
		}
		once.Do(func() {
			forged := func(holder string, contributors ...string) *Partial {
				return &Partial{Round: 1, Holder: holder, Contributors: contributors, Payload: u.Payload}
			}
			send(GroupWorkerName(1), proto.Clone(u))
			send(SecureWorkerName, proto.Clone(u))
			send(SecureWorkerName, forged("secure-worker-9", "bob"))
			send(SecureWorkerName, forged(GroupWorkerName(1), "bob"))
			send(SecureWorkerName, forged(GroupWorkerName(0), "bob", "bob"))
			send(SecureWorkerName, forged(GroupWorkerName(0), "bob", "alice"))
		})
	})
	var got []want
	for _, rm := range res.Rounds {
		if rm.Err != "" || len(rm.Contributors) != 7 {
			t.Errorf("round %d: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
		}
		for _, r := range rm.Rejected {
			if r.Reason != ReasonLate {
				got = append(got, want{r.Party, r.Kind, r.Sender, r.Reason})
			}
		}
	}
	for _, w := range wants {
		i := slices.Index(got, w)
		if i < 0 {
			t.Errorf("no rejection %+v", w)
			continue
		}
		got = slices.Delete(got, i, i+1)
	}
	for _, g := range got {
		t.Errorf("unexplained rejection %+v", g)
	}
}

// runInjected runs f in this process; inject sees every message a party
// sends, as Observe does, and may send others through send.
func runInjected(t *testing.T, f Federation, inject func(send func(string, proto.Message), to string, msg proto.Message)) *Result {
	t.Helper()
	var l Local
	f.Observe = func(to string, msg proto.Message) { inject(l.Send, to, msg) }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := l.Run(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
