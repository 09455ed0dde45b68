// Command scenarios runs, by name, each system this project grew from as
// a preset: set up as that system ran (its parties, data, model and
// scheme), then what fedactor adds (a second scheme, a data split, a
// dropout it could not survive). Each preset prints what it reproduces,
// its figures against the original's, and writes results.csv,
// summary.json, report.json and PNGs to -out/NAME.
//
//	go run ./experiments/scenarios -list
//	go run ./experiments/scenarios -name pysyft-lesson
//	go run ./experiments/scenarios -name pyseal-demo -rounds 2 -limit 6000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/fedactor/fedactor/internal/cli"
)

func main() {
	log.SetFlags(0)
	var (
		name, out string
		list, v   bool
		o         options
	)
	flag.StringVar(&name, "name", "", "the preset to run (see -list)")
	flag.BoolVar(&list, "list", false, "list the presets and what each reproduces")
	flag.StringVar(&out, "out", filepath.Join("results", "scenarios"), "output directory; each preset writes to a subdirectory named after it")
	flag.StringVar(&o.DataDir, "data-dir", "", "directory holding mnist/ (default $FEDACTOR_DATA, then cache, then download)")
	flag.IntVar(&o.Rounds, "rounds", 0, "rounds (iterations) of every run (0 = the preset's)")
	flag.IntVar(&o.Limit, "limit", 0, "training examples to use (0 = the preset's)")
	flag.IntVar(&o.TestLimit, "test-limit", 0, "test examples to use (0 = all)")
	flag.DurationVar(&o.Deadline, "deadline", 0, "per-round deadline for data owners (0 = the preset's)")
	flag.Uint64Var(&o.Seed, "seed", 1, "seed for models, data, splits and shuffling")
	flag.BoolVar(&v, "v", false, "log the parties' debug messages")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("scenarios: unexpected arguments %q", flag.Args())
	}
	if list {
		printList(os.Stdout)
		return
	}
	if err := check(name, o); err != nil {
		log.Fatalf("scenarios: %v", err)
	}
	s, _ := lookup(name)
	o.Out, o.Logger, o.W = filepath.Join(out, name), cli.Logger(v), os.Stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Println(s.reproduces)
	if _, err := s.run(ctx, o); err != nil {
		log.Fatalf("scenarios: %s: %v", name, err)
	}
}

// check validates the flags.
func check(name string, o options) error {
	switch {
	case name == "":
		return errors.New("-name is required (run with -list to see the presets)")
	case o.Rounds < 0 || o.Limit < 0 || o.TestLimit < 0 || o.Deadline < 0:
		return errors.New("-rounds, -limit, -test-limit and -deadline must be >= 0")
	}
	_, err := lookup(name)
	return err
}

// printList writes the presets as a table.
func printList(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREPRODUCES\tORIGINAL REPORTED")
	for _, s := range scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.name, s.reproduces, s.original)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nrun one with: go run ./experiments/scenarios -name "+strings.ToLower(scenarios[0].name))
}
