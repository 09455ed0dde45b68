// Command split is fedactor's front door: it sweeps data splits and numbers
// of data owners for one or more aggregation schemes, trains with secure
// FedAvg through the party actors, and plots test accuracy per round.
//
//	go run ./experiments/split                      # the default sweep, under 10 minutes
//	go run ./experiments/split -quick               # a smoke test of about a minute
//	go run ./experiments/split -limit 0 -workers 2 -splits iid   # full data
//
// Outputs go to -out: results.csv, summary.json, accuracy_<split>.png,
// accuracy_workers_<n>.png and labels_<split>_<n>.png.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
)

func main() {
	var (
		c                        sweep.Config
		workers, splits, schemes string
		dataDir                  string
		quick, verbose           bool
	)
	flag.StringVar(&workers, "workers", "2,4,8", "comma-separated numbers of data owners")
	flag.StringVar(&splits, "splits", "full,iid,shards,dirichlet", "comma-separated data splits: full, iid, shards, dirichlet, quantity")
	flag.StringVar(&schemes, "scheme", "ckks", "aggregation scheme, or a comma-separated list: plain, ss, ckks, ckks-threshold, paillier")
	flag.StringVar(&c.Params, "params", "", "crypto parameter preset (ckks: logN13, logN14, logN15; paillier: 2048, 3072)")
	flag.Float64Var(&c.Alpha, "alpha", dataset.DefaultAlpha, "Dirichlet concentration for the dirichlet and quantity splits")
	flag.StringVar(&c.Model, "model", "cnn", "model: cnn, mlp or logreg")
	flag.StringVar(&c.Dataset, "dataset", "mnist", "dataset: mnist or fashion")
	flag.StringVar(&dataDir, "data-dir", "", "directory holding mnist/ and fashion-mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	flag.IntVar(&c.Rounds, "rounds", 5, "federated rounds per setting")
	flag.IntVar(&c.Epochs, "epochs", 1, "local epochs per round")
	flag.IntVar(&c.Batch, "batch", 128, "local batch size")
	flag.Float64Var(&c.LR, "lr", 1e-3, "local Adam learning rate")
	flag.IntVar(&c.Limit, "limit", 12000, "training examples to use (0 = all 60,000)")
	flag.IntVar(&c.TestLimit, "test-limit", 0, "test examples to use (0 = all 10,000)")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed for the model, the splits, shuffling and dropout")
	flag.BoolVar(&c.Unweighted, "unweighted", false, "average owners' models without weighting by sample count")
	flag.DurationVar(&c.Deadline, "deadline", 0, "per-round deadline for data owners (0 = 10m)")
	flag.StringVar(&c.Out, "out", filepath.Join("results", "split"), "output directory")
	flag.BoolVar(&quick, "quick", false, "a small sweep that finishes in about a minute (explicit flags still win)")
	flag.BoolVar(&verbose, "v", false, "log the parties' debug messages")
	flag.Parse()
	log.SetFlags(0)

	if quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		quickDefaults := map[string]string{"workers": "2,4", "splits": "iid,shards", "rounds": "3", "limit": "3000", "test-limit": "2000"}
		for name, v := range quickDefaults {
			if !set[name] {
				flag.Set(name, v)
			}
		}
	}
	var err error
	c.Schemes, c.Splits = list(schemes), list(splits)
	if c.Workers, err = ints(workers); err != nil {
		log.Fatalf("split: -workers: %v", err)
	}
	if err := c.Validate(); err != nil {
		log.Fatalf("split: %v", err)
	}
	ld, err := cli.LoadData(c.Dataset, dataDir, c.Limit, c.Seed, os.Stderr)
	if err != nil {
		log.Fatalf("split: %v", err)
	}
	d := &sweep.Data{Train: ld.Train, Test: ld.Test, TrainIdx: ld.TrainIndices,
		TestIdx: dataset.Subsample(ld.Test.Len(), c.TestLimit, rand.New(rand.NewPCG(c.Seed, 3)))}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if _, err := sweep.Run(ctx, c, d, cli.Logger(verbose), os.Stdout); err != nil {
		log.Fatalf("split: %v", err)
	}
	fmt.Printf("done in %s; results in %s\n", cli.Duration(time.Since(start)), c.Out)
}

// list splits a comma-separated flag value, dropping empty items.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range list(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
