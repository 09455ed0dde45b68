// Package cli holds what the experiment mains share: data loading with the
// common flags, logging and progress lines.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/fedactor/fedactor/dataset"
)

// Data is a loaded dataset with the training indices in use.
type Data struct {
	*dataset.Data
	// TrainIndices are the training examples in use (all, or a -limit
	// subsample), sorted.
	TrainIndices []int
}

// LoadData loads the dataset called name from dir (a -data-dir flag value;
// empty falls back to $FEDACTOR_DATA, the cache and a verified download)
// and subsamples limit training examples (0 keeps all), seeded. Download
// progress goes to progress.
func LoadData(name, dir string, limit int, seed uint64, progress io.Writer) (*Data, error) {
	if limit < 0 {
		return nil, fmt.Errorf("-limit %d: must be >= 0", limit)
	}
	d, err := dataset.Load(name, dataset.Options{Dir: dataset.DataDir(dir), Progress: progress})
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	return &Data{Data: d, TrainIndices: dataset.Subsample(d.Train.Len(), limit, rng)}, nil
}

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
