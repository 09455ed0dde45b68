//go:build soak

package actors_test

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/internal/hostile"
)

// TestSoak runs 200 rounds per scheme with 30% random dropouts (both
// modes) and a full set of hostile messages in every round, and reports
// rounds completed, rejections by reason and heap growth. Run it with
// `make soak`; FEDACTOR_SOAK_SCHEMES picks the schemes.
func TestSoak(t *testing.T) {
	schemes := []string{"plain", "ss", "secagg", "ckks", "ckks-threshold"}
	if s := os.Getenv("FEDACTOR_SOAK_SCHEMES"); s != "" {
		schemes = strings.Split(s, ",")
	}
	const rounds = 200
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			threshold := 2 // of the 3 owners (ss: of the 4 holders)
			if scheme == "plain" || scheme == "ckks" || scheme == "paillier" {
				threshold = 0
			}
			f, cfg, err := hostile.ToyFederation(scheme, threshold)
			if err != nil {
				t.Fatal(err)
			}
			f.Rounds = rounds
			f.Deadline = 400 * time.Millisecond
			for i := range f.Owners {
				f.Owners[i].Drop = actors.RandomDropouts(0.3, actors.Stay, 11, i)
			}
			kit, err := hostile.NewKit(scheme, cfg)
			if err != nil {
				t.Fatal(err)
			}
			in := &hostile.Injector{Kit: kit, EveryRound: true}
			var heap [2]uint64
			var goroutines [2]int
			f.OnRound = func(rm actors.RoundMetrics) {
				if rm.Round == 20 || rm.Round == rounds {
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					i := min(rm.Round/rounds, 1)
					heap[i], goroutines[i] = ms.HeapAlloc, runtime.NumGoroutine()
				}
			}
			start := time.Now()
			res := runAttacked(t, f, in)
			attacks := in.Sent()
			var ok, failed int
			var errs []string
			for _, rm := range res.Rounds {
				if rm.Err == "" {
					ok++
				} else {
					failed++
					if !slices.Contains(errs, rm.Err) {
						errs = append(errs, rm.Err)
					}
				}
			}
			byReason := actors.CountRejected(res.Rounds)
			var reasons []string
			for _, r := range []string{actors.ReasonMalformed, actors.ReasonMismatch, actors.ReasonOutOfRange, actors.ReasonStale,
				actors.ReasonFuture, actors.ReasonDuplicate, actors.ReasonUnknownSender, actors.ReasonUnexpected, actors.ReasonLate} {
				reasons = append(reasons, fmt.Sprintf("%s %d", r, byReason[r]))
			}
			growth := float64(heap[1]) / float64(heap[0])
			t.Logf("%s: %d rounds in %s: %d aggregated, %d failed %q; %d hostile messages sent; rejected: %s; heap %.1f MB at round 20, %.1f MB at round %d (x%.2f); goroutines %d -> %d",
				scheme, len(res.Rounds), time.Since(start).Round(time.Second), ok, failed, errs, len(attacks), strings.Join(reasons, ", "),
				float64(heap[0])/1e6, float64(heap[1])/1e6, rounds, growth, goroutines[0], goroutines[1])
			if len(res.Rounds) != rounds {
				t.Errorf("%d rounds recorded, want %d", len(res.Rounds), rounds)
			}
			var rejected int
			for _, n := range byReason {
				rejected += n
			}
			if rejected < len(attacks) {
				t.Errorf("%d hostile messages, %d rejections", len(attacks), rejected)
			}
			// The result keeps every round's record (rejections included), so
			// the heap may grow by what those records hold, and little more.
			kept, _ := json.Marshal(res.Rounds[20:])
			if extra := int64(heap[1]) - int64(heap[0]); extra > 2*int64(len(kept))+4<<20 {
				t.Errorf("heap grew by %d bytes from round 20 to %d; the records since hold %d", extra, rounds, len(kept))
			}
		})
	}
}
