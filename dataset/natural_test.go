package dataset

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestNaturalPartition checks the natural partitioner: one group per
// owner, whole groups merged round-robin for fewer owners, and refusals.
func TestNaturalPartition(t *testing.T) {
	labels := make([]uint8, 10)
	groups := [][]int{{0, 1}, {2, 3, 4}, {5}, {6, 7, 8, 9}}
	d := &Data{Name: "toy", Natural: groups}
	p, err := NaturalPartitioner(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		owners int
		want   string
	}{
		{4, "[[0 1] [2 3 4] [5] [6 7 8 9]]"},
		{2, "[[0 1 5] [2 3 4 6 7 8 9]]"},
		{3, "[[0 1 6 7 8 9] [2 3 4] [5]]"},
		{1, "[[0 1 2 3 4 5 6 7 8 9]]"},
	} {
		parts, err := p.Partition(labels, tc.owners, nil)
		if err != nil || fmt.Sprint(parts) != tc.want {
			t.Errorf("%d owners: %v, %v; want %s", tc.owners, parts, err, tc.want)
		}
	}
	if fmt.Sprint(groups) != "[[0 1] [2 3 4] [5] [6 7 8 9]]" {
		t.Errorf("Partition changed the groups: %v", groups)
	}
	for _, tc := range []struct {
		labels []uint8
		owners int
		want   string
	}{
		{labels, 5, "5 owners, the dataset has 4"},
		{labels, 0, "0 owners"},
		{labels[:9], 4, "index 9, outside the 9 examples"},
	} {
		if _, err := p.Partition(tc.labels, tc.owners, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d owners of %d labels: error %v, want one containing %q", tc.owners, len(tc.labels), err, tc.want)
		}
	}
	// Datasets without a natural partition refuse it by name.
	_, err = NaturalPartitioner(&Data{Name: "mnist"})
	if !errors.Is(err, ErrNoNatural) || !strings.Contains(err.Error(), "mnist") {
		t.Errorf("mnist: %v", err)
	}
	if _, err := (Natural{}).Partition(labels, 1, nil); !errors.Is(err, ErrNoNatural) {
		t.Errorf("zero Natural: %v", err)
	}
	if _, err := NewPartitioner("natural", 0); err == nil || !strings.Contains(err.Error(), "NaturalPartitioner") {
		t.Errorf("NewPartitioner(natural): %v", err)
	}
}

// TestNames checks that every name Load accepts is listed.
func TestNames(t *testing.T) {
	for _, n := range Names() {
		if _, ok := lookup(n); !ok && n != "synthetic" {
			t.Errorf("Names lists %q, which Load does not know", n)
		}
	}
	if got := strings.Join(Names(), " "); got != "mnist fashion cifar10 femnist synthetic" {
		t.Errorf("Names() = %s", got)
	}
}
