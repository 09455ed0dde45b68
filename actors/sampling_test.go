package actors

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// sampled turns a toy federation of 12 owners into 12 registered clients
// and a cohort of 4 slots.
func sampled(t *testing.T, scheme string) Federation {
	f := toyFederationN(t, scheme, 4, 0)
	all := toyFederationN(t, "plain", 12, 0)
	for _, o := range all.Owners {
		f.Clients = append(f.Clients, Client{Data: o.Data, Indices: o.Indices})
	}
	for i := range f.Owners {
		f.Owners[i].Data, f.Owners[i].Indices = nil, nil
	}
	f.Rounds = 3
	f.Deadline = 0
	return f
}

// TestClientSampling runs a sampled federation: every round draws a
// seeded cohort, every slot contributes, and the model equals that of an
// unsampled federation whose owners are the cohort's clients.
func TestClientSampling(t *testing.T) {
	for _, scheme := range []string{"plain", "ss", "ckks"} {
		t.Run(scheme, func(t *testing.T) {
			f := sampled(t, scheme)
			f.Checkpoint = t.TempDir()
			res, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, rm := range res.Rounds {
				if rm.Err != "" || len(rm.Contributors) != 4 {
					t.Fatalf("round %d: err %q, %d contributors", rm.Round, rm.Err, len(rm.Contributors))
				}
				c := slices.Clone(rm.Cohort)
				if !reflect.DeepEqual(c, f.Cohort(rm.Round)) || len(c) != 4 {
					t.Fatalf("round %d: cohort %v, want %v", rm.Round, c, f.Cohort(rm.Round))
				}
				slices.Sort(c)
				if len(slices.Compact(c)) != 4 || c[0] < 0 || c[3] >= 12 {
					t.Fatalf("round %d: cohort %v is not 4 distinct clients", rm.Round, rm.Cohort)
				}
				seen[fmt.Sprint(c)] = true
			}
			if len(seen) < 2 {
				t.Error("every round drew the same cohort")
			}

			// Round 1 again, unsampled, with the cohort's clients as owners.
			g := sampled(t, scheme)
			g.Rounds = 1
			for i, c := range g.Cohort(1) {
				g.Owners[i].Data, g.Owners[i].Indices = g.Clients[c].Data, g.Clients[c].Indices
			}
			g.Clients = nil
			g.Train.ResetOptimizer = true
			one, err := Run(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			f.Rounds = 1
			first, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(first.Final, one.Final); d > 1e-6 {
				t.Errorf("sampled round 1 differs from its cohort's federation by %g", d)
			}
		})
	}
}

func TestClientSamplingValidation(t *testing.T) {
	f := sampled(t, "plain")
	f.Clients = f.Clients[:3]
	if _, err := Run(context.Background(), f); err == nil {
		t.Error("a cohort of 4 from 3 clients was accepted")
	}
	f = sampled(t, "plain")
	f.Clients[5].Data = nil
	if _, err := Run(context.Background(), f); err == nil {
		t.Error("a client without data was accepted")
	}
	f = sampled(t, "plain")
	if f.Cohort(1) == nil || reflect.DeepEqual(f.Cohort(1), f.Cohort(2)) && reflect.DeepEqual(f.Cohort(2), f.Cohort(3)) {
		t.Error("cohorts do not change with the round")
	}
	f.Seed++
	g := sampled(t, "plain")
	if reflect.DeepEqual(f.Cohort(1), g.Cohort(1)) && reflect.DeepEqual(f.Cohort(2), g.Cohort(2)) {
		t.Error("cohorts do not depend on the seed")
	}
}

// TestModelOwnerBugEndsTheRun: a panic in the model owner ends the run
// with an error instead of leaving every party waiting.
func TestModelOwnerBugEndsTheRun(t *testing.T) {
	f := toyFederation(t, "plain")
	f.OnRound = func(RoundMetrics) { panic("boom") }
	_, err := Run(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), "model owner failed: boom") {
		t.Fatalf("run after a model-owner panic: %v", err)
	}
}
