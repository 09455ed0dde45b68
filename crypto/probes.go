package crypto

import (
	"encoding/binary"
	"fmt"
	"math"
)

// PlaintextForm is one way a vector appears in the clear: Bytes holds its
// values one after another, Width bytes each; Width 0 means the form is
// searched whole (a packed plaintext).
type PlaintextForm struct {
	Name  string
	Width int
	Bytes []byte
}

// PlaintextForms returns the forms v takes in the clear, unprotected,
// in scheme s: little-endian float64 and float32 (plain's wire, and what
// any careless copy would show) and, for every scheme with a fixed-point
// encoding, its fixed-point integers in Z/2^64 (additive ss, secagg) and
// in GF(2^61-1) (ss-shamir), and Paillier's packed plaintexts (big
// endian, one form per pack). Values out of the encoding's range are left
// out of the fixed-point forms. A party that holds one of these byte
// strings, or a long enough part of one, holds plaintext.
func PlaintextForms(s Scheme, v []float64) []PlaintextForm {
	f64 := PlaintextForm{Name: "float64", Width: 8}
	f32 := PlaintextForm{Name: "float32", Width: 4}
	for _, x := range v {
		f64.Bytes = binary.LittleEndian.AppendUint64(f64.Bytes, math.Float64bits(x))
		f32.Bytes = binary.LittleEndian.AppendUint32(f32.Bytes, math.Float32bits(float32(x)))
	}
	forms := []PlaintextForm{f64, f32}
	fp := DefaultFixedPoint
	switch s := s.(type) {
	case *Additive:
		fp = s.cfg.FixedPoint
	case *SecAgg:
		fp = s.cfg.FixedPoint
	case *ShamirSS:
		fp = s.cfg.FixedPoint
	case *Paillier:
		fp = s.lit.FixedPoint
	}
	ring := PlaintextForm{Name: "fixed point in Z/2^64", Width: 8}
	field := PlaintextForm{Name: "fixed point in GF(2^61-1)", Width: 8}
	enc := make([]int64, 0, len(v))
	for _, x := range v {
		e, err := fp.Encode(x)
		if err != nil {
			e = 0
		}
		enc = append(enc, e)
		ring.Bytes = binary.LittleEndian.AppendUint64(ring.Bytes, uint64(e))
		field.Bytes = binary.LittleEndian.AppendUint64(field.Bytes, fromSigned(e))
	}
	forms = append(forms, ring, field)
	if p, ok := s.(*Paillier); ok {
		for i := 0; i*p.lit.Slots < len(enc); i++ {
			forms = append(forms, PlaintextForm{Name: fmt.Sprintf("paillier pack %d", i), Bytes: p.pack(enc, i).Bytes()})
		}
	}
	return forms
}

// Probes for tests and soak runs: payloads no honest party makes, to check
// how parties refuse them, and the forms a plaintext takes, to check that
// no party sees one. They keep the knowledge of parameters, encodings and
// wire layouts here, in the package that owns them.

// Mismatched returns a configuration of the scheme called name whose
// payloads a session configured by cfg refuses with ErrMismatch: another
// ring dimension for the CKKS schemes, another fixed-point encoding for
// the others.
func Mismatched(name string, cfg Config) Config {
	switch name {
	case "ckks", "ckks-threshold":
		other := "logN14"
		if cfg.Params == "logN14" || cfg.Params == "14" {
			other = "logN13"
		}
		cfg.Params = other
	default:
		cfg.FixedPoint = FixedPoint{FracBits: 24, MaxAbs: 1 << 20}
	}
	return cfg
}

// WithPlainValue returns a copy of p, a plain update payload, in which
// value i of the weighted update is x: NaN, an infinity or a value of
// absurd norm, which plain's Protector refuses to make.
func WithPlainValue(p []byte, i int, x float64) ([]byte, error) {
	if len(p) < headerLen+8*(i+1) || i < 0 || p[3] != idPlain {
		return nil, fmt.Errorf("crypto: %d-byte payload has no plain value %d", len(p), i)
	}
	q := append([]byte(nil), p...)
	binary.LittleEndian.PutUint64(q[headerLen+8*i:], math.Float64bits(x))
	return q, nil
}
