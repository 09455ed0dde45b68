package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/plots"
)

// scenario is one named preset: a system this project grew from, set up
// as that system ran, plus what fedactor adds to it.
type scenario struct {
	name string
	// reproduces says what the preset runs; original is the figure the
	// original system reported, for -list and the README table.
	reproduces, original string
	run                  func(ctx context.Context, o options) (*report, error)
}

// options are what every preset gets from the command line. Zero values
// take the preset's own settings; tests shrink Rounds and Limit.
type options struct {
	// Out is the preset's output directory (results/scenarios/NAME).
	Out     string
	DataDir string
	// Rounds overrides the preset's number of rounds (iterations).
	Rounds int
	// Limit and TestLimit cap the training and test examples.
	Limit, TestLimit int
	// Deadline overrides the presets' per-round deadline for data owners.
	Deadline time.Duration
	Seed     uint64
	Logger   *slog.Logger
	// W receives the progress lines and the final report.
	W io.Writer
}

// rounds returns o.Rounds, or def if it is not set.
func (o options) rounds(def int) int {
	if o.Rounds > 0 {
		return o.Rounds
	}
	return def
}

// deadline returns o.Deadline, or def if it is not set.
func (o options) deadline(def time.Duration) time.Duration {
	if o.Deadline > 0 {
		return o.Deadline
	}
	return def
}

// report is a preset's outcome: named figures (for tests and
// summary.json) and the lines printed at the end.
type report struct {
	Figures map[string]float64 `json:"figures"`
	Lines   []string           `json:"lines"`
}

func (r *report) set(name string, v float64) {
	if r.Figures == nil {
		r.Figures = map[string]float64{}
	}
	r.Figures[name] = v
}

func (r *report) printf(format string, args ...any) {
	r.Lines = append(r.Lines, fmt.Sprintf(format, args...))
}

// scenarios are the presets, in the order -list shows them.
var scenarios = []scenario{pysyftLesson, pysealDemo, fedlearn, federatedTrainer, hyperAggregate}

// lookup returns the preset called name.
func lookup(name string) (scenario, error) {
	for _, s := range scenarios {
		if s.name == name {
			return s, nil
		}
	}
	return scenario{}, fmt.Errorf("unknown scenario %q (run with -list to see them)", name)
}

// record collects a preset's runs into the usual outputs: results.csv and
// summary.json (sweep's format, one setting per run) and PNGs.
type record struct {
	sum    *sweep.Summary
	out    string
	labels []string // each run's label, in the order of sum.Settings
}

// newRecord starts the record of preset name, configured by c (its
// Model, Schemes, Splits and Owners label the runs).
func newRecord(name string, c sweep.Config, o options) *record {
	c.Out = o.Out
	s := sweep.NewSummary(c)
	s.Experiment = "scenarios/" + name
	return &record{sum: s, out: o.Out}
}

// run runs fed as setting st, printing a line per round prefixed by
// label (in long runs: the first 10 rounds, then every 20th part), adds it to the record and rewrites the outputs, so that an
// interrupted preset keeps its finished runs.
func (rec *record) run(ctx context.Context, o options, label string, st sweep.Setting, fed actors.Federation, labels [][]int) (*actors.Result, error) {
	fed.Logger = o.Logger
	start := time.Now()
	every := max(1, fed.Rounds/20) // long runs print about 30 lines
	fed.OnRound = func(rm actors.RoundMetrics) {
		if rm.Round > 10 && rm.Round%every != 0 && rm.Round != fed.Rounds && rm.Err == "" && len(rm.Dropped) == 0 {
			return
		}
		status := fmt.Sprintf("accuracy %6.2f%%  loss %.4g", 100*rm.TestAccuracy, rm.TestLoss)
		if fed.Model.Regression() {
			status = fmt.Sprintf("test loss %.6g", rm.TestLoss)
		}
		if rm.Err != "" {
			status = "FAILED: " + rm.Err
		}
		if len(rm.Dropped) > 0 {
			status += fmt.Sprintf("  (dropped: %v)", rm.Dropped)
		}
		fmt.Fprintf(o.W, "%-24s round %3d/%d  %s  (%.2fs; elapsed %s)\n", label, rm.Round, fed.Rounds, status, rm.Seconds, cli.Duration(time.Since(start)))
	}
	res, err := actors.Run(ctx, fed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	rec.sum.Add(st, fed, res, labels)
	rec.labels = append(rec.labels, label)
	return res, rec.sum.Write(rec.out)
}

// runSetting builds setting st of c on d (sweep.Build), lets edit adjust
// the federation (nil: no change) and runs it as rec.run does.
func (rec *record) runSetting(ctx context.Context, o options, label string, c sweep.Config, st sweep.Setting, d *sweep.Data, edit func(*actors.Federation)) (*actors.Result, error) {
	fed, parts, err := sweep.Build(c, st, d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	if edit != nil {
		edit(&fed)
	}
	return rec.run(ctx, o, label, st, fed, dataset.LabelHistogram(d.Train.Labels, parts, dataset.NumClasses))
}

// finish writes the report into summary.json's neighbour report.json and
// prints it.
func (rec *record) finish(o options, r *report) error {
	for _, l := range r.Lines {
		fmt.Fprintln(o.W, l)
	}
	if len(r.Figures) > 0 {
		fmt.Fprintln(o.W, "figures:")
		for _, k := range slices.Sorted(maps.Keys(r.Figures)) {
			fmt.Fprintf(o.W, "  %-36s %.6g\n", k, r.Figures[k])
		}
	}
	fmt.Fprintf(o.W, "outputs in %s\n", rec.out)
	return results.WriteJSON(filepath.Join(rec.out, "report.json"), r)
}

// plot draws one line per run, named by its label, of y per round.
func (rec *record) plot(file, title, ylabel string, y func(actors.RoundMetrics) float64) error {
	var series []plots.Series
	for i, o := range rec.sum.Settings {
		s := plots.Series{Name: rec.labels[i]}
		for _, r := range o.Rounds {
			s.X, s.Y = append(s.X, float64(r.Round)), append(s.Y, y(r))
		}
		series = append(series, s)
	}
	return plots.Lines(filepath.Join(rec.out, file), plots.Chart{Title: title, XLabel: "round", YLabel: ylabel}, series)
}

// accuracy is a round's test accuracy in percent, for rec.plot.
func accuracy(r actors.RoundMetrics) float64 { return 100 * r.TestAccuracy }

// maxDiff returns the largest absolute difference between a and b (+Inf
// if their lengths differ).
func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// mean returns the mean of f over the rounds that aggregated.
func mean(rounds []actors.RoundMetrics, f func(actors.RoundMetrics) float64) float64 {
	var s float64
	var n int
	for _, r := range rounds {
		if r.Err == "" {
			s += f(r)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// loadMNIST loads MNIST from o's data directory with a seeded subsample
// of limit training examples (0 = all) and o.TestLimit test examples.
func loadMNIST(o options, limit int) (*sweep.Data, error) {
	return sweep.LoadData("mnist", o.DataDir, limit, o.TestLimit, o.Seed)
}
