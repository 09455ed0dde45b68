package dataset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// ErrNoNatural is wrapped by the error returned when the natural
// partition is asked of a dataset that has none.
var ErrNoNatural = errors.New("dataset has no natural partition")

// Natural is the partition a dataset comes with (Data.Natural): the
// devices of the Synthetic(α, β) data, the writers of FEMNIST. Build it
// with NaturalPartitioner. With as many owners as groups each owner gets
// one group; with fewer, owner o gets groups o, o+owners, o+2·owners, …,
// so every owner holds whole groups and no example is dropped. More owners
// than groups is an error. It uses no randomness; rng may be nil. The
// lists are disjoint, as the groups are.
type Natural struct {
	// Groups are the dataset's index lists, e.g. Data.Natural.
	Groups [][]int
}

// NaturalPartitioner returns the Natural partitioner of d, or an error
// wrapping ErrNoNatural naming d if d has no natural partition. It is
// what "-splits natural" selects; NewPartitioner cannot build it because
// the groups come from the dataset, not from the labels.
func NaturalPartitioner(d *Data) (Natural, error) {
	if d == nil || len(d.Natural) == 0 {
		name := "<nil>"
		if d != nil {
			name = d.Name
		}
		return Natural{}, fmt.Errorf("dataset: %s: %w (use iid, shards, dirichlet or quantity)", name, ErrNoNatural)
	}
	return Natural{Groups: d.Natural}, nil
}

// Partition implements Partitioner. labels must be those of the set the
// groups index into: every index must be below len(labels).
func (p Natural) Partition(labels []uint8, owners int, _ *rand.Rand) ([][]int, error) {
	if len(p.Groups) == 0 {
		return nil, fmt.Errorf("dataset: natural partition: %w", ErrNoNatural)
	}
	if owners < 1 || owners > len(p.Groups) {
		return nil, fmt.Errorf("dataset: natural partition: %d owners, the dataset has %d devices or writers (want 1..%d)", owners, len(p.Groups), len(p.Groups))
	}
	parts := make([][]int, owners)
	for g, idx := range p.Groups {
		for _, i := range idx {
			if i < 0 || i >= len(labels) {
				return nil, fmt.Errorf("dataset: natural partition: group %d holds index %d, outside the %d examples", g, i, len(labels))
			}
		}
		parts[g%owners] = append(parts[g%owners], idx...)
	}
	for _, part := range parts {
		slices.Sort(part)
	}
	return parts, nil
}
