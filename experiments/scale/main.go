// Command scale measures how a federation grows: round time and memory
// against the number of data owners that train in a round, with client
// sampling from a large registered population (McMahan et al. 2017).
//
//	go run ./experiments/scale                                  # plain, ss, ckks; 10 to 1,000 active of 10,000
//	go run ./experiments/scale -schemes plain -active 10,100 -registered 1000
//	go run ./experiments/scale -schemes ss -committee 10 -rounds 1   # ss with a share-holder committee
//
// Every owner trains the model on its few examples (60,000 / registered)
// for one epoch per round. Outputs go to -out: results.csv (one row per
// scheme, population and round), summary.json (with memory per registered
// and per active owner) and round_time.png (round time against active
// owners, log axis).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/nn"
	"github.com/fedactor/fedactor/plots"
)

// options are the command's flags.
type options struct {
	schemes    []string
	active     []int
	registered int
	groupSizes []int
	committee  int
	rounds     int
	model      string
	batch      int
	testLimit  int
	dataDir    string
	out        string
	seed       uint64
	verbose    bool
}

func main() {
	o := parseFlags()
	log.SetFlags(0)
	d, err := sweep.LoadData("mnist", o.dataDir, 0, o.testLimit, o.seed)
	if err != nil {
		log.Fatalf("scale: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, o, d, cli.Logger(o.verbose), os.Stdout); err != nil {
		log.Fatalf("scale: %v", err)
	}
}

// run measures every point of o on d, printing a line per point, and
// writes the outputs.
func run(ctx context.Context, o options, d *sweep.Data, logger *slog.Logger, w io.Writer) (*summary, error) {
	sum := &summary{Experiment: "scale", Model: o.model, Provenance: sweep.Now(), KBPerActive: map[string]float64{}, KBPerActivePeak: map[string]float64{}}
	start := time.Now()
	// Memory per registered client, first, while the heap holds nothing
	// of other runs: the smallest cohort from a tenth of the population
	// and from all of it.
	if o.registered >= 100 {
		m := o.active[0]
		var xs, ys []float64
		for _, k := range []int{o.registered / 10, o.registered} {
			p, err := measure(ctx, o, d, "plain", k, m, 0, logger)
			if err != nil {
				return nil, fmt.Errorf("%d registered: %w", k, err)
			}
			xs, ys = append(xs, float64(k)), append(ys, p.HeapMB*1024)
		}
		sum.KBPerRegistered = slope(xs, ys)
	}
	for _, scheme := range o.schemes {
		for _, g := range o.groupSizes {
			var xs, ys, peaks []float64
			for _, m := range o.active {
				p, err := measure(ctx, o, d, scheme, o.registered, m, g, logger)
				if err != nil {
					return nil, fmt.Errorf("%s, %d active: %w", scheme, m, err)
				}
				sum.Points = append(sum.Points, p)
				xs, ys, peaks = append(xs, float64(m)), append(ys, p.HeapMB*1024), append(peaks, p.PeakHeapMB*1024)
				fmt.Fprintf(w, "%-6s %6d registered %5d active  group %4d  round %6.2fs  heap %7.1f MB (peak %7.1f)  accuracy %5.2f%%  (elapsed %s)\n",
					scheme, p.Registered, m, g, p.RoundSeconds, p.HeapMB, p.PeakHeapMB, 100*p.Accuracy, cli.Duration(time.Since(start)))
			}
			if g == 0 && len(xs) > 1 {
				sum.KBPerActive[scheme], sum.KBPerActivePeak[scheme] = slope(xs, ys), slope(xs, peaks)
			}
		}
	}
	if err := write(o, sum); err != nil {
		return nil, err
	}
	for s, kb := range sum.KBPerActive {
		fmt.Fprintf(w, "%-6s memory per active owner: %.0f KB after a round, %.0f KB at the peak\n", s, kb, sum.KBPerActivePeak[s])
	}
	fmt.Fprintf(w, "memory per registered client: %.2f KB\n", sum.KBPerRegistered)
	fmt.Fprintf(w, "done in %s; results in %s\n", cli.Duration(time.Since(start)), o.out)
	return sum, nil
}

func parseFlags() options {
	var o options
	schemes := flag.String("schemes", "plain,ss,ckks", "comma-separated aggregation schemes: "+strings.Join(crypto.Names(), ", "))
	active := flag.String("active", "10,30,100,300,1000", "comma-separated numbers of owners that train in each round")
	groups := flag.String("group-size", "0", "comma-separated aggregation-tree group sizes (0 = one flat secure worker)")
	flag.IntVar(&o.registered, "registered", 10000, "registered clients; each holds 60,000/registered examples")
	flag.IntVar(&o.committee, "committee", 0, "with additive ss, the owners per round that hold shares besides the secure worker (0 = all)")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds per federation (the last one is timed)")
	flag.StringVar(&o.model, "model", nn.CNN, fmt.Sprintf("model: %s, %s or %s", nn.CNN, nn.MLP, nn.LogReg))
	flag.IntVar(&o.batch, "batch", 10, "local batch size")
	flag.IntVar(&o.testLimit, "test-limit", 1000, "test examples evaluated per round (0 = all 10,000)")
	flag.StringVar(&o.dataDir, "data-dir", "", "directory holding mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	flag.StringVar(&o.out, "out", filepath.Join("results", "scale"), "output directory")
	flag.Uint64Var(&o.seed, "seed", 1, "seed for data, sampling and initial model")
	flag.BoolVar(&o.verbose, "v", false, "log the parties' debug messages")
	flag.Parse()
	if err := o.parse(*schemes, *active, *groups); err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		flag.Usage()
		os.Exit(2)
	}
	return o
}

// parse reads the list flags into o and checks the options.
func (o *options) parse(schemes, active, groups string) error {
	var err error
	o.schemes = cli.List(schemes)
	if o.active, err = cli.Ints(active, 1); err == nil {
		o.groupSizes, err = cli.Ints(groups, 0)
	}
	switch {
	case err != nil:
		return err
	case len(o.schemes) == 0 || len(o.active) == 0 || len(o.groupSizes) == 0:
		return errors.New("need at least one scheme, active count and group size")
	case o.registered < 1 || o.rounds < 1 || o.batch < 1 || o.testLimit < 0 || o.committee < 0:
		return errors.New("-registered, -rounds and -batch must be >= 1, -test-limit and -committee >= 0")
	}
	for _, m := range o.active {
		if m > o.registered {
			return fmt.Errorf("%d active owners of %d registered", m, o.registered)
		}
	}
	for _, s := range o.schemes {
		if _, err := crypto.Describe(s); err != nil {
			return err
		}
	}
	return nil
}

// row is one line of results.csv: a round of a point.
type row struct {
	p *point
	r actors.RoundMetrics
}

// columns of results.csv.
var columns = []sweep.Column[row]{
	{Name: "scheme", Value: func(x row) string { return x.p.Scheme }},
	{Name: "registered", Value: func(x row) string { return strconv.Itoa(x.p.Registered) }},
	{Name: "active", Value: func(x row) string { return strconv.Itoa(x.p.Active) }},
	{Name: "group_size", Value: func(x row) string { return strconv.Itoa(x.p.GroupSize) }},
	{Name: "committee", Value: func(x row) string { return strconv.Itoa(x.p.Committee) }},
	{Name: "round", Value: func(x row) string { return strconv.Itoa(x.r.Round) }},
	{Name: "round_seconds", Value: func(x row) string { return sweep.Float(x.r.Seconds) }},
	{Name: "train_seconds", Value: func(x row) string { return sweep.Float(x.r.Train) }},
	{Name: "protect_seconds", Value: func(x row) string { return sweep.Float(x.r.Protect) }},
	{Name: "max_combine_seconds", Value: func(x row) string { return sweep.Float(maxCombine(x.r)) }},
	{Name: "reveal_seconds", Value: func(x row) string { return sweep.Float(x.r.Reveal) }},
	{Name: "bytes_sent", Value: func(x row) string { return strconv.FormatInt(x.r.BytesSent, 10) }},
	{Name: "heap_mb", Value: func(x row) string { return sweep.Float(x.p.HeapMB) }},
	{Name: "peak_heap_mb", Value: func(x row) string { return sweep.Float(x.p.PeakHeapMB) }},
	{Name: "test_accuracy", Value: func(x row) string { return sweep.Float(x.r.TestAccuracy) }},
}

// maxCombine is the longest any party spent combining in round r.
func maxCombine(r actors.RoundMetrics) float64 {
	combine := 0.0
	for _, t := range r.Parties {
		combine = max(combine, t.Combine)
	}
	return combine
}

// write saves results.csv, summary.json and round_time.png.
func write(o options, sum *summary) error {
	var rows []row
	series := map[string]*plots.Series{}
	var order []string
	for i := range sum.Points {
		p := &sum.Points[i]
		for _, r := range p.Rounds {
			rows = append(rows, row{p, r})
		}
		if p.Registered != o.registered {
			continue
		}
		name := p.Scheme
		if p.GroupSize > 0 {
			name = fmt.Sprintf("%s, groups of %d", p.Scheme, p.GroupSize)
		}
		if p.Committee > 0 {
			name += fmt.Sprintf(", committee of %d", o.committee)
		}
		if series[name] == nil {
			series[name] = &plots.Series{Name: name}
			order = append(order, name)
		}
		series[name].X = append(series[name].X, float64(p.Active))
		series[name].Y = append(series[name].Y, p.RoundSeconds)
	}
	if err := sweep.WriteResults(o.out, columns, rows, sum); err != nil {
		return err
	}
	var lines []plots.Series
	for _, n := range order {
		lines = append(lines, *series[n])
	}
	chart := plots.Chart{Title: fmt.Sprintf("%s, %d registered clients: round time", o.model, o.registered),
		XLabel: "data owners per round", YLabel: "seconds per round", LogX: true}
	return plots.Lines(filepath.Join(o.out, "round_time.png"), chart, lines)
}
