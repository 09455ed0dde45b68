package actors

import "google.golang.org/protobuf/proto"

// early holds messages that arrive before the step they belong to has
// started at their recipient (an update of the next round before the
// secure worker's RoundStart, a peer's key share before this owner's own
// exchange began) and hands them back, in arrival order, once it has.
// Actors deliver each sender's messages in order, but not different
// senders' messages, so these races are normal, not attacks.
type early struct {
	msgs []proto.Message
}

// keep holds m, or refuses it with ReasonFuture once limit messages wait:
// a flood of messages for the future costs bounded memory.
func (e *early) keep(m proto.Message, limit int) error {
	if len(e.msgs) >= limit {
		return reject(ReasonFuture, "%s ahead of its step: too many early messages", kindOf(m))
	}
	e.msgs = append(e.msgs, m)
	return nil
}

// take returns the messages held and forgets them.
func (e *early) take() []proto.Message {
	out := e.msgs
	e.msgs = nil
	return out
}
