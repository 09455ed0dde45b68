package actors

import (
	"context"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/actors/sim"
)

// simTimes returns the simulated figures of every round of res.
func simTimes(res *Result) [][4]float64 {
	var out [][4]float64
	for _, rm := range res.Rounds {
		out = append(out, [4]float64{rm.SimSeconds, rm.SimTime, rm.SimTrain, rm.SimUpload})
	}
	return out
}

// TestSimulatedTimesAreDeterministic runs the same federations twice,
// with dropouts before sending and before unmasking: the simulated times
// are the same to the nanosecond, whatever order the messages took.
func TestSimulatedTimesAreDeterministic(t *testing.T) {
	drops := map[int]map[int]Dropout{1: {1: BeforeSend}, 2: {2: BeforeUnmask}}
	for _, scheme := range []string{"plain", "ss-shamir", "secagg", "ckks-threshold"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			var runs [2][][4]float64
			for i := range runs {
				f := toyFederationN(t, scheme, 5, 3)
				f.Rounds = 3
				schedule(&f, drops)
				res, err := Run(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				runs[i] = simTimes(res)
				if res.Rounds[0].SimSeconds < f.Deadline.Seconds() {
					t.Errorf("round 1 took %gs of simulated time: an owner dropped out, so it waits for the %v deadline", res.Rounds[0].SimSeconds, f.Deadline)
				}
			}
			if !reflect.DeepEqual(runs[0], runs[1]) {
				t.Errorf("two runs of the same seed: %v and %v", runs[0], runs[1])
			}
		})
	}
}

// TestRoundTimeByHand computes the simulated time of a 2-owner plain round
// by hand from the cost model (package sim's doc) and the sizes of the
// messages the run sent (without their stamps), and finds the run's to the
// microsecond.
func TestRoundTimeByHand(t *testing.T) {
	f := toyFederationN(t, "plain", 2, 0)
	owner := sim.Device{FLOPS: 1e9, Link: sim.Link{Up: 1 * sim.Mbps, Down: 10 * sim.Mbps, Latency: 20 * time.Millisecond}}
	server := sim.Device{FLOPS: 1e10, Link: sim.Link{Up: 100 * sim.Mbps, Down: 50 * sim.Mbps, Latency: time.Millisecond}}
	n := f.Model.NumParams() + 1
	f.Devices, f.Server = []sim.Device{owner, owner}, server
	f.Costs = &sim.Costs{Machine: "test", Len: n, Ops: map[string]map[string]sim.OpCost{"plain": {
		sim.OpProtect: {Base: 0.010, PerParty: 0.001}, sim.OpCombine: {Base: 0.002}, sim.OpReveal: {Base: 0.005, PerParty: 0.0005}}}}
	var mu sync.Mutex
	sizes := map[string]int{} // of round 2's messages, by kind and party
	f.Observe = func(to string, msg proto.Message) {
		mu.Lock()
		defer mu.Unlock()
		switch m := msg.(type) {
		case *GlobalModel:
			if m.Round == 2 {
				sizes["global"] = wireSize(m)
			}
		case *ProtectedUpdate:
			if m.Round == 2 {
				sizes["update/"+m.Sender] = wireSize(m)
			}
		case *Partial:
			if m.Round == 2 {
				sizes["partial"] = wireSize(m)
			}
		}
	}
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	sec := func(d time.Duration) float64 { return d.Seconds() }
	bits := func(bytes int) float64 { return float64(8 * bytes) }
	// The model owner sends the round start and the global model to three
	// parties at once: a third of its uplink each.
	var arrivals []float64
	for i, o := range f.Owners {
		got := sec(server.Latency+owner.Latency) + bits(sizes["global"])/math.Min(server.Up/3, owner.Down)
		train := 3 * f.Model.FLOPs() * float64(len(o.Indices)) / owner.FLOPS // one epoch
		protect := (0.010 + 0.001*2)                                         // at the table's length, for 2 owners
		// The report and the update leave at once: half the uplink each;
		// the secure worker takes 2 uploads: half its downlink each.
		up := sec(owner.Latency+server.Latency) + bits(sizes["update/"+o.Name])/math.Min(owner.Up/2, server.Down/2)
		arrivals = append(arrivals, got+train+protect+up)
		t.Logf("%s: global model in %.6fs, training %.6fs, protecting %.6fs, upload %.6fs", OwnerName(i), got, train, protect, up)
	}
	folded := math.Max(arrivals[0], arrivals[1]) + 0.002 // one fold after the first
	forwarded := folded + sec(2*server.Latency) + bits(sizes["partial"])/math.Min(server.Up, server.Down)
	reveal := 0.005 + 0.0005*2
	evaluate := f.Model.FLOPs() * float64(f.Test.Len()) / server.FLOPS
	want := forwarded + reveal + evaluate
	if got := res.Rounds[1].SimSeconds; math.Abs(got-want) > 1e-6 {
		t.Errorf("round 2: %.9fs of simulated time, by hand %.9fs", got, want)
	}
	if got := res.Rounds[1].SimTime - res.Rounds[0].SimTime; math.Abs(got-want) > 1e-6 {
		t.Errorf("round 2 ended %.9fs after round 1, by hand %.9fs", got, want)
	}
}

// TestDeadlineCostsNoWallTime: a round with a 10-minute deadline and an
// owner that never sends ends as soon as the parties have nothing left to
// do, and reports the deadline in simulated time. (The test's context
// would end a run that waited for the deadline in wall time.)
func TestDeadlineCostsNoWallTime(t *testing.T) {
	for _, scheme := range []string{"plain", "secagg"} {
		t.Run(scheme, func(t *testing.T) {
			f := toyFederationN(t, scheme, 3, 2)
			f.Deadline = 10 * time.Minute
			schedule(&f, map[int]map[int]Dropout{1: {2: BeforeSend}})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			r1, r2 := res.Rounds[0], res.Rounds[1]
			if r1.Err != "" || len(r1.Contributors) != 2 || r1.SimSeconds < 600 || r1.SimSeconds > 660 {
				t.Errorf("round 1: err %q, %d contributors, %gs simulated: want 2 contributors after the 600 s deadline", r1.Err, len(r1.Contributors), r1.SimSeconds)
			}
			if r2.SimSeconds > 60 {
				t.Errorf("round 2, every owner in: %gs simulated, want far below the deadline", r2.SimSeconds)
			}
		})
	}
}

// TestCalibrationChangesOnlyCryptoTimes: the same run with another
// machine's crypto cost table trains and uploads in the same simulated
// time; only its rounds' totals move.
func TestCalibrationChangesOnlyCryptoTimes(t *testing.T) {
	run := func(protect float64) *Result {
		f := toyFederationN(t, "ss", 3, 0)
		f.Costs = &sim.Costs{Machine: "test", Len: 100, Ops: map[string]map[string]sim.OpCost{"ss": {
			sim.OpProtect: {Base: protect}, sim.OpCombine: {Base: 0.001}, sim.OpReveal: {Base: 0.001}}}}
		res, err := Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(0.001), run(0.5)
	for i := range a.Rounds {
		ra, rb := a.Rounds[i], b.Rounds[i]
		if ra.SimTrain != rb.SimTrain || ra.SimUpload != rb.SimUpload {
			t.Errorf("round %d: training %g vs %g, upload %g vs %g: they must not depend on the crypto table", ra.Round, ra.SimTrain, rb.SimTrain, ra.SimUpload, rb.SimUpload)
		}
		if !(rb.SimSeconds > ra.SimSeconds) {
			t.Errorf("round %d: %gs with the slower table, %gs with the faster", ra.Round, rb.SimSeconds, ra.SimSeconds)
		}
	}
}

// TestWallClockDecides keeps the wall-clock behaviour: an owner that drops
// out before sending is waited for in wall time, and left out.
func TestWallClockDecides(t *testing.T) {
	f := toyFederationN(t, "plain", 3, 0)
	f.WallClock, f.Deadline = true, 300*time.Millisecond
	drops := map[int]map[int]Dropout{1: {2: BeforeSend}}
	schedule(&f, drops)
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	checkDropouts(t, f, res, drops)
	if res.Rounds[0].Seconds < 0.3 {
		t.Errorf("round 1 took %gs of wall time: on the wall clock it waits out the 300 ms deadline", res.Rounds[0].Seconds)
	}
}

// TestStragglers: an owner that can finish only 2 of 5 epochs before the
// deadline is left out as late under FedAvg, and contributes its 2 epochs
// in time with partial work (FedProx).
func TestStragglers(t *testing.T) {
	run := func(partial bool) (*Result, Federation) {
		f := toyFederationN(t, "plain", 4, 0)
		f.Train.Epochs, f.Train.PartialWork, f.Deadline = 5, partial, 10*time.Second
		f.Owners[3].Capacity = func(round int) int {
			if round == 1 {
				return 2
			}
			return -1
		}
		res, err := Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return res, f
	}
	fedavg, f := run(false)
	r := fedavg.Rounds[0]
	if len(r.Contributors) != 3 || slices.Contains(r.Contributors, "dave") {
		t.Errorf("FedAvg, round 1: contributors %v, want the three that finished", r.Contributors)
	}
	if !slices.ContainsFunc(r.Rejected, func(x *Rejection) bool { return x.Sender == "dave" && x.Reason == ReasonLate }) {
		t.Errorf("FedAvg, round 1: dave's late update was not refused as late: %v", r.Rejected)
	}
	if r.SimSeconds < f.Deadline.Seconds() {
		t.Errorf("FedAvg, round 1 took %gs: it waits for the straggler until the deadline", r.SimSeconds)
	}
	if len(fedavg.Rounds[1].Contributors) != 4 {
		t.Errorf("FedAvg, round 2: contributors %v, want all four", fedavg.Rounds[1].Contributors)
	}
	prox, _ := run(true)
	r = prox.Rounds[0]
	if len(r.Contributors) != 4 {
		t.Errorf("partial work, round 1: contributors %v, want all four", r.Contributors)
	}
	for _, s := range r.Timeline {
		if s.Party == "dave" && s.Step == "train" && time.Duration(s.EndNs) > f.Deadline+time.Duration(r.SimTime-r.SimSeconds)*time.Second {
			t.Errorf("partial work: dave's training ends at %v, after the deadline", time.Duration(s.EndNs))
		}
	}
	if reflect.DeepEqual(prox.Final, fedavg.Final) {
		t.Error("the straggler's partial work did not change the model")
	}
}

// TestAvailabilityWindows: an owner outside its device's window in a round
// sends nothing, and one whose window closes while it works does not send
// either; both are back in the rounds their windows cover.
func TestAvailabilityWindows(t *testing.T) {
	f := toyFederationN(t, "plain", 3, 0)
	f.Rounds = 3
	// Round 1 starts within milliseconds and, as carol drops out, ends at
	// its 1.5 s deadline; round 2, without alice and carol, at 3 s.
	dev := sim.DefaultDevice()
	away := dev
	away.Windows = []sim.Window{{From: 0, To: time.Second}, {From: 3 * time.Second, To: time.Hour}}
	brief := dev
	brief.FLOPS = 1e3 // trains for seconds, while its window closes
	brief.Windows = []sim.Window{{From: 0, To: time.Second}}
	f.Devices = []sim.Device{dev, away, brief}
	res, err := Run(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"bob", "alice"}, {"bob"}, {"bob", "alice"}}
	for i, rm := range res.Rounds {
		if !reflect.DeepEqual(rm.Contributors, want[i]) {
			t.Errorf("round %d: contributors %v, want %v", rm.Round, rm.Contributors, want[i])
		}
		// Carol's update would have been late: that she sent none shows
		// that her closed window, not the deadline, kept it.
		if slices.ContainsFunc(rm.Rejected, func(r *Rejection) bool { return r.Sender == "carol" }) {
			t.Errorf("round %d: carol sent an update after her window closed: %v", rm.Round, rm.Rejected)
		}
	}
}

// TestRevealWaitsForItsTransfers: on links so slow that a reveal request
// and its answers take longer than the reveal's grace period, the secure
// worker waits for them in simulated time (the owners' updates, as large,
// arrived within the owners' deadline), and the round succeeds.
func TestRevealWaitsForItsTransfers(t *testing.T) {
	for _, scheme := range []string{"ckks-threshold"} { // secagg's reveal shares are a few bytes
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			f := toyFederationN(t, scheme, 3, 2)
			f.Rounds, f.Deadline = 1, time.Hour
			slow := sim.DefaultDevice()
			slow.Link = sim.Link{Up: 2e3, Down: 2e3} // bits/s
			f.Devices = []sim.Device{slow, slow, slow}
			res, err := Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			r := res.Rounds[0]
			if r.Err != "" || len(r.Contributors) != 3 {
				t.Fatalf("round 1: err %q, contributors %v; want all three", r.Err, r.Contributors)
			}
			// The control: the reveal did take longer than its grace.
			var asked, answered time.Duration
			for _, s := range r.Timeline {
				switch {
				case s.Party == "secure-worker" && s.Step == "combine":
					asked = time.Duration(s.EndNs)
				case s.Step == "reveal share upload":
					answered = max(answered, time.Duration(s.EndNs))
				}
			}
			if grace := f.grace(); asked == 0 || answered-asked <= grace {
				t.Errorf("the reveal shares arrived %v after the request: the test needs more than the %v grace", answered-asked, grace)
			}
		})
	}
}
