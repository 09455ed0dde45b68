package policy

import (
	"errors"
	"fmt"
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
