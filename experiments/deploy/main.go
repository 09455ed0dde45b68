// Command deploy answers "how long until the model is good enough?" for
// every aggregation scheme on every network, in simulated time: each
// network x scheme x owner count trains until a target test accuracy
// (97% by default) and the table gives the simulated time it took, with
// the bytes each round moved. Training is the same on every network; what
// differs is what the scheme's bytes and exchanges cost there (see
// docs/simulated-time.md for the cost model and the networks' sources).
//
//	go run -tags openblas ./experiments/deploy -quick
//	go run -tags openblas ./experiments/deploy                  # cnn, 10 owners, full MNIST
//	go run -tags openblas ./experiments/deploy -owners 10,50 -networks broadband,4g
//
// It takes every flag of experiments/split. Outputs go to -out:
// results.csv (a row per network, scheme, owner count and round),
// summary.json (the table, and each network's deployment),
// time_to_target.png, accuracy_vs_time_<network>.png (test accuracy
// against simulated time, a line per scheme) and timeline_<network>.png
// (every party's steps in the first round of each scheme, on one
// network).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"slices"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
)

func main() {
	log.SetFlags(0)
	flags := sweep.NewFlags(flag.CommandLine, "deploy")
	defaults := map[string]string{"scheme": "plain,ss,secagg,ckks,ckks-threshold", "splits": "iid", "owners": "10", "rounds": "20", "limit": "0"}
	if err := flags.SetDefaults(defaults); err != nil {
		log.Fatalf("deploy: %v", err)
	}
	networks := flag.String("networks", "lan,broadband,4g,3g", "comma-separated networks of the data owners: "+fmt.Sprint(sim.NetworkNames()))
	target := flag.Float64("target", 97, "test accuracy, in %, whose simulated time the table gives")
	timeline := flag.String("timeline", "", "the network whose first rounds timeline_<network>.png draws (default the last of -networks)")
	flag.Parse()
	c, err := flags.Parse()
	if err != nil {
		log.Fatalf("deploy: %v", err)
	}
	o := options{networks: cli.List(*networks), target: *target / 100, timeline: *timeline}
	if o.timeline == "" && len(o.networks) > 0 {
		o.timeline = o.networks[len(o.networks)-1]
	}
	if err := o.check(c); err != nil {
		log.Fatalf("deploy: %v", err)
	}
	d, err := flags.Load()
	if err != nil {
		log.Fatalf("deploy: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, c, d, o, cli.Logger(flags.Verbose), os.Stdout); err != nil {
		log.Fatalf("deploy: %v (the rounds so far are in %s)", err, c.Out)
	}
}

// options are deploy's own flags.
type options struct {
	networks []string
	target   float64 // fraction
	timeline string
}

func (o options) check(c sweep.Config) error {
	if len(o.networks) == 0 {
		return fmt.Errorf("-networks: need at least one")
	}
	for _, n := range o.networks {
		if _, _, err := sim.Network(n); err != nil {
			return err
		}
	}
	if !slices.Contains(o.networks, o.timeline) {
		return fmt.Errorf("-timeline %s: not among -networks %v", o.timeline, o.networks)
	}
	if !(o.target > 0 && o.target <= 1) {
		return fmt.Errorf("-target %g: want a percentage in (0, 100]", 100*o.target)
	}
	if c.Devices != "" {
		return fmt.Errorf("-devices gives every owner its own device: deploy compares -networks instead")
	}
	return nil
}

// run trains every network x scheme x owner count of c until the target,
// writing the outputs after each, and prints the table.
func run(ctx context.Context, c sweep.Config, d *sweep.Data, o options, logger *slog.Logger, w io.Writer) (*report, error) {
	c.Target = o.target
	rep := newReport(c, o)
	r := &sweep.Runner{Summary: sweep.NewSummary(c), Data: d, Logger: logger, Progress: w, Save: func(s *sweep.Summary) error { return rep.write(s) }}
	var jobs []sweep.Job
	for _, n := range o.networks {
		nc := c
		nc.Network, nc.Out = n, "" // no checkpoints: every job is short
		for _, j := range nc.Jobs() {
			j.Label = label(n, j.Setting)
			jobs = append(jobs, j)
		}
	}
	fmt.Fprintf(w, "%d networks x %d schemes x %d owner counts, up to %d rounds each until %g%%; estimated time %s\n",
		len(o.networks), len(c.Schemes), len(c.Owners), c.Rounds, 100*o.target, cli.Duration(r.Plan(jobs)))
	for _, j := range jobs {
		if _, err := r.Run(ctx, j); err != nil {
			return rep, err
		}
	}
	if err := rep.finish(r.Summary); err != nil {
		return rep, err
	}
	rep.table(w)
	return rep, nil
}

// label names a job: its network, scheme, owner count and split.
func label(network string, s sweep.Setting) string {
	return fmt.Sprintf("%-9s %-14s %3d owners %s", network, s.Scheme, s.Owners, s.Split)
}
