package actors

import (
	"math"
	"slices"
	"time"
)

// PartyTimes is the time one party spent in each step of a round, in
// seconds. Steps a party does not take stay zero.
type PartyTimes struct {
	Train, Protect, Combine, Reveal, Evaluate float64
}

// RoundMetrics is what the model owner records for one round.
type RoundMetrics struct {
	Round int
	// Evaluated is false in the rounds Federation.EvalEvery skips; their
	// test figures are then zero.
	Evaluated    bool
	TestAccuracy float64 // fraction in [0, 1]
	TestLoss     float64
	// TrainLoss is the mean of the contributing owners' last-epoch losses;
	// OwnerLoss holds each reporting owner's, by name.
	TrainLoss float64
	OwnerLoss map[string]float64 `json:",omitempty"`
	// Seconds is the round's wall time, from sending the global model to
	// the end of evaluation.
	Seconds float64
	// Simulated time (see package sim), in seconds: SimSeconds is the
	// round's, from the model owner sending the global model to the end
	// of its evaluation; SimTime the time since the run began at that end;
	// SimTrain and SimUpload the means over the contributors of their
	// training and of their update's upload (from its send to its arrival
	// at the secure worker, or its group's). They do not depend on the
	// machine: the same run gives the same figures anywhere.
	SimSeconds, SimTime, SimTrain, SimUpload float64
	// Timeline holds every party's steps of the round in simulated time
	// (not in summary.json: a round of many owners holds thousands).
	Timeline []*Span `json:"-"`
	// Train and Protect are means over the contributing owners; Combine is
	// the slowest holder's (in an aggregation tree the root's plus its
	// slowest group worker's: the combining on the critical path); Reveal
	// covers reveal shares and the model owner's reveal; Evaluate is the
	// model owner's test.
	Train, Protect, Combine, Reveal, Evaluate float64
	// Parties holds each party's own times, by name (in an aggregation
	// tree each group worker's combine time too, under its name).
	Parties map[string]PartyTimes
	// Bytes counts the serialized size of the messages sent this round,
	// by message kind; BytesSent is their total.
	Bytes     map[string]int64
	BytesSent int64
	// Contributors are the owners whose updates are in the aggregate;
	// Dropped were expected but missed the deadline or failed.
	Contributors, Dropped []string
	// Cohort lists the clients sampled this round, in slot order, when
	// the federation samples (Federation.Clients).
	Cohort []int `json:",omitempty"`
	// Epsilon is the ε of (ε, δ)-DP spent by the rounds so far, with
	// Federation.Privacy; 0 without.
	Epsilon float64 `json:",omitempty"`
	// Rejected records every message a party refused this round: the
	// secure workers, the model owner and, from their reports, the data
	// owners (see CountRejected).
	Rejected []*Rejection
	// Err is set when the round produced no aggregate; the global model
	// is then left unchanged.
	Err string
}

// collectTimes fills in the owners' and holders' times and the dropped list.
func (mo *modelOwner) collectTimes(rm *RoundMetrics) {
	var n int
	var trainLoss float64
	for _, o := range mo.fed.Owners {
		r := mo.reports[o.Name]
		if r == nil || r.Error != "" || !slices.Contains(rm.Contributors, o.Name) {
			rm.Dropped = append(rm.Dropped, o.Name)
		}
		if r == nil {
			continue
		}
		mo.addTimes(rm, o.Name, PartyTimes{Train: r.TrainSeconds, Protect: r.ProtectSeconds})
		if r.Error == "" && !math.IsNaN(r.TrainLoss) && !math.IsInf(r.TrainLoss, 0) {
			if rm.OwnerLoss == nil {
				rm.OwnerLoss = map[string]float64{}
			}
			rm.OwnerLoss[o.Name] = r.TrainLoss
		}
		if slices.Contains(rm.Contributors, o.Name) {
			n++
			rm.Train += r.TrainSeconds
			rm.Protect += r.ProtectSeconds
			trainLoss += r.TrainLoss
		}
	}
	if n > 0 {
		rm.Train /= float64(n)
		rm.Protect /= float64(n)
		rm.TrainLoss = trainLoss / float64(n)
	}
	for h, p := range mo.partials {
		mo.addTimes(rm, h, PartyTimes{Combine: p.CombineSeconds})
		var slowest float64 // the slowest group worker's, before the root's
		for g, s := range p.GroupCombineSeconds {
			if h != SecureWorkerName || mo.fed.groupIndex(g) < 0 || math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
				continue // only the root reports group workers' times
			}
			mo.addTimes(rm, g, PartyTimes{Combine: s})
			slowest = max(slowest, s)
		}
		rm.Combine = max(rm.Combine, slowest+p.CombineSeconds)
	}
}

func (mo *modelOwner) addTimes(rm *RoundMetrics, party string, t PartyTimes) {
	p := rm.Parties[party]
	p.Train += t.Train
	p.Protect += t.Protect
	p.Combine += t.Combine
	p.Reveal += t.Reveal
	p.Evaluate += t.Evaluate
	rm.Parties[party] = p
}

// simTimes fills in rm's simulated times and timeline from the reports,
// the holders' partials and the model owner's own steps, in the order of
// the owners and holders (sums in integer nanoseconds, so that the
// figures do not depend on the order of anything).
func (mo *modelOwner) simTimes(rm *RoundMetrics) {
	rm.SimSeconds = (mo.now - mo.began.sim).Seconds()
	rm.SimTime = mo.now.Seconds()
	for _, o := range mo.fed.Owners {
		if r := mo.reports[o.Name]; r != nil {
			rm.Timeline = append(rm.Timeline, r.Spans...)
		}
	}
	holders, _ := mo.holders()
	for _, h := range holders {
		if p := mo.partials[h]; p != nil {
			rm.Timeline = append(rm.Timeline, p.Spans...)
		}
	}
	rm.Timeline = append(rm.Timeline, mo.spans...)
	var train, upload time.Duration
	n := 0
	for _, s := range rm.Timeline {
		if s == nil || !slices.Contains(rm.Contributors, s.Party) {
			continue
		}
		switch s.Step {
		case "train":
			train += time.Duration(s.EndNs - s.StartNs)
			n++
		case "upload":
			upload += time.Duration(s.EndNs - s.StartNs)
		}
	}
	if n > 0 {
		rm.SimTrain = train.Seconds() / float64(n)
		rm.SimUpload = upload.Seconds() / float64(len(rm.Contributors))
	}
}

// testExamples is the number of examples the model owner tests on.
func (mo *modelOwner) testExamples() int {
	if mo.fed.TestIndices != nil {
		return len(mo.fed.TestIndices)
	}
	return mo.fed.Test.Len()
}
