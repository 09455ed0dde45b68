package policy

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestFedAvg(t *testing.T) {
	global := []float64{9, 9}
	cases := []struct {
		s      FedAvg
		n      []int
		models [][]float64
		want   []float64
	}{
		{FedAvg{}, []int{1, 3}, [][]float64{{0, 4}, {4, 8}}, []float64{3, 7}},
		{FedAvg{Unweighted: true}, []int{1, 3}, [][]float64{{0, 4}, {4, 8}}, []float64{2, 6}},
	}
	for _, c := range cases {
		sum := make([]float64, 2)
		var total float64
		for k, m := range c.models {
			w := c.s.Weight(c.n[k])
			total += w
			for i := range m {
				sum[i] += w * m[i]
			}
		}
		dst := make([]float64, 2)
		if err := c.s.Aggregate(dst, global, sum, total); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(dst) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.s.Name(), dst, c.want)
		}
	}
}

func TestFedAvgRejects(t *testing.T) {
	s := FedAvg{}
	if err := s.Aggregate(make([]float64, 2), make([]float64, 2), make([]float64, 2), 0); !errors.Is(err, ErrNoWeight) {
		t.Errorf("zero weight: %v", err)
	}
	if err := s.Aggregate(make([]float64, 2), make([]float64, 2), make([]float64, 3), 1); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := ByName("fedsgd"); err == nil {
		t.Error("unknown strategy accepted")
	}
}

func ExampleFedAvg() {
	// bob trained on 100 samples, alice on 300.
	s := FedAvg{}
	sum := []float64{s.Weight(100)*0.5 + s.Weight(300)*1.0}
	next := make([]float64, 1)
	_ = s.Aggregate(next, []float64{0}, sum, s.Weight(100)+s.Weight(300))
	fmt.Println(next[0])
	// Output: 0.875
}

// statefulStrategy is what FedAvgM and FedAdam implement.
type statefulStrategy interface {
	Strategy
	Stateful
}

var (
	_ statefulStrategy = (*FedAvgM)(nil)
	_ statefulStrategy = (*FedAdam)(nil)
	_ fmt.Stringer     = (*FedAvgM)(nil)
	_ fmt.Stringer     = (*FedAdam)(nil)
)

// round runs one aggregation of the models trained on n samples each, as
// the model owner would: it sums Weight(n_k)·w_k and the weights.
func round(t *testing.T, s Strategy, global []float64, n []int, models [][]float64) []float64 {
	t.Helper()
	sum := make([]float64, len(global))
	var total float64
	for k, m := range models {
		w := s.Weight(n[k])
		total += w
		for i := range m {
			sum[i] += w * m[i]
		}
	}
	dst := make([]float64, len(global))
	if err := s.Aggregate(dst, global, sum, total); err != nil {
		t.Fatal(err)
	}
	return dst
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(math.Abs(a[i]-b[i]) <= tol*max(1, math.Abs(b[i]))) {
			return false
		}
	}
	return true
}

// TestFedAvgMTwoRounds checks two rounds against values computed by hand.
// Owners trained on 1 and 3 samples, so avg = (w_1 + 3·w_2)/4.
func TestFedAvgMTwoRounds(t *testing.T) {
	n := []int{1, 3}
	cases := []struct {
		s            *FedAvgM
		want1, want2 []float64
	}{
		// η 2, β 0.5. Round 1: avg [0 1], Δ = [1 -1], v = [1 -1],
		// next = [1 0] − 2v = [-1 2]. Round 2: avg [-1 1], Δ = [0 1],
		// v = 0.5·[1 -1] + [0 1] = [0.5 0.5], next = [-1 2] − 2v = [-2 1].
		{&FedAvgM{ServerLR: 2, Momentum: 0.5}, []float64{-1, 2}, []float64{-2, 1}},
		// β 0.75 and η left at 0, meaning 1 − β = 0.25. Round 1: v = [1 -1],
		// next = [0.75 0.25]. Round 2: Δ = [0.75 0.25] − [-1 1] = [1.75 -0.75],
		// v = 0.75·[1 -1] + Δ = [2.5 -1.5], next = [0.75 0.25] − 0.25v = [0.125 0.625].
		{&FedAvgM{Momentum: 0.75}, []float64{0.75, 0.25}, []float64{0.125, 0.625}},
	}
	for _, c := range cases {
		g1 := round(t, c.s, []float64{1, 0}, n, [][]float64{{0, 4}, {0, 0}})
		if !slices.Equal(g1, c.want1) {
			t.Errorf("%v round 1: got %v, want %v", c.s, g1, c.want1)
		}
		g2 := round(t, c.s, g1, n, [][]float64{{-1, 1}, {-1, 1}})
		if !slices.Equal(g2, c.want2) {
			t.Errorf("%v round 2: got %v, want %v", c.s, g2, c.want2)
		}
	}
}

// TestFedAdamTwoRounds checks two rounds against values computed by hand,
// with η 1, β1 0.5, β2 0.75, τ 1.
func TestFedAdamTwoRounds(t *testing.T) {
	s := &FedAdam{ServerLR: 1, Beta1: 0.5, Beta2: 0.75, Tau: 1}
	n := []int{1, 3}
	// Round 1: avg [2 -4] = Δ; m = 0.5Δ = [1 -2]; v = 0.25Δ² = [1 4];
	// next = [1/(1+1), -2/(2+1)].
	g1 := round(t, s, []float64{0, 0}, n, [][]float64{{2, -4}, {2, -4}})
	if want := []float64{0.5, -2.0 / 3}; !near(g1, want, 1e-15) {
		t.Fatalf("round 1: got %v, want %v", g1, want)
	}
	// Round 2: avg [-1.5, g1[1]], so Δ = [-2 0]; m = 0.5·[1 -2] + 0.5Δ =
	// [-0.5 -1]; v = 0.75·[1 4] + 0.25Δ² = [1.75 3];
	// next = [0.5 − 0.5/(√1.75+1), −2/3 − 1/(√3+1)].
	avg := []float64{-1.5, g1[1]}
	g2 := round(t, s, g1, n, [][]float64{avg, avg})
	if want := []float64{0.2847495629784698, -1.0326920704511053}; !near(g2, want, 1e-14) {
		t.Errorf("round 2: got %v, want %v", g2, want)
	}
	if st, want := s.State(nil), []float64{-0.5, -1, 1.75, 3}; !slices.Equal(st, want) {
		t.Errorf("state after round 2: %v, want %v", st, want)
	}
}

// randomRound returns a global model, sample counts and owner models.
func randomRound(rng *rand.Rand, size, owners int) ([]float64, []int, [][]float64) {
	global := make([]float64, size)
	for i := range global {
		global[i] = rng.NormFloat64()
	}
	n := make([]int, owners)
	models := make([][]float64, owners)
	for k := range models {
		n[k] = 1 + rng.IntN(100)
		models[k] = make([]float64, size)
		for i := range models[k] {
			models[k][i] = global[i] + 0.1*rng.NormFloat64()
		}
	}
	return global, n, models
}

// TestFedAvgMIsFedAvg checks that FedAvgM without momentum and with
// server learning rate 1 (explicitly, or by default) is FedAvg.
func TestFedAvgMIsFedAvg(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []*FedAvgM{{ServerLR: 1}, {}} {
		global, _, _ := randomRound(rng, 50, 1)
		for r := range 3 {
			_, n, models := randomRound(rng, 50, 4)
			want := round(t, FedAvg{}, global, n, models)
			got := round(t, s, global, n, models)
			if !near(got, want, 1e-13) {
				t.Fatalf("%v round %d: differs from FedAvg", s, r)
			}
			global = got
		}
	}
}

// TestStateRoundTrip checks that a strategy restored from State continues
// exactly as the original, and differently from a fresh one.
func TestStateRoundTrip(t *testing.T) {
	for _, mk := range []func() statefulStrategy{
		func() statefulStrategy { return &FedAvgM{ServerLR: 0.7, Momentum: 0.9} },
		func() statefulStrategy { return &FedAdam{ServerLR: 0.05, Tau: 1e-2} },
	} {
		rng := rand.New(rand.NewPCG(3, 4))
		a := mk()
		global, _, _ := randomRound(rng, 40, 1)
		for range 2 {
			_, n, models := randomRound(rng, 40, 3)
			global = round(t, a, global, n, models)
		}
		st := a.State(nil)
		if len(st) == 0 {
			t.Fatalf("%s: empty state after two rounds", a.Name())
		}
		b, fresh := mk(), mk()
		if err := b.SetState(st); err != nil {
			t.Fatal(err)
		}
		if got := b.State(nil); !slices.Equal(got, st) {
			t.Errorf("%s: State after SetState differs", a.Name())
		}
		ga, gb := global, global
		for r := range 2 {
			_, n, models := randomRound(rng, 40, 3)
			na, nb := round(t, a, ga, n, models), round(t, b, gb, n, models)
			if !slices.Equal(na, nb) {
				t.Fatalf("%s round %d: restored strategy diverges from the original", a.Name(), 3+r)
			}
			if r == 0 && slices.Equal(round(t, fresh, ga, n, models), na) {
				t.Fatalf("%s: a fresh strategy continues like the original; the test proves nothing", a.Name())
			}
			ga, gb = na, nb
		}
		if !slices.Equal(a.State(nil), b.State(nil)) {
			t.Errorf("%s: states differ after round 4", a.Name())
		}
	}
}

// TestAlias checks that dst may alias global.
func TestAlias(t *testing.T) {
	for _, mk := range []func() Strategy{
		func() Strategy { return &FedAvgM{Momentum: 0.9} },
		func() Strategy { return &FedAdam{} },
	} {
		rng := rand.New(rand.NewPCG(5, 6))
		a, b := mk(), mk()
		global, n, models := randomRound(rng, 30, 3)
		for range 2 {
			want := round(t, a, global, n, models)
			sum := make([]float64, len(global))
			var total float64
			for k, m := range models {
				total += b.Weight(n[k])
				for i := range m {
					sum[i] += b.Weight(n[k]) * m[i]
				}
			}
			inPlace := slices.Clone(global)
			if err := b.Aggregate(inPlace, inPlace, sum, total); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(inPlace, want) {
				t.Fatalf("%s: aliased dst gives another result", a.Name())
			}
			global = want
		}
	}
}

// TestStatefulRejects checks that bad input is an error and leaves the
// state as it was.
func TestStatefulRejects(t *testing.T) {
	for _, s := range []statefulStrategy{&FedAvgM{Momentum: 0.5}, &FedAdam{}} {
		global := []float64{1, 2}
		round(t, s, global, []int{1}, [][]float64{{3, 4}})
		before := s.State(nil)
		nan := math.NaN()
		for _, c := range []struct {
			name             string
			dst, global, sum []float64
			total            float64
		}{
			{"NaN in sum", make([]float64, 2), global, []float64{1, nan}, 1},
			{"Inf in global", make([]float64, 2), []float64{math.Inf(1), 0}, []float64{1, 1}, 1},
			{"other model size", make([]float64, 3), make([]float64, 3), make([]float64, 3), 1},
			{"zero weight", make([]float64, 2), global, []float64{1, 1}, 0},
			{"length mismatch", make([]float64, 2), global, []float64{1}, 1},
		} {
			if err := s.Aggregate(c.dst, c.global, c.sum, c.total); err == nil {
				t.Errorf("%s: %s accepted", s.Name(), c.name)
			}
			if !slices.Equal(s.State(nil), before) {
				t.Errorf("%s: %s changed the state", s.Name(), c.name)
			}
		}
		// States of the right length (2 for FedAvgM, 4 for FedAdam) except
		// where noted, so that only the named defect can be the reason.
		bad := [][]float64{{1, nan}, {math.Inf(-1), 2}, {1, 2, 3}}
		good := []float64{0.5, -0.5}
		if _, ok := s.(*FedAdam); ok {
			bad = [][]float64{{1, nan, 3, 4}, {1, 2, math.Inf(1), 4}, {1, 2, 3, 4, 5, 6}, {1, 2, -1, 4}}
			good = []float64{0.5, -0.5, 1, 0}
		}
		for _, st := range bad {
			if err := s.SetState(st); err == nil {
				t.Errorf("%s: SetState(%v) accepted", s.Name(), st)
			}
			if !slices.Equal(s.State(nil), before) {
				t.Errorf("%s: rejected SetState(%v) changed the state", s.Name(), st)
			}
		}
		if err := s.SetState(good); err != nil || !slices.Equal(s.State(nil), good) {
			t.Errorf("%s: SetState(%v) = %v, state %v", s.Name(), good, err, s.State(nil))
		}
		if err := s.SetState(nil); err != nil || len(s.State(nil)) != 0 {
			t.Errorf("%s: SetState(nil) = %v, state %v; want a reset", s.Name(), err, s.State(nil))
		}
	}
	if err := (&FedAdam{}).SetState([]float64{1, 2, 3}); err == nil {
		t.Error("fedadam: state of odd length accepted")
	}
	// A fresh strategy adopts the length of the state but still checks it.
	if err := (&FedAvgM{}).SetState([]float64{1, 2, 3}); err != nil {
		t.Errorf("fedavgm: fresh SetState: %v", err)
	}
	if err := (&FedAvgM{}).SetState([]float64{1, math.NaN(), 3}); err == nil {
		t.Error("fedavgm: fresh SetState accepted NaN")
	}
	// Out-of-range parameters are errors, not panics or NaN models.
	for _, s := range []Strategy{&FedAvgM{Momentum: 1}, &FedAvgM{ServerLR: -1}, &FedAdam{Beta2: 1.5}, &FedAdam{Tau: math.NaN()}} {
		if err := s.Aggregate(make([]float64, 1), []float64{0}, []float64{1}, 1); err == nil {
			t.Errorf("%+v accepted", s)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Strategy
	}{
		{"", FedAvg{}},
		{"fedavg", FedAvg{}},
		{" fedavg-unweighted ", FedAvg{Unweighted: true}},
		{"fedavgm", &FedAvgM{Momentum: 0.9}},
		{"fedavgm:lr=1,momentum=0.9", &FedAvgM{ServerLR: 1, Momentum: 0.9}},
		{"fedavgm:momentum=0", &FedAvgM{}},
		{"fedadam", &FedAdam{}},
		{"fedadam:", &FedAdam{}},
		{"fedadam:lr=0.03, beta1=0.9,tau=1e-3", &FedAdam{ServerLR: 0.03, Beta1: 0.9, Tau: 1e-3}},
	} {
		got, err := Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
		} else if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", c.spec, got, c.want)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"fedsgd", "unknown strategy"},
		{"FedAvg", "unknown strategy"},
		{"fedavg:lr=1", "takes no parameters"},
		{"fedadam:eta=0.1", `unknown parameter "eta"`},
		{"fedadam:lr", "not key=value"},
		{"fedadam:lr=", "not key=value"},
		{"fedadam:lr=0.1,,tau=1", "not key=value"},
		{"fedadam:lr=abc", "not a finite number"},
		{"fedadam:lr=NaN", "not a finite number"},
		{"fedadam:lr=0.1,lr=0.2", "given twice"},
		{"fedadam:lr=-1", "not a positive number"},
		{"fedadam:beta2=1", "beta2 1 outside"},
		{"fedadam:tau=0", "tau must not be 0"},
		{"fedavgm:lr=0", "lr must not be 0"},
		{"fedavgm:momentum=1", "momentum 1 outside"},
		{"fedavgm:momentum=-0.1", "outside [0, 1)"},
	} {
		s, err := Parse(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, %v; want error containing %q", c.spec, s, err, c.want)
		}
	}
	if _, err := Parse("fedsgd"); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("unknown name: %v does not wrap ErrUnknownStrategy", err)
	}
}

// TestNamesAndStrings checks that every name parses to a strategy of that
// name, that ByName agrees with Parse and hands out fresh state, and that
// String round-trips through Parse.
func TestNamesAndStrings(t *testing.T) {
	for _, name := range Names() {
		s, err := ByName(name)
		if err != nil || s.Name() != name {
			t.Errorf("ByName(%q) = %v, %v", name, s, err)
		}
		p, _ := Parse(name)
		if !reflect.DeepEqual(s, p) {
			t.Errorf("ByName(%q) = %#v, Parse = %#v", name, s, p)
		}
	}
	a, _ := ByName("fedadam")
	b, _ := ByName("fedadam")
	if a == b {
		t.Error("ByName returned the same stateful value twice")
	}
	for _, s := range []fmt.Stringer{&FedAvgM{}, &FedAvgM{Momentum: 0.9}, &FedAvgM{ServerLR: 1.5, Momentum: 0.3},
		&FedAdam{}, &FedAdam{ServerLR: 0.1, Beta1: 0.8, Beta2: 0.999, Tau: 1e-9}} {
		p, err := Parse(s.String())
		if err != nil {
			t.Errorf("Parse(%q): %v", s, err)
			continue
		}
		if p.(fmt.Stringer).String() != s.String() {
			t.Errorf("Parse(%q).String() = %q", s, p)
		}
	}
	if got, want := (&FedAdam{}).String(), "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001"; got != want {
		t.Errorf("FedAdam defaults: %s, want %s", got, want)
	}
	if got, want := (&FedAvgM{Momentum: 0.9}).String(), "fedavgm:lr=0.09999999999999998,momentum=0.9"; got != want {
		t.Errorf("FedAvgM defaults: %s, want %s", got, want)
	}
}

func ExampleParse() {
	s, err := Parse("fedavgm:lr=1,momentum=0.5")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Two rounds in which the owners' mean stays 1 below the global model:
	// the momentum makes the second step 1.5 times as long as the first.
	global := []float64{10}
	for range 2 {
		sum := []float64{s.Weight(100) * (global[0] - 1)}
		_ = s.Aggregate(global, global, sum, s.Weight(100))
		fmt.Println(global[0])
	}
	_, err = Parse("fedadam:eta=0.1")
	fmt.Println(err)
	// Output:
	// 9
	// 7.5
	// policy: strategy "fedadam:eta=0.1": unknown parameter "eta" for fedadam (valid: lr, beta1, beta2, tau)
}
