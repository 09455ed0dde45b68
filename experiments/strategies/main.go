// Command strategies compares server strategies on one federation: FedAvg,
// FedProx (a proximal term in local training), FedAvgM (server momentum)
// and FedAdam (an adaptive server optimizer), by default on label shards,
// where local models drift apart.
//
//	go run ./experiments/strategies                        # cnn, 10 owners, shards, 20 rounds
//	go run ./experiments/strategies -variants fedavg,fedadam:lr=0.003 -rounds 50
//
// It accepts every flag of experiments/split (one scheme, split and owner
// count). Each variant's outputs go to -out/<variant>; accuracy.png plots
// all of them and the table at the end gives rounds to -target.
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
	"strings"
	"time"

	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/plots"
)

func main() {
	log.SetFlags(0)
	flags := sweep.NewFlags(flag.CommandLine, "strategies")
	if err := flags.SetDefaults(map[string]string{"splits": "shards", "owners": "10", "scheme": "plain", "rounds": "20", "limit": "0"}); err != nil {
		log.Fatalf("strategies: %v", err)
	}
	variants := flag.String("variants", "fedavg,fedprox,fedavgm,fedadam", "comma-separated strategies (policy specs such as fedadam:lr=0.003), and fedprox for FedAvg with -mu")
	mu := flag.Float64("prox-mu", 0.01, "FedProx μ for the fedprox variant")
	target := flag.Float64("target", 0.95, "test accuracy whose first round the table reports")
	flag.Parse()
	c, err := flags.Parse()
	if err == nil {
		err = c.OneSetting()
	}
	if err != nil {
		log.Fatalf("strategies: %v", err)
	}
	d, err := flags.Load()
	if err != nil {
		log.Fatalf("strategies: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, c, d, cli.List(*variants), *mu, *target, cli.Logger(flags.Verbose), os.Stdout); err != nil {
		log.Fatalf("strategies: %v", err)
	}
}

// run runs setting c once per variant, each into c.Out/<variant>, then
// draws accuracy.png and prints the table. It returns each variant's
// outcome.
func run(ctx context.Context, c sweep.Config, d *sweep.Data, variants []string, mu, target float64, logger *slog.Logger, w io.Writer) ([]sweep.Outcome, error) {
	var outcomes []sweep.Outcome
	var table []string
	for _, v := range variants {
		vc := c
		vc.Strategy, vc.Mu, vc.Out = v, 0, filepath.Join(c.Out, strings.ReplaceAll(v, ":", "_"))
		if v == "fedprox" {
			vc.Strategy, vc.Mu = "", mu
		}
		start := time.Now()
		fmt.Fprintf(w, "== %s\n", v)
		sum, err := sweep.Run(ctx, vc, d, logger, w)
		if err != nil {
			return outcomes, fmt.Errorf("%s: %w", v, err)
		}
		o := sum.Settings[0]
		o.Label = v
		outcomes = append(outcomes, o)
		reached := "not reached"
		if r := o.RoundReaching(target); r > 0 {
			reached = fmt.Sprintf("round %d", r)
		}
		table = append(table, fmt.Sprintf("%-28s %-12s %8.2f%%  %s", v, reached, 100*o.FinalAccuracy, cli.Duration(time.Since(start))))
	}
	title := fmt.Sprintf("%s, %s split, %d owners, %s: strategies", c.Model, c.Splits[0], c.Owners[0], c.Schemes[0])
	if err := plots.Lines(filepath.Join(c.Out, "accuracy.png"), sweep.AccuracyChart(title), sweep.RoundSeries(outcomes, sweep.Label, sweep.Accuracy)); err != nil {
		return outcomes, err
	}
	fmt.Fprintf(w, "\n%-28s %-12s %9s  %s\n", "strategy", fmt.Sprintf("%.0f%% at", 100*target), "final", "time")
	for _, l := range table {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "results in %s\n", c.Out)
	return outcomes, nil
}
