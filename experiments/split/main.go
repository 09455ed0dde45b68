// Command split is fedactor's front door: it sweeps data splits and numbers
// of data owners for one or more aggregation schemes, trains with secure
// FedAvg through the party actors, and plots test accuracy per round.
//
//	go run ./experiments/split                      # the default sweep, under 10 minutes
//	go run ./experiments/split -quick               # a smoke test of about a minute
//	go run ./experiments/split -limit 0 -owners 2 -splits iid   # full data
//
// Outputs go to -out: results.csv, summary.json, accuracy_<split>.png,
// accuracy_owners_<n>.png and labels_<split>_<n>.png.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
)

func main() {
	flags := sweep.NewFlags(flag.CommandLine, "split")
	flag.Parse()
	log.SetFlags(0)
	c, err := flags.Parse()
	if err != nil {
		log.Fatalf("split: %v", err)
	}
	d, err := flags.Load()
	if err != nil {
		log.Fatalf("split: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	if _, err := sweep.Run(ctx, c, d, cli.Logger(flags.Verbose), os.Stdout); err != nil {
		log.Fatalf("split: %v", err)
	}
	fmt.Printf("done in %s; results in %s\n", cli.Duration(time.Since(start)), c.Out)
}
