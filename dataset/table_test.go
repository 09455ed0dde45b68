package dataset_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/dataset"
)

// tiny is a table of three examples of two features and two targets.
func tiny() *dataset.Table {
	return &dataset.Table{
		Inputs:  2,
		Outputs: 2,
		X:       []float32{1, 2, 3, 4, 5, 6},
		Y:       []float32{10, 11, 12, 13, 14, 15},
	}
}

func TestTableRead(t *testing.T) {
	tb := tiny()
	if tb.Len() != 3 || tb.InputSize() != 2 {
		t.Fatalf("Len %d, InputSize %d; want 3, 2", tb.Len(), tb.InputSize())
	}
	x, y := make([]float32, 2), make([]float32, 2)
	if lab := tb.Read(1, x); lab != 0 {
		t.Errorf("Read returned label %d, want 0", lab)
	}
	tb.Target(1, y)
	if !slices.Equal(x, []float32{3, 4}) || !slices.Equal(y, []float32{12, 13}) {
		t.Errorf("example 1: features %v, targets %v; want [3 4], [12 13]", x, y)
	}
	if (&dataset.Table{}).Len() != 0 {
		t.Error("zero Table has examples")
	}
}

func TestTableValidate(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	for _, tc := range []struct {
		name string
		tb   dataset.Table
		want string // "" if valid
	}{
		{"ok", *tiny(), ""},
		{"no examples", dataset.Table{Inputs: 3, Outputs: 1}, ""},
		{"zero table", dataset.Table{}, "positive"},
		{"no inputs", dataset.Table{Inputs: 0, Outputs: 1, Y: []float32{1}}, "positive"},
		{"negative outputs", dataset.Table{Inputs: 1, Outputs: -1, X: []float32{1}}, "positive"},
		{"partial target row", dataset.Table{Inputs: 1, Outputs: 2, X: []float32{1, 2}, Y: []float32{1, 2, 3}}, "whole rows"},
		{"too few features", dataset.Table{Inputs: 2, Outputs: 1, X: []float32{1, 2, 3}, Y: []float32{1, 2}}, "feature values"},
		{"too many features", dataset.Table{Inputs: 1, Outputs: 1, X: []float32{1, 2, 3}, Y: []float32{1, 2}}, "feature values"},
		{"NaN feature", dataset.Table{Inputs: 2, Outputs: 1, X: []float32{1, 2, 3, nan}, Y: []float32{1, 2}}, "feature 1 of example 1 is NaN"},
		{"infinite target", dataset.Table{Inputs: 1, Outputs: 2, X: []float32{1, 2}, Y: []float32{1, 2, inf, 4}}, "target 0 of example 1 is -Inf"},
	} {
		err := tc.tb.Validate()
		if tc.want == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestTableSelect(t *testing.T) {
	tb := tiny()
	s := tb.Select([]int{2, 0, 2})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Inputs != 2 || s.Outputs != 2 ||
		!slices.Equal(s.X, []float32{5, 6, 1, 2, 5, 6}) || !slices.Equal(s.Y, []float32{14, 15, 10, 11, 14, 15}) {
		t.Errorf("Select gave %+v", s)
	}
	tb.X[0], tb.Y[0] = -1, -1
	if s.X[2] != 1 || s.Y[2] != 10 {
		t.Error("Select shares memory with the original")
	}
	if e := tb.Select(nil); e.Len() != 0 || e.Validate() != nil {
		t.Errorf("empty selection: Len %d, Validate %v", e.Len(), e.Validate())
	}
}

func TestLinearData(t *testing.T) {
	coef := []float64{1.5, -2, 0.25}
	const bias, n = 0.5, 4000
	gen := func(seed uint64, noise float64) *dataset.Table {
		return dataset.LinearData(n, coef, bias, noise, rand.New(rand.NewPCG(seed, 1)))
	}
	a := gen(7, 0.3)
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Len() != n || a.InputSize() != 3 || a.Outputs != 1 {
		t.Fatalf("Len %d, InputSize %d, Outputs %d", a.Len(), a.InputSize(), a.Outputs)
	}
	if b := gen(7, 0.3); !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
		t.Error("equal seeds give different tables")
	}
	if b := gen(8, 0.3); slices.Equal(a.X, b.X) {
		t.Error("different seeds give equal features")
	}
	clean := gen(7, 0)
	if !slices.Equal(a.X, clean.X) {
		t.Error("features depend on noise")
	}
	// Without noise the targets are exactly linear (up to float32
	// rounding); with it the residuals have mean 0 and deviation noise.
	var sum, sq float64
	for i := range n {
		lin := bias
		for j, c := range coef {
			lin += c * float64(a.X[i*3+j])
		}
		if d := math.Abs(float64(clean.Y[i]) - lin); d > 1e-6*(1+math.Abs(lin)) {
			t.Fatalf("example %d: noise-free target %v, want %v", i, clean.Y[i], lin)
		}
		r := float64(a.Y[i]) - lin
		sum += r
		sq += r * r
	}
	mean := sum / n
	sd := math.Sqrt(sq/n - mean*mean)
	if math.Abs(mean) > 0.03 || math.Abs(sd-0.3) > 0.03 {
		t.Errorf("residuals have mean %.4f and deviation %.4f, want 0 and 0.3", mean, sd)
	}
	// The features are standard normal.
	var m, v float64
	for _, x := range a.X {
		m += float64(x)
		v += float64(x) * float64(x)
	}
	m /= float64(len(a.X))
	v = v/float64(len(a.X)) - m*m
	if math.Abs(m) > 0.05 || math.Abs(v-1) > 0.08 {
		t.Errorf("features have mean %.4f and variance %.4f, want 0 and 1", m, v)
	}
}

// LinearData makes a regression problem whose answer is known: here
// y = 2·x₀ − x₁ + 1 without noise.
func ExampleLinearData() {
	data := dataset.LinearData(100, []float64{2, -1}, 1, 0, rand.New(rand.NewPCG(1, 2)))
	if err := data.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	x, y := make([]float32, data.InputSize()), make([]float32, data.Outputs)
	data.Read(0, x)
	data.Target(0, y)
	fmt.Println(data.Len(), "examples of", data.InputSize(), "features")
	fmt.Printf("target matches: %t\n", math.Abs(float64(y[0]-(2*x[0]-x[1]+1))) < 1e-5)
	// Output:
	// 100 examples of 2 features
	// target matches: true
}
