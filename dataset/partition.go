package dataset

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultAlpha is the customary Dirichlet concentration for non-IID
// partitions.
const DefaultAlpha = 0.5

// dirichletAttempts bounds how often Dirichlet resamples a partition that
// left an owner without samples.
const dirichletAttempts = 100

// A Partitioner splits a training set among data owners. Partition
// receives the label of every example and returns, for each of owners
// owners, the indices (into labels) of the examples it holds, each list in
// increasing order. All randomness is drawn from rng, so equal seeds give
// equal partitions. No pixels are copied; see Set.View.
type Partitioner interface {
	Partition(labels []uint8, owners int, rng *rand.Rand) ([][]int, error)
}

// PartitionerNames returns the names NewPartitioner accepts, and
// "natural", the partition a dataset comes with (see NaturalPartitioner).
func PartitionerNames() []string {
	return []string{"full", "iid", "shards", "dirichlet", "quantity", "natural"}
}

// NewPartitioner returns the partitioner called name: "full" (Full),
// "iid" (IID), "shards" (Shards with two shards per owner), "dirichlet"
// (Dirichlet) or "quantity" (Quantity). alpha is the Dirichlet
// concentration of the last two, which must be positive and finite (see
// DefaultAlpha); the others ignore it.
func NewPartitioner(name string, alpha float64) (Partitioner, error) {
	switch name {
	case "full":
		return Full{}, nil
	case "iid":
		return IID{}, nil
	case "shards":
		return Shards{}, nil
	case "dirichlet", "quantity":
		if err := checkAlpha(alpha); err != nil {
			return nil, fmt.Errorf("dataset: partitioner %s: %w", name, err)
		}
		if name == "dirichlet" {
			return Dirichlet{Alpha: alpha}, nil
		}
		return Quantity{Alpha: alpha}, nil
	case "natural":
		return nil, fmt.Errorf("dataset: partitioner natural: the groups come from the dataset: use NaturalPartitioner(data)")
	}
	return nil, fmt.Errorf("dataset: unknown partitioner %q (valid: %s)", name, strings.Join(PartitionerNames(), ", "))
}

// Full gives every owner the whole training set, as a separate list per
// owner so that owners may reorder their own lists (memory grows as owners
// times examples). It uses no randomness; rng may be nil.
type Full struct{}

// Partition implements Partitioner.
func (Full) Partition(labels []uint8, owners int, _ *rand.Rand) ([][]int, error) {
	if err := checkOwners(len(labels), owners); err != nil {
		return nil, fmt.Errorf("dataset: full partition: %w", err)
	}
	all := make([]int, len(labels))
	for i := range all {
		all[i] = i
	}
	parts := make([][]int, owners)
	for o := range parts {
		parts[o] = slices.Clone(all)
	}
	return parts, nil
}

// IID shuffles the examples and deals them out in equal shares: list
// sizes differ by at most one. The lists are disjoint and cover all
// examples.
type IID struct{}

// Partition implements Partitioner.
func (IID) Partition(labels []uint8, owners int, rng *rand.Rand) ([][]int, error) {
	if err := check(len(labels), owners, rng); err != nil {
		return nil, fmt.Errorf("dataset: iid partition: %w", err)
	}
	return split(rng.Perm(len(labels)), evenSizes(len(labels), owners)), nil
}

// Shards is the pathological non-IID split of McMahan et al. (2017): the
// examples are sorted by label (stably, so ties keep index order), cut
// into owners*PerOwner contiguous shards of equal size (differing by at
// most one) and each owner receives PerOwner shards chosen at random.
// With two shards per owner most owners see only one or two classes. The
// lists are disjoint and cover all examples.
type Shards struct {
	// PerOwner is the number of shards per owner; 0 means 2.
	PerOwner int
}

// Partition implements Partitioner.
func (s Shards) Partition(labels []uint8, owners int, rng *rand.Rand) ([][]int, error) {
	per := s.PerOwner
	if per == 0 {
		per = 2
	}
	if err := check(len(labels), owners, rng); err != nil {
		return nil, fmt.Errorf("dataset: shards partition: %w", err)
	}
	if per < 0 {
		return nil, fmt.Errorf("dataset: shards partition: %d shards per owner", per)
	}
	shards := owners * per
	if shards > len(labels) {
		return nil, fmt.Errorf("dataset: shards partition: %d shards (%d owners x %d) exceed %d examples", shards, owners, per, len(labels))
	}
	byLabel := make([]int, len(labels))
	for i := range byLabel {
		byLabel[i] = i
	}
	slices.SortStableFunc(byLabel, func(a, b int) int { return int(labels[a]) - int(labels[b]) })
	cut := split(byLabel, evenSizes(len(labels), shards))
	order := rng.Perm(shards)
	parts := make([][]int, owners)
	for o := range parts {
		for _, sh := range order[o*per : (o+1)*per] {
			parts[o] = append(parts[o], cut[sh]...)
		}
		slices.Sort(parts[o])
	}
	return parts, nil
}

// Dirichlet is the label-skewed split of Hsu et al. (2019): for every
// class it draws the owners' proportions from a symmetric Dirichlet
// distribution with concentration Alpha and deals that class's shuffled
// examples accordingly. Small Alpha gives each owner few classes; large
// Alpha approaches an IID split. If some owner receives fewer than MinSize
// examples the whole draw is repeated, up to 100 times, after which
// Partition returns an error. The lists are disjoint and cover all
// examples.
type Dirichlet struct {
	// Alpha is the concentration; it must be positive and finite.
	Alpha float64
	// MinSize is the fewest examples an owner may receive; 0 means 1.
	MinSize int
}

// Partition implements Partitioner.
func (d Dirichlet) Partition(labels []uint8, owners int, rng *rand.Rand) ([][]int, error) {
	if err := check(len(labels), owners, rng); err != nil {
		return nil, fmt.Errorf("dataset: dirichlet partition: %w", err)
	}
	if err := checkAlpha(d.Alpha); err != nil {
		return nil, fmt.Errorf("dataset: dirichlet partition: %w", err)
	}
	minSize := max(d.MinSize, 1)
	if minSize*owners > len(labels) {
		return nil, fmt.Errorf("dataset: dirichlet partition: %d owners of at least %d examples exceed %d examples", owners, minSize, len(labels))
	}
	var byClass [256][]int
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	gamma := distuv.Gamma{Alpha: d.Alpha, Beta: 1, Src: rng}
	p := make([]float64, owners)
	parts := make([][]int, owners)
	for range dirichletAttempts {
		for o := range parts {
			parts[o] = parts[o][:0]
		}
		for _, idx := range byClass {
			if len(idx) == 0 {
				continue
			}
			idx = slices.Clone(idx)
			rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			for o, chunk := range split(idx, proportionalSizes(len(idx), dirichlet(p, gamma))) {
				parts[o] = append(parts[o], chunk...)
			}
		}
		if !slices.ContainsFunc(parts, func(p []int) bool { return len(p) < minSize }) {
			for _, p := range parts {
				slices.Sort(p)
			}
			return parts, nil
		}
	}
	return nil, fmt.Errorf("dataset: dirichlet partition: some of %d owners got fewer than %d examples in %d draws with alpha %g; use fewer owners or a larger alpha", owners, minSize, dirichletAttempts, d.Alpha)
}

// Quantity is the quantity-skewed split: examples are shuffled (so each
// owner's labels are IID) and list sizes follow proportions drawn from a
// symmetric Dirichlet distribution with concentration Alpha, on top of one
// example guaranteed to every owner. The lists are disjoint and cover all
// examples.
type Quantity struct {
	// Alpha is the concentration; it must be positive and finite.
	Alpha float64
}

// Partition implements Partitioner.
func (q Quantity) Partition(labels []uint8, owners int, rng *rand.Rand) ([][]int, error) {
	if err := check(len(labels), owners, rng); err != nil {
		return nil, fmt.Errorf("dataset: quantity partition: %w", err)
	}
	if err := checkAlpha(q.Alpha); err != nil {
		return nil, fmt.Errorf("dataset: quantity partition: %w", err)
	}
	gamma := distuv.Gamma{Alpha: q.Alpha, Beta: 1, Src: rng}
	sizes := proportionalSizes(len(labels)-owners, dirichlet(make([]float64, owners), gamma))
	for o := range sizes {
		sizes[o]++
	}
	return split(rng.Perm(len(labels)), sizes), nil
}

// dirichlet fills p with a draw from the symmetric Dirichlet distribution
// as normalised Gamma(gamma.Alpha, 1) variates. If all variates underflow
// to zero (possible for tiny alpha) one component, chosen uniformly, gets
// everything: the limit of the distribution as alpha goes to zero.
func dirichlet(p []float64, gamma distuv.Gamma) []float64 {
	var sum float64
	for i := range p {
		p[i] = gamma.Rand()
		sum += p[i]
	}
	if sum == 0 || math.IsNaN(sum) {
		clear(p)
		p[int(gamma.Src.Uint64()%uint64(len(p)))] = 1
		return p
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// proportionalSizes splits n into len(p) sizes proportional to p (which
// sums to 1) by rounding the cumulative sums, so the sizes add up to n.
func proportionalSizes(n int, p []float64) []int {
	sizes := make([]int, len(p))
	var cum float64
	prev := 0
	for i, x := range p {
		cum += x
		end := int(math.Round(cum * float64(n)))
		if i == len(p)-1 || end > n {
			end = n
		}
		end = max(end, prev)
		sizes[i] = end - prev
		prev = end
	}
	return sizes
}

// evenSizes splits n into k sizes differing by at most one.
func evenSizes(n, k int) []int {
	sizes := make([]int, k)
	for i := range sizes {
		sizes[i] = n / k
		if i < n%k {
			sizes[i]++
		}
	}
	return sizes
}

// split cuts idx into consecutive chunks of the given sizes, which must add
// up to len(idx). Chunks alias idx and are sorted in place.
func split(idx []int, sizes []int) [][]int {
	parts := make([][]int, len(sizes))
	start := 0
	for i, n := range sizes {
		parts[i] = idx[start : start+n : start+n]
		slices.Sort(parts[i])
		start += n
	}
	return parts
}

// check validates the arguments shared by all random partitioners.
func check(n, owners int, rng *rand.Rand) error {
	if rng == nil {
		return errors.New("nil random source")
	}
	return checkOwners(n, owners)
}

// checkOwners validates the owner count against the number of examples.
func checkOwners(n, owners int) error {
	switch {
	case owners < 1:
		return fmt.Errorf("%d owners, need at least 1", owners)
	case owners > n:
		return fmt.Errorf("%d owners exceed %d examples", owners, n)
	}
	return nil
}

// checkAlpha validates a Dirichlet concentration.
func checkAlpha(alpha float64) error {
	if !(alpha > 0) || math.IsInf(alpha, 1) {
		return fmt.Errorf("alpha %g is not positive and finite", alpha)
	}
	return nil
}
