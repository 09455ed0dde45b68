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

// String returns "secure-worker", "model-owner" or, for a data owner,
// "owner index i": an index, 0-based, not one of the names the actor
// layer gives its owners.
func (p Party) String() string {
	switch p {
	case SecureWorker:
		return "secure-worker"
	case ModelOwner:
		return "model-owner"
	}
	return fmt.Sprintf("owner index %d", int(p))
}

// Message is one payload addressed to one party. Payloads are self-describing
// (scheme, kind, parameter fingerprint) and validated when read.
type Message struct {
	To      Party
	Payload []byte
}

// Scheme is one way to aggregate protected updates. It hands out one role
// value per party; each role holds only the key material its party may hold.
//
// The common message flow (Run is an executable version):
//
//  1. The model owner calls NewRevealer and sends Revealer.Setup to everyone.
//  2. Each data owner calls NewProtector with that set-up; the secure worker
//     (and each holding data owner of a Holding scheme) calls NewCombiner.
//  3. Each data owner sends the messages from Protector.Protect. A holder
//     may validate the first update it receives with Combiner.Check.
//  4. Each holder folds what it received with Combiner.Combine (associative,
//     so any tree of combiners works) and sends its partial on.
//  5. The model owner calls Revealer.Reveal.
//
// Schemes that need more exchanges implement the optional interfaces of
// protocol.go: Holding, KeyGen and RevealSharing.
type Scheme interface {
	// Name is the scheme's registered name, e.g. "ckks".
	Name() string
	// Literal returns the parameters in use, for recording in summary.json.
	Literal() any
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
	// holders' partial aggregates and, in a RevealSharing scheme, the
	// combined reveal share (nil otherwise).
	Reveal(partials [][]byte, revealShare []byte) (sum []float64, weight float64, err error)
}

// Protector is a data owner's role. It holds public keys and, in threshold
// schemes, the owner's own secret-key share. KeyGen and RevealSharing
// schemes' Protectors do more (KeyExchanger, RevealSharer).
type Protector interface {
	// Protect protects weight*update and weight for sending. It does not
	// modify update.
	Protect(update []float64, weight float64) ([]Message, error)
}

// Combiner is a holder's role (the secure worker; in Holding schemes also
// each holding data owner). It holds parameters and public keys only and is
// safe for concurrent use. (Protectors and Revealers keep scratch buffers
// and are not; each actor owns its own.)
type Combiner interface {
	// Combine adds two payloads of the same kind: protected updates, key
	// shares or reveal shares. It is associative and commutative and
	// modifies neither argument.
	Combine(a, b []byte) ([]byte, error)
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
