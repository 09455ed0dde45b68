package main

import (
	"math"
	"testing"
)

func TestSlope(t *testing.T) {
	if got := slope([]float64{10, 100, 1000}, []float64{25, 250, 2500}); math.Abs(got-2.5) > 1e-12 {
		t.Errorf("slope %g, want 2.5", got)
	}
	if got := slope([]float64{5, 5}, []float64{1, 2}); got != 0 {
		t.Errorf("slope of a vertical line %g, want 0", got)
	}
}

func TestPositives(t *testing.T) {
	got, err := positives("10, 30,1000", 1)
	if err != nil || len(got) != 3 || got[2] != 1000 {
		t.Errorf("positives: %v, %v", got, err)
	}
	for _, bad := range []string{"0", "x", "5,-1"} {
		if _, err := positives(bad, 1); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
