package dp

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMechanismStd(t *testing.T) {
	m := Mechanism{Multiplier: 1.1, Clip: 0.5}
	central, err := m.CentralStd()
	if err != nil {
		t.Fatal(err)
	}
	if central != 1.1*0.5 {
		t.Errorf("CentralStd = %v, want %v", central, 1.1*0.5)
	}
	for _, n := range []int{1, 2, 10, 100} {
		share, err := m.ShareStd(n)
		if err != nil {
			t.Fatal(err)
		}
		// n shares sum to the central variance.
		if v := float64(n) * share * share; math.Abs(v-central*central) > 1e-15 {
			t.Errorf("n=%d: n·share² = %v, want %v", n, v, central*central)
		}
	}
}

func TestMechanismErrors(t *testing.T) {
	bad := []Mechanism{
		{},
		{Multiplier: 1},
		{Clip: 1},
		{Multiplier: -1, Clip: 1},
		{Multiplier: math.NaN(), Clip: 1},
		{Multiplier: 1, Clip: math.Inf(1)},
	}
	for _, m := range bad {
		if _, err := m.CentralStd(); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%+v CentralStd error = %v, want ErrInvalidParameter", m, err)
		}
		if _, err := m.ShareStd(3); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("%+v ShareStd error = %v, want ErrInvalidParameter", m, err)
		}
	}
	m := Mechanism{Multiplier: 1, Clip: 1}
	for _, n := range []int{0, -1} {
		if _, err := m.ShareStd(n); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("ShareStd(%d) error = %v, want ErrInvalidParameter", n, err)
		}
	}
}

func TestAddNoiseSeeded(t *testing.T) {
	a, b := make([]float64, 100), make([]float64, 100)
	if err := AddNoise(a, 2, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	if err := AddNoise(b, 2, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Error("same seed gave different noise")
	}
	c := make([]float64, 100)
	if err := AddNoise(c, 2, rand.New(rand.NewPCG(1, 3))); err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same noise")
	}
	z := []float64{1, 2}
	if err := AddNoise(z, 0, rand.New(rand.NewPCG(1, 2))); err != nil || !slices.Equal(z, []float64{1, 2}) {
		t.Errorf("std 0 changed the vector to %v (err %v)", z, err)
	}
}

// TestDistributedNoiseVariance sums the shares of n contributors, each from
// its own source, and checks the per-coordinate variance of the sum against
// z²C², as central noise would give. With 200,000 coordinates the sample
// variance has a relative standard error of √(2/200000) ≈ 0.3 %; the test
// allows 2 %.
func TestDistributedNoiseVariance(t *testing.T) {
	const coords, n = 200_000, 8
	m := Mechanism{Multiplier: 1.3, Clip: 0.7}
	share, err := m.ShareStd(n)
	if err != nil {
		t.Fatal(err)
	}
	sum := make([]float64, coords)
	for k := range n {
		if err := AddNoise(sum, share, rand.New(rand.NewPCG(42, uint64(k)))); err != nil {
			t.Fatal(err)
		}
	}
	var mean, sq float64
	for _, v := range sum {
		mean += v
		sq += v * v
	}
	mean /= coords
	variance := sq/coords - mean*mean
	want := 1.3 * 1.3 * 0.7 * 0.7
	if math.Abs(variance-want) > 0.02*want {
		t.Errorf("variance of the summed shares = %v, want %v", variance, want)
	}
	if math.Abs(mean) > 5*math.Sqrt(want/coords) {
		t.Errorf("mean of the summed shares = %v, want about 0", mean)
	}
}

func TestAddNoiseErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, std := range []float64{-1, math.NaN(), math.Inf(1)} {
		v := []float64{1}
		if err := AddNoise(v, std, rng); !errors.Is(err, ErrInvalidParameter) || v[0] != 1 {
			t.Errorf("AddNoise(std %v) error = %v, vector %v", std, err, v)
		}
	}
	v := []float64{1}
	if err := AddNoise(v, 1, nil); !errors.Is(err, ErrInvalidParameter) || v[0] != 1 {
		t.Errorf("AddNoise(nil rng) error = %v, vector %v", err, v)
	}
}
