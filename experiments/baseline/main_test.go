package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/testenv"
)

// TestOneEpochOnSubset trains the cnn for one epoch on 5,000 MNIST
// examples and needs more than 90% test accuracy.
func TestOneEpochOnSubset(t *testing.T) {
	dir := testenv.DataDir(t)
	out := t.TempDir()
	c := config{Dataset: "mnist", DataDir: dir, Model: "cnn", Epochs: 1, Batch: 32, LR: 1e-3, Seed: 1, Limit: 5000, Out: out}
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	if err := run(c, devnull); err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadCSV(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][1] != "test_accuracy" {
		t.Fatalf("results.csv: %v", rows)
	}
	acc, _ := strconv.ParseFloat(rows[1][1], 64)
	if acc <= 0.90 {
		t.Errorf("test accuracy after 1 epoch on 5,000 examples: %.4f, want > 0.90", acc)
	}
	for _, name := range []string{"summary.json", "accuracy.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestRejectsBadFlags(t *testing.T) {
	if err := run(config{Epochs: 0, Batch: 1, LR: 1}, nil); err == nil {
		t.Error("zero epochs accepted")
	}
}
