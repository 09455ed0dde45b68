package crypto

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// Every payload starts with a fixed header:
//
//	magic "fa", version 1, scheme id, kind, 8-byte parameter fingerprint,
//	4-byte count of contributions (little endian).
//
// The set-up message carries the fingerprint of the parameters alone; every
// later payload carries the session fingerprint, which also hashes the
// set-up bytes (see wire.bind), so that roles built from one set-up reject
// payloads made under another.
const headerLen = 2 + 1 + 1 + 1 + 8 + 4

const wireVersion = 1

// Scheme identifiers on the wire.
const (
	idPlain byte = iota + 1
	idAdditive
	idCKKS
	idThresholdCKKS
	idPaillier
	idSecAgg
	idSSShamir
)

// kind says what a payload holds.
type kind byte

const (
	kindSetup         kind = iota + 1 // model owner's public set-up
	kindUpdate                        // protected update(s) or partial sum
	kindKeyShare                      // collective key generation share
	kindPeerShare                     // owner-to-owner secret-key share
	kindCollectiveKey                 // collective public key
	kindRevealShare                   // key-switch share(s) on the aggregate
	kindSeedShare                     // ss share given by its 32-byte generator seed
)

func (k kind) String() string {
	switch k {
	case kindSetup:
		return "setup"
	case kindUpdate:
		return "update"
	case kindKeyShare:
		return "key share"
	case kindPeerShare:
		return "peer share"
	case kindCollectiveKey:
		return "collective key"
	case kindRevealShare:
		return "reveal share"
	case kindSeedShare:
		return "seed share"
	}
	return fmt.Sprintf("kind(%d)", byte(k))
}

// wire stamps and checks payload headers for one configured scheme.
type wire struct {
	id     byte
	fp     uint64
	owners int
}

func newWire(id byte, name string, literal any, cfg Config) wire {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%#v|%+v", name, literal, cfg)
	return wire{id: id, fp: h.Sum64(), owners: cfg.Owners}
}

// bind returns the wire of the session started by setup: its fingerprint
// hashes the parameter fingerprint and the set-up bytes.
func (w wire) bind(setup []byte) wire {
	h := sha256.New()
	h.Write([]byte("fedactor session v1"))
	h.Write(binary.LittleEndian.AppendUint64(nil, w.fp))
	h.Write(setup)
	w.fp = binary.LittleEndian.Uint64(h.Sum(nil))
	return w
}

// header returns a payload of headerLen+bodyLen bytes with the header filled in.
func (w wire) header(k kind, count int, bodyLen int) []byte {
	p := make([]byte, headerLen+bodyLen)
	p[0], p[1], p[2], p[3], p[4] = 'f', 'a', wireVersion, w.id, byte(k)
	binary.LittleEndian.PutUint64(p[5:], w.fp)
	binary.LittleEndian.PutUint32(p[13:], uint32(count))
	return p
}

// open checks p's header against kind k and body length bodyLen (negative:
// any) and returns the contribution count and the body.
func (w wire) open(p []byte, k kind, bodyLen int) (count int, body []byte, err error) {
	if len(p) < headerLen {
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrBadPayload, len(p))
	}
	if p[0] != 'f' || p[1] != 'a' || p[2] != wireVersion {
		return 0, nil, fmt.Errorf("%w: bad magic or version", ErrBadPayload)
	}
	if p[3] != w.id {
		return 0, nil, fmt.Errorf("%w: scheme id %d, want %d", ErrMismatch, p[3], w.id)
	}
	if kind(p[4]) != k {
		return 0, nil, fmt.Errorf("%w: got a %v, want a %v", ErrMismatch, kind(p[4]), k)
	}
	if binary.LittleEndian.Uint64(p[5:]) != w.fp {
		return 0, nil, fmt.Errorf("%w: parameter or session fingerprint differs", ErrMismatch)
	}
	c := binary.LittleEndian.Uint32(p[13:])
	if c < 1 || int64(c) > int64(w.owners) {
		return 0, nil, fmt.Errorf("%w: %d contributions, want 1..%d", ErrTooManyContributions, c, w.owners)
	}
	body = p[headerLen:]
	if bodyLen >= 0 && len(body) != bodyLen {
		return 0, nil, fmt.Errorf("%w: %v body of %d bytes, want %d", ErrBadPayload, k, len(body), bodyLen)
	}
	return int(c), body, nil
}

// kindOf returns the kind byte of a payload long enough to have a header.
func kindOf(p []byte) kind {
	if len(p) < headerLen {
		return 0
	}
	return kind(p[4])
}

// combineCounts opens a and b as kind k and returns the summed count.
func (w wire) combineCounts(a, b []byte, k kind, bodyLen int) (count int, ba, bb []byte, err error) {
	ca, ba, err := w.open(a, k, bodyLen)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("first operand: %w", err)
	}
	cb, bb, err := w.open(b, k, bodyLen)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("second operand: %w", err)
	}
	if ca+cb > w.owners {
		return 0, nil, nil, fmt.Errorf("%w: %d+%d > %d", ErrTooManyContributions, ca, cb, w.owners)
	}
	return ca + cb, ba, bb, nil
}
