// Command crypto times every aggregation scheme of package crypto on the
// CNN's 30,514-value update: protect per data owner, combine at the secure
// worker, reveal at the model owner, bytes sent per owner and the largest
// absolute error of the revealed weighted sum.
//
//	go run ./experiments/crypto -schemes ckks,ss -owners 2,3,10 -reps 5
//
// Outputs go to -out: results.csv (one row per scheme, preset, owner count
// and operation), summary.json and times.png.
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"math"
	mrand "math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/plots"
)

// row is one line of results.csv.
type row struct {
	Scheme, Params, Op string
	Owners, Bytes      int
	MedianMs, MinMs    float64
	MaxAbsError        float64
}

// options are the command's flags.
type options struct {
	schemes, params []string
	owners          string
	reps, length    int
	out             string
}

func main() {
	log.SetFlags(0)
	var o options
	schemes := flag.String("schemes", strings.Join(crypto.Names(), ","), "comma-separated schemes: "+strings.Join(crypto.Names(), ", "))
	flag.StringVar(&o.owners, "owners", "2,3,10", "comma-separated numbers of data owners")
	params := flag.String("params", "", "comma-separated presets (logN13,logN14,logN15 for CKKS; 2048,3072 for paillier); empty: defaults")
	flag.IntVar(&o.reps, "reps", 5, "repetitions per configuration")
	flag.IntVar(&o.length, "len", 30514, "update length")
	flag.StringVar(&o.out, "out", "results/crypto", "output directory")
	calibration := flag.String("calibrate", "", "instead, measure every scheme's steps at 2 and 10 owners and write simulated time's cost table to `file` (actors/sim/costs.json is the one shipped)")
	flag.Parse()
	o.schemes, o.params = cli.List(*schemes), strings.Split(*params, ",")
	if *calibration != "" {
		if _, err := calibrate(o, *calibration, log.Printf); err != nil {
			log.Fatalf("crypto: %v", err)
		}
		return
	}
	if _, err := run(o, log.Printf); err != nil {
		log.Fatalf("crypto: %v", err)
	}
}

// run measures every scheme, preset and owner count of o, logging a line
// per operation, and writes results.csv, summary.json and times.png.
// Presets a scheme does not have are skipped.
func run(o options, logf func(string, ...any)) ([]row, error) {
	owners, err := cli.Ints(o.owners, 1)
	if err != nil {
		return nil, fmt.Errorf("-owners: %w", err)
	}
	if o.reps < 1 || o.length < 1 {
		return nil, fmt.Errorf("-reps %d and -len %d must be >= 1", o.reps, o.length)
	}
	var rows []row
	literals := map[string]any{}
	for _, name := range o.schemes {
		if _, err := crypto.Describe(name); err != nil {
			return nil, err
		}
		for _, p := range o.params {
			for _, n := range owners {
				s, err := crypto.New(name, crypto.Config{Owners: n, Len: o.length, Params: p})
				if err != nil {
					logf("skip %s params %q: %v", name, p, err)
					continue
				}
				preset := presetName(s.Literal())
				literals[name+"/"+preset] = s.Literal()
				rs, err := measure(s, n, o.length, o.reps, preset)
				if err != nil {
					return nil, fmt.Errorf("%s, %d owners: %w", name, n, err)
				}
				for _, r := range rs {
					logf("%-14s %-6s owners=%-2d %-12s median %9.3f ms  min %9.3f ms  %9d B  err %.2g",
						r.Scheme, r.Params, r.Owners, r.Op, r.MedianMs, r.MinMs, r.Bytes, r.MaxAbsError)
				}
				rows = append(rows, rs...)
			}
		}
	}
	summary := map[string]any{
		"len": o.length, "reps": o.reps, "owners": o.owners, "gomaxprocs": runtime.GOMAXPROCS(0),
		"go": runtime.Version(), "parameters": literals, "rows": rows,
		"anchors_ms": map[string][3]float64{ // encrypt, aggregate 2, decrypt
			"PySEAL seed": {207.5, 134.6, 89.4}, "SEAL 4.1 wasm N=16384": {42.6, 1.16, 9.8},
			"Lattigo logN14 single core": {12.1, 0.49, 2.7}},
	}
	if err := sweep.WriteResults(o.out, columns, rows, summary); err != nil {
		return rows, err
	}
	return rows, chart(filepath.Join(o.out, "times.png"), rows)
}

// columns of results.csv.
var columns = []sweep.Column[row]{
	{Name: "scheme", Value: func(r row) string { return r.Scheme }},
	{Name: "owners", Value: func(r row) string { return strconv.Itoa(r.Owners) }},
	{Name: "params", Value: func(r row) string { return r.Params }},
	{Name: "op", Value: func(r row) string { return r.Op }},
	{Name: "median_ms", Value: func(r row) string { return fmt.Sprintf("%.4f", r.MedianMs) }},
	{Name: "min_ms", Value: func(r row) string { return fmt.Sprintf("%.4f", r.MinMs) }},
	{Name: "bytes", Value: func(r row) string { return strconv.Itoa(r.Bytes) }},
	{Name: "max_abs_error", Value: func(r row) string { return fmt.Sprintf("%.3g", r.MaxAbsError) }},
}

// measure runs s reps times and returns one row per operation.
func measure(s crypto.Scheme, owners, length, reps int, preset string) ([]row, error) {
	ops := []string{"setup", "protect", "combine", "reveal_share", "reveal", "key_share", "collective_key"}
	times := make([][]float64, len(ops))
	var bytes, maxErr, src = 0, 0.0, mrand.New(mrand.NewPCG(1, 2))
	for rep := 0; rep < reps; rep++ {
		ups, ws, want := make([][]float64, owners), make([]float64, owners), make([]float64, length+1)
		for k := range ups {
			ups[k] = make([]float64, length)
			ws[k] = float64(500 + src.IntN(1500))
			for i := range ups[k] {
				ups[k][i] = 0.1 * src.NormFloat64()
				want[i] += ws[k] * ups[k][i]
			}
			want[length] += ws[k]
		}
		sum, w, st, err := crypto.Run(s, ups, ws, rand.Reader)
		if err != nil {
			return nil, err
		}
		for i, d := range []time.Duration{st.Setup, st.Protect, st.Combine, st.RevealShare, st.Reveal, st.KeyShare, st.CollectiveKey} {
			times[i] = append(times[i], float64(d.Nanoseconds())/1e6)
		}
		bytes, maxErr = st.BytesPerOwner, math.Max(maxErr, math.Abs(w-want[length]))
		for i, x := range sum {
			maxErr = math.Max(maxErr, math.Abs(x-want[i]))
		}
	}
	var rows []row
	_, revealSharing := s.(crypto.RevealSharing)
	_, keyGen := s.(crypto.KeyGen)
	for i, op := range ops {
		takes := map[string]bool{"reveal_share": revealSharing, "key_share": keyGen, "collective_key": keyGen}
		if taken, ok := takes[op]; ok && !taken {
			continue // a step the scheme does not have
		}
		slices.Sort(times[i])
		rows = append(rows, row{Scheme: s.Name(), Params: preset, Op: op, Owners: owners, Bytes: bytes,
			MedianMs: times[i][len(times[i])/2], MinMs: times[i][0], MaxAbsError: maxErr})
	}
	return rows, nil
}

// presetName extracts a short parameter name from a scheme literal.
func presetName(lit any) string {
	switch l := lit.(type) {
	case crypto.CKKSLiteral:
		return l.Name
	case crypto.ThresholdCKKSLiteral:
		return l.Name
	case crypto.PaillierLiteral:
		return strconv.Itoa(l.Bits)
	}
	return "-"
}

// chart draws median times of protect, combine and reveal for the smallest
// number of owners measured, one group of bars per scheme and preset.
func chart(path string, rows []row) error {
	minOwners := math.MaxInt
	for _, r := range rows {
		minOwners = min(minOwners, r.Owners)
	}
	var cats []string
	idx := map[string]int{}
	for _, r := range rows {
		if c := r.Scheme + " " + r.Params; r.Owners == minOwners && idx[c] == 0 {
			cats = append(cats, c)
			idx[c] = len(cats)
		}
	}
	var series []plots.Series
	for _, op := range []string{"protect", "combine", "reveal"} {
		s := plots.Series{Name: op, Y: make([]float64, len(cats))}
		for _, r := range rows {
			if r.Owners == minOwners && r.Op == op {
				s.Y[idx[r.Scheme+" "+r.Params]-1] = math.Max(r.MedianMs, 1e-3)
			}
		}
		series = append(series, s)
	}
	return plots.Bars(path, plots.Chart{Title: fmt.Sprintf("Aggregation of %d owners, 30,514 values", minOwners),
		YLabel: "median time (ms)", LogY: true}, cats, series)
}
