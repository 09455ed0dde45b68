// Command privacy trains DP-FedAvg with several noise multipliers and
// plots test accuracy against the ε spent (for -dp-delta), round by round.
//
//	go run ./experiments/privacy                      # cnn, 100 clients, 10 per round, z = 0, 0.5, 1, 2
//	go run ./experiments/privacy -noise 1 -dp-distributed -scheme ckks
//
// It accepts every flag of experiments/split (one scheme, split and client
// count); -dp-clip, -dp-delta and -dp-distributed apply to every run. Each
// multiplier's outputs go to -out/z<z>; accuracy_vs_epsilon.png and
// accuracy.png compare them.
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
	"path/filepath"
	"strconv"

	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/plots"
)

func main() {
	log.SetFlags(0)
	flags := sweep.NewFlags(flag.CommandLine, "privacy")
	if err := flags.SetDefaults(map[string]string{"splits": "iid", "clients": "100", "scheme": "plain", "rounds": "30",
		"limit": "0", "batch": "10", "lr": "0.001"}); err != nil {
		log.Fatalf("privacy: %v", err)
	}
	noise := flag.String("noise", "0,0.5,1,2", "comma-separated noise multipliers z (0 = no DP, for reference)")
	flag.Parse()
	c, err := flags.Parse()
	if err == nil {
		err = c.OneSetting()
	}
	var zs []float64
	for _, s := range cli.List(*noise) {
		z, perr := strconv.ParseFloat(s, 64)
		if perr != nil || !(z >= 0) {
			err = fmt.Errorf("-noise: %q is not a multiplier >= 0", s)
		}
		zs = append(zs, z)
	}
	if err != nil {
		log.Fatalf("privacy: %v", err)
	}
	d, err := flags.Load()
	if err != nil {
		log.Fatalf("privacy: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, c, d, zs, cli.Logger(flags.Verbose), os.Stdout); err != nil {
		log.Fatalf("privacy: %v", err)
	}
}

// run runs setting c once per noise multiplier, each into c.Out/z<z>, and
// draws accuracy.png and accuracy_vs_epsilon.png. It returns each run's
// outcome.
func run(ctx context.Context, c sweep.Config, d *sweep.Data, zs []float64, logger *slog.Logger, w io.Writer) ([]sweep.Outcome, error) {
	var outcomes []sweep.Outcome
	var byEps []plots.Series
	for _, z := range zs {
		vc := c
		vc.DP.Noise, vc.Out = z, filepath.Join(c.Out, fmt.Sprintf("z%g", z))
		name := fmt.Sprintf("z = %g", z)
		if z == 0 {
			name = "no DP"
		}
		fmt.Fprintf(w, "== %s\n", name)
		sum, err := sweep.Run(ctx, vc, d, logger, w)
		if err != nil {
			return outcomes, fmt.Errorf("z=%g: %w", z, err)
		}
		o := sum.Settings[0]
		o.Label = name
		outcomes = append(outcomes, o)
		e := plots.Series{Name: name}
		for _, rm := range o.Rounds {
			if rm.Epsilon > 0 {
				e.X, e.Y = append(e.X, rm.Epsilon), append(e.Y, 100*rm.TestAccuracy)
			}
		}
		if len(e.X) > 0 {
			byEps = append(byEps, e)
		}
		last := o.Rounds[len(o.Rounds)-1]
		fmt.Fprintf(w, "%s: final accuracy %.2f%%, ε %.3g (δ %g)\n", name, 100*last.TestAccuracy, last.Epsilon, c.DP.Delta)
	}
	title := fmt.Sprintf("DP-FedAvg, %s, %d clients, %s", c.Model, c.Owners[0], c.Schemes[0])
	if err := plots.Lines(filepath.Join(c.Out, "accuracy.png"), sweep.AccuracyChart(title), sweep.RoundSeries(outcomes, sweep.Label, sweep.Accuracy)); err != nil {
		return outcomes, err
	}
	if len(byEps) > 0 {
		chart := plots.Chart{Title: title + fmt.Sprintf(": accuracy vs ε (δ = %g)", c.DP.Delta), XLabel: "ε", YLabel: "test accuracy (%)", LogX: true}
		if err := plots.Lines(filepath.Join(c.Out, "accuracy_vs_epsilon.png"), chart, byEps); err != nil {
			return outcomes, err
		}
	}
	fmt.Fprintf(w, "results in %s\n", c.Out)
	return outcomes, nil
}
