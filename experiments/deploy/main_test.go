package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedactor/fedactor/internal/sweep"
)

// TestNetworksChangeOnlyTime runs two schemes on a LAN and on 3G: on each
// network the same rounds train the same model and move the same bytes,
// and only the simulated time differs, 3G's the longer; the table, the
// summary and the figures cover every run.
func TestNetworksChangeOnlyTime(t *testing.T) {
	d := sweep.SyntheticData(300, 100, 1)
	c := sweep.Config{Dataset: "toy", Model: "logreg", Schemes: []string{"plain", "ckks-threshold"}, Splits: []string{"iid"}, Owners: []int{3},
		Rounds: 3, Epochs: 1, Batch: 16, LR: 0.05, Seed: 1, Out: t.TempDir()}
	o := options{networks: []string{"lan", "3g"}, target: 0.3, timeline: "3g"}
	if err := o.check(c); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep, err := run(context.Background(), c, d, o, slog.New(slog.DiscardHandler), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Table) != 4 {
		t.Fatalf("%d table entries, want 2 networks x 2 schemes:\n%s", len(rep.Table), out.String())
	}
	byRun := map[string]sweep.Outcome{}
	for _, s := range rep.Settings {
		byRun[networkOf(s)+" "+s.Scheme] = s
	}
	for _, scheme := range c.Schemes {
		lan, slow := byRun["lan "+scheme], byRun["3g "+scheme]
		if len(lan.Rounds) == 0 || len(lan.Rounds) != len(slow.Rounds) {
			t.Fatalf("%s: %d rounds on the LAN, %d on 3G", scheme, len(lan.Rounds), len(slow.Rounds))
		}
		for i := range lan.Rounds {
			a, b := lan.Rounds[i], slow.Rounds[i]
			if a.Err != "" || b.Err != "" {
				t.Errorf("%s, round %d: errors %q (LAN), %q (3G)", scheme, a.Round, a.Err, b.Err)
			}
			if a.TestAccuracy != b.TestAccuracy || a.BytesSent != b.BytesSent {
				t.Errorf("%s, round %d: accuracy %g and %g, bytes %d and %d on the LAN and 3G: the network changed the training", scheme, a.Round, a.TestAccuracy, b.TestAccuracy, a.BytesSent, b.BytesSent)
			}
			if !(b.SimSeconds > a.SimSeconds) {
				t.Errorf("%s, round %d: %gs simulated on 3G, %gs on the LAN", scheme, a.Round, b.SimSeconds, a.SimSeconds)
			}
		}
	}
	for _, e := range rep.Table {
		if e.Round > 0 && e.SimSeconds != byRun[e.Network+" "+e.Scheme].Rounds[e.Round-1].SimTime {
			t.Errorf("%s on %s: %gs to the target, not the simulated time of round %d", e.Scheme, e.Network, e.SimSeconds, e.Round)
		}
		if !strings.Contains(out.String(), e.Network) {
			t.Errorf("the printed table has no %s row", e.Network)
		}
	}
	for _, f := range []string{"results.csv", "summary.json", "accuracy_vs_time_lan.png", "accuracy_vs_time_3g.png", "timeline_3g.png"} {
		if _, err := os.Stat(filepath.Join(c.Out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestBadOptions(t *testing.T) {
	c := sweep.Config{}
	for _, o := range []options{
		{target: 0.9},
		{networks: []string{"lan", "dialup"}, target: 0.9, timeline: "lan"},
		{networks: []string{"lan"}, target: 0.9, timeline: "3g"},
		{networks: []string{"lan"}, target: 1.5, timeline: "lan"},
	} {
		if err := o.check(c); err == nil {
			t.Errorf("%+v was accepted", o)
		}
	}
	if err := (options{networks: []string{"lan"}, target: 0.9, timeline: "lan"}).check(sweep.Config{Devices: "devices.csv"}); err == nil {
		t.Error("-devices was accepted")
	}
}
