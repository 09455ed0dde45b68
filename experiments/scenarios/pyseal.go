package main

import (
	"context"
	"fmt"
	"math"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/sweep"
)

// The PySEAL demo's per-round timings, in milliseconds.
const (
	pysealEncryptMS   = 207.5
	pysealAggregateMS = 134.6
	pysealDecryptMS   = 89.4
)

var pysealDemo = scenario{
	name:       "pyseal-demo",
	reproduces: "PySEAL aggregation demo: a server, 2 workers and an aggregator train the 30,514-parameter convnet under CKKS, 1 epoch a round; both workers on the full training set for 5 rounds, then 30,000 examples each for 10",
	original:   fmt.Sprintf("encrypt / aggregate / decrypt %.1f / %.1f / %.1f ms per round", pysealEncryptMS, pysealAggregateMS, pysealDecryptMS),
	run:        runPySEAL,
}

// runPySEAL runs both parts of the demo with ckks and, as the reference
// it lacked, with plain aggregation: CKKS must stay within its noise of
// plain, round by round.
func runPySEAL(ctx context.Context, o options) (*report, error) {
	d, err := loadMNIST(o, o.Limit)
	if err != nil {
		return nil, err
	}
	parts := []struct {
		split, what string
		rounds      int
	}{
		{"full", "full copy", 5},
		{"iid", "split evenly", 10},
	}
	c := sweep.Config{Dataset: "mnist", Model: "cnn", Schemes: []string{"ckks", "plain"}, Splits: []string{"full", "iid"},
		Owners: []int{2}, Rounds: o.rounds(10), Epochs: 1, Batch: 128, LR: 1e-3, Seed: o.Seed}
	rec := newRecord("pyseal-demo", c, o, d)
	r := &report{}
	r.printf("%-13s %-6s %8s  %12s %14s %13s", "part", "scheme", "accuracy", "encrypt (ms)", "aggregate (ms)", "decrypt (ms)")
	r.printf("%-13s %-6s %8s  %12.1f %14.1f %13.1f", "PySEAL demo", "ckks", "", pysealEncryptMS, pysealAggregateMS, pysealDecryptMS)
	for _, p := range parts {
		pc := c
		pc.Rounds = o.rounds(p.rounds)
		res := map[string]*actors.Result{}
		for _, scheme := range c.Schemes {
			st := sweep.Setting{Scheme: scheme, Split: p.split, Owners: 2}
			label := fmt.Sprintf("%s, %s", p.what, scheme)
			if res[scheme], err = rec.runSetting(ctx, label, pc, st, nil); err != nil {
				return nil, err
			}
			rs := res[scheme].Rounds
			ms := func(f func(actors.RoundMetrics) float64) float64 { return 1000 * mean(rs, f) }
			enc, agg, dec := ms(func(m actors.RoundMetrics) float64 { return m.Protect }),
				ms(func(m actors.RoundMetrics) float64 { return m.Combine }),
				ms(func(m actors.RoundMetrics) float64 { return m.Reveal })
			acc := rs[len(rs)-1].TestAccuracy
			r.printf("%-13s %-6s %7.2f%%  %12.1f %14.1f %13.1f", p.what, scheme, 100*acc, enc, agg, dec)
			r.set(fmt.Sprintf("%s_%s_accuracy", p.split, scheme), acc)
			if scheme == "ckks" {
				r.set(p.split+"_encrypt_ms", enc)
				r.set(p.split+"_aggregate_ms", agg)
				r.set(p.split+"_decrypt_ms", dec)
			}
		}
		var gap float64
		for i, m := range res["ckks"].Rounds {
			gap = max(gap, math.Abs(m.TestAccuracy-res["plain"].Rounds[i].TestAccuracy))
		}
		r.set(p.split+"_max_accuracy_gap", gap)
		r.set(p.split+"_max_param_diff", maxDiff(res["ckks"].Final, res["plain"].Final))
	}
	r.printf("encrypt: mean over the workers of encoding and encrypting the whole model; aggregate: the aggregator's sum;")
	r.printf("decrypt: the server's decryption and decoding. ckks vs plain: largest test-accuracy gap in any round %.2f points (full copy), %.2f (split)",
		100*r.Figures["full_max_accuracy_gap"], 100*r.Figures["iid_max_accuracy_gap"])
	if err := rec.sum.Plot(rec.out); err != nil {
		return nil, err
	}
	return r, rec.finish(o, r)
}
