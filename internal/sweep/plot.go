package sweep

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/plots"
)

// RoundSeries turns outcomes into plot lines: one per outcome, named by
// name, of y against the round. Rounds for which y reports false are left
// out.
func RoundSeries(outcomes []Outcome, name func(Outcome) string, y func(actors.RoundMetrics) (float64, bool)) []plots.Series {
	series := make([]plots.Series, 0, len(outcomes))
	for _, o := range outcomes {
		s := plots.Series{Name: name(o)}
		for _, r := range o.Rounds {
			if v, ok := y(r); ok {
				s.X, s.Y = append(s.X, float64(r.Round)), append(s.Y, v)
			}
		}
		series = append(series, s)
	}
	return series
}

// Accuracy is a round's test accuracy in percent, for RoundSeries; rounds
// that were not evaluated have none.
func Accuracy(r actors.RoundMetrics) (float64, bool) { return 100 * r.TestAccuracy, r.Evaluated }

// TestLoss is a round's test loss, for RoundSeries.
func TestLoss(r actors.RoundMetrics) (float64, bool) { return r.TestLoss, r.Evaluated }

// AccuracyChart is the chart of test accuracy against the round.
func AccuracyChart(title string) plots.Chart {
	return plots.Chart{Title: title, XLabel: "round", YLabel: "test accuracy (%)"}
}

// Label returns the outcome's label, for RoundSeries.
func Label(o Outcome) string { return o.Label }

// Plot draws accuracy_<split>.png (a line per owner count and scheme),
// accuracy_owners_<n>.png (a line per split and scheme) and
// labels_<split>_<n>.png (the label histogram of every owner).
func (s *Summary) Plot(dir string) error {
	c := s.Config
	name := func(what func(Outcome) string) func(Outcome) string {
		if len(c.Schemes) < 2 {
			return what
		}
		return func(o Outcome) string { return o.Scheme + ", " + what(o) }
	}
	where := func(keep func(Outcome) bool) []Outcome {
		return slices.DeleteFunc(slices.Clone(s.Settings), func(o Outcome) bool { return !keep(o) })
	}
	for _, split := range c.Splits {
		series := RoundSeries(where(func(o Outcome) bool { return o.Split == split }), name(func(o Outcome) string { return fmt.Sprintf("%d owners", o.Owners) }), Accuracy)
		title := fmt.Sprintf("%s, %s split: accuracy per round", c.Model, split)
		if err := plots.Lines(filepath.Join(dir, "accuracy_"+split+".png"), AccuracyChart(title), series); err != nil {
			return err
		}
	}
	for _, n := range c.Owners {
		series := RoundSeries(where(func(o Outcome) bool { return o.Owners == n }), name(func(o Outcome) string { return o.Split }), Accuracy)
		title := fmt.Sprintf("%s, %d owners: accuracy per round", c.Model, n)
		if err := plots.Lines(filepath.Join(dir, fmt.Sprintf("accuracy_owners_%d.png", n)), AccuracyChart(title), series); err != nil {
			return err
		}
	}
	drawn := map[Setting]bool{}
	for _, o := range s.Settings {
		key := Setting{Split: o.Split, Owners: o.Owners}
		if drawn[key] {
			continue
		}
		drawn[key] = true
		if o.Owners > maxLabelBars || len(o.Labels) == 0 {
			continue // unreadable as bars, or no histogram
		}
		if err := plotLabels(dir, o); err != nil {
			return err
		}
	}
	return nil
}

// maxLabelBars is the most owners a label histogram is drawn for.
const maxLabelBars = 100

func plotLabels(dir string, o Outcome) error {
	names := actors.OwnerNames(o.Owners)
	var series []plots.Series
	for class := range o.Labels[0] {
		ser := plots.Series{Name: "class " + strconv.Itoa(class)}
		for _, h := range o.Labels {
			ser.Y = append(ser.Y, float64(h[class]))
		}
		series = append(series, ser)
	}
	title := fmt.Sprintf("%s split, %d owners: labels per owner", o.Split, o.Owners)
	chart := plots.Chart{Title: title, XLabel: "data owner", YLabel: "training examples"}
	return plots.StackedBars(filepath.Join(dir, fmt.Sprintf("labels_%s_%d.png", o.Split, o.Owners)), chart, slices.Clone(names), series)
}
