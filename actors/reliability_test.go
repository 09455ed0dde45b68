package actors

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors/policy"

	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
)

// toyFederationN is n owners with 10, 15, 20, ... examples, for scheme
// with reveal threshold t (0: the scheme's default).
func toyFederationN(t testing.TB, scheme string, n, threshold int) Federation {
	t.Helper()
	total := 0
	for i := range n {
		total += 10 + 5*i
	}
	train, test := toyData(total, 1), toyData(60, 2)
	m := toyModel(t)
	if info, err := crypto.Describe(scheme); err == nil && !info.Threshold {
		threshold = 0 // a scheme without one: the caller's is for the others
	}
	s, err := crypto.New(scheme, crypto.Config{Owners: n, Len: m.NumParams(), Threshold: threshold, MaxNorm: 1e4})
	if err != nil {
		t.Fatal(err)
	}
	var owners []Owner
	lo := 0
	for i := range n {
		idx := make([]int, 10+5*i)
		for j := range idx {
			idx[j] = lo + j
		}
		lo += len(idx)
		owners = append(owners, Owner{Name: OwnerName(i), Data: train, Indices: idx})
	}
	return Federation{
		Scheme: s, Model: m, Owners: owners, Test: test, Rounds: 2,
		Train: TrainConfig{BatchSize: 8, LR: 0.05}, Cores: 1, Seed: 42, Deadline: 1500 * time.Millisecond,
	}
}

// schedule drops owners out at fixed rounds: drops[round][owner].
func schedule(f *Federation, drops map[int]map[int]Dropout) {
	for i := range f.Owners {
		f.Owners[i].Drop = func(round int) Dropout { return drops[round][i] }
	}
}

// maxDiff returns the largest absolute difference of a and b.
func maxDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestDropoutsInEveryScheme drops owners out before sending and before
// unmasking, and checks that every scheme still reveals exactly the
// contributors' FedAvg.
func TestDropoutsInEveryScheme(t *testing.T) {
	thresholds := map[string]int{"ss": 3, "secagg": 3, "ckks-threshold": 3}
	drops := map[int]map[int]Dropout{
		1: {1: BeforeSend, 2: BeforeUnmask},
		2: {3: BeforeUnmask, 4: BeforeSend, 5: BeforeUnmask},
	}
	for _, scheme := range crypto.Names() {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := toyFederationN(t, scheme, 6, thresholds[scheme])
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

// checkDropouts checks a run of f under the dropout schedule drops (round
// -> owner index -> dropout): every round aggregated exactly the owners
// that did not drop out before sending, and the final model is those
// contributors' FedAvg.
func checkDropouts(t *testing.T, f Federation, res *Result, drops map[int]map[int]Dropout) {
	t.Helper()
	for _, rm := range res.Rounds {
		var want []string
		for i, o := range f.Owners {
			if drops[rm.Round][i] != BeforeSend {
				want = append(want, o.Name)
			}
		}
		if rm.Err != "" || !reflect.DeepEqual(rm.Contributors, want) {
			t.Errorf("round %d: err %q, contributors %v, want %v", rm.Round, rm.Err, rm.Contributors, want)
		}
	}
	if d := maxDiff(res.Final, directFedAvg(t, f)); d > 1e-5 {
		t.Errorf("final model differs from the contributors' FedAvg by %g", d)
	}
}

// TestTooManyDropoutsFailOneRound: with fewer parties left than the
// threshold the round fails cleanly, the model stays, and the next round
// works.
func TestTooManyDropoutsFailOneRound(t *testing.T) {
	for _, scheme := range []string{"ss", "secagg", "ckks-threshold"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := toyFederationN(t, scheme, 4, 4)
			schedule(&f, map[int]map[int]Dropout{1: {0: BeforeUnmask, 1: BeforeUnmask}})
			res, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Rounds[0]; r.Err == "" || len(r.Contributors) != 0 {
				t.Errorf("round 1 with 2 of 4 owners silent: err %q, contributors %v", r.Err, r.Contributors)
			}
			if r := res.Rounds[1]; r.Err != "" || len(r.Contributors) != 4 {
				t.Errorf("round 2: err %q, contributors %v", r.Err, r.Contributors)
			}
		})
	}
}

// TestAdditiveSSNamesItsLimit: plain additive sharing needs every holder;
// an owner silent before unmasking fails the round with a clear error.
func TestAdditiveSSNamesItsLimit(t *testing.T) {
	f := toyFederationN(t, "ss", 3, 0)
	f.Rounds = 1
	schedule(&f, map[int]map[int]Dropout{1: {2: BeforeUnmask}})
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rounds[0]; !strings.Contains(r.Err, "deadline") {
		t.Errorf("round 1: err %q, want a deadline failure", r.Err)
	}
}

func TestRandomDropoutsAreSeeded(t *testing.T) {
	a, b := RandomDropouts(0.3, Stay, 7, 2), RandomDropouts(0.3, Stay, 7, 2)
	var dropped, modes [3]int
	for r := 1; r <= 1000; r++ {
		if a(r) != b(r) {
			t.Fatalf("round %d: two draws differ", r)
		}
		dropped[min(int(a(r)), 1)]++
		modes[a(r)]++
	}
	if dropped[1] < 250 || dropped[1] > 350 {
		t.Errorf("%d of 1000 rounds dropped at p=0.3", dropped[1])
	}
	if modes[BeforeSend] < 100 || modes[BeforeUnmask] < 100 {
		t.Errorf("modes %v: both should occur", modes)
	}
	if RandomDropouts(0.3, BeforeUnmask, 7, 2)(1) == BeforeSend {
		t.Error("a fixed mode was not kept")
	}
}

// panicky is a data source that panics on its first read after armed is set.
type panicky struct {
	*dataset.Set
	armed atomic.Bool
}

func (p *panicky) Read(i int, dst []float32) int {
	if p.armed.CompareAndSwap(true, false) {
		panic("simulated crash in training")
	}
	return p.Set.Read(i, dst)
}

// TestPanickingOwnerIsRestarted: alice's training panics in round 2; her
// supervisor restarts her, round 2 goes on without her, and she is back
// in round 3.
func TestPanickingOwnerIsRestarted(t *testing.T) {
	f := toyFederation(t, "ckks")
	f.Rounds = 3
	f.Deadline = time.Second
	src := &panicky{Set: f.Owners[1].Data.(*dataset.Set)}
	f.Owners[1].Data = src
	f.OnRound = func(rm RoundMetrics) {
		if rm.Round == 1 {
			src.armed.Store(true)
		}
	}
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"bob", "alice", "carol"}, {"bob", "carol"}, {"bob", "alice", "carol"}}
	for i, rm := range res.Rounds {
		if rm.Err != "" || !reflect.DeepEqual(rm.Contributors, want[i]) {
			t.Errorf("round %d: err %q, contributors %v, want %v", rm.Round, rm.Err, rm.Contributors, want[i])
		}
	}
	if src.armed.Load() {
		t.Error("the source was never read after arming")
	}
}

// TestResumeMatchesUninterrupted stops a run after round 2, resumes it
// from its checkpoint, and compares with a run that was never stopped.
func TestResumeMatchesUninterrupted(t *testing.T) {
	f := toyFederation(t, "plain")
	f.Rounds = 4
	f.Train.Optimizer = "adam" // state that must survive the restart
	f.Train.LR = 0.01
	f.Strategy = &policy.FedAvgM{Momentum: 0.9} // server state too
	whole, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}

	f.Checkpoint = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	f.Strategy = &policy.FedAvgM{Momentum: 0.9}
	f.OnRound = func(rm RoundMetrics) {
		if rm.Round == 2 {
			cancel() // the process "dies" after round 2's checkpoint
		}
	}
	if _, err := Run(ctx, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	c, err := LoadCheckpoint(f.checkpointPath(ModelOwnerName), f.Model.NumParams())
	if err != nil {
		t.Fatal(err)
	}
	if c.Round < 2 {
		t.Fatalf("checkpoint at round %d, want >= 2", c.Round)
	}
	first := slices.Clone(c.Rounds)

	f.OnRound, f.Resume = nil, true
	f.Strategy = &policy.FedAvgM{Momentum: 0.9}
	resumed, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(resumed.Rounds) != 4 {
		t.Fatalf("resumed run has %d rounds", len(resumed.Rounds))
	}
	if !reflect.DeepEqual(resumed.Rounds[:len(first)], first) {
		t.Error("the rounds before the restart changed")
	}
	for i, rm := range resumed.Rounds {
		w := whole.Rounds[i]
		if rm.TestAccuracy != w.TestAccuracy || rm.TestLoss != w.TestLoss || rm.TrainLoss != w.TrainLoss {
			t.Errorf("round %d: resumed accuracy %v loss %v train %v, uninterrupted %v %v %v",
				rm.Round, rm.TestAccuracy, rm.TestLoss, rm.TrainLoss, w.TestAccuracy, w.TestLoss, w.TrainLoss)
		}
	}
	if !reflect.DeepEqual(resumed.Final, whole.Final) {
		t.Errorf("final models differ by %g", maxDiff(resumed.Final, whole.Final))
	}

	// A checkpoint of another run is refused.
	g := f
	g.Seed++
	if _, err := Run(context.Background(), g); err == nil || !strings.Contains(err.Error(), "another run") {
		t.Errorf("resuming another run's checkpoint: %v", err)
	}
}

func TestCheckpointValidation(t *testing.T) {
	good := Checkpoint{Version: checkpointVersion, Run: "x", Round: 1, Global: Floats{1, 2}, Rounds: []RoundMetrics{{Round: 1}}}
	if err := good.validate(2); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Checkpoint){
		"version":       func(c *Checkpoint) { c.Version = 9 },
		"round":         func(c *Checkpoint) { c.Round = 0 },
		"records":       func(c *Checkpoint) { c.Rounds = nil },
		"model length":  func(c *Checkpoint) { c.Global = Floats{1} },
		"nan":           func(c *Checkpoint) { c.Global = Floats{1, math.NaN()} },
		"no run":        func(c *Checkpoint) { c.Run = " " },
		"round records": func(c *Checkpoint) { c.Rounds[0].Round = 3 },
	}
	for name, mutate := range cases {
		c := good
		c.Rounds = slices.Clone(good.Rounds)
		mutate(&c)
		if err := c.validate(2); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestResumeRefusesBadOwnerCheckpoints resumes a run whose data owner's
// checkpoint was corrupted, made by another run, or holds a state of the
// wrong size or a NaN: each resume fails at set-up, naming the owner and
// what is wrong, instead of training on.
func TestResumeRefusesBadOwnerCheckpoints(t *testing.T) {
	f := toyFederation(t, "plain")
	f.Rounds, f.Checkpoint = 3, t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	f.OnRound = func(rm RoundMetrics) {
		if rm.Round == 1 {
			cancel()
		}
	}
	if _, err := Run(ctx, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	f.OnRound, f.Resume = nil, true
	path := filepath.Join(f.Checkpoint, "alice.ckpt.json")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c ownerCheckpoint
	if err := json.Unmarshal(good, &c); err != nil {
		t.Fatal(err)
	}
	rewrite := func(mutate func(*ownerCheckpoint)) []byte {
		d := ownerCheckpoint{Version: c.Version, Run: c.Run, States: map[int]Floats{}}
		for r, st := range c.States {
			d.States[r] = slices.Clone(st)
		}
		mutate(&d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string]struct {
		file []byte
		want string
	}{
		"corrupted":   {[]byte(`{"version":1,"run":`), "read checkpoint"},
		"another run": {rewrite(func(d *ownerCheckpoint) { d.Run = "0123456789abcdef" }), "another run"},
		"wrong size":  {rewrite(func(d *ownerCheckpoint) { d.States[1] = d.States[1][:5] }), "state"},
		"nan":         {rewrite(func(d *ownerCheckpoint) { d.States[1][3] = math.NaN() }), "NaN"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Run(context.Background(), f)
			if err == nil || !strings.Contains(err.Error(), "alice") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("resume with a %s checkpoint: %v, want an error naming alice and %q", name, err, c.want)
			}
		})
	}
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := Run(context.Background(), f); err != nil || len(res.Rounds) != 3 {
		t.Fatalf("resume with the good checkpoint: %v", err)
	}
}
