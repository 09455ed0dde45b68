package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedactor/fedactor/internal/sweep"
)

// TestEpsilonFallsAsNoiseGrows runs DP-FedAvg with client sampling on
// synthetic data for several noise multipliers: without noise no ε is
// reported; with noise ε grows round by round, and after the last round
// it is the smaller the larger the multiplier.
func TestEpsilonFallsAsNoiseGrows(t *testing.T) {
	d := sweep.SyntheticData(400, 100, 1)
	c := sweep.Config{Dataset: "toy", Model: "logreg", Schemes: []string{"plain"}, Splits: []string{"iid"}, Owners: []int{20}, Fraction: 0.25,
		Rounds: 3, Epochs: 1, Batch: 10, LR: 0.01, Seed: 1, DP: sweep.DPConfig{Clip: 0.1, Delta: 1e-5}, Out: t.TempDir()}
	zs := []float64{0, 0.5, 1, 2}
	outcomes, err := run(context.Background(), c, d, zs, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(outcomes) != len(zs) {
		t.Fatalf("%d outcomes for %d multipliers", len(outcomes), len(zs))
	}
	prev := 0.0
	for i, z := range zs {
		rounds := outcomes[i].Rounds
		if len(rounds) != c.Rounds {
			t.Fatalf("z=%g: %d rounds", z, len(rounds))
		}
		final := rounds[len(rounds)-1].Epsilon
		switch {
		case z == 0 && final != 0:
			t.Errorf("no noise, yet ε %g", final)
		case z > 0 && !(rounds[0].Epsilon > 0 && final > rounds[0].Epsilon):
			t.Errorf("z=%g: ε %g after round 1, %g after round %d: want positive and growing", z, rounds[0].Epsilon, final, c.Rounds)
		case z > zs[1] && !(final < prev):
			t.Errorf("z=%g: ε %g, not below %g of the smaller multiplier", z, final, prev)
		}
		prev = final
		t.Logf("z=%g: ε per round %g, %g, %g", z, rounds[0].Epsilon, rounds[1].Epsilon, final)
		if _, err := sweep.ReadSummary(filepath.Join(c.Out, "z"+map[float64]string{0: "0", 0.5: "0.5", 1: "1", 2: "2"}[z])); err != nil {
			t.Error(err)
		}
	}
	for _, f := range []string{"accuracy.png", "accuracy_vs_epsilon.png"} {
		if _, err := os.Stat(filepath.Join(c.Out, f)); err != nil {
			t.Error(err)
		}
	}
}
