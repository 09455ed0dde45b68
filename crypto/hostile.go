package crypto

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Payloads no honest party makes, for tests and soak runs that check how
// parties refuse them. They keep the knowledge of parameters and wire
// layouts here, in the package that owns them.

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
