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
// summary.json (sweep's format, one setting per run, named by its label)
// and PNGs. Its runner prints the progress lines and rewrites the outputs
// after every run, so that an interrupted preset keeps its finished runs.
type record struct {
	sum    *sweep.Summary
	out    string
	runner *sweep.Runner
}

// newRecord starts the record of preset name, configured by c (its
// Model, Schemes, Splits and Owners describe the runs), running on d
// (nil for presets that build their federations by hand).
func newRecord(name string, c sweep.Config, o options, d *sweep.Data) *record {
	c.Out = o.Out
	s := sweep.NewSummary(c)
	s.Experiment = "scenarios/" + name
	return &record{sum: s, out: o.Out, runner: &sweep.Runner{Summary: s, Data: d, Logger: o.Logger, Progress: o.W,
		Save: func(s *sweep.Summary) error { return s.Write(o.Out) }}}
}

// run runs the hand-built federation fed as setting st, labelled label.
func (rec *record) run(ctx context.Context, label string, st sweep.Setting, fed actors.Federation) (*actors.Result, error) {
	return rec.runner.RunFederation(ctx, sweep.Job{Config: rec.sum.Config, Setting: st, Label: label}, fed, nil)
}

// runSetting builds setting st of c on the record's data (sweep.Build),
// lets edit adjust the federation (nil: no change) and runs it.
func (rec *record) runSetting(ctx context.Context, label string, c sweep.Config, st sweep.Setting, edit func(*actors.Federation)) (*actors.Result, error) {
	return rec.runner.Run(ctx, sweep.Job{Config: c, Setting: st, Label: label, Edit: edit})
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
func (rec *record) plot(file, title, ylabel string, y func(actors.RoundMetrics) (float64, bool)) error {
	series := sweep.RoundSeries(rec.sum.Settings, sweep.Label, y)
	return plots.Lines(filepath.Join(rec.out, file), plots.Chart{Title: title, XLabel: "round", YLabel: ylabel}, series)
}

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
