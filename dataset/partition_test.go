package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// randomLabels returns n labels drawn uniformly from the classes.
func randomLabels(n int, seed uint64) []uint8 {
	rng := rand.New(rand.NewPCG(seed, 0))
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(rng.IntN(NumClasses))
	}
	return labels
}

// sortedLabels returns n labels in non-decreasing order, equally many per
// class (n a multiple of NumClasses).
func sortedLabels(n int) []uint8 {
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i * NumClasses / n)
	}
	return labels
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 42)) }

func TestPartitioners(t *testing.T) {
	for _, tc := range []struct {
		name     string
		alpha    float64
		n        int
		owners   int
		disjoint bool // lists are disjoint and cover 0..n-1
		even     bool // sizes differ by at most one
	}{
		{"full", 0, 100, 3, false, true},
		{"full", 0, 5, 5, false, true},
		{"iid", 0, 1000, 7, true, true},
		{"iid", 0, 10, 10, true, true},
		{"iid", 0, 1, 1, true, true},
		{"shards", 0, 1000, 10, true, false},
		{"shards", 0, 999, 7, true, false},
		{"shards", 0, 20, 10, true, false},
		{"dirichlet", 0.5, 2000, 10, true, false},
		{"dirichlet", 0.1, 2000, 20, true, false},
		{"dirichlet", 100, 1000, 10, true, false},
		{"dirichlet", 0.5, 50, 1, true, false},
		{"quantity", 0.5, 1000, 10, true, false},
		{"quantity", 0.01, 100, 50, true, false},
		{"quantity", 1, 5, 5, true, false},
	} {
		labels := randomLabels(tc.n, 1)
		p, err := NewPartitioner(tc.name, tc.alpha)
		if err != nil {
			t.Fatalf("NewPartitioner(%q, %g): %v", tc.name, tc.alpha, err)
		}
		parts, err := p.Partition(labels, tc.owners, newRand(7))
		if err != nil {
			t.Errorf("%s(alpha=%g) with %d examples, %d owners: %v", tc.name, tc.alpha, tc.n, tc.owners, err)
			continue
		}
		desc := fmt.Sprintf("%s(alpha=%g, n=%d, owners=%d)", tc.name, tc.alpha, tc.n, tc.owners)
		if len(parts) != tc.owners {
			t.Errorf("%s: %d lists, want %d", desc, len(parts), tc.owners)
			continue
		}
		seen := make([]int, tc.n)
		minSize, maxSize := math.MaxInt, 0
		for o, part := range parts {
			if !slices.IsSorted(part) {
				t.Errorf("%s: list %d is not sorted", desc, o)
			}
			if len(part) == 0 {
				t.Errorf("%s: owner %d has no examples", desc, o)
			}
			minSize, maxSize = min(minSize, len(part)), max(maxSize, len(part))
			for _, i := range part {
				seen[i]++
			}
		}
		want := 1
		if !tc.disjoint {
			want = tc.owners
		}
		for i, c := range seen {
			if c != want {
				t.Errorf("%s: example %d held %d times, want %d", desc, i, c, want)
				break
			}
		}
		if tc.even && maxSize-minSize > 1 {
			t.Errorf("%s: sizes range from %d to %d", desc, minSize, maxSize)
		}
		if tc.name == "full" && minSize != tc.n {
			t.Errorf("full: owner with %d of %d examples", minSize, tc.n)
		}

		// Determinism: the same seed gives the same lists, another seed
		// (almost surely) different ones.
		again, err := p.Partition(labels, tc.owners, newRand(7))
		if err != nil || !reflect.DeepEqual(again, parts) {
			t.Errorf("%s: same seed gave a different partition (err %v)", desc, err)
		}
		if tc.owners > 1 && tc.n > 10 && tc.name != "full" {
			other, err := p.Partition(labels, tc.owners, newRand(8))
			if err != nil || reflect.DeepEqual(other, parts) {
				t.Errorf("%s: another seed gave the same partition (err %v)", desc, err)
			}
		}
	}
}

func TestFullListsAreIndependent(t *testing.T) {
	parts, err := Full{}.Partition(make([]uint8, 4), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	parts[0][0] = 3
	if parts[1][0] != 0 {
		t.Error("Full lists share memory")
	}
}

func TestShardsFewClasses(t *testing.T) {
	for _, tc := range []struct {
		n, owners, per, maxClasses int
	}{
		{1000, 10, 0, 2}, // 20 shards of 50, each within one class
		{1000, 5, 0, 2},  // 10 shards of 100: one class each
		{1000, 7, 0, 4},  // 14 shards of ~71: each straddles at most 2 classes
		{1000, 10, 3, 6}, // 30 shards of ~33: at most 2 classes each
	} {
		labels := sortedLabels(tc.n)
		// Shuffle the labels: Shards must sort them itself.
		newRand(3).Shuffle(len(labels), func(i, j int) { labels[i], labels[j] = labels[j], labels[i] })
		parts, err := Shards{PerOwner: tc.per}.Partition(labels, tc.owners, newRand(5))
		if err != nil {
			t.Fatal(err)
		}
		for o, h := range LabelHistogram(labels, parts, NumClasses) {
			if k := classesHeld(h); k > tc.maxClasses {
				t.Errorf("n=%d owners=%d: owner %d holds %d classes: %v", tc.n, tc.owners, o, k, h)
			}
		}
	}
}

// TestShardsSortsStably checks the documented shard contents on sorted
// data: shard k holds examples [k*s, (k+1)*s) of the label-sorted order.
func TestShardsSortsStably(t *testing.T) {
	labels := []uint8{1, 0, 1, 0, 1, 0, 1, 0}
	parts, err := Shards{PerOwner: 1}.Partition(labels, 4, newRand(1))
	if err != nil {
		t.Fatal(err)
	}
	// Label-sorted order is 1,3,5,7,0,2,4,6; shards of two.
	want := map[[2]int]bool{{1, 3}: true, {5, 7}: true, {0, 2}: true, {4, 6}: true}
	for _, p := range parts {
		if len(p) != 2 || !want[[2]int{p[0], p[1]}] {
			t.Errorf("unexpected shard %v", p)
		}
	}
}

func classesHeld(h []int) int {
	k := 0
	for _, c := range h {
		if c > 0 {
			k++
		}
	}
	return k
}

// dominance returns the mean over owners of the share of their largest
// class: 1 when each owner holds one class, about 1/NumClasses when IID.
func dominance(hist [][]int) float64 {
	var sum float64
	for _, h := range hist {
		total, top := 0, 0
		for _, c := range h {
			total += c
			top = max(top, c)
		}
		sum += float64(top) / float64(total)
	}
	return sum / float64(len(hist))
}

func TestDirichletSkew(t *testing.T) {
	labels := randomLabels(6000, 2)
	for _, tc := range []struct {
		alpha    float64
		min, max float64
	}{
		{0.05, 0.5, 1},
		{0.5, 0.25, 0.6},
		{1000, 0, 0.15},
	} {
		parts, err := Dirichlet{Alpha: tc.alpha}.Partition(labels, 10, newRand(11))
		if err != nil {
			t.Fatal(err)
		}
		if d := dominance(LabelHistogram(labels, parts, NumClasses)); d < tc.min || d > tc.max {
			t.Errorf("alpha %g: dominant class share %.3f, want in [%g, %g]", tc.alpha, d, tc.min, tc.max)
		}
	}
}

func TestQuantitySkew(t *testing.T) {
	labels := randomLabels(10000, 3)
	spread := func(alpha float64) float64 {
		parts, err := Quantity{Alpha: alpha}.Partition(labels, 10, newRand(4))
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.MaxInt, 0
		for _, p := range parts {
			lo, hi = min(lo, len(p)), max(hi, len(p))
		}
		return float64(hi) / float64(lo)
	}
	if s := spread(1000); s > 1.5 {
		t.Errorf("alpha 1000: largest/smallest size %.2f, want near 1", s)
	}
	if s := spread(0.1); s < 10 {
		t.Errorf("alpha 0.1: largest/smallest size %.2f, want large", s)
	}
}

func TestPartitionErrors(t *testing.T) {
	labels := randomLabels(20, 1)
	for _, tc := range []struct {
		desc   string
		p      Partitioner
		owners int
		rng    *rand.Rand
		want   string
	}{
		{"no owners", IID{}, 0, newRand(1), "0 owners"},
		{"negative owners", Full{}, -1, nil, "-1 owners"},
		{"too many owners", Quantity{Alpha: 1}, 21, newRand(1), "21 owners exceed 20 examples"},
		{"too many owners full", Full{}, 21, nil, "21 owners exceed"},
		{"too many shards", Shards{}, 11, newRand(1), "22 shards"},
		{"negative shards", Shards{PerOwner: -1}, 2, newRand(1), "-1 shards"},
		{"zero alpha", Dirichlet{}, 2, newRand(1), "alpha 0"},
		{"negative alpha", Quantity{Alpha: -1}, 2, newRand(1), "alpha -1"},
		{"NaN alpha", Dirichlet{Alpha: math.NaN()}, 2, newRand(1), "alpha NaN"},
		{"infinite alpha", Dirichlet{Alpha: math.Inf(1)}, 2, newRand(1), "alpha +Inf"},
		{"nil rng", IID{}, 2, nil, "nil random source"},
		{"unsatisfiable dirichlet", Dirichlet{Alpha: 1e-3}, 20, newRand(1), "fewer than 1 examples in 100 draws"},
		{"unlikely dirichlet minimum", Dirichlet{Alpha: 0.01, MinSize: 5}, 4, newRand(1), "fewer than 5 examples in 100 draws"},
		{"impossible dirichlet minimum", Dirichlet{Alpha: 1, MinSize: 11}, 2, newRand(1), "2 owners of at least 11 examples exceed 20"},
	} {
		_, err := tc.p.Partition(labels, tc.owners, tc.rng)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.desc, err, tc.want)
		}
	}
}

func TestNewPartitioner(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alpha float64
		want  Partitioner // nil: an error is expected
	}{
		{"full", -1, Full{}},
		{"iid", 0, IID{}},
		{"shards", 0, Shards{}},
		{"dirichlet", 0.3, Dirichlet{Alpha: 0.3}},
		{"quantity", DefaultAlpha, Quantity{Alpha: DefaultAlpha}},
		{"dirichlet", 0, nil},
		{"quantity", -2, nil},
		{"dirichlet", math.NaN(), nil},
		{"IID", 0, nil},
		{"", 0, nil},
	} {
		p, err := NewPartitioner(tc.name, tc.alpha)
		if tc.want == nil {
			if err == nil {
				t.Errorf("NewPartitioner(%q, %g) succeeded", tc.name, tc.alpha)
			}
			continue
		}
		if err != nil || p != tc.want {
			t.Errorf("NewPartitioner(%q, %g) = %#v, %v; want %#v", tc.name, tc.alpha, p, err, tc.want)
		}
	}
	_, err := NewPartitioner("random", 0)
	if err == nil || !strings.Contains(err.Error(), strings.Join(PartitionerNames(), ", ")) {
		t.Errorf("unknown name: err = %v, want the valid names listed", err)
	}
}

func TestSubsample(t *testing.T) {
	for _, tc := range []struct{ n, limit, want int }{
		{10, 0, 10}, {10, -1, 10}, {10, 10, 10}, {10, 20, 10}, {10, 3, 3}, {60000, 1000, 1000}, {0, 5, 0},
	} {
		got := Subsample(tc.n, tc.limit, newRand(1))
		if len(got) != tc.want || !slices.IsSorted(got) {
			t.Errorf("Subsample(%d, %d) has %d indices (sorted: %v), want %d", tc.n, tc.limit, len(got), slices.IsSorted(got), tc.want)
			continue
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) || (len(got) > 0 && (got[0] < 0 || got[len(got)-1] >= tc.n)) {
			t.Errorf("Subsample(%d, %d) = %v: duplicates or out of range", tc.n, tc.limit, got)
		}
		if again := Subsample(tc.n, tc.limit, newRand(1)); !slices.Equal(again, got) {
			t.Errorf("Subsample(%d, %d) is not deterministic", tc.n, tc.limit)
		}
	}
}

func TestLabelHistogram(t *testing.T) {
	labels := []uint8{0, 1, 1, 2, 2, 2}
	got := LabelHistogram(labels, [][]int{{0, 1}, {2, 3, 4, 5}, {}}, 3)
	want := [][]int{{1, 1, 0}, {0, 1, 3}, {0, 0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LabelHistogram = %v, want %v", got, want)
	}
}

func TestDirichletMinSize(t *testing.T) {
	labels := randomLabels(2000, 5)
	parts, err := Dirichlet{Alpha: 0.3, MinSize: 50}.Partition(labels, 10, newRand(6))
	if err != nil {
		t.Fatal(err)
	}
	for o, p := range parts {
		if len(p) < 50 {
			t.Errorf("owner %d has %d examples, want at least 50", o, len(p))
		}
	}
}
