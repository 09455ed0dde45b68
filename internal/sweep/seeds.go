package sweep

import "math/rand/v2"

// A Stream is one of the named random streams of a run: every draw that
// shapes a run before the parties start comes from PCG(seed, stream) for
// the run's seed, so that a run replays from its seed and no stream moves
// another. (Shuffles, dropouts and client sampling are seeded inside
// actors from Federation.Seed.)
type Stream uint64

// The streams. Their values are part of what a seed means: changing one
// changes every run made with that seed.
const (
	// ModelStream draws the initial model's weights.
	ModelStream Stream = 1
	// PartitionStream splits the training examples among the data owners.
	PartitionStream Stream = 2
	// TestStream picks the test examples in use (-test-limit).
	TestStream Stream = 3
	// TrainStream picks the training examples in use (-limit).
	TrainStream Stream = 0x5eed
)

// Rand returns the generator of stream s for seed.
func (s Stream) Rand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(s)))
}
