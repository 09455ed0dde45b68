package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/policy"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/nn"
)

var pysyftLesson = scenario{
	name: "pysyft-lesson",
	reproduces: "PySyft tutorial \"Federated Learning with a Trusted Aggregator\", then \"Encrypted Gradient Aggregation\": bob and alice train a 2-input linear model on 2 toy points each " +
		"(10 rounds of 10 SGD steps, lr 0.1 on the summed squared error), averaged by a secure worker, first in plaintext, then under additive secret sharing",
	original: "both owners' loss falls towards 0; the two runs give the same model",
	run:      runPySyft,
}

// pysyftData is the tutorial's toy data set: [0,0] and [0,1] (bob's),
// [1,0] and [1,1] (alice's), with targets 0, 0, 1, 1.
func pysyftData() *dataset.Table {
	return &dataset.Table{Inputs: 2, Outputs: 1, X: []float32{0, 0, 0, 1, 1, 0, 1, 1}, Y: []float32{0, 0, 1, 1}}
}

// runPySyft trains the lesson's federation with plain and with ss and
// compares the two final models.
func runPySyft(ctx context.Context, o options) (*report, error) {
	data := pysyftData()
	m, err := nn.NewRegression(nn.Shape{2}, []nn.Layer{nn.Dense(1)}, sweep.ModelStream.Rand(o.Seed))
	if err != nil {
		return nil, err
	}
	schemes := []string{"plain", "ss"}
	c := sweep.Config{Dataset: "pysyft-toy", Model: "linear", Schemes: schemes, Splits: []string{"toy"}, Owners: []int{2},
		Rounds: o.rounds(10), Epochs: 10, Batch: 2, LR: 0.2, Seed: o.Seed, Unweighted: true}
	rec := newRecord("pysyft-lesson", c, o, nil)
	r := &report{}
	finals := map[string][]float64{}
	losses := map[string][]string{}
	for _, name := range schemes {
		scheme, err := crypto.New(name, crypto.Config{Owners: 2, Len: m.NumParams()})
		if err != nil {
			return nil, err
		}
		// The tutorial's loss is summed over each owner's 2 points, with
		// lr 0.1; our loss is their mean, so lr 0.2 takes the same steps.
		fed := actors.Federation{
			Scheme: scheme, Strategy: policy.FedAvg{Unweighted: true}, Model: m,
			Owners: []actors.Owner{
				{Name: actors.OwnerName(0), Data: data, Indices: []int{0, 1}},
				{Name: actors.OwnerName(1), Data: data, Indices: []int{2, 3}},
			},
			Test: data, Rounds: c.Rounds, Seed: o.Seed,
			Train: actors.TrainConfig{Epochs: c.Epochs, BatchSize: c.Batch, Optimizer: "sgd", LR: c.LR},
		}
		res, err := rec.run(ctx, name, sweep.Setting{Scheme: name, Split: "toy", Owners: 2}, fed)
		if err != nil {
			return nil, err
		}
		finals[name] = res.Final
		for _, rm := range res.Rounds {
			losses[name] = append(losses[name], fmt.Sprintf("round %2d  bob %.6f  alice %.6f", rm.Round,
				2*rm.OwnerLoss[actors.OwnerName(0)], 2*rm.OwnerLoss[actors.OwnerName(1)]))
		}
		r.set(name+"_final_loss", res.Rounds[len(res.Rounds)-1].TestLoss)
		for i := range fed.Owners {
			owner := actors.OwnerName(i)
			r.set(fmt.Sprintf("%s_%s_first_loss", name, owner), 2*res.Rounds[0].OwnerLoss[owner])
			r.set(fmt.Sprintf("%s_%s_last_loss", name, owner), 2*res.Rounds[len(res.Rounds)-1].OwnerLoss[owner])
		}
	}
	for _, name := range schemes {
		r.printf("%s: each owner's loss (summed over its 2 points) at its 10th local step:", name)
		r.printf("  %s", strings.Join(losses[name], "\n  "))
	}
	d := maxDiff(finals["plain"], finals["ss"])
	r.set("max_param_diff", d)
	r.printf("final model (w1, w2, b): plain %.6f, ss %.6f", finals["plain"], finals["ss"])
	r.printf("largest difference between the plain and ss models: %.3g (ss encodes with 32 fractional bits; models are float32)", d)
	if err := rec.plot("loss.png", "PySyft lesson: linear model on the toy data", "mean squared error (all 4 points)",
		sweep.TestLoss); err != nil {
		return nil, err
	}
	return r, rec.finish(o, r)
}
