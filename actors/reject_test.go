package actors

import (
	"errors"
	"testing"
)

// TestRejectLogIsBounded floods a party's log: the detailed records stop
// at the cap, and the counts still add up to every refused message.
func TestRejectLogIsBounded(t *testing.T) {
	e := &env{fed: &Federation{}}
	e.fed.Logger = discardIfNil(nil)
	l := rejectLog{party: SecureWorkerName}
	const flood = 1000
	for i := range flood {
		err := reject(ReasonStale, "replay %d", i)
		if i%2 == 1 {
			err = errors.New("garbage")
		}
		l.add(e, 1, &ProtectedUpdate{Sender: "bob"}, err)
	}
	got := l.take()
	if len(got) != maxRejectDetails+2 {
		t.Errorf("%d records after %d refusals, want %d details and 2 summaries", len(got), flood, maxRejectDetails)
	}
	n := CountRejected([]RoundMetrics{{Rejected: got}})
	if n[ReasonStale] != flood/2 || n[ReasonMalformed] != flood/2 {
		t.Errorf("counts %v, want %d of each", n, flood/2)
	}
	// A holder's forwarded list is bounded the same way.
	var theirs rejectLog
	for range 3 {
		for _, r := range got {
			theirs.record(r)
		}
	}
	again := theirs.take()
	if len(again) > maxRejectDetails+2 {
		t.Errorf("forwarded records grew to %d", len(again))
	}
	if m := CountRejected([]RoundMetrics{{Rejected: again}}); m[ReasonStale] != 3*flood/2 {
		t.Errorf("forwarded counts %v, want %d stale", m, 3*flood/2)
	}
	if len(l.take()) != 0 {
		t.Error("take did not reset the log")
	}
}
