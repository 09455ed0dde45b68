package actors

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
	// Rejected records every message the secure workers or the model
	// owner refused this round (see CountRejected).
	Rejected []*Rejection
	// Err is set when the round produced no aggregate; the global model
	// is then left unchanged.
	Err string
}
