package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNamedModels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params int
		input  int
		counts []int
	}{
		{CNN, 30514, 784, []int{320, 0, 0, 16184, 0, 0, 0, 0, 14010}},
		{MLP, 199210, 784, []int{157000, 0, 40200, 0, 2010}},
		{LogReg, 7850, 784, []int{7850}},
	} {
		m, err := New(tc.name, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if m.NumParams() != tc.params || m.InputSize() != tc.input || m.Classes() != 10 || m.Name() != tc.name {
			t.Errorf("%s: %d params, input %d, %d classes", tc.name, m.NumParams(), m.InputSize(), m.Classes())
		}
		if !slices.Equal(m.a.counts, tc.counts) {
			t.Errorf("%s: layer params %v, want %v", tc.name, m.a.counts, tc.counts)
		}
	}
	if _, err := New("resnet", nil); err == nil {
		t.Error("unknown model accepted")
	}
}

func TestNewModelErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  Shape
		layers []Layer
		want   string
	}{
		{"no layers", Shape{4}, nil, "no layers"},
		{"bad input", Shape{2, 3}, []Layer{Dense(2)}, "input shape"},
		{"dense on image", Shape{1, 4, 4}, []Layer{Dense(2)}, "not flat"},
		{"conv on flat", Shape{16}, []Layer{Conv2D(2, 3), Flatten(), Dense(2)}, "not {C, H, W}"},
		{"kernel too big", Shape{1, 2, 2}, []Layer{Conv2D(2, 3), Flatten(), Dense(2)}, "larger"},
		{"pool too big", Shape{1, 2, 2}, []Layer{MaxPool2D(3), Flatten(), Dense(2)}, "larger"},
		{"bad rate", Shape{4}, []Layer{Dropout(1), Dense(2)}, "rate"},
		{"last not dense", Shape{4}, []Layer{Dense(3), ReLU()}, "last layer"},
		{"one class", Shape{4}, []Layer{Dense(1)}, "2 units"},
		{"zero layer", Shape{4}, []Layer{{}, Dense(2)}, "invalid layer"},
	} {
		_, err := NewModel(tc.input, tc.layers, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestInit(t *testing.T) {
	m, err := New(CNN, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	// Glorot limits: conv1 sqrt(6/(9+288)), conv2 sqrt(6/(288+504)),
	// dense sqrt(6/(1400+10)).
	for _, l := range []struct {
		off, nk, nb int
		lim         float64
	}{
		{0, 288, 32, 0.1421},
		{320, 16128, 56, 0.08704},
		{16504, 14000, 10, 0.06523},
	} {
		kern := m.w[l.off : l.off+l.nk]
		var mx float64
		for _, v := range kern {
			mx = max(mx, abs(float64(v)))
		}
		if mx > l.lim || mx < 0.9*l.lim {
			t.Errorf("kernel at %d: max |w| = %v, limit %v", l.off, mx, l.lim)
		}
		for _, v := range m.w[l.off+l.nk : l.off+l.nk+l.nb] {
			if v != 0 {
				t.Errorf("bias at %d not zero", l.off+l.nk)
				break
			}
		}
	}
	z, _ := New(CNN, nil)
	for _, v := range z.w {
		if v != 0 {
			t.Fatal("nil rng gave nonzero weights")
		}
	}
	// Same seed, same weights.
	m2, _ := New(CNN, rand.New(rand.NewPCG(5, 5)))
	if !slices.Equal(m.w, m2.w) {
		t.Error("same seed gave different weights")
	}
}

func TestParams(t *testing.T) {
	m, _ := New(CNN, rand.New(rand.NewPCG(1, 2)))
	p := m.Params(nil)
	if len(p) != m.NumParams() {
		t.Fatalf("Params length %d", len(p))
	}
	for i, v := range p {
		if v != float64(m.w[i]) {
			t.Fatalf("Params[%d] = %v, want %v", i, v, m.w[i])
		}
	}
	// Reuse without allocating.
	allocs := testing.AllocsPerRun(10, func() { p = m.Params(p) })
	if allocs != 0 {
		t.Errorf("Params with a long enough dst allocated %v times", allocs)
	}
	for i := range p {
		p[i] = float64(i) / 1000
	}
	if err := m.SetParams(p); err != nil {
		t.Fatal(err)
	}
	if m.w[1234] != float32(1.234) {
		t.Errorf("SetParams: w[1234] = %v", m.w[1234])
	}
	if err := m.SetParams(p[1:]); err == nil {
		t.Error("SetParams accepted a short vector")
	}

	c := m.Clone()
	c.w[0] = 42
	if m.w[0] == 42 {
		t.Error("Clone shares parameters")
	}
	if err := m.CopyFrom(c); err != nil || m.w[0] != 42 {
		t.Errorf("CopyFrom: %v, w[0] = %v", err, m.w[0])
	}
	other, _ := New(MLP, nil)
	if err := m.CopyFrom(other); err == nil {
		t.Error("CopyFrom accepted another architecture")
	}
	same, _ := NewModel(m.InputShape(), m.Layers(), nil)
	if !m.SameArch(same) || m.SameArch(other) {
		t.Error("SameArch wrong")
	}
}

func TestShapeString(t *testing.T) {
	for _, tc := range []struct {
		s    Shape
		want string
	}{
		{Shape{784}, "(None, 784)"},
		{Shape{1, 28, 28}, "(None, 1, 28, 28)"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%v: got %q", []int(tc.s), got)
		}
	}
	if got := Conv2D(32, 3).String(); got != "Conv2D(32, 3x3)" {
		t.Errorf("Conv2D String %q", got)
	}
}

func TestBackend(t *testing.T) {
	if b := Backend(); b != "gonum" && b != "openblas" {
		t.Errorf("Backend() = %q", b)
	}
}

// TestFLOPs checks the forward FLOPs of the built-in models against their
// layers counted by hand.
func TestFLOPs(t *testing.T) {
	cases := map[string]float64{
		// conv 26x26x32 from 1x3x3, conv 11x11x56 from 32x3x3, dense 1400->10
		CNN:    2 * (26*26*32*9 + 11*11*56*32*9 + 1400*10),
		MLP:    2 * (784*200 + 200*200 + 200*10),
		LogReg: 2 * 784 * 10,
	}
	for name, want := range cases {
		m, err := New(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.FLOPs(); got != want {
			t.Errorf("%s: %g FLOPs, want %g", name, got, want)
		}
	}
}

// TestFLOPsSamePadding: a 'same' convolution costs its full output.
func TestFLOPsSamePadding(t *testing.T) {
	m, err := New(McMahanCNN, nil)
	if err != nil {
		t.Fatal(err)
	}
	// conv 28x28x32 from 1x5x5, conv 14x14x64 from 32x5x5, dense 3136->512->10
	want := 2.0 * (28*28*32*25 + 14*14*64*32*25 + 3136*512 + 512*10)
	if got := m.FLOPs(); got != want {
		t.Errorf("%s: %g FLOPs, want %g", McMahanCNN, got, want)
	}
}
