package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/internal/sweep"
)

// TestOneSettingPerVariant runs four strategies on synthetic label shards:
// each writes its own one-setting record under the strategy it names
// (fedprox: FedAvg with μ), the runs differ, and the chart and the table
// cover all of them.
func TestOneSettingPerVariant(t *testing.T) {
	d := sweep.SyntheticData(300, 100, 1)
	c := sweep.Config{Dataset: "toy", Model: "logreg", Schemes: []string{"plain"}, Splits: []string{"shards"}, Owners: []int{3},
		Rounds: 3, Epochs: 1, Batch: 16, LR: 0.01, Seed: 1, Out: t.TempDir()}
	variants := map[string]string{"fedavg": "fedavg", "fedprox": "fedavg", "fedavgm": "fedavgm", "fedadam:lr=0.01": "fedadam"}
	order := []string{"fedavg", "fedprox", "fedavgm", "fedadam:lr=0.01"}
	var out strings.Builder
	outcomes, err := run(context.Background(), c, d, order, 0.5, 0.5, slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(outcomes) != len(order) {
		t.Fatalf("%d outcomes for %d variants", len(outcomes), len(order))
	}
	losses := map[float64]string{}
	for i, v := range order {
		sum, err := sweep.ReadSummary(filepath.Join(c.Out, strings.ReplaceAll(v, ":", "_")))
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Settings) != 1 || sum.Settings[0].Strategy != variants[v] || len(sum.Settings[0].Rounds) != c.Rounds {
			t.Errorf("%s: %d settings, strategy %q, want one of %d rounds under %q", v, len(sum.Settings), outcomes[i].Strategy, c.Rounds, variants[v])
		}
		if wantMu := map[bool]float64{true: 0.5}[v == "fedprox"]; sum.Config.Mu != wantMu {
			t.Errorf("%s: μ %g, want %g", v, sum.Config.Mu, wantMu)
		}
		last := outcomes[i].Rounds[c.Rounds-1].TestLoss
		if other, dup := losses[last]; dup {
			t.Errorf("%s and %s end with the same test loss %g: the strategy made no difference", other, v, last)
		}
		losses[last] = v
		if !strings.Contains(out.String(), "\n"+v+" ") {
			t.Errorf("the table has no row for %s:\n%s", v, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(c.Out, "accuracy.png")); err != nil {
		t.Error(err)
	}
}
