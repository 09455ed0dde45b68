package actors

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/nn"
	"google.golang.org/protobuf/proto"
)

// toyData is n 4x4 images in 3 classes that a linear model learns.
func toyData(n int, seed uint64) *dataset.Set {
	return dataset.Synthetic(n, 4, 3, rand.New(rand.NewPCG(seed, 7)))
}

func toyModel(t testing.TB) *nn.Model {
	t.Helper()
	m, err := nn.NewModel(nn.Shape{1, 4, 4}, []nn.Layer{nn.Flatten(), nn.Dense(3)}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// toyFederation is 3 owners with 20, 30 and 40 examples.
func toyFederation(t testing.TB, scheme string) Federation {
	t.Helper()
	train, test := toyData(90, 1), toyData(60, 2)
	m := toyModel(t)
	s, err := crypto.New(scheme, crypto.Config{Owners: 3, Len: m.NumParams()})
	if err != nil {
		t.Fatal(err)
	}
	var owners []Owner
	lo := 0
	for i, n := range []int{20, 30, 40} {
		idx := make([]int, n)
		for j := range idx {
			idx[j] = lo + j
		}
		lo += n
		owners = append(owners, Owner{Name: OwnerName(i), Data: train, Indices: idx})
	}
	return Federation{
		Scheme: s, Model: m, Owners: owners, Test: test, Rounds: 2,
		Train: TrainConfig{BatchSize: 8, LR: 0.05}, Cores: 1, Seed: 42, Deadline: 20 * time.Second,
	}
}

// ownerState is one owner's training state in the direct computation.
type ownerState struct {
	m     *nn.Model
	opt   nn.Optimizer
	batch int
}

func (o ownerState) trainer() *nn.Trainer {
	return &nn.Trainer{Model: o.m, Optimizer: o.opt, BatchSize: o.batch, Threads: 1}
}

// fedState is the direct computation's state after some rounds.
type fedState struct {
	global []float64
	owners []ownerState
}

// directFedAvgState trains the owners of f for f.Rounds rounds (0 allowed)
// in a plain loop, exactly as the actors do, and averages their models in
// the clear.
func directFedAvgState(t *testing.T, f Federation) fedState {
	t.Helper()
	rounds := f.Rounds
	f.Rounds = max(f.Rounds, 1)
	f, err := f.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	st := fedState{global: f.Model.Params(nil)}
	for range f.Owners {
		opt, _ := f.Train.newOptimizer()
		st.owners = append(st.owners, ownerState{f.Model.Clone(), opt, f.Train.BatchSize})
	}
	for round := 1; round <= rounds; round++ {
		sum := make([]float64, len(st.global))
		var total float64
		for i, o := range f.Owners {
			if o.Drop != nil && o.Drop(round) == BeforeSend {
				continue
			}
			ow := st.owners[i]
			if err := ow.m.SetParams(st.global); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(f.Seed, uint64(i+1)<<32|uint64(round)))
			if _, err := ow.trainer().TrainEpoch(o.Data, o.Indices, rng); err != nil {
				t.Fatal(err)
			}
			w := f.Strategy.Weight(len(o.Indices))
			for j, p := range ow.m.Params(nil) {
				sum[j] += w * p
			}
			total += w
		}
		if err := f.Strategy.Aggregate(st.global, st.global, sum, total); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func directFedAvg(t *testing.T, f Federation) []float64 { return directFedAvgState(t, f).global }

func TestRunMatchesDirectFedAvg(t *testing.T) {
	tolerance := map[string]float64{"plain": 1e-12, "ss": 1e-5, "ckks": 1e-5, "ckks-threshold": 1e-5, "paillier": 1e-5}
	for _, scheme := range crypto.Names() {
		t.Run(scheme, func(t *testing.T) {
			f := toyFederation(t, scheme)
			var rounds []RoundMetrics
			f.OnRound = func(rm RoundMetrics) { rounds = append(rounds, rm) }
			res, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			want := directFedAvg(t, f)
			var worst float64
			for i := range want {
				worst = max(worst, math.Abs(res.Final[i]-want[i]))
			}
			tol, ok := tolerance[scheme]
			if !ok {
				tol = 1e-5
			}
			if worst > tol {
				t.Errorf("final model differs from direct FedAvg by %g (tolerance %g)", worst, tol)
			}
			if len(res.Rounds) != 2 || !reflect.DeepEqual(rounds, res.Rounds) {
				t.Fatalf("got %d rounds, OnRound saw %d", len(res.Rounds), len(rounds))
			}
			for _, rm := range res.Rounds {
				if rm.Err != "" || len(rm.Contributors) != 3 || len(rm.Dropped) != 0 {
					t.Errorf("round %d: err %q, contributors %v, dropped %v", rm.Round, rm.Err, rm.Contributors, rm.Dropped)
				}
				if rm.Bytes["ProtectedUpdate"] == 0 || rm.Bytes["GlobalModel"] == 0 || rm.BytesSent == 0 {
					t.Errorf("round %d: traffic not counted: %v", rm.Round, rm.Bytes)
				}
				if rm.TestAccuracy < 0.5 {
					t.Errorf("round %d: test accuracy %.2f, want > 0.5 on the toy task", rm.Round, rm.TestAccuracy)
				}
				if rm.Parties[OwnerName(0)].Train <= 0 || rm.Parties[ModelOwnerName].Evaluate <= 0 {
					t.Errorf("round %d: party times missing: %+v", rm.Round, rm.Parties)
				}
			}
		})
	}
}

// TestEvalEvery checks that EvalEvery 2 of 5 rounds tests the model in
// rounds 2, 4 and 5 only, and that skipping the test changes no training.
func TestEvalEvery(t *testing.T) {
	f := toyFederation(t, "plain")
	f.Rounds, f.EvalEvery = 5, 2
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	f.EvalEvery = 0
	every, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Final, every.Final) {
		t.Error("EvalEvery changed the trained model")
	}
	for i, rm := range res.Rounds {
		want := rm.Round == 2 || rm.Round == 4 || rm.Round == 5
		tested := rm.Parties[ModelOwnerName].Evaluate > 0
		if rm.Evaluated != want || tested != want || (rm.TestAccuracy > 0) != want {
			t.Errorf("round %d: evaluated %v, test time %g, accuracy %g; want evaluated %v", rm.Round, rm.Evaluated, rm.Evaluate, rm.TestAccuracy, want)
		}
		if want && rm.TestAccuracy != every.Rounds[i].TestAccuracy {
			t.Errorf("round %d: accuracy %g, %g when testing every round", rm.Round, rm.TestAccuracy, every.Rounds[i].TestAccuracy)
		}
		if !every.Rounds[i].Evaluated {
			t.Errorf("round %d: not evaluated with EvalEvery 0", rm.Round)
		}
	}
}

func TestSilentOwnerDoesNotHangTheRound(t *testing.T) {
	f := toyFederation(t, "ckks")
	f.Deadline = 300 * time.Millisecond
	f.Owners[1].Drop = func(int) Dropout { return BeforeSend } // alice never answers
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" || !reflect.DeepEqual(rm.Contributors, []string{"bob", "carol"}) || !reflect.DeepEqual(rm.Dropped, []string{"alice"}) {
			t.Errorf("round %d: err %q, contributors %v, dropped %v", rm.Round, rm.Err, rm.Contributors, rm.Dropped)
		}
	}
}

func TestFederationValidation(t *testing.T) {
	good := toyFederation(t, "plain")
	cases := map[string]func(*Federation){
		"no scheme":      func(f *Federation) { f.Scheme = nil },
		"no owners":      func(f *Federation) { f.Owners = nil },
		"zero rounds":    func(f *Federation) { f.Rounds = 0 },
		"eval every -1":  func(f *Federation) { f.EvalEvery = -1 },
		"duplicate name": func(f *Federation) { f.Owners[1].Name = "bob" },
		"reserved name":  func(f *Federation) { f.Owners[0].Name = SecureWorkerName },
		"bad optimizer":  func(f *Federation) { f.Train.Optimizer = "lbfgs" },
		"wrong input":    func(f *Federation) { f.Owners[0].Data = &dataset.Set{Rows: 5, Cols: 5} },
	}
	for name, mutate := range cases {
		f := good
		f.Owners = append([]Owner(nil), good.Owners...)
		mutate(&f)
		if _, err := Run(context.Background(), f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestOwnerNames(t *testing.T) {
	got := strings.Join(OwnerNames(10), ",")
	if want := "bob,alice,carol,dave,eve,frank,grace,heidi,owner-09,owner-10"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

var _ policy.Strategy = policy.FedAvg{}

// TestCommittee runs ss with a committee of one (bob) among 3 owners:
// the model matches direct FedAvg, only bob and the secure worker receive
// shares and send partials, and an owner outside the committee can go
// silent after sending its update without failing the round.
func TestCommittee(t *testing.T) {
	f := toyFederation(t, "plain")
	want := directFedAvg(t, f)
	s, err := crypto.New("ss", crypto.Config{Owners: 3, Len: f.Model.NumParams(), Committee: 1})
	if err != nil {
		t.Fatal(err)
	}
	f.Scheme = s
	var mu sync.Mutex
	shares, partials := map[string]int{}, map[string]int{}
	f.Observe = func(to string, msg proto.Message) {
		mu.Lock()
		defer mu.Unlock()
		switch m := msg.(type) {
		case *ProtectedUpdate:
			shares[to]++
		case *Partial:
			partials[m.Holder]++
		}
	}
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i := range want {
		worst = max(worst, math.Abs(res.Final[i]-want[i]))
	}
	if worst > 1e-5 {
		t.Errorf("final model differs from direct FedAvg by %g", worst)
	}
	// Per round: 2 seed shares to bob (his own stays with him), 3 full
	// shares to the secure worker; a partial from each of the 2 holders.
	wantShares := map[string]int{"bob": 2 * f.Rounds, SecureWorkerName: 3 * f.Rounds}
	wantPartials := map[string]int{"bob": f.Rounds, SecureWorkerName: f.Rounds}
	if !reflect.DeepEqual(shares, wantShares) || !reflect.DeepEqual(partials, wantPartials) {
		t.Errorf("shares sent to %v, partials from %v; want %v and %v", shares, partials, wantShares, wantPartials)
	}

	f.Observe = nil
	f.Owners[2].Drop = func(int) Dropout { return BeforeUnmask } // carol holds nothing
	res, err = Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" || len(rm.Contributors) != 3 {
			t.Errorf("round %d with carol silent after sending: err %q, contributors %v", rm.Round, rm.Err, rm.Contributors)
		}
	}
}
