package nn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestWorkloadModels checks the parameter counts of the models of the
// workloads papers compare on, layer by layer, against the counts implied
// by each paper's description.
func TestWorkloadModels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params int
		input  Shape
		counts []int
		shapes []Shape // output shapes of the convolutions and the flatten
	}{
		// McMahan et al. 2017: 5·5·32+32, 5·5·32·64+64, 7·7·64·512+512,
		// 512·10+10.
		{McMahanCNN, 1663370, Shape{1, 28, 28},
			[]int{832, 0, 0, 51264, 0, 0, 0, 1606144, 0, 5130},
			[]Shape{{32, 28, 28}, {64, 14, 14}, {3136}}},
		// Li et al. 2022: 5·5·3·6+6, 5·5·6·16+16, 400·120+120, 120·84+84,
		// 84·10+10.
		{NIIDBenchCNN, 62006, Shape{3, 32, 32},
			[]int{456, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850},
			[]Shape{{6, 28, 28}, {16, 10, 10}, {400}}},
	} {
		m, err := New(tc.name, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if m.NumParams() != tc.params || !slices.Equal(m.InputShape(), tc.input) || m.Classes() != 10 || m.Name() != tc.name {
			t.Errorf("%s: %d params, input %v, %d classes", tc.name, m.NumParams(), m.InputShape(), m.Classes())
		}
		if !slices.Equal(m.a.counts, tc.counts) {
			t.Errorf("%s: layer params %v, want %v", tc.name, m.a.counts, tc.counts)
		}
		var shapes []Shape
		for i, l := range m.a.layers {
			if l.kind == kindConv || l.kind == kindFlatten {
				shapes = append(shapes, m.a.shapes[i])
			}
		}
		if !slices.EqualFunc(shapes, tc.shapes, func(a, b Shape) bool { return slices.Equal(a, b) }) {
			t.Errorf("%s: shapes %v, want %v", tc.name, shapes, tc.shapes)
		}
	}
}

// TestNewFor builds the named models for other inputs and class counts:
// logistic regression on the 60 features of Synthetic(α, β), and the
// 62 classes of FEMNIST.
func TestNewFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   Shape
		classes int
		params  int
		inShape Shape
	}{
		{LogReg, Shape{60}, 10, 610, Shape{60}},
		{LogReg, nil, 10, 7850, Shape{784}},
		{MLP, Shape{1, 28, 28}, 62, 784*200 + 200 + 200*200 + 200 + 200*62 + 62, Shape{784}},
		{CNN, nil, 62, 320 + 16184 + 1400*62 + 62, Shape{1, 28, 28}},
		{McMahanCNN, Shape{1, 28, 28}, 62, 832 + 51264 + 1606144 + 512*62 + 62, Shape{1, 28, 28}},
		{McMahanCNN, Shape{3, 32, 32}, 10, 2432 + 51264 + 4096*512 + 512 + 5130, Shape{3, 32, 32}},
		{NIIDBenchCNN, nil, 100, 456 + 2416 + 48120 + 10164 + 84*100 + 100, Shape{3, 32, 32}},
	} {
		m, err := NewFor(tc.name, tc.input, tc.classes, rand.New(rand.NewPCG(2, 2)))
		if err != nil {
			t.Errorf("%s %v: %v", tc.name, tc.input, err)
			continue
		}
		if m.NumParams() != tc.params || m.Classes() != tc.classes || !slices.Equal(m.InputShape(), tc.inShape) {
			t.Errorf("%s %v %d classes: %d params, %d classes, input %v; want %d params, input %v",
				tc.name, tc.input, tc.classes, m.NumParams(), m.Classes(), m.InputShape(), tc.params, tc.inShape)
		}
	}
	// New is NewFor with the defined shape and 10 classes.
	a, _ := New(McMahanCNN, rand.New(rand.NewPCG(4, 4)))
	b, _ := NewFor(McMahanCNN, nil, 10, rand.New(rand.NewPCG(4, 4)))
	if !a.SameArch(b) || !slices.Equal(a.w, b.w) {
		t.Error("New and NewFor(name, nil, 10) differ")
	}
	for _, tc := range []struct {
		name    string
		input   Shape
		classes int
		want    string
	}{
		{"resnet", nil, 10, "unknown model"},
		{CNN, Shape{784}, 10, "not {C, H, W}"},
		{McMahanCNN, Shape{1, 2, 2}, 10, "larger"},
		{LogReg, Shape{60}, 1, "2 units"},
	} {
		if _, err := NewFor(tc.name, tc.input, tc.classes, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewFor(%q, %v, %d): error %v, want one containing %q", tc.name, tc.input, tc.classes, err, tc.want)
		}
	}
}

// TestConv2DSame checks 'same' padding's shapes, name and refusals.
func TestConv2DSame(t *testing.T) {
	m, err := NewModel(Shape{3, 7, 9}, []Layer{Conv2DSame(4, 5), Conv2DSame(2, 1), Flatten(), Dense(2)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.a.shapes[0]; !slices.Equal(got, Shape{4, 7, 9}) {
		t.Errorf("Conv2DSame(4, 5) on 3x7x9 gives %v, want (4, 7, 9)", got)
	}
	if got := Conv2DSame(32, 5).String(); got != "Conv2D(32, 5x5, same)" {
		t.Errorf("Conv2DSame String %q", got)
	}
	if Conv2DSame(3, 3) == Conv2D(3, 3) {
		t.Error("'same' and 'valid' convolutions compare equal")
	}
	_, err = NewModel(Shape{1, 8, 8}, []Layer{Conv2DSame(4, 4), Flatten(), Dense(2)}, nil)
	if err == nil || !strings.Contains(err.Error(), "odd kernel") {
		t.Errorf("even 'same' kernel: error %v", err)
	}
}

// TestPadAdjoint checks that cropGrad is the adjoint of padInput, which
// the input gradient of a padded convolution relies on: <pad(x), y> =
// <x, crop(y)> for random x and y.
func TestPadAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	o := newPaddedConvOp(0, Shape{2, 5, 4}, 3, 5, 2, false, 1)
	const n = 3
	x, y := make([]float32, n*o.rawSize), make([]float32, n*o.inSize)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	// Garbage in the buffers must not leak into the results.
	pad := make([]float32, n*o.inSize)
	crop := make([]float32, n*o.rawSize)
	for i := range pad {
		pad[i] = 99
	}
	for i := range crop {
		crop[i] = 99
	}
	px, cy := o.padInput(pad, x, n), o.cropGrad(crop, y, n)
	var lhs, rhs float64
	for i := range px {
		lhs += float64(px[i]) * float64(y[i])
	}
	for i := range x {
		rhs += float64(x[i]) * float64(cy[i])
	}
	if d := lhs - rhs; d > 1e-9 || d < -1e-9 {
		t.Errorf("<pad(x), y> = %v, <x, crop(y)> = %v", lhs, rhs)
	}
	// The border is zero.
	if px[0] != 0 || px[o.h*o.w-1] != 0 || px[2*o.w+2] != x[0] {
		t.Errorf("padded plane starts %v, want zeros around x[0] = %v", px[:2*o.w+3], x[0])
	}
}

// TestWorkloadModelsLearn trains McMahanCNN and NIIDBenchCNN (on
// three-channel 32×32 inputs) briefly on a learnable generated problem:
// held-out loss must fall and accuracy rise well above chance, and two
// thread counts must give the same weights.
func TestWorkloadModelsLearn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		epochs int
	}{
		{NIIDBenchCNN, 600, 3},
		{McMahanCNN, 320, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name == McMahanCNN {
				t.Skip("slow in pure Go")
			}
			rng := rand.New(rand.NewPCG(21, 22))
			m, err := New(tc.name, rng)
			if err != nil {
				t.Fatal(err)
			}
			d := m.InputSize()
			data := blobSource(rng, tc.n+200, d, 10, 0.3)
			train, test := make([]int, tc.n), make([]int, 200)
			for i := range train {
				train[i] = i
			}
			for i := range test {
				test[i] = tc.n + i
			}
			twin := m.Clone()
			tr := Trainer{Model: m, Optimizer: NewAdam(1e-3), BatchSize: 16, Threads: 2}
			acc0, loss0, err := tr.Evaluate(data, test)
			if err != nil {
				t.Fatal(err)
			}
			seed := rng.Uint64()
			for range tc.epochs {
				if _, err := tr.TrainEpoch(data, train, rand.New(rand.NewPCG(seed, 1))); err != nil {
					t.Fatal(err)
				}
			}
			acc, loss, err := tr.Evaluate(data, test)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("before: acc %.3f loss %.3f; after: acc %.3f loss %.3f", acc0, loss0, acc, loss)
			if acc < 0.5 || loss > 0.7*loss0 {
				t.Errorf("accuracy %.3f (want >= 0.5), loss %.3f from %.3f (want below %.3f)", acc, loss, loss0, 0.7*loss0)
			}
			one := Trainer{Model: twin, Optimizer: NewAdam(1e-3), BatchSize: 16, Threads: 1}
			for range tc.epochs {
				if _, err := one.TrainEpoch(data, train, rand.New(rand.NewPCG(seed, 1))); err != nil {
					t.Fatal(err)
				}
			}
			if !slices.Equal(twin.w, m.w) {
				t.Error("1 and 2 threads trained different weights")
			}
		})
	}
}
