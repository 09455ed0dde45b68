package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/internal/results"
)

// TestMeasuresEverySchemeAndOp times three schemes on a short update: each
// gets a row per operation and owner count, reveals the weighted sum to
// its precision (plain exactly, ss to fixed point, ckks within its
// noise), sends bytes, and the files are written.
func TestMeasuresEverySchemeAndOp(t *testing.T) {
	o := options{schemes: []string{"plain", "ss", "ckks"}, params: []string{""}, owners: "2,3", reps: 2, length: 500, out: t.TempDir()}
	rows, err := run(o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	tolerance := map[string]float64{"plain": 1e-9, "ss": 1e-6, "ckks": 1e-3}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Scheme+"/"+r.Op]++
		if !(r.MaxAbsError <= tolerance[r.Scheme]) {
			t.Errorf("%s, %d owners: error %g above %g", r.Scheme, r.Owners, r.MaxAbsError, tolerance[r.Scheme])
		}
		if !(r.MinMs >= 0 && r.MedianMs >= r.MinMs) || r.Bytes <= 0 {
			t.Errorf("%s %s, %d owners: min %g ms, median %g ms, %d bytes", r.Scheme, r.Op, r.Owners, r.MinMs, r.MedianMs, r.Bytes)
		}
	}
	for _, s := range o.schemes {
		for _, op := range []string{"setup", "protect", "combine", "reveal"} {
			if seen[s+"/"+op] != 2 {
				t.Errorf("%s %s: %d rows, want one per owner count", s, op, seen[s+"/"+op])
			}
		}
	}
	csv, err := results.ReadCSV(filepath.Join(o.out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(csv) != 1+len(rows) || strings.Join(csv[0], ",") != "scheme,owners,params,op,median_ms,min_ms,bytes,max_abs_error" {
		t.Errorf("results.csv: %d lines, header %v", len(csv), csv[0])
	}
	for _, f := range []string{"summary.json", "times.png"} {
		if _, err := os.Stat(filepath.Join(o.out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestRejectsBadOptions(t *testing.T) {
	for name, o := range map[string]options{
		"scheme": {schemes: []string{"rot13"}, params: []string{""}, owners: "2", reps: 1, length: 10},
		"owners": {schemes: []string{"plain"}, params: []string{""}, owners: "0", reps: 1, length: 10},
		"reps":   {schemes: []string{"plain"}, params: []string{""}, owners: "2", reps: 0, length: 10},
	} {
		o.out = t.TempDir()
		if _, err := run(o, t.Logf); err == nil {
			t.Errorf("bad %s accepted", name)
		}
	}
}
