package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/fedactor/fedactor/actors/sim"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/results"
)

// calibrationOwners are the owner counts a calibration measures at, to
// tell a step's fixed cost from the part that grows with the parties.
var calibrationOwners = [2]int{2, 10}

// calibrate measures every scheme's steps at the two calibration owner
// counts and writes the cost table simulated time uses (sim.Costs) to
// path: each step's cost at n owners is base + n × per-party, fitted
// through the two medians (a negative slope, measurement noise, is 0).
func calibrate(o options, path string, logf func(string, ...any)) (*sim.Costs, error) {
	c := &sim.Costs{Len: o.length, Ops: map[string]map[string]sim.OpCost{},
		Machine: fmt.Sprintf("%s, %d cores, %s, %s; go run ./experiments/crypto -calibrate (medians of %d runs at %d and %d owners)",
			cpuModel(), runtime.GOMAXPROCS(0), runtime.Version(), time.Now().UTC().Format("2006-01-02"), o.reps, calibrationOwners[0], calibrationOwners[1])}
	for _, name := range o.schemes {
		var at [2]map[string]float64 // seconds per step at each owner count
		for i, n := range calibrationOwners {
			s, err := crypto.New(name, crypto.Config{Owners: n, Len: o.length})
			if err != nil {
				return nil, err
			}
			rs, err := measure(s, n, o.length, o.reps, presetName(s.Literal()))
			if err != nil {
				return nil, fmt.Errorf("calibrate %s, %d owners: %w", name, n, err)
			}
			at[i] = map[string]float64{}
			for _, r := range rs {
				sec := r.MedianMs / 1e3
				if r.Op == "combine" { // the whole aggregation: n-1 folds
					sec /= float64(max(n-1, 1))
				}
				at[i][r.Op] = sec
			}
		}
		c.Ops[name] = map[string]sim.OpCost{}
		for op, lo := range at[0] {
			if op == "setup" {
				continue // role construction happens once, outside the rounds
			}
			hi := at[1][op]
			per := max(0, (hi-lo)/float64(calibrationOwners[1]-calibrationOwners[0]))
			c.Ops[name][op] = sim.OpCost{Base: max(0, lo-per*float64(calibrationOwners[0])), PerParty: per}
			logf("%-14s %-14s base %9.3f ms  per party %8.4f ms", name, op, 1e3*c.Ops[name][op].Base, 1e3*per)
		}
	}
	return c, results.WriteJSON(path, c)
}

// cpuModel returns the CPU's model name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}
