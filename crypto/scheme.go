package crypto

import (
	"errors"
	"fmt"
	"io"
)

// Party names a participant in the message flow. Data owners are numbered
// 0, 1, ..., Owners-1; the secure worker and the model owner have the
// negative constants below.
type Party int

const (
	// SecureWorker is the party that combines protected values.
	SecureWorker Party = -1
	// ModelOwner is the party that holds the global model and reveals the aggregate.
	ModelOwner Party = -2
)

// String returns "secure-worker", "model-owner" or "owner-<i>".
func (p Party) String() string {
	switch p {
	case SecureWorker:
		return "secure-worker"
	case ModelOwner:
		return "model-owner"
	}
	return fmt.Sprintf("owner-%d", int(p))
}

// Message is one payload addressed to one party. Payloads are self-describing
// (scheme, kind, parameter fingerprint) and validated when read.
type Message struct {
	To      Party
	Payload []byte
}

// Flow says which message exchanges a scheme needs beyond the common
// protect → combine → reveal path, so that a driver (the in-memory Run or the
// actor layer) runs every scheme with the same code.
type Flow struct {
	// KeyGen: after NewProtector, every data owner sends the set-up messages
	// from its KeyShares (one to the secure worker, and with PeerShares one to
	// every other data owner). The secure worker combines the key shares and
	// broadcasts CollectiveKey's result to every data owner's ReceiveSetup.
	KeyGen bool
	// RoundKeys: the same exchange as KeyGen runs at the start of every
	// round, before Protect, among that round's data owners: KeyShares, the
	// secure worker's Combine and CollectiveKey delivered with
	// ReceiveSetup(SecureWorker, ck), and with PeerShares the peer messages
	// delivered with ReceiveSetup(Party(from), payload). Per round a
	// Protector's KeyShares is called first (it discards the previous
	// round's key state), then ReceiveSetup for this round's messages in any
	// order, then Protect and possibly RevealShare. Owners whose key share
	// did not reach the secure worker are left out of the round.
	RoundKeys bool
	// PeerShares: KeyShares also returns one message per other data owner,
	// delivered with ReceiveSetup (t-out-of-N key sharing).
	PeerShares bool
	// HoldingOwners, if positive, splits protected updates across holders:
	// the secure worker and the data owners 0..HoldingOwners-1 (all N, or
	// the committee of additive ss with Config.Committee). Each holder
	// combines the messages addressed to it and sends its partial to the
	// model owner. 0: the secure worker alone holds them.
	HoldingOwners int
	// Holders is the number of partials Revealer.Reveal needs: with
	// HoldingOwners, from any Holders of the HoldingOwners+1 holders (all
	// of them for additive ss, Threshold for Shamir ss); otherwise 1, the
	// secure worker's.
	Holders int
	// RevealShares: the secure worker sends the aggregate, the contributors
	// and the list of owners asked to data owners, combines their
	// RevealShare outputs and sends the result with the aggregate to the
	// model owner.
	RevealShares bool
	// AnyReveal (with RevealShares): an owner's reveal share does not depend
	// on which other owners answer, so the secure worker asks every
	// contributor and forwards the combination as soon as Threshold shares
	// have arrived (secagg). Without it (ckks-threshold) the secure worker
	// fixes exactly Threshold available owners in advance, sorted, and all
	// of them must answer.
	AnyReveal bool
	// Threshold is the number of data owners whose reveal shares suffice
	// (with RevealShares). Schemes without reveal shares report N, or t for
	// Shamir ss.
	Threshold int
}

// Scheme is one way to aggregate protected updates. It hands out one role
// value per party; each role holds only the key material its party may hold.
//
// The message flow (see Run for an executable version):
//
//  1. The model owner calls NewRevealer and sends Revealer.Setup to everyone.
//  2. Each data owner calls NewProtector with that set-up; the secure worker
//     (and, with Flow.HoldingOwners, each holding data owner) calls NewCombiner.
//     With Flow.KeyGen the key-generation exchange described there follows.
//  3. With Flow.RoundKeys, the round's key exchange; then each data owner
//     sends the messages from Protector.Protect. A holder may validate
//     the first update it receives with Combiner.Check.
//  4. Each holder folds what it received with Combiner.Combine (associative,
//     so any tree of combiners works) and sends its partial on.
//  5. With Flow.RevealShares, data owners answer the aggregate with
//     Protector.RevealShare, combined by the secure worker with Combine.
//  6. The model owner calls Revealer.Reveal.
type Scheme interface {
	// Name is the scheme's registered name, e.g. "ckks".
	Name() string
	// Literal returns the parameters in use, for recording in summary.json.
	Literal() any
	// Flow describes the optional message exchanges.
	Flow() Flow
	// NewRevealer makes the model owner's role and its keys, if any.
	NewRevealer(rand io.Reader) (Revealer, error)
	// NewProtector makes data owner owner's role from the model owner's set-up.
	NewProtector(owner int, setup []byte, rand io.Reader) (Protector, error)
	// NewCombiner makes a holder's role from the model owner's set-up. A
	// Combiner never holds a secret key or a plaintext update.
	NewCombiner(setup []byte) (Combiner, error)
}

// Revealer is the model owner's role. In single-key schemes it holds the
// secret key.
type Revealer interface {
	// Setup returns the public set-up material for every other party.
	Setup() []byte
	// Reveal returns the weighted sum and the total weight from the
	// holders' partial aggregates and, with Flow.RevealShares, the combined
	// reveal share.
	Reveal(partials [][]byte, revealShare []byte) (sum []float64, weight float64, err error)
}

// Protector is a data owner's role. It holds public keys and, in threshold
// schemes, the owner's own secret-key share.
type Protector interface {
	// KeyShares returns this owner's key-generation messages (Flow.KeyGen).
	KeyShares() ([]Message, error)
	// ReceiveSetup takes a key-generation message sent by from.
	ReceiveSetup(from Party, payload []byte) error
	// Protect protects weight*update and weight for sending. It does not
	// modify update.
	Protect(update []float64, weight float64) ([]Message, error)
	// RevealShare returns this owner's share for revealing aggregate
	// (Flow.RevealShares). contributors are the data owners whose updates
	// the aggregate sums; active are the owners asked to answer (with
	// ckks-threshold exactly Threshold of them, sorted, this one included).
	RevealShare(aggregate []byte, contributors, active []int) ([]byte, error)
}

// Combiner is a holder's role (the secure worker; in ss also each data
// owner). It holds parameters and public keys only and is safe for
// concurrent use. (Protectors and Revealers keep scratch buffers and are
// not; each actor owns its own.)
type Combiner interface {
	// Combine adds two payloads of the same kind: protected updates, key
	// shares or reveal shares. It is associative and commutative and
	// modifies neither argument.
	Combine(a, b []byte) ([]byte, error)
	// CollectiveKey turns the combination of all data owners' key shares
	// into the collective public key (Flow.KeyGen) or the round's key list
	// (Flow.RoundKeys).
	CollectiveKey(keyShares []byte) ([]byte, error)
	// Check reports whether payload is a well-formed protected update of
	// this scheme and session, of a kind Protect addresses to a holder, that
	// combines exactly contributions updates (1 for what Protect returns),
	// decoding it fully as Combine would. It lets a holder validate the
	// first update of a round, which it stores without combining, and the
	// model owner validate partials. With Config.MaxNorm, plain also checks
	// the update's norm.
	Check(payload []byte, contributions int) error
}

// Sentinel errors. Errors returned by this package wrap them with context.
var (
	// ErrBadPayload reports bytes that do not decode as the expected value.
	ErrBadPayload = errors.New("crypto: malformed payload")
	// ErrMismatch reports a payload from another scheme, kind or parameter set.
	ErrMismatch = errors.New("crypto: payload does not match scheme parameters")
	// ErrOutOfRange reports a value outside the encodable range.
	ErrOutOfRange = errors.New("crypto: value out of encodable range")
	// ErrTooManyContributions reports a combination of more updates than owners.
	ErrTooManyContributions = errors.New("crypto: more contributions than owners")
	// ErrTooFewShares reports a reveal without enough reveal shares or partials.
	ErrTooFewShares = errors.New("crypto: too few shares")
	// ErrNotSupported reports a step the scheme's Flow does not include.
	ErrNotSupported = errors.New("crypto: step not used by this scheme")
)

// Config selects and sizes a scheme. Zero fields take defaults.
type Config struct {
	// Owners is the number of data owners N (at least 1).
	Owners int
	// Len is the length of an update vector (the weight travels extra).
	Len int
	// Threshold is the number of data owners needed to reveal in
	// ckks-threshold (0 means all N) and secagg (0 means N/2+1); in ss it
	// selects Shamir t-of-(N+1) sharing with t = Threshold in [2, N+1]
	// instead of the additive N+1-of-N+1 sharing (0).
	Threshold int
	// Committee, in additive ss, is the number of data owners that hold
	// shares besides the secure worker: the owners 0..Committee-1. Each
	// owner then makes Committee+1 shares instead of N+1, so a round's
	// share work grows as N·Committee rather than N². An update stays
	// secret unless the secure worker and the whole committee collude. 0
	// means every owner holds shares (Committee = N).
	Committee int
	// Params names a preset ("logN13", "logN14", "logN15", or just "13",
	// "14", "15", for the CKKS schemes; "2048" or "3072" for paillier); ""
	// picks the default.
	Params string
	// FixedPoint is the encoding for ss, secagg and paillier; zero means
	// DefaultFixedPoint.
	FixedPoint FixedPoint
	// MaxNorm bounds the L2 norm of updates and of the revealed mean; 0 means
	// no bound. Protectors refuse an update whose norm exceeds it; plain's
	// Combine and Check refuse a payload whose mean (weighted sum divided by
	// weight) exceeds it or whose weight is not positive and finite; every
	// Revealer refuses such a revealed aggregate, with ErrOutOfRange.
	MaxNorm float64
}
