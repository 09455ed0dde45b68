package main

import (
	"context"
	"fmt"

	"github.com/fedactor/fedactor/internal/sweep"
)

// fedlearnAccuracy is the test accuracy fedlearn reported after 2 rounds.
const fedlearnAccuracy = 0.95

var fedlearn = scenario{
	name:       "fedlearn",
	reproduces: "fedlearn: 2 devices, a trusted secure aggregator and a main server train on MNIST, every device on the whole training set; then, as its README suggested but never ran, with the training set partitioned between the devices",
	original:   "~95% test accuracy after 2 rounds",
	run:        runFedlearn,
}

// runFedlearn trains McMahan's 2NN (the mlp) with a trusted (plain)
// aggregator, first with full copies, then with an even partition.
func runFedlearn(ctx context.Context, o options) (*report, error) {
	d, err := loadMNIST(o, o.Limit)
	if err != nil {
		return nil, err
	}
	c := sweep.Config{Dataset: "mnist", Model: "mlp", Schemes: []string{"plain"}, Splits: []string{"full", "iid"},
		Owners: []int{2}, Rounds: o.rounds(5), Epochs: 1, Batch: 128, LR: 1e-3, Seed: o.Seed}
	rec := newRecord("fedlearn", c, o, d)
	r := &report{}
	r.printf("%-26s %s", "run", "test accuracy per round")
	r.printf("%-26s round 2: ~%.0f%%", "fedlearn (full copy)", 100*fedlearnAccuracy)
	for _, split := range c.Splits {
		what := map[string]string{"full": "full copy", "iid": "partitioned (half each)"}[split]
		res, err := rec.runSetting(ctx, what, c, sweep.Setting{Scheme: "plain", Split: split, Owners: 2}, nil)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("%-26s", "fedactor, "+what)
		for _, m := range res.Rounds {
			line += fmt.Sprintf(" %d: %.2f%%", m.Round, 100*m.TestAccuracy)
		}
		r.printf("%s", line)
		r.set(split+"_final_accuracy", res.Rounds[len(res.Rounds)-1].TestAccuracy)
		if len(res.Rounds) >= 2 {
			r.set(split+"_round2_accuracy", res.Rounds[1].TestAccuracy)
		}
	}
	r.printf("model: McMahan et al.'s 2NN (784-200-200-10, 199,210 parameters), Adam lr 1e-3, batch 128, 1 epoch a round")
	if err := rec.sum.Plot(rec.out); err != nil {
		return nil, err
	}
	return r, rec.finish(o, r)
}
