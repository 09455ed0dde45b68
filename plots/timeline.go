package plots

import (
	"fmt"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Span is one step of a timeline: what Row (a party) did, Step, from
// Start to End on the x axis.
type Span struct {
	Row, Step  string
	Start, End float64
}

// Timeline writes a timeline: a row per party, in order of first
// appearance, with each step drawn as a thick bar from its start to its
// end, one colour per step (in the legend).
func Timeline(path string, c Chart, spans []Span) error {
	if len(spans) == 0 {
		return fmt.Errorf("plot %s: %w", path, ErrNoData)
	}
	var rows, steps []string
	for _, s := range spans {
		if !finite(s.Start) || !finite(s.End) || s.End < s.Start {
			return fmt.Errorf("plot %s: span %s/%s [%g, %g] cannot be drawn", path, s.Row, s.Step, s.Start, s.End)
		}
		if !slices.Contains(rows, s.Row) {
			rows = append(rows, s.Row)
		}
		if !slices.Contains(steps, s.Step) {
			steps = append(steps, s.Step)
		}
	}
	p := newPlot(c)
	thick := min(vg.Points(10), (height-vg.Inch)/vg.Length(2*len(rows)))
	for i, step := range steps {
		var first plot.Thumbnailer
		for _, s := range spans {
			if s.Step != step {
				continue
			}
			y := float64(len(rows) - 1 - slices.Index(rows, s.Row)) // the first row on top
			end := s.End
			if end == s.Start {
				end = s.Start + 1e-9 // an instant still shows
			}
			line, err := plotter.NewLine(plotter.XYs{{X: s.Start, Y: y}, {X: end, Y: y}})
			if err != nil {
				return fmt.Errorf("plot %s: %w", path, err)
			}
			line.Color, line.Width = palette(i), thick
			p.Add(line)
			if first == nil {
				first = line
			}
		}
		p.legend.Add(step, first)
	}
	ticks := make([]plot.Tick, len(rows))
	for i, r := range rows {
		ticks[i] = plot.Tick{Value: float64(len(rows) - 1 - i), Label: r}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -1, float64(len(rows))
	return save(p, path)
}
