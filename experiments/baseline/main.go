// Command baseline trains a model centrally (no federation) and reports,
// per epoch, test accuracy, test loss and training speed: the yardstick the
// federated runs are compared with.
//
//	go run ./experiments/baseline -model cnn -epochs 5
//
// It writes results.csv, summary.json and accuracy.png to -out.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/nn"
	"github.com/fedactor/fedactor/plots"
)

type config struct {
	Dataset string  `json:"dataset"`
	DataDir string  `json:"-"`
	Model   string  `json:"model"`
	Epochs  int     `json:"epochs"`
	Batch   int     `json:"batch"`
	LR      float64 `json:"lr"`
	Seed    uint64  `json:"seed"`
	Limit   int     `json:"limit"`
	Threads int     `json:"threads"`
	Out     string  `json:"-"`
}

// epoch is one row of results.csv.
type epoch struct {
	Epoch            int     `json:"epoch"`
	TestAccuracy     float64 `json:"test_accuracy"`
	TestLoss         float64 `json:"test_loss"`
	TrainLoss        float64 `json:"train_loss"`
	TrainSeconds     float64 `json:"train_seconds"`
	SamplesPerSecond float64 `json:"samples_per_second"`
}

func main() {
	var c config
	flag.StringVar(&c.Dataset, "dataset", "mnist", "dataset: mnist or fashion")
	flag.StringVar(&c.DataDir, "data-dir", "", "directory holding mnist/ and fashion-mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	flag.StringVar(&c.Model, "model", "cnn", "model: cnn, mlp or logreg")
	flag.IntVar(&c.Epochs, "epochs", 5, "training epochs")
	flag.IntVar(&c.Batch, "batch", 128, "batch size")
	flag.Float64Var(&c.LR, "lr", 1e-3, "Adam learning rate")
	flag.Uint64Var(&c.Seed, "seed", 1, "seed for initialisation, shuffling and dropout")
	flag.IntVar(&c.Limit, "limit", 0, "train on this many examples (0 = all)")
	flag.IntVar(&c.Threads, "threads", 0, "training threads (0 = all cores)")
	flag.StringVar(&c.Out, "out", filepath.Join("results", "baseline"), "output directory")
	flag.Parse()
	log.SetFlags(0)
	if err := run(c, os.Stdout); err != nil {
		log.Fatalf("baseline: %v", err)
	}
}

func run(c config, stdout *os.File) error {
	if c.Epochs < 1 || c.Batch < 1 || c.LR <= 0 {
		return fmt.Errorf("need -epochs >= 1, -batch >= 1 and -lr > 0")
	}
	d, err := sweep.LoadData(c.Dataset, c.DataDir, c.Limit, 0, c.Seed)
	if err != nil {
		return err
	}
	rng := sweep.ModelStream.Rand(c.Seed) // the model's weights, then the shuffles
	m, err := nn.New(c.Model, rng)
	if err != nil {
		return err
	}
	tr := &nn.Trainer{Model: m, Optimizer: nn.NewAdam(c.LR), BatchSize: c.Batch, Threads: c.Threads}
	fmt.Fprintf(stdout, "%s on %s: %d training and %d test examples, %d parameters, BLAS %s, %d cores\n",
		c.Model, c.Dataset, len(d.TrainIdx), d.Test.Len(), m.NumParams(), nn.Backend(), runtime.GOMAXPROCS(0))
	var rows []epoch
	for e := 1; e <= c.Epochs; e++ {
		start := time.Now()
		trainLoss, err := tr.TrainEpoch(d.Train, d.TrainIdx, rng)
		if err != nil {
			return fmt.Errorf("epoch %d: %w", e, err)
		}
		secs := time.Since(start).Seconds()
		acc, loss, err := tr.Evaluate(d.Test, nil)
		if err != nil {
			return fmt.Errorf("epoch %d: %w", e, err)
		}
		r := epoch{e, acc, loss, trainLoss, secs, float64(len(d.TrainIdx)) / secs}
		rows = append(rows, r)
		fmt.Fprintf(stdout, "epoch %2d  test accuracy %6.2f%%  test loss %.4f  train loss %.4f  %6.0f samples/s\n",
			e, 100*acc, loss, trainLoss, r.SamplesPerSecond)
	}
	return write(c, rows)
}

// columns of results.csv.
var columns = []sweep.Column[epoch]{
	{Name: "epoch", Value: func(e epoch) string { return strconv.Itoa(e.Epoch) }},
	{Name: "test_accuracy", Value: func(e epoch) string { return sweep.Float(e.TestAccuracy) }},
	{Name: "test_loss", Value: func(e epoch) string { return sweep.Float(e.TestLoss) }},
	{Name: "train_loss", Value: func(e epoch) string { return sweep.Float(e.TrainLoss) }},
	{Name: "train_seconds", Value: func(e epoch) string { return sweep.Float(e.TrainSeconds) }},
	{Name: "samples_per_second", Value: func(e epoch) string { return sweep.Float(e.SamplesPerSecond) }},
}

func write(c config, rows []epoch) error {
	s := plots.Series{Name: c.Model}
	for _, r := range rows {
		s.X = append(s.X, float64(r.Epoch))
		s.Y = append(s.Y, 100*r.TestAccuracy)
	}
	summary := map[string]any{
		"experiment": "baseline", "config": c, "epochs": rows, "backend": nn.Backend(),
		"final_test_accuracy": rows[len(rows)-1].TestAccuracy, "go": runtime.Version(),
	}
	if err := sweep.WriteResults(c.Out, columns, rows, summary); err != nil {
		return err
	}
	chart := plots.Chart{Title: fmt.Sprintf("Central training: %s on %s", c.Model, c.Dataset), XLabel: "epoch", YLabel: "test accuracy (%)"}
	return plots.Lines(filepath.Join(c.Out, "accuracy.png"), chart, []plots.Series{s})
}
