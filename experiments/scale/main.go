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
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/sweep"
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

// point is one federation's measurement.
type point struct {
	Scheme     string `json:"scheme"`
	Registered int    `json:"registered"`
	Active     int    `json:"active"`
	GroupSize  int    `json:"group_size"`
	Committee  int    `json:"committee,omitempty"` // share holders besides the secure worker; 0: all owners
	// RoundSeconds is the last round's wall time (the first includes
	// set-up effects); Rounds has every round.
	RoundSeconds float64 `json:"round_seconds"`
	// HeapMB is the live heap after the last round, above the heap before
	// the federation was built (data and test set excluded).
	HeapMB float64 `json:"heap_mb"`
	// PeakHeapMB is the largest heap seen during the run (sampled every
	// 50 ms), above the same baseline.
	PeakHeapMB float64               `json:"peak_heap_mb"`
	Accuracy   float64               `json:"final_test_accuracy"`
	Rounds     []actors.RoundMetrics `json:"-"`
}

// summary is summary.json.
type summary struct {
	Experiment string `json:"experiment"`
	Model      string `json:"model"`
	sweep.Provenance
	Points []point `json:"points"`
	// KBPerActive is the heap per owner that trains in a round, after the
	// round and at the peak during it, and KBPerRegistered per client
	// registered but not sampled, by scheme (least-squares slopes).
	KBPerActive     map[string]float64 `json:"kb_per_active_owner"`
	KBPerActivePeak map[string]float64 `json:"kb_per_active_owner_peak"`
	KBPerRegistered float64            `json:"kb_per_registered_client"`
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
	logger := cli.Logger(o.verbose)
	sum := summary{Experiment: "scale", Model: o.model, Provenance: sweep.Now(), KBPerActive: map[string]float64{}, KBPerActivePeak: map[string]float64{}}
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
				log.Fatalf("scale: %d registered: %v", k, err)
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
					log.Fatalf("scale: %s, %d active: %v", scheme, m, err)
				}
				sum.Points = append(sum.Points, p)
				xs, ys, peaks = append(xs, float64(m)), append(ys, p.HeapMB*1024), append(peaks, p.PeakHeapMB*1024)
				fmt.Printf("%-6s %6d registered %5d active  group %4d  round %6.2fs  heap %7.1f MB (peak %7.1f)  accuracy %5.2f%%  (elapsed %s)\n",
					scheme, p.Registered, m, g, p.RoundSeconds, p.HeapMB, p.PeakHeapMB, 100*p.Accuracy, cli.Duration(time.Since(start)))
			}
			if g == 0 && len(xs) > 1 {
				sum.KBPerActive[scheme], sum.KBPerActivePeak[scheme] = slope(xs, ys), slope(xs, peaks)
			}
		}
	}
	if err := write(o, sum); err != nil {
		log.Fatalf("scale: %v", err)
	}
	for s, kb := range sum.KBPerActive {
		fmt.Printf("%-6s memory per active owner: %.0f KB after a round, %.0f KB at the peak\n", s, kb, sum.KBPerActivePeak[s])
	}
	fmt.Printf("memory per registered client: %.2f KB\n", sum.KBPerRegistered)
	fmt.Printf("done in %s; results in %s\n", cli.Duration(time.Since(start)), o.out)
}

func parseFlags() options {
	var o options
	schemes := flag.String("schemes", "plain,ss,ckks", "comma-separated aggregation schemes: "+strings.Join(crypto.Names(), ", "))
	active := flag.String("active", "10,30,100,300,1000", "comma-separated numbers of owners that train in each round")
	groups := flag.String("group-size", "0", "comma-separated aggregation-tree group sizes (0 = one flat secure worker)")
	flag.IntVar(&o.registered, "registered", 10000, "registered clients; each holds 60,000/registered examples")
	flag.IntVar(&o.committee, "committee", 0, "with additive ss, the owners per round that hold shares besides the secure worker (0 = all)")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds per federation (the last one is timed)")
	flag.StringVar(&o.model, "model", "cnn", "model: cnn, mlp or logreg")
	flag.IntVar(&o.batch, "batch", 10, "local batch size")
	flag.IntVar(&o.testLimit, "test-limit", 1000, "test examples evaluated per round (0 = all 10,000)")
	flag.StringVar(&o.dataDir, "data-dir", "", "directory holding mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	flag.StringVar(&o.out, "out", filepath.Join("results", "scale"), "output directory")
	flag.Uint64Var(&o.seed, "seed", 1, "seed for data, sampling and initial model")
	flag.BoolVar(&o.verbose, "v", false, "log the parties' debug messages")
	flag.Parse()
	var err error
	o.schemes = cli.List(*schemes)
	if o.active, err = positives(*active, 1); err == nil {
		o.groupSizes, err = positives(*groups, 0)
	}
	switch {
	case err != nil:
	case len(o.schemes) == 0 || len(o.active) == 0 || len(o.groupSizes) == 0:
		err = errors.New("need at least one scheme, active count and group size")
	case o.registered < 1 || o.rounds < 1 || o.batch < 1 || o.testLimit < 0 || o.committee < 0:
		err = errors.New("-registered, -rounds and -batch must be >= 1, -test-limit and -committee >= 0")
	}
	for _, m := range o.active {
		if err == nil && m > o.registered {
			err = fmt.Errorf("%d active owners of %d registered", m, o.registered)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		flag.Usage()
		os.Exit(2)
	}
	return o
}

// positives parses a comma-separated list of integers >= lo.
func positives(s string, lo int) ([]int, error) {
	var out []int
	for _, f := range cli.List(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < lo {
			return nil, fmt.Errorf("%q is not an integer >= %d", f, lo)
		}
		out = append(out, n)
	}
	return out, nil
}

// measure runs one federation: k registered clients, m of them per round.
func measure(ctx context.Context, o options, d *sweep.Data, scheme string, k, m, groupSize int, logger *slog.Logger) (point, error) {
	p := point{Scheme: scheme, Registered: k, Active: m, GroupSize: groupSize}
	info, err := crypto.Describe(scheme)
	if err != nil {
		return p, err
	}
	if info.Committee {
		p.Committee = min(o.committee, m)
	}
	c := sweep.Config{Dataset: "mnist", Model: o.model, Schemes: []string{scheme}, Splits: []string{"iid"}, Owners: []int{k},
		Rounds: o.rounds, Epochs: 1, Batch: o.batch, LR: 1e-3, Seed: o.seed, Fraction: float64(m) / float64(k),
		Deadline: time.Hour, DropoutAt: "any", Committee: p.Committee}
	if err := c.Validate(); err != nil {
		return p, err
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	fed, _, err := sweep.Build(c, sweep.Setting{Scheme: scheme, Split: "iid", Owners: k}, d)
	if err != nil {
		return p, err
	}
	if len(fed.Owners) != m {
		return p, fmt.Errorf("cohort of %d, want %d", len(fed.Owners), m)
	}
	fed.GroupSize = groupSize
	fed.Logger = logger
	fed.OnRound = func(rm actors.RoundMetrics) {
		if rm.Round == o.rounds {
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			p.HeapMB = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)
		}
	}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var ms runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapAlloc)
			case <-done:
				peak <- top
				return
			}
		}
	}()
	res, err := actors.Run(ctx, fed)
	close(done)
	p.PeakHeapMB = (float64(<-peak) - float64(before.HeapAlloc)) / (1 << 20)
	if err != nil {
		return p, err
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" {
			return p, fmt.Errorf("round %d: %s", rm.Round, rm.Err)
		}
	}
	last := res.Rounds[len(res.Rounds)-1]
	p.RoundSeconds, p.Accuracy, p.Rounds = last.Seconds, last.TestAccuracy, res.Rounds
	return p, nil
}

// slope is the least-squares slope of y on x.
func slope(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/float64(len(x)), my/float64(len(x))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// write saves results.csv, summary.json and round_time.png.
func write(o options, sum summary) error {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
	var rows [][]string
	series := map[string]*plots.Series{}
	var order []string
	for _, p := range sum.Points {
		for _, r := range p.Rounds {
			combine := 0.0
			for _, t := range r.Parties {
				combine = max(combine, t.Combine)
			}
			rows = append(rows, []string{p.Scheme, strconv.Itoa(p.Registered), strconv.Itoa(p.Active), strconv.Itoa(p.GroupSize), strconv.Itoa(p.Committee),
				strconv.Itoa(r.Round), f(r.Seconds), f(r.Train), f(r.Protect), f(combine), f(r.Reveal),
				strconv.FormatInt(r.BytesSent, 10), f(p.HeapMB), f(p.PeakHeapMB), f(r.TestAccuracy)})
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
	header := []string{"scheme", "registered", "active", "group_size", "committee", "round", "round_seconds", "train_seconds",
		"protect_seconds", "max_combine_seconds", "reveal_seconds", "bytes_sent", "heap_mb", "peak_heap_mb", "test_accuracy"}
	if err := results.WriteCSV(filepath.Join(o.out, "results.csv"), header, rows); err != nil {
		return err
	}
	if err := results.WriteJSON(filepath.Join(o.out, "summary.json"), sum); err != nil {
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
