package nn

import (
	"math"
	"slices"
	"testing"
)

// TestAdamStep compares two Adam steps with the formulas of torch.optim.Adam
// evaluated in float64.
func TestAdamStep(t *testing.T) {
	p := []float32{0.5, -1, 2}
	g1 := []float32{0.1, -0.2, 0}
	g2 := []float32{-0.3, 0.05, 1}
	o := NewAdam(0.01)
	if err := o.Step(p, g1); err != nil {
		t.Fatal(err)
	}
	if err := o.Step(p, g2); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, -1, 2}
	m, v := make([]float64, 3), make([]float64, 3)
	for step, g := range [][]float32{g1, g2} {
		tt := float64(step + 1)
		for i := range want {
			gi := float64(g[i])
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			den := math.Sqrt(v[i])/math.Sqrt(1-math.Pow(0.999, tt)) + 1e-8
			want[i] -= 0.01 / (1 - math.Pow(0.9, tt)) * m[i] / den
		}
	}
	for i := range p {
		if math.Abs(float64(p[i])-want[i]) > 1e-6 {
			t.Errorf("p[%d] = %v, want %v", i, p[i], want[i])
		}
	}

	// State round trip and Reset.
	s := o.State(nil)
	if len(s) != 7 || s[0] != 2 {
		t.Fatalf("State = %v", s)
	}
	o2 := NewAdam(0.01)
	if err := o2.SetState(s); err != nil {
		t.Fatal(err)
	}
	q1, q2 := slices.Clone(p), slices.Clone(p)
	o.Step(q1, g1)
	o2.Step(q2, g1)
	if !slices.Equal(q1, q2) {
		t.Error("restored Adam steps differently")
	}
	o.Reset()
	if s := o.State(nil); len(s) != 1 || s[0] != 0 {
		t.Errorf("State after Reset = %v", s)
	}
	for _, bad := range [][]float64{nil, {1, 2}, {-1}, {1.5, 0, 0}} {
		if err := o.SetState(bad); err == nil {
			t.Errorf("SetState(%v) accepted", bad)
		}
	}
	if err := NewAdam(1).Step(p, g1[:2]); err == nil {
		t.Error("Step accepted mismatched lengths")
	}
}

func TestSGDStep(t *testing.T) {
	for _, tc := range []struct {
		name     string
		momentum float64
		want     []float32
	}{
		// Two steps of lr 0.1 with gradient 1 then 2.
		{"plain", 0, []float32{1 - 0.1 - 0.2}},
		{"momentum", 0.9, []float32{1 - 0.1 - 0.1*(0.9+2)}},
	} {
		o := &SGD{LR: 0.1, Momentum: tc.momentum}
		p := []float32{1}
		o.Step(p, []float32{1})
		o.Step(p, []float32{2})
		if math.Abs(float64(p[0]-tc.want[0])) > 1e-6 {
			t.Errorf("%s: p = %v, want %v", tc.name, p, tc.want)
		}
		s := o.State(nil)
		if tc.momentum != 0 && (len(s) != 1 || math.Abs(s[0]-2.9) > 1e-6) {
			t.Errorf("%s: state %v", tc.name, s)
		}
		o.Reset()
		if len(o.State(nil)) != 0 {
			t.Errorf("%s: state after Reset", tc.name)
		}
		if err := o.SetState(s); err != nil {
			t.Error(err)
		}
	}
}
