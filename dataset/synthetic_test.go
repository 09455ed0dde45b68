package dataset

import (
	"math/rand/v2"
	"testing"
)

func TestSynthetic(t *testing.T) {
	s := Synthetic(500, 4, 3, rand.New(rand.NewPCG(1, 2)))
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	h := LabelHistogram(s.Labels, [][]int{Subsample(s.Len(), 0, nil)}, 3)[0]
	for c, n := range h {
		if n < 100 {
			t.Errorf("class %d has %d of 500 examples", c, n)
		}
	}
	// The bright segment decides the class.
	for i := range s.Len() {
		start := int(s.Labels[i]) * 16 / 3
		if s.Image(i)[start] != 255 {
			t.Fatalf("example %d (class %d) has no bright pixel at %d", i, s.Labels[i], start)
		}
	}
}
