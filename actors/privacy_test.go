package actors

import (
	"context"
	crand "crypto/rand"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/fedactor/fedactor/actors/dp"
	"github.com/fedactor/fedactor/actors/policy"
)

// changeNorm returns ‖b − a‖.
func changeNorm(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += (b[i] - a[i]) * (b[i] - a[i])
	}
	return math.Sqrt(s)
}

// seededNoise is a Federation.Rand whose DP noise is reproducible: keys
// and masks come from crypto/rand, the k-th noise generator asked for is
// the PCG stream (seed, k). The owners of a round may ask in any order,
// but the sum of their noise is the same.
type seededNoise struct {
	io.Reader
	seed uint64

	mu   sync.Mutex
	next uint64
}

func newSeededNoise(seed uint64) *seededNoise { return &seededNoise{Reader: crand.Reader, seed: seed} }

func (s *seededNoise) Noise() *rand.Rand {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	return rand.New(rand.NewPCG(s.seed, s.next-1))
}

// TestPrivacyClipsAndNoises runs one DP-FedAvg round per scheme: the mean
// change is within the clipping bound, and the noise on it has the
// standard deviation z·C/N, whether the model owner adds it (central) or
// the owners do (distributed). The noise is seeded, so the statistical
// check has one outcome, and a second run with the same seed shows that
// the seed is in force.
func TestPrivacyClipsAndNoises(t *testing.T) {
	const clip, z = 0.05, 2.0
	run := func(scheme string, p *Privacy) []float64 {
		f := toyFederation(t, scheme)
		f.Rounds, f.Privacy, f.Rand = 1, p, newSeededNoise(7)
		res, err := Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return res.Final
	}
	initial := toyFederation(t, "plain").Model.Params(nil)
	if d := changeNorm(initial, run("plain", nil)); d <= clip {
		t.Fatalf("without DP the model moves only %g; the test needs more than %g", d, clip)
	}
	for _, scheme := range []string{"plain", "ss", "ckks"} {
		clean := run(scheme, &Privacy{Multiplier: 1e-12, Clip: clip})
		if d := changeNorm(initial, clean); d > clip*(1+1e-6) {
			t.Errorf("%s: clipped mean change %g exceeds the bound %g", scheme, d, clip)
		}
		for _, distributed := range []bool{false, true} {
			noisy := run(scheme, &Privacy{Multiplier: z, Clip: clip, Distributed: distributed})
			again := run(scheme, &Privacy{Multiplier: z, Clip: clip, Distributed: distributed})
			if maxDiff(noisy, again) > 1e-5 { // ckks: encryption error; unseeded noise differs by ~1e-2
				t.Fatalf("%s distributed=%v: two runs with the same noise seed differ by %g", scheme, distributed, maxDiff(noisy, again))
			}
			var ss float64
			for i := range noisy {
				ss += (noisy[i] - clean[i]) * (noisy[i] - clean[i])
			}
			std := math.Sqrt(ss / float64(len(noisy)))
			want := z * clip / 3 // 3 owners, fixed denominator
			t.Logf("%s distributed=%v: noise std %.4g, want %.4g", scheme, distributed, std, want)
			if math.Abs(std-want) > 0.35*want {
				t.Errorf("%s distributed=%v: noise std %g, want %g", scheme, distributed, std, want)
			}
		}
	}
}

// TestPrivacyReportsEpsilon checks the ε in each round against the
// accountant, and that it grows.
func TestPrivacyReportsEpsilon(t *testing.T) {
	f := sampled(t, "plain")
	f.Privacy = &Privacy{Multiplier: 1.1, Clip: 1}
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	a := dp.Accountant{SampleRate: 4.0 / 12, Multiplier: 1.1, Delta: 1e-5}
	prev := 0.0
	for i, rm := range res.Rounds {
		want, _, err := a.Epsilon(i + 1)
		if err != nil {
			t.Fatal(err)
		}
		if rm.Epsilon != want || rm.Epsilon <= prev {
			t.Errorf("round %d: ε %g, want %g (and above %g)", rm.Round, rm.Epsilon, want, prev)
		}
		prev = rm.Epsilon
	}
	f.Privacy = &Privacy{Multiplier: -1, Clip: 1}
	if _, err := Run(context.Background(), f); err == nil {
		t.Error("a negative noise multiplier was accepted")
	}
}

// TestFedProxPullsTowardsTheGlobalModel: a large μ keeps the round's
// model near the global one.
func TestFedProxPullsTowardsTheGlobalModel(t *testing.T) {
	move := func(mu float64) float64 {
		f := toyFederation(t, "plain")
		f.Rounds, f.Train.Prox, f.Train.Epochs = 1, mu, 5
		res, err := Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return changeNorm(f.Model.Params(nil), res.Final)
	}
	free, held := move(0), move(100)
	if !(held < free/4) {
		t.Errorf("μ=100 moved the model %g, μ=0 %g", held, free)
	}
}

// TestServerStrategiesRun runs FedAvgM and FedAdam under ckks and checks
// that they differ from FedAvg and from each other.
func TestServerStrategiesRun(t *testing.T) {
	finals := map[string][]float64{}
	for _, spec := range []string{"fedavg", "fedavgm", "fedadam"} {
		f := toyFederation(t, "ckks")
		s, err := policy.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		f.Strategy = s
		res, err := Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rounds[len(res.Rounds)-1].TestAccuracy <= 0 {
			t.Errorf("%s: no accuracy", spec)
		}
		finals[spec] = res.Final
	}
	if maxDiff(finals["fedavg"], finals["fedavgm"]) < 1e-4 || maxDiff(finals["fedavg"], finals["fedadam"]) < 1e-4 {
		t.Error("a server strategy made no difference")
	}
}
