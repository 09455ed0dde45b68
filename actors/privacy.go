package actors

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/fedactor/fedactor/actors/dp"
)

// Privacy configures DP-FedAvg (McMahan et al. 2018): every data owner
// clips the change it made to the global model to L2 norm Clip and sends
// it with weight 1; the sum of the changes gets Gaussian noise of standard
// deviation Multiplier·Clip; the model owner divides by the cohort size
// (a fixed denominator), so that one owner's influence is bounded.
type Privacy struct {
	// Multiplier is the noise multiplier z: noise standard deviation over
	// Clip.
	Multiplier float64
	// Clip is the L2 bound C on each owner's change to the global model.
	Clip float64
	// Delta is the δ for which ε is reported; 0 means 1e-5.
	Delta float64
	// Distributed makes each of the N owners of a round add noise of
	// standard deviation z·C/√N before protecting its update, so that
	// the secure sum carries the full noise and no party ever sees an
	// un-noised aggregate. It assumes honest owners; an owner that drops
	// out takes its share of the noise with it. Without it the model
	// owner adds the noise after the reveal (central DP).
	Distributed bool
}

// mechanism returns p's Gaussian mechanism.
func (p *Privacy) mechanism() dp.Mechanism {
	return dp.Mechanism{Multiplier: p.Multiplier, Clip: p.Clip}
}

// accountant returns the privacy accountant of f's rounds.
func (f *Federation) accountant() *dp.Accountant {
	q := 1.0
	if f.Clients != nil {
		q = float64(len(f.Owners)) / float64(len(f.Clients))
	}
	return &dp.Accountant{SampleRate: q, Multiplier: f.Privacy.Multiplier, Delta: f.Privacy.Delta}
}

// checkPrivacy validates f.Privacy and fills in its defaults.
func (f *Federation) checkPrivacy() error {
	if f.Privacy == nil {
		return nil
	}
	p := *f.Privacy
	if p.Delta == 0 {
		p.Delta = 1e-5
	}
	f.Privacy = &p
	if err := p.mechanism().Validate(); err != nil {
		return fmt.Errorf("actors: privacy: %w", err)
	}
	if err := f.accountant().Validate(); err != nil {
		return fmt.Errorf("actors: privacy: %w", err)
	}
	return nil
}

// NoiseSource is an optional interface of Federation.Rand: when Rand has
// it, each party that adds DP noise (the model owner central noise, a data
// owner its share of distributed noise) takes its generator from Noise
// instead of seeding one from Rand. It is for tests that need the noise
// reproducible: noise that another party can predict protects nothing.
type NoiseSource interface {
	// Noise returns a new generator. Parties call it concurrently.
	Noise() *rand.Rand
}

// noiseSource returns a generator for DP noise seeded from the entropy
// source r (or r's own, if it is a NoiseSource): noise must be
// unpredictable to the other parties.
func noiseSource(r io.Reader) (*rand.Rand, error) {
	if s, ok := r.(NoiseSource); ok {
		return s.Noise(), nil
	}
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("seeding DP noise: %w", err)
	}
	return rand.New(rand.NewChaCha8(seed)), nil
}

// privatize clips an owner's trained model to within Clip of the global
// model and, with distributed noise, adds the owner's share of the noise.
func (p *Privacy) privatize(params, global []float64, owners int, rng *rand.Rand) error {
	if _, err := dp.Clip(params, global, p.Clip); err != nil {
		return err
	}
	if !p.Distributed {
		return nil
	}
	std, err := p.mechanism().ShareStd(owners)
	if err != nil {
		return err
	}
	return dp.AddNoise(params, std, rng)
}

// noisySum turns the revealed sum of weight unit-weight models into the
// sum that the strategy takes: the sum of changes to global, with central
// noise unless the owners added it, over the fixed denominator owners.
// It returns the new sum's weight.
func (p *Privacy) noisySum(sum, global []float64, weight float64, owners int, rng *rand.Rand) (float64, error) {
	for i := range sum {
		sum[i] -= weight * global[i]
	}
	if !p.Distributed {
		std, err := p.mechanism().CentralStd()
		if err != nil {
			return 0, err
		}
		if err := dp.AddNoise(sum, std, rng); err != nil {
			return 0, err
		}
	}
	m := float64(owners)
	for i := range sum {
		sum[i] += m * global[i]
	}
	return m, nil
}

// epsilon returns the ε spent after rm: every round that revealed an
// aggregate counts (a failed round reveals nothing).
func (mo *modelOwner) epsilon(rm RoundMetrics) (float64, error) {
	n := 0
	if rm.Err == "" {
		n++
	}
	for _, r := range mo.result.Rounds {
		if r.Err == "" {
			n++
		}
	}
	eps, _, err := mo.fed.accountant().Epsilon(n)
	if err != nil {
		return 0, fmt.Errorf("privacy accountant: %w", err)
	}
	return eps, nil
}
