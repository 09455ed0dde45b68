package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/crypto"
	"github.com/fedactor/fedactor/internal/sweep"
)

// point is one federation's measurement.
type point struct {
	Scheme     string `json:"scheme"`
	Registered int    `json:"registered"`
	Active     int    `json:"active"`
	GroupSize  int    `json:"group_size"`
	Committee  int    `json:"committee,omitempty"` // share holders besides the secure worker; 0: all owners
	// RoundSeconds is the last round's wall time (the first includes
	// set-up effects); Rounds has every round.
	RoundSeconds float64 `json:"round_seconds"`
	// HeapMB is the live heap after the last round, above the heap before
	// the federation was built (data and test set excluded).
	HeapMB float64 `json:"heap_mb"`
	// PeakHeapMB is the largest heap seen during the run (sampled every
	// 50 ms), above the same baseline.
	PeakHeapMB float64               `json:"peak_heap_mb"`
	Accuracy   float64               `json:"final_test_accuracy"`
	Rounds     []actors.RoundMetrics `json:"-"`
}

// summary is summary.json.
type summary struct {
	Experiment string `json:"experiment"`
	Model      string `json:"model"`
	sweep.Provenance
	Points []point `json:"points"`
	// KBPerActive is the heap per owner that trains in a round, after the
	// round and at the peak during it, and KBPerRegistered per client
	// registered but not sampled, by scheme (least-squares slopes).
	KBPerActive     map[string]float64 `json:"kb_per_active_owner"`
	KBPerActivePeak map[string]float64 `json:"kb_per_active_owner_peak"`
	KBPerRegistered float64            `json:"kb_per_registered_client"`
}

// measure runs one federation: k registered clients, m of them per round.
func measure(ctx context.Context, o options, d *sweep.Data, scheme string, k, m, groupSize int, logger *slog.Logger) (point, error) {
	p := point{Scheme: scheme, Registered: k, Active: m, GroupSize: groupSize}
	info, err := crypto.Describe(scheme)
	if err != nil {
		return p, err
	}
	if info.Committee {
		p.Committee = min(o.committee, m)
	}
	c := sweep.Config{Dataset: "mnist", Model: o.model, Schemes: []string{scheme}, Splits: []string{"iid"}, Owners: []int{k},
		Rounds: o.rounds, Epochs: 1, Batch: o.batch, LR: 1e-3, Seed: o.seed, Fraction: float64(m) / float64(k),
		Deadline: time.Hour, DropoutAt: "any", Committee: p.Committee}
	if err := c.Validate(); err != nil {
		return p, err
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	fed, _, err := sweep.Build(c, sweep.Setting{Scheme: scheme, Split: "iid", Owners: k}, d)
	if err != nil {
		return p, err
	}
	if len(fed.Owners) != m {
		return p, fmt.Errorf("cohort of %d, want %d", len(fed.Owners), m)
	}
	fed.GroupSize = groupSize
	fed.Logger = logger
	fed.OnRound = func(rm actors.RoundMetrics) {
		if rm.Round == o.rounds {
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			p.HeapMB = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)
		}
	}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var top uint64
		var ms runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapAlloc)
			case <-done:
				peak <- top
				return
			}
		}
	}()
	res, err := actors.Run(ctx, fed)
	close(done)
	p.PeakHeapMB = (float64(<-peak) - float64(before.HeapAlloc)) / (1 << 20)
	if err != nil {
		return p, err
	}
	for _, rm := range res.Rounds {
		if rm.Err != "" {
			return p, fmt.Errorf("round %d: %s", rm.Round, rm.Err)
		}
	}
	last := res.Rounds[len(res.Rounds)-1]
	p.RoundSeconds, p.Accuracy, p.Rounds = last.Seconds, last.TestAccuracy, res.Rounds
	return p, nil
}

// slope is the least-squares slope of y on x.
func slope(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/float64(len(x)), my/float64(len(x))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}
