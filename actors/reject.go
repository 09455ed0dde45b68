package actors

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/fedactor/fedactor/crypto"
)

// Reason codes of a Rejection. Every message a party refuses is recorded
// under exactly one of them.
const (
	// ReasonMalformed: the payload does not decode.
	ReasonMalformed = "malformed"
	// ReasonMismatch: another scheme, parameter set, session key or length.
	ReasonMismatch = "mismatch"
	// ReasonOutOfRange: NaN, Inf, or a norm or weight outside the bounds.
	ReasonOutOfRange = "out-of-range"
	// ReasonStale: a round that is over (a replay, or a message that lost a race).
	ReasonStale = "stale"
	// ReasonFuture: a round that has not started.
	ReasonFuture = "future"
	// ReasonDuplicate: a second message of the same kind from the same sender.
	ReasonDuplicate = "duplicate"
	// ReasonUnknownSender: a sender that is not a party, or not one asked.
	ReasonUnknownSender = "unknown-sender"
	// ReasonUnexpected: a message the party does not take in its current step.
	ReasonUnexpected = "unexpected"
	// ReasonLate: a message of the current round that came after its step
	// closed (an honest straggler: counted, logged at debug level only).
	ReasonLate = "late"
)

// rejection is an error with a reason code.
type rejection struct {
	reason string
	err    error
}

func (r *rejection) Error() string { return r.err.Error() }
func (r *rejection) Unwrap() error { return r.err }

// reject returns an error with reason code reason.
func reject(reason, format string, args ...any) error {
	return &rejection{reason: reason, err: fmt.Errorf(format, args...)}
}

// reasonOf classifies err: its own code if it has one, else by the
// crypto sentinel it wraps.
func reasonOf(err error) string {
	var r *rejection
	switch {
	case errors.As(err, &r):
		return r.reason
	case errors.Is(err, crypto.ErrMismatch):
		return ReasonMismatch
	case errors.Is(err, crypto.ErrOutOfRange):
		return ReasonOutOfRange
	}
	return ReasonMalformed
}

// roundCheck rejects a message for round got when the party is at round
// at and takes messages of that round only.
func roundCheck(kind string, got, at int32) error {
	switch {
	case got < at:
		return reject(ReasonStale, "%s for round %d at round %d", kind, got, at)
	case got > at:
		return reject(ReasonFuture, "%s for round %d at round %d", kind, got, at)
	}
	return nil
}

// stragglers are the messages a closed step did not get, by key (e.g.
// "update/bob") with their round: one that comes later is late, not a
// replay.
type stragglers map[string]int32

// late reports whether key is a straggler of round, and forgets it.
func (s stragglers) late(key string, round int32) bool {
	r, ok := s[key]
	if ok && r == round {
		delete(s, key)
		return true
	}
	return false
}

// maxRejectDetails is the number of refusals per party and round recorded
// one by one; later ones are counted per reason, so that a flood of bad
// messages costs bounded memory.
const maxRejectDetails = 64

// rejectLog records refused messages for one party and logs them.
type rejectLog struct {
	party string
	list  []*Rejection
	n     int // records in list that stand for one message each
}

// add records msg, refused with err, and logs it (late stragglers, and
// anything past the detail cap, at debug level; the rest as a warning).
func (l *rejectLog) add(e *env, round int32, msg proto.Message, err error) {
	r := &Rejection{Party: l.party, Sender: senderOf(msg), Kind: kindOf(msg), Reason: reasonOf(err), Detail: err.Error(), Count: 1}
	level := e.fed.Logger.Warn
	if r.Reason == ReasonLate || l.n >= maxRejectDetails {
		level = e.fed.Logger.Debug
	}
	level("message rejected", "party", l.party, "round", round, "kind", r.Kind, "sender", r.Sender, "reason", r.Reason, "err", err)
	l.record(r)
}

// record keeps r, or past the cap adds its count to the summary record of
// its party and reason.
func (l *rejectLog) record(r *Rejection) {
	if l.n < maxRejectDetails && r.GetCount() <= 1 {
		l.n++
		l.list = append(l.list, r)
		return
	}
	for _, s := range l.list[l.n:] {
		if s.Party == r.Party && s.Reason == r.Reason {
			s.Count += max(r.Count, 1)
			return
		}
	}
	l.list = append(l.list, &Rejection{Party: r.Party, Reason: r.Reason, Detail: "further refusals, counted only", Count: max(r.Count, 1)})
}

// recordAll keeps the records another party forwarded, as refusals of
// party (or, with party "", of the party each names), through this log's
// bound, so that no party can make a round's record grow without bound.
func (l *rejectLog) recordAll(party string, rs []*Rejection) {
	for _, r := range rs {
		if r == nil {
			continue
		}
		if party != "" {
			r = &Rejection{Party: party, Sender: r.Sender, Kind: r.Kind, Reason: r.Reason, Detail: r.Detail, Count: r.Count}
		}
		l.record(r)
	}
}

// take returns the records so far and starts a new list.
func (l *rejectLog) take() []*Rejection {
	out := l.list
	l.list, l.n = nil, 0
	return out
}

// kindOf returns a message's type name, e.g. "ProtectedUpdate".
func kindOf(msg proto.Message) string { return string(msg.ProtoReflect().Descriptor().Name()) }

// senderOf returns the sender a message claims, if it names one.
func senderOf(msg proto.Message) string {
	switch m := msg.(type) {
	case interface{ GetSender() string }:
		return m.GetSender()
	case *Partial:
		return m.GetHolder()
	}
	return ""
}

// CountRejected returns the number of rejections in rounds by reason code.
func CountRejected(rounds []RoundMetrics) map[string]int {
	n := map[string]int{}
	for _, r := range rounds {
		for _, x := range r.Rejected {
			n[x.Reason] += max(int(x.Count), 1)
		}
	}
	return n
}
