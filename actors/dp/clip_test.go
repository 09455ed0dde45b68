package dp

import (
	"errors"
	"math"
	"slices"
	"testing"
)

// norm2 is a plain L2 norm of a − b for the tests (b may be nil).
func norm2(a, b []float64) float64 {
	var s float64
	for i, x := range a {
		if b != nil {
			x -= b[i]
		}
		s += x * x
	}
	return math.Sqrt(s)
}

func TestClip(t *testing.T) {
	cases := []struct {
		name      string
		update    []float64
		reference []float64
		bound     float64
		scale     float64 // expected factor
	}{
		{"inside", []float64{1.3, 2.4}, []float64{1, 2}, 1, 1},
		{"on the bound", []float64{4, 6}, []float64{1, 2}, 5, 1},
		{"outside", []float64{4, 6}, []float64{1, 2}, 1, 0.2},
		{"nil reference", []float64{3, -4}, nil, 2.5, 0.5},
		{"zero delta", []float64{7, 7}, []float64{7, 7}, 1e-9, 1},
		{"empty", []float64{}, nil, 1, 1},
		{"huge elements", []float64{3e200, 4e200}, nil, 1, 2e-201},
		{"tiny elements", []float64{3e-200, 4e-200}, nil, 1e-200, 0.2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			update := slices.Clone(c.update)
			ref := slices.Clone(c.reference)
			scale, err := Clip(update, c.reference, c.bound)
			if err != nil {
				t.Fatalf("Clip: %v", err)
			}
			if math.Abs(scale-c.scale) > 1e-15*c.scale {
				t.Errorf("scale = %v, want %v", scale, c.scale)
			}
			if !slices.Equal(ref, c.reference) {
				t.Errorf("reference modified: %v, was %v", c.reference, ref)
			}
			for i := range update {
				r := 0.0
				if c.reference != nil {
					r = c.reference[i]
				}
				want := r + (c.update[i]-r)*c.scale
				if math.Abs(update[i]-want) > 1e-14*math.Abs(want) {
					t.Errorf("update[%d] = %v, want %v", i, update[i], want)
				}
			}
			if scale < 1 {
				// Rescale by a power of two so that squares neither
				// overflow nor underflow.
				_, e := math.Frexp(c.bound)
				d := make([]float64, len(update))
				for i := range update {
					d[i] = update[i]
					if c.reference != nil {
						d[i] -= c.reference[i]
					}
					d[i] = math.Ldexp(d[i], -e)
				}
				n := math.Ldexp(norm2(d, nil), e)
				if math.Abs(n-c.bound) > 1e-12*c.bound {
					t.Errorf("clipped norm = %v, want %v", n, c.bound)
				}
			}
		})
	}
}

// TestClipDirection checks on a model-sized vector that clipping keeps the
// delta's direction and leaves its norm at the bound.
func TestClipDirection(t *testing.T) {
	const n = 30514
	update, ref := make([]float64, n), make([]float64, n)
	for i := range update {
		ref[i] = math.Sin(float64(i))
		update[i] = ref[i] + math.Cos(float64(i)*0.37)
	}
	before := norm2(update, ref)
	orig := slices.Clone(update)
	scale, err := Clip(update, ref, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := norm2(update, ref); math.Abs(got-2) > 1e-12 {
		t.Errorf("norm after clip = %v, want 2", got)
	}
	if math.Abs(scale-2/before) > 1e-15 {
		t.Errorf("scale = %v, want %v", scale, 2/before)
	}
	// Cosine of the angle between old and new delta must be 1.
	var dot float64
	for i := range update {
		dot += (update[i] - ref[i]) * (orig[i] - ref[i])
	}
	if cos := dot / (2 * before); math.Abs(cos-1) > 1e-12 {
		t.Errorf("direction changed: cosine %v", cos)
	}
}

func TestClipErrors(t *testing.T) {
	cases := []struct {
		name      string
		update    []float64
		reference []float64
		bound     float64
		want      error
	}{
		{"zero bound", []float64{1}, nil, 0, ErrInvalidParameter},
		{"negative bound", []float64{1}, nil, -1, ErrInvalidParameter},
		{"NaN bound", []float64{1}, nil, math.NaN(), ErrInvalidParameter},
		{"infinite bound", []float64{1}, nil, math.Inf(1), ErrInvalidParameter},
		{"length", []float64{1, 2}, []float64{1}, 1, ErrLengthMismatch},
		{"empty reference", []float64{1}, []float64{}, 1, ErrLengthMismatch},
		{"NaN update", []float64{5, math.NaN()}, nil, 1, ErrNotFinite},
		{"infinite reference", []float64{5, 1}, []float64{0, math.Inf(-1)}, 1, ErrNotFinite},
		{"overflowing delta", []float64{1e308}, []float64{-1e308}, 1, ErrNotFinite},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			update := slices.Clone(c.update)
			_, err := Clip(update, c.reference, c.bound)
			if !errors.Is(err, c.want) {
				t.Fatalf("Clip error = %v, want %v", err, c.want)
			}
			for i := range update {
				if update[i] != c.update[i] && !math.IsNaN(c.update[i]) {
					t.Errorf("update modified on error: %v", update)
				}
			}
		})
	}
}
