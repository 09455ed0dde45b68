package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/sweep"
)

// hyperSkip is HyperAggregate's --data-skip: one training example in 25.
const hyperSkip = 25

var hyperAggregate = scenario{
	name:       "hyperaggregate",
	reproduces: "HyperAggregate: 6 peers aggregate in groups of 3 along a tree with additive secret sharing, 1 epoch a round on one MNIST example in 25 (--data-skip 25); then one peer drops out mid-aggregation",
	original:   "a peer leaving mid-aggregation stalls the aggregation (not survivable)",
	run:        runHyperAggregate,
}

// runHyperAggregate runs the tree three times: as HyperAggregate ran it;
// with peer frank going silent after sending its update in one round,
// under additive sharing (that round fails cleanly, the run goes on);
// and the same dropout under threshold (Shamir) sharing, 4 of the 7
// holders, where the round aggregates every update, frank's included.
func runHyperAggregate(ctx context.Context, o options) (*report, error) {
	d, err := loadMNIST(o, 0)
	if err != nil {
		return nil, err
	}
	var skip []int
	for i := 0; i < d.Train.Len(); i += hyperSkip {
		skip = append(skip, i)
	}
	if o.Limit > 0 && o.Limit < len(skip) {
		skip = skip[:o.Limit]
	}
	d.TrainIdx = skip
	const peers, group, dropper = 6, 3, 5
	c := sweep.Config{Dataset: "mnist", Model: "cnn", Schemes: []string{"ss"}, Splits: []string{"iid"}, Owners: []int{peers},
		GroupSize: group, Rounds: o.rounds(5), Epochs: 1, Batch: 32, LR: 1e-3, Seed: o.Seed, Deadline: o.deadline(10 * time.Second)}
	dropRound := min(2, c.Rounds)
	rec := newRecord("hyperaggregate", c, o, d)
	r := &report{}
	name := actors.OwnerName(dropper)
	drop := func(f *actors.Federation) {
		f.Owners[dropper].Drop = func(round int) actors.Dropout {
			if round == dropRound {
				return actors.BeforeUnmask
			}
			return actors.Stay
		}
	}
	runs := []struct {
		key, label string
		threshold  int
		edit       func(*actors.Federation)
	}{
		{"tree", "tree, additive ss", 0, nil},
		{"dropout_additive", "dropout, additive ss", 0, drop},
		{"dropout_shamir", "dropout, Shamir ss t=4", 4, drop},
	}
	r.printf("%d peers, groups of %d (secure-worker-1, secure-worker-2, root secure-worker), %d training examples (every %dth), cnn, 1 epoch a round",
		peers, group, len(skip), hyperSkip)
	r.printf("%s goes silent in round %d after sending its update: it neither combines the shares it holds nor sends them on", name, dropRound)
	for _, run := range runs {
		rc := c
		rc.Threshold = run.threshold
		st := sweep.Setting{Scheme: "ss", Split: "iid", Owners: peers}
		res, err := rec.runSetting(ctx, run.label, rc, st, run.edit)
		if err != nil {
			return nil, err
		}
		var failed []string
		for _, m := range res.Rounds {
			if m.Err != "" {
				failed = append(failed, fmt.Sprintf("round %d (%s)", m.Round, m.Err))
			}
		}
		last := res.Rounds[len(res.Rounds)-1]
		dr := res.Rounds[dropRound-1]
		status := "every round aggregated"
		if len(failed) > 0 {
			status = "failed: " + strings.Join(failed, "; ")
		}
		r.printf("%-24s final accuracy %6.2f%%, round %d aggregated %d of %d updates; %s", run.label, 100*last.TestAccuracy, dropRound, len(dr.Contributors), peers, status)
		r.set(run.key+"_final_accuracy", last.TestAccuracy)
		r.set(run.key+"_rounds", float64(len(res.Rounds)))
		r.set(run.key+"_failed_rounds", float64(len(failed)))
		r.set(run.key+"_drop_round_contributors", float64(len(dr.Contributors)))
	}
	r.printf("additive sharing needs every holder, so the dropout fails that round only (the model is kept and the run goes on);")
	r.printf("threshold sharing reveals the round from any 4 of the 7 holders, so it aggregates all %d updates, %s's included", peers, name)
	if err := rec.plot("accuracy.png", "HyperAggregate preset: cnn, 6 peers in groups of 3", "test accuracy (%)", sweep.Accuracy); err != nil {
		return nil, err
	}
	return r, rec.finish(o, r)
}
