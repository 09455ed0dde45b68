package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/internal/testenv"
)

// tinyData loads MNIST and keeps the first 100 training images of every
// class, so that the non-IID split of 20 clients cuts 40 single-label
// shards of 25, and 500 test images.
func tinyData(t *testing.T) *sweep.Data {
	t.Helper()
	d, err := sweep.LoadData("mnist", testenv.DataDir(t), 0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	d.TrainIdx, d.TestIdx = nil, d.TestIdx[:500]
	var per [dataset.NumClasses]int
	for i, l := range d.Train.Labels {
		if per[l] < 100 {
			per[l]++
			d.TrainIdx = append(d.TrainIdx, i)
		}
	}
	return d
}

func tinyConfig(t *testing.T) config {
	return config{Models: []string{"2nn"}, Splits: []string{"iid", "noniid"}, Scheme: "plain", Clients: 20, Fraction: 0.25,
		Batch: 10, Rounds: 3, LR2NN: 0.1, LRCNN: 0.05, EvalEvery: 2, Seed: 1, Out: t.TempDir()}
}

func runTiny(t *testing.T, c config, d *sweep.Data) (*summary, string) {
	t.Helper()
	var out bytes.Buffer
	if _, err := run(context.Background(), c, d, slog.New(slog.DiscardHandler), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var s summary
	b, err := os.ReadFile(filepath.Join(c.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s, out.String()
}

// TestTinyRun runs 3 rounds of the 2nn on 1,000 images with 20 clients
// and C = 0.25 and an unreachable target, evaluating every 2 rounds.
func TestTinyRun(t *testing.T) {
	d := tinyData(t)
	c := tinyConfig(t)
	c.Target = 1
	s, out := runTiny(t, c, d)
	for _, name := range []string{"results.csv", "summary.json", "accuracy_2nn.png"} {
		if _, err := os.Stat(filepath.Join(c.Out, name)); err != nil {
			t.Error(err)
		}
	}
	if rows := readCSV(t, c.Out); len(rows) != 6 || rows[0][3] != "" || rows[1][3] == "" || rows[2][3] == "" {
		t.Errorf("results.csv: want 6 rounds, accuracy in rounds 2 and 3 only: %v", rows)
	}
	if len(s.Settings) != 2 || s.Cohort != 5 {
		t.Fatalf("%d settings, cohort %d: want 2 and 5", len(s.Settings), s.Cohort)
	}
	for _, o := range s.Settings {
		if o.Reached || o.RoundsRun != 3 || o.PaperRounds == 0 {
			t.Errorf("%s: reached %v after %d rounds, paper %d", o.Split, o.Reached, o.RoundsRun, o.PaperRounds)
		}
		for _, r := range o.Rounds {
			cohort := slices.Clone(r.Cohort)
			slices.Sort(cohort)
			if len(slices.Compact(cohort)) != 5 || cohort[0] < 0 || cohort[len(cohort)-1] >= 20 {
				t.Errorf("%s round %d: cohort %v is not 5 distinct clients of 20", o.Split, r.Round, r.Cohort)
			}
		}
		if len(o.Classes) != 20 || slices.Min(o.ShardSizes) != 50 || slices.Max(o.ShardSizes) != 50 {
			t.Errorf("%s: %d clients, shard sizes %v", o.Split, len(o.Classes), o.ShardSizes)
		}
		switch m := slices.Max(o.Classes); {
		case o.Split == "noniid" && m > 2:
			t.Errorf("noniid: classes per client %v, want at most 2", o.Classes)
		case o.Split == "iid" && m <= 2:
			t.Errorf("iid: classes per client %v, want more than 2", o.Classes)
		}
	}
	if !strings.Contains(out, "not reached in 3") || !strings.Contains(out, "Differences from McMahan") {
		t.Errorf("table:\n%s", out)
	}
}

// TestStopsAtTarget sets a target low enough to be reached and checks
// that the run stops at the first evaluated round that reaches it.
func TestStopsAtTarget(t *testing.T) {
	d := tinyData(t)
	c := tinyConfig(t)
	c.Splits, c.Rounds, c.EvalEvery, c.Target = []string{"iid"}, 10, 1, 0.5
	s, out := runTiny(t, c, d)
	o := s.Settings[0]
	want := 0
	for _, row := range readCSV(t, c.Out) {
		if acc, _ := strconv.ParseFloat(row[3], 64); acc >= c.Target && want == 0 {
			want, _ = strconv.Atoi(row[2])
		}
	}
	if !o.Reached || o.RoundsToTarget != want || o.RoundsRun != want || want >= c.Rounds {
		t.Fatalf("reached %v in %d rounds, ran %d; results.csv reaches %g%% in round %d (of at most %d)",
			o.Reached, o.RoundsToTarget, o.RoundsRun, 100*c.Target, want, c.Rounds)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := regexp.MustCompile(` {2,}`).Split(line, -1); f[0] == "2nn" && (len(f) < 7 || f[6] != strconv.Itoa(want)) {
			t.Errorf("table row %q: want %d in the \"our rounds\" column", line, want)
		}
	}
}

// cancelAt cancels a run once its progress output reports round n.
type cancelAt struct {
	bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (w *cancelAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.mark) {
		w.cancel()
	}
	return w.Buffer.Write(p)
}

// TestInterruptKeepsResults interrupts a run after round 2 of 20 and
// checks that the rounds done so far are in results.csv and summary.json,
// with the reason the setting stopped.
func TestInterruptKeepsResults(t *testing.T) {
	d := tinyData(t)
	c := tinyConfig(t)
	c.Splits, c.Rounds, c.EvalEvery, c.Target = []string{"noniid"}, 20, 1, 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &cancelAt{mark: "round  2/20", cancel: cancel}
	if _, err := run(ctx, c, d, slog.New(slog.DiscardHandler), out); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled\n%s", err, out.String())
	}
	rows := readCSV(t, c.Out)
	if len(rows) < 2 || len(rows) >= c.Rounds || rows[0][2] != "1" || rows[1][2] != "2" || rows[1][3] == "" {
		t.Fatalf("results.csv after interrupting at round 2: %v", rows)
	}
	b, err := os.ReadFile(filepath.Join(c.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Settings) != 1 || len(s.Settings[0].Rounds) != len(rows) || !strings.Contains(s.Settings[0].Error, "canceled") {
		t.Errorf("summary.json: %d settings, want 1 with %d rounds and a cancellation error: %+v", len(s.Settings), len(rows), s.Settings)
	}
}

func TestRejectsBadConfig(t *testing.T) {
	good := config{Models: []string{"2nn"}, Splits: []string{"iid"}, Scheme: "plain", Clients: 100, Fraction: 0.1,
		Batch: 10, Rounds: 1, LR2NN: 0.1, LRCNN: 0.1, EvalEvery: 1}
	if err := good.validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*config){
		"model":    func(c *config) { c.Models = []string{"resnet"} },
		"split":    func(c *config) { c.Splits = []string{"shards"} },
		"scheme":   func(c *config) { c.Scheme = "rot13" },
		"fraction": func(c *config) { c.Fraction = 0 },
		"lr":       func(c *config) { c.LRCNN = 0 },
		"target":   func(c *config) { c.Target = 1.5 },
		"eval":     func(c *config) { c.EvalEvery = 0 },
	} {
		c := good
		change(&c)
		if c.validate() == nil {
			t.Errorf("bad %s accepted", name)
		}
	}
}

// readCSV returns the rows of results.csv in dir, without the header.
func readCSV(t *testing.T, dir string) [][]string {
	t.Helper()
	rows, err := results.ReadCSV(filepath.Join(dir, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}
