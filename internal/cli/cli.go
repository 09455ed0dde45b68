// Package cli holds what the experiment mains share besides the
// experiment framework (internal/sweep): logging, progress-line durations
// and list flags.
package cli

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// Logger returns a text logger on stderr at debug level when verbose and
// warning level otherwise, so runs are quiet by default.
func Logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Duration formats d for progress lines: 1h02m, 3m05s, 12.3s.
func Duration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// List splits a comma-separated flag value, trimming spaces and dropping
// empty items.
func List(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Ints parses a comma-separated list of integers, each at least lo.
func Ints(s string, lo int) ([]int, error) {
	var out []int
	for _, f := range List(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < lo {
			return nil, fmt.Errorf("%q is not an integer >= %d", f, lo)
		}
		out = append(out, n)
	}
	return out, nil
}

// Given returns the names of the flags of fs that the command line set.
func Given(fs *flag.FlagSet) map[string]bool {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return given
}

// Quick sets each flag of fs named in values to its value unless given
// holds its name: the smaller defaults of a -quick run, under which the
// flags given explicitly still win.
func Quick(fs *flag.FlagSet, given map[string]bool, values map[string]string) error {
	for name, v := range values {
		if !given[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("-quick: %w", err)
			}
		}
	}
	return nil
}
