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

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/plots"
)

// entry is one line of the table: how long a network x scheme x owner
// count took to reach the target, in simulated time, and what it moved.
type entry struct {
	Network string `json:"network"`
	Scheme  string `json:"scheme"`
	Owners  int    `json:"owners"`
	Split   string `json:"split"`
	// Round is the first round at the target (0: not reached in Rounds).
	Round      int     `json:"round"`
	Rounds     int     `json:"rounds_run"`
	SimSeconds float64 `json:"sim_seconds_to_target"`
	// RoundSimSeconds is the mean simulated time of a round, and
	// RoundBytes the mean bytes a round moved.
	RoundSimSeconds float64 `json:"mean_round_sim_seconds"`
	RoundBytes      int64   `json:"mean_round_bytes"`
	WallSeconds     float64 `json:"wall_seconds"`
}

// report is deploy's record: summary.json, and what results.csv and the
// figures are drawn from.
type report struct {
	Experiment string       `json:"experiment"`
	Config     sweep.Config `json:"config"`
	sweep.Provenance
	Networks    []string                    `json:"networks"`
	Target      float64                     `json:"target"`
	Deployments map[string]sweep.Deployment `json:"deployments"`
	Table       []entry                     `json:"table"`
	Settings    []sweep.Outcome             `json:"settings"`

	out, timeline string
}

func newReport(c sweep.Config, o options) *report {
	r := &report{Experiment: "deploy", Config: c, Provenance: sweep.Now(), Networks: o.networks, Target: o.target,
		Deployments: map[string]sweep.Deployment{}, out: c.Out, timeline: o.timeline}
	for _, n := range o.networks {
		nc := c
		nc.Network = n
		if s := sweep.NewSummary(nc); s.Deployment != nil {
			r.Deployments[n] = *s.Deployment
		}
	}
	return r
}

// networkOf is the network of an outcome, from its label.
func networkOf(o sweep.Outcome) string { return strings.Fields(o.Label)[0] }

// row is one line of results.csv.
type row struct {
	o *sweep.Outcome
	r actors.RoundMetrics
}

var columns = []sweep.Column[row]{
	{Name: "network", Value: func(x row) string { return networkOf(*x.o) }},
	{Name: "scheme", Value: func(x row) string { return x.o.Scheme }},
	{Name: "owners", Value: func(x row) string { return strconv.Itoa(x.o.Owners) }},
	{Name: "split", Value: func(x row) string { return x.o.Split }},
	{Name: "round", Value: func(x row) string { return strconv.Itoa(x.r.Round) }},
	{Name: "test_accuracy", Value: func(x row) string { return sweep.Float(x.r.TestAccuracy) }},
	{Name: "sim_round_seconds", Value: func(x row) string { return sweep.Float(x.r.SimSeconds) }},
	{Name: "sim_time", Value: func(x row) string { return sweep.Float(x.r.SimTime) }},
	{Name: "sim_train_seconds", Value: func(x row) string { return sweep.Float(x.r.SimTrain) }},
	{Name: "sim_upload_seconds", Value: func(x row) string { return sweep.Float(x.r.SimUpload) }},
	{Name: "bytes_sent", Value: func(x row) string { return strconv.FormatInt(x.r.BytesSent, 10) }},
	{Name: "round_seconds", Value: func(x row) string { return sweep.Float(x.r.Seconds) }},
	{Name: "error", Value: func(x row) string { return x.r.Err }},
}

// write saves results.csv and summary.json from the runs so far.
func (rep *report) write(s *sweep.Summary) error {
	rep.Settings, rep.Table = s.Settings, nil
	var rows []row
	for i := range rep.Settings {
		o := &rep.Settings[i]
		rep.Table = append(rep.Table, tableEntry(o))
		for _, r := range o.Rounds {
			rows = append(rows, row{o, r})
		}
	}
	return sweep.WriteResults(rep.out, columns, rows, rep)
}

// tableEntry sums up one run.
func tableEntry(o *sweep.Outcome) entry {
	e := entry{Network: networkOf(*o), Scheme: o.Scheme, Owners: o.Owners, Split: o.Split, Rounds: len(o.Rounds), WallSeconds: o.WallSeconds}
	var sim float64
	var bytes int64
	for _, r := range o.Rounds {
		sim += r.SimSeconds
		bytes += r.BytesSent
		if e.Round == 0 && o.TargetRound == r.Round {
			e.Round, e.SimSeconds = r.Round, r.SimTime
		}
	}
	if n := len(o.Rounds); n > 0 {
		e.RoundSimSeconds, e.RoundBytes = sim/float64(n), bytes/int64(n)
	}
	return e
}

// finish writes the outputs of the finished runs and draws the figures.
func (rep *report) finish(s *sweep.Summary) error {
	if err := rep.write(s); err != nil {
		return err
	}
	if err := rep.plotTimes(); err != nil {
		return err
	}
	for _, n := range rep.Networks {
		if err := rep.plotAccuracy(n); err != nil {
			return err
		}
	}
	return rep.plotTimeline()
}

// plotTimes draws time_to_target.png: a group of bars per network, a bar
// per scheme (and owner count), the simulated minutes to the target; no
// bar where the target was not reached.
func (rep *report) plotTimes() error {
	var series []plots.Series
	reached := false
	for _, e := range rep.Table {
		name := rep.series(e.Scheme, e.Owners, e.Split)
		i := slices.IndexFunc(series, func(s plots.Series) bool { return s.Name == name })
		if i < 0 {
			series = append(series, plots.Series{Name: name, Y: make([]float64, len(rep.Networks))})
			i = len(series) - 1
			for j := range series[i].Y {
				series[i].Y[j] = math.NaN() // not run
			}
		}
		if e.Round > 0 {
			series[i].Y[slices.Index(rep.Networks, e.Network)] = e.SimSeconds / 60
			reached = true
		}
	}
	if !reached {
		return nil // nothing to draw: the table says so
	}
	chart := plots.Chart{Title: fmt.Sprintf("%s: simulated time to %g%% test accuracy", rep.Config.Model, 100*rep.Target),
		XLabel: "the data owners' network", YLabel: "minutes (simulated)", LogY: true}
	return plots.Bars(filepath.Join(rep.out, "time_to_target.png"), chart, rep.Networks, series)
}

// series names a line or a bar: its scheme, and its owner count and
// split when the run has several.
func (rep *report) series(scheme string, owners int, split string) string {
	name := scheme
	if len(rep.Config.Owners) > 1 {
		name += fmt.Sprintf(", %d owners", owners)
	}
	if len(rep.Config.Splits) > 1 {
		name += ", " + split
	}
	return name
}

// plotAccuracy draws accuracy_vs_time_<network>.png: test accuracy
// against simulated time, a line per scheme (and owner count).
func (rep *report) plotAccuracy(network string) error {
	var series []plots.Series
	for _, o := range rep.Settings {
		if networkOf(o) != network {
			continue
		}
		s := plots.Series{Name: rep.series(o.Scheme, o.Owners, o.Split)}
		for _, r := range o.Rounds {
			if r.Evaluated {
				s.X, s.Y = append(s.X, r.SimTime/60), append(s.Y, 100*r.TestAccuracy)
			}
		}
		series = append(series, s)
	}
	chart := plots.Chart{Title: fmt.Sprintf("%s on %s: test accuracy against simulated time", rep.Config.Model, network),
		XLabel: "minutes (simulated)", YLabel: "test accuracy (%)"}
	return plots.Lines(filepath.Join(rep.out, "accuracy_vs_time_"+network+".png"), chart, series)
}

// plotTimeline draws timeline_<network>.png: every party's steps in the
// first round of each scheme with the first owner count, on one network,
// the schemes one after another in rows of their own.
func (rep *report) plotTimeline() error {
	var spans []plots.Span
	for _, o := range rep.Settings {
		if networkOf(o) != rep.timeline || o.Owners != rep.Config.Owners[0] || o.Split != rep.Config.Splits[0] || len(o.Rounds) == 0 {
			continue
		}
		r := o.Rounds[0]
		start := r.SimTime - r.SimSeconds
		for _, s := range r.Timeline {
			spans = append(spans, plots.Span{Row: o.Scheme + ": " + s.Party, Step: s.Step,
				Start: time.Duration(s.StartNs).Seconds() - start, End: time.Duration(s.EndNs).Seconds() - start})
		}
	}
	if len(spans) == 0 {
		return nil // the network was not run
	}
	chart := plots.Chart{Title: fmt.Sprintf("round 1 on %s, %d owners: every party's steps", rep.timeline, rep.Config.Owners[0]),
		XLabel: "seconds since the round began (simulated)"}
	return plots.Timeline(filepath.Join(rep.out, "timeline_"+rep.timeline+".png"), chart, spans)
}

// table prints the time to the target of every run.
func (rep *report) table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "network\tscheme\towners\tsplit\tround\tsimulated time\ts/round\tMB/round\twall\t\n")
	for _, e := range rep.Table {
		at := "not reached"
		if e.Round > 0 {
			at = cli.Duration(time.Duration(e.SimSeconds * float64(time.Second)))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%.2f\t%.2f\t%s\t\n", e.Network, e.Scheme, e.Owners, e.Split, e.Round, at,
			e.RoundSimSeconds, float64(e.RoundBytes)/1e6, cli.Duration(time.Duration(e.WallSeconds*float64(time.Second))))
	}
	tw.Flush()
	fmt.Fprintf(w, "time to %g%% test accuracy in simulated time; results in %s\n", 100*rep.Target, rep.out)
}
