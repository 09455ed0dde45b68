package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/internal/results"
	"github.com/fedactor/fedactor/internal/sweep"
	"github.com/fedactor/fedactor/internal/testenv"
)

func TestSlope(t *testing.T) {
	if got := slope([]float64{10, 100, 1000}, []float64{25, 250, 2500}); math.Abs(got-2.5) > 1e-12 {
		t.Errorf("slope %g, want 2.5", got)
	}
	if got := slope([]float64{5, 5}, []float64{1, 2}); got != 0 {
		t.Errorf("slope of a vertical line %g, want 0", got)
	}
}

func TestParseOptions(t *testing.T) {
	good := options{registered: 100, rounds: 1, batch: 10}
	if err := good.parse("plain,ss", "10,30", "0,5"); err != nil || !slices.Equal(good.groupSizes, []int{0, 5}) {
		t.Fatalf("good options: %v, group sizes %v", err, good.groupSizes)
	}
	for _, bad := range [][3]string{
		{"rot13", "10", "0"},   // unknown scheme
		{"plain", "200", "0"},  // more active than registered
		{"plain", "0", "0"},    // no one trains
		{"plain", "10", "-1"},  // negative group size
		{"", "10", "0"},        // no scheme
		{"plain", "x,10", "0"}, // not a number
	} {
		o := options{registered: 100, rounds: 1, batch: 10}
		if err := o.parse(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSmallScale measures plain and ss with a committee of 2 at 2 and 4
// active owners of 50 registered: every point trains and is written, the
// committee is recorded for ss only, and results.csv has a row per round.
func TestSmallScale(t *testing.T) {
	dir := testenv.DataDir(t)
	d, err := sweep.LoadData("mnist", dir, 0, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	o := options{registered: 50, rounds: 2, model: "logreg", batch: 10, committee: 2, out: t.TempDir(), seed: 1}
	if err := o.parse("plain,ss", "2,4", "0"); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sum, err := run(context.Background(), o, d, slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(sum.Points) != 4 {
		t.Fatalf("%d points, want 4", len(sum.Points))
	}
	for _, p := range sum.Points {
		wantCommittee := map[string]int{"ss": 2}[p.Scheme]
		if p.Committee != wantCommittee || len(p.Rounds) != 2 || !(p.Accuracy > 0.3) || !(p.RoundSeconds > 0) {
			t.Errorf("%s, %d active: committee %d (want %d), %d rounds, accuracy %g, round %gs",
				p.Scheme, p.Active, p.Committee, wantCommittee, len(p.Rounds), p.Accuracy, p.RoundSeconds)
		}
	}
	rows, err := results.ReadCSV(filepath.Join(o.out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+4*2 || strings.Join(rows[0][:6], ",") != "scheme,registered,active,group_size,committee,round" {
		t.Errorf("results.csv: %d rows, header %v", len(rows), rows[0])
	}
	var back summary
	if b, err := os.ReadFile(filepath.Join(o.out, "summary.json")); err != nil || json.Unmarshal(b, &back) != nil || len(back.Points) != 4 {
		t.Errorf("summary.json: %v, %d points", err, len(back.Points))
	}
	if _, ok := sum.KBPerActive["ss"]; !ok || !strings.Contains(out.String(), "memory per registered client") {
		t.Errorf("no memory slope for ss, or no summary lines:\n%s", out.String())
	}
}
