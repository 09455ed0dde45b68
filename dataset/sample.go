package dataset

import (
	"math/rand/v2"
	"slices"
)

// Subsample returns the indices of the examples kept when a set of n
// examples is limited to limit of them: all of 0..n-1 if limit <= 0 or
// limit >= n, else limit distinct indices drawn uniformly from rng. The
// result is in increasing order and is the same for equal seeds; rng is
// not used, and may be nil, when all indices are kept. Pass the result to
// Set.Select for a compact smaller set.
func Subsample(n, limit int, rng *rand.Rand) []int {
	if limit <= 0 || limit >= n {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all
	}
	idx := rng.Perm(n)[:limit]
	slices.Sort(idx)
	return idx
}

// LabelHistogram returns, for each index list in parts, how many of its
// examples carry each label: hist[o][c] counts the indices i in parts[o]
// with labels[i] == c. It panics if an index is out of range or a label
// is not below classes.
func LabelHistogram(labels []uint8, parts [][]int, classes int) [][]int {
	hist := make([][]int, len(parts))
	for o, part := range parts {
		hist[o] = make([]int, classes)
		for _, i := range part {
			hist[o][labels[i]]++
		}
	}
	return hist
}
