package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/fedactor/fedactor/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart holds the labels and axis choices shared by every figure.
type Chart struct {
	Title, XLabel, YLabel string
	// LogX and LogY select logarithmic axes; all values on such an axis
	// must then be positive.
	LogX, LogY bool
	// YMin and YMax fix the y range when YMax > YMin; otherwise the range
	// follows the data.
	YMin, YMax float64
}

// Series is one named line or group of bars. For Lines, Y[i] is plotted
// at X[i]. For Bars and StackedBars, Y[i] belongs to the i-th category and
// X is ignored.
type Series struct {
	Name string
	X, Y []float64
}

// Figure size of every PNG written by this package.
const (
	width  = 8 * vg.Inch
	height = 5 * vg.Inch
)

// ErrNoData is returned when a figure would have nothing to draw.
var ErrNoData = errors.New("plots: no data")

// figure is a plot with its legend, which is drawn beside the data area
// rather than over it.
type figure struct {
	*plot.Plot
	legend plot.Legend
}

func newPlot(c Chart) figure {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.Y.Label.Text = c.YLabel
	if c.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top = true
	leg.Left = true
	return figure{Plot: p, legend: leg}
}

// fixRange applies the Chart's y range after the data has set its own.
func fixRange(p figure, c Chart) {
	if c.YMax > c.YMin {
		p.Y.Min, p.Y.Max = c.YMin, c.YMax
	}
}

// Lines writes a line chart with one line (with point markers) per series.
func Lines(path string, c Chart, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("plot %s: %w", path, ErrNoData)
	}
	p := newPlot(c)
	for i, s := range series {
		if len(s.X) != len(s.Y) {
			return fmt.Errorf("plot %s: series %q has %d x and %d y values", path, s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			if !finite(s.X[j]) || !finite(s.Y[j]) || (c.LogX && s.X[j] <= 0) || (c.LogY && s.Y[j] <= 0) {
				return fmt.Errorf("plot %s: series %q point %d (%g, %g) cannot be drawn", path, s.Name, j, s.X[j], s.Y[j])
			}
			pts[j] = plotter.XY{X: s.X[j], Y: s.Y[j]}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, s.Name, err)
		}
		line.Color = plotutil.Color(i)
		line.Dashes = plotutil.Dashes(i / 7)
		line.Width = vg.Points(1.5)
		points.Color = plotutil.Color(i)
		points.Shape = plotutil.Shape(i)
		p.Add(line, points)
		if s.Name != "" {
			p.legend.Add(s.Name, line, points)
		}
	}
	fixRange(p, c)
	return save(p, path)
}

// Bars writes a grouped bar chart: one group per category, one bar per
// series within each group. With c.LogY the bars rise from a decade below
// the smallest value on a logarithmic axis. A NaN value is a bar left out:
// a result that does not exist, such as a target never reached.
func Bars(path string, c Chart, categories []string, series []Series) error {
	if len(series) == 0 || len(categories) == 0 {
		return fmt.Errorf("plot %s: %w", path, ErrNoData)
	}
	logY := c.LogY
	c.LogY = false // drawn on a linear axis of log10 values, see decades
	p := newPlot(c)
	all := make([]plotter.Values, len(series))
	lowest, highest := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		vals, err := values(path, s, len(categories), logY, true)
		if err != nil {
			return err
		}
		all[i] = make(plotter.Values, len(vals))
		for j, y := range vals {
			if !math.IsNaN(y) {
				all[i][j] = y
				lowest, highest = math.Min(lowest, y), math.Max(highest, y)
			}
		}
	}
	if math.IsInf(lowest, 1) {
		return fmt.Errorf("plot %s: every bar is missing: %w", path, ErrNoData)
	}
	var base float64
	if logY {
		base = math.Floor(math.Log10(lowest)) - 1
		p.Y.Tick.Marker = decades(base)
	}
	barWidth := vg.Points(math.Max(4, math.Min(40, 360/float64(len(categories)*len(series)))))
	for i, vals := range all {
		if logY {
			shown := make(plotter.Values, len(vals))
			for j, y := range vals {
				if y > 0 { // a missing bar stays at the axis
					shown[j] = math.Log10(y) - base
				}
			}
			vals = shown
		}
		b, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, series[i].Name, err)
		}
		b.Color = palette(i)
		b.LineStyle.Width = 0
		b.Offset = barWidth * vg.Length(2*i-len(series)+1) / 2
		p.Add(b)
		p.legend.Add(series[i].Name, b)
	}
	p.NominalX(categories...)
	padBars(p, len(categories))
	if logY {
		// Headroom: the axis ends at the decade above the tallest bar.
		p.Y.Min, p.Y.Max = 0, math.Floor(math.Log10(highest))+1-base
	} else {
		fixRange(p, c)
	}
	return save(p, path)
}

// decades labels a linear axis of log10(y)-base values with the powers of
// ten they stand for.
type decades float64

// Ticks implements plot.Ticker.
func (d decades) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Ceil(min); k <= max; k++ {
		ticks = append(ticks, plot.Tick{Value: k, Label: strconv.FormatFloat(math.Pow(10, k+float64(d)), 'g', -1, 64)})
	}
	return ticks
}

// StackedBars writes one bar per category with the series stacked on top of
// each other, e.g. the label histogram of each data owner.
func StackedBars(path string, c Chart, categories []string, series []Series) error {
	if len(series) == 0 || len(categories) == 0 {
		return fmt.Errorf("plot %s: %w", path, ErrNoData)
	}
	p := newPlot(c)
	barWidth := vg.Points(math.Max(3, math.Min(40, 400/float64(len(categories)))))
	var below *plotter.BarChart
	tops := make([]float64, len(categories))
	for i, s := range series {
		vals, err := values(path, s, len(categories), false, false)
		if err != nil {
			return err
		}
		b, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			return fmt.Errorf("plot %s: series %q: %w", path, s.Name, err)
		}
		b.Color = palette(i)
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		for j, y := range vals {
			tops[j] += y
		}
		below = b
		p.Add(b)
		p.legend.Add(s.Name, b)
	}
	p.NominalX(categories...)
	padBars(p, len(categories))
	if len(categories) > 20 {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.Y.Min, p.Y.Max = 0, 1.05*slices.Max(tops) // headroom above the tallest stack
	fixRange(p, c)
	return save(p, path)
}

// padBars widens the x range by half a slot on each side so that the outer
// bars are not cut.
func padBars(p figure, n int) {
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
}

func values(path string, s Series, n int, positive, missing bool) (plotter.Values, error) {
	if len(s.Y) != n {
		return nil, fmt.Errorf("plot %s: series %q has %d values for %d categories", path, s.Name, len(s.Y), n)
	}
	for j, y := range s.Y {
		if missing && math.IsNaN(y) {
			continue
		}
		if !finite(y) || (positive && y <= 0) {
			return nil, fmt.Errorf("plot %s: series %q value %d (%g) cannot be drawn", path, s.Name, j, y)
		}
	}
	return plotter.Values(s.Y), nil
}

// palette returns ten well separated colours (a categorical palette), then
// falls back to plotutil's.
func palette(i int) color.Color {
	tab10 := []color.RGBA{
		{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
		{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
		{188, 189, 34, 255}, {23, 190, 207, 255},
	}
	if i < len(tab10) {
		return tab10[i]
	}
	return plotutil.Color(i)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// save draws the figure, its legend in a strip on the right, and writes it
// as a PNG, atomically.
func save(f figure, path string) error {
	img := vgimg.New(width, height)
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	legendWidth := f.legend.Rectangle(dc).Size().X
	if legendWidth > 0 {
		legendWidth += vg.Points(12)
	}
	f.Plot.Draw(draw.Crop(dc, 0, -legendWidth, 0, 0))
	if legendWidth > 0 {
		top := f.Plot.Title.TextStyle.Rectangle(f.Plot.Title.Text).Size().Y + f.Plot.Title.Padding
		f.legend.Draw(draw.Crop(dc, width-legendWidth+vg.Points(6), 0, 0, -top))
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}
