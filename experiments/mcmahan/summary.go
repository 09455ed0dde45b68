package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/nn"
	"github.com/fedactor/fedactor/plots"
)

// summary is summary.json: the runner's record of each setting, seen
// beside the paper's figures.
type summary struct {
	Experiment string `json:"experiment"`
	Config     config `json:"config"`
	Cohort     int    `json:"cohort"`
	sweep.Provenance
	Differences []string  `json:"differences_from_paper"`
	Settings    []outcome `json:"settings"`
}

// outcome is one setting's record in summary.json.
type outcome struct {
	Model          string  `json:"model"`
	Split          string  `json:"split"`
	Params         int     `json:"params"`
	Epochs         int     `json:"epochs"`
	LR             float64 `json:"lr"`
	Target         float64 `json:"target"`
	PaperRounds    int     `json:"paper_rounds"`
	Reached        bool    `json:"reached"`
	RoundsToTarget int     `json:"rounds_to_target,omitempty"`
	RoundsRun      int     `json:"rounds_run"`
	FinalAccuracy  float64 `json:"final_test_accuracy"`
	WallSeconds    float64 `json:"wall_seconds"`
	RoundSeconds   float64 `json:"mean_round_seconds"`
	ShardSizes     []int   `json:"shard_sizes"`
	Classes        []int   `json:"classes_per_client"`
	Rounds         []round `json:"rounds"`
	// Error says why the setting stopped early (interrupted or failed), or
	// that it was still running when the record was saved; its rounds so
	// far are kept.
	Error string `json:"error,omitempty"`
}

// round is one round's record; the test figures are nil in rounds that
// were not evaluated (-eval-every).
type round struct {
	Round        int      `json:"round"`
	TestAccuracy *float64 `json:"test_accuracy"`
	TestLoss     *float64 `json:"test_loss"`
	TrainLoss    float64  `json:"train_loss"`
	Seconds      float64  `json:"round_seconds"`
	Elapsed      float64  `json:"elapsed_seconds"`
	Cohort       []int    `json:"cohort"`
	Err          string   `json:"error,omitempty"`
}

// view returns the record of the runs in s, the i-th of which ran the i-th
// of c's jobs.
func (c config) view(s *sweep.Summary) *summary {
	sum := &summary{Experiment: "mcmahan", Config: c, Cohort: c.cohort(), Provenance: s.Provenance, Differences: c.differences()}
	for i, o := range s.Settings {
		model := c.Models[i/len(c.Splits)]
		p, epochs, lr, target := c.setting(model)
		m, _ := nn.New(p.arch, nil)
		v := outcome{Model: model, Split: o.Split, Params: m.NumParams(), Epochs: epochs, LR: lr, Target: target,
			PaperRounds: p.rounds[o.Split], Reached: o.TargetRound > 0, RoundsToTarget: o.TargetRound, RoundsRun: len(o.Rounds),
			FinalAccuracy: o.FinalAccuracy, WallSeconds: o.WallSeconds, ShardSizes: o.ShardSizes, Error: o.Error}
		for _, h := range o.Labels {
			v.Classes = append(v.Classes, len(h)-count(h, 0))
		}
		for k, r := range o.Rounds {
			rr := round{Round: r.Round, TrainLoss: r.TrainLoss, Seconds: r.Seconds, Elapsed: o.Elapsed[k], Cohort: r.Cohort, Err: r.Err}
			if r.Evaluated {
				rr.TestAccuracy, rr.TestLoss = &r.TestAccuracy, &r.TestLoss
			}
			v.Rounds = append(v.Rounds, rr)
			v.RoundSeconds += r.Seconds / float64(len(o.Rounds))
		}
		sum.Settings = append(sum.Settings, v)
	}
	return sum
}

// count returns how many of xs equal x.
func count(xs []int, x int) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// row is one line of results.csv.
type row struct {
	o *outcome
	r round
}

// columns of results.csv.
var columns = []sweep.Column[row]{
	{Name: "model", Value: func(x row) string { return x.o.Model }},
	{Name: "split", Value: func(x row) string { return x.o.Split }},
	{Name: "round", Value: func(x row) string { return strconv.Itoa(x.r.Round) }},
	{Name: "test_accuracy", Value: func(x row) string { return optional(x.r.TestAccuracy) }},
	{Name: "test_loss", Value: func(x row) string { return optional(x.r.TestLoss) }},
	{Name: "train_loss", Value: func(x row) string { return sweep.Float(x.r.TrainLoss) }},
	{Name: "round_seconds", Value: func(x row) string { return sweep.Float(x.r.Seconds) }},
	{Name: "elapsed_seconds", Value: func(x row) string { return sweep.Float(x.r.Elapsed) }},
	{Name: "cohort", Value: func(x row) string { return strings.Trim(fmt.Sprint(x.r.Cohort), "[]") }},
	{Name: "error", Value: func(x row) string { return x.r.Err }},
}

// optional formats a figure that may be missing as empty.
func optional(x *float64) string {
	if x == nil {
		return ""
	}
	return sweep.Float(*x)
}

// write saves results.csv and summary.json to dir.
func (s *summary) write(dir string) error {
	var rows []row
	for i := range s.Settings {
		for _, r := range s.Settings[i].Rounds {
			rows = append(rows, row{&s.Settings[i], r})
		}
	}
	return sweep.WriteResults(dir, columns, rows, s)
}

// plot draws accuracy_<model>.png from the runs: a line per split and the
// target.
func (s *summary) plot(dir string, runs []sweep.Outcome) error {
	c := s.Config
	for _, model := range c.Models {
		var mine []sweep.Outcome
		target, last := 0.0, 1
		for i, o := range s.Settings {
			if o.Model == model {
				mine, target, last = append(mine, runs[i]), o.Target, max(last, o.RoundsRun)
			}
		}
		series := sweep.RoundSeries(mine, func(o sweep.Outcome) string { return o.Split }, sweep.Accuracy)
		lowest := 100.0
		for _, ser := range series {
			if len(ser.Y) > 0 {
				lowest = min(lowest, slices.Min(ser.Y))
			}
		}
		series = append(series, plots.Series{Name: fmt.Sprintf("target %g%%", 100*target), X: []float64{1, float64(last)}, Y: []float64{100 * target, 100 * target}})
		chart := plots.Chart{Title: fmt.Sprintf("%s, K=%d, C=%g, B=%d: test accuracy per round", model, c.Clients, c.Fraction, c.Batch),
			XLabel: "round", YLabel: "test accuracy (%)", YMin: 10 * math.Floor(lowest/10), YMax: 100}
		if err := plots.Lines(filepath.Join(dir, "accuracy_"+model+".png"), chart, series); err != nil {
			return err
		}
	}
	return nil
}

// differences lists how a run of c departs from the paper.
func (c config) differences() []string {
	test := "test accuracy on all 10,000 test images"
	if c.TestLimit > 0 {
		test = fmt.Sprintf("test accuracy on a seeded subset of %d test images (-test-limit)", c.TestLimit)
	}
	if c.EvalEvery > 1 {
		test += fmt.Sprintf(", every %d rounds, so rounds to target are rounded up to a multiple of %d", c.EvalEvery, c.EvalEvery)
	}
	return []string{
		"cnn: the Keras simple MNIST convnet (3x3 convolutions, dropout; 30,514 parameters), not the paper's CNN (5x5 convolutions of 32 and 64 filters, 512-unit layer; 1,663,370)",
		fmt.Sprintf("learning rate fixed per model (2nn %g, cnn %g); the paper tuned it per setting over a grid and reports the best", c.LR2NN, c.LRCNN),
		test,
		fmt.Sprintf("one run, seed %d; clients sampled without replacement per round, seeded", c.Seed),
	}
}

// table prints the settings next to the paper's figures.
func (s *summary) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tsplit\tE\tlr\ttarget\tpaper rounds\tour rounds\tfinal accuracy\twall time\t")
	for _, o := range s.Settings {
		ours := fmt.Sprintf("not reached in %d", o.RoundsRun)
		if o.Reached {
			ours = strconv.Itoa(o.RoundsToTarget)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%g\t%g%%\t%d\t%s\t%.2f%%\t%s\t\n", o.Model, o.Split, o.Epochs, o.LR, 100*o.Target,
			o.PaperRounds, ours, 100*o.FinalAccuracy, cli.Duration(time.Duration(o.WallSeconds*float64(time.Second))))
	}
	tw.Flush()
	fmt.Fprintf(w, "K=%d clients, C=%g, B=%d, %s aggregation, FedAvg weighted by n_k. Differences from McMahan et al. (2017):\n",
		s.Config.Clients, s.Config.Fraction, s.Config.Batch, s.Config.Scheme)
	for _, d := range s.Differences {
		fmt.Fprintf(w, "  - %s\n", d)
	}
}
