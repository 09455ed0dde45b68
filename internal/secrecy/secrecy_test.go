package secrecy

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// f64 returns the little-endian float64 form of v.
func f64(name string, v []float64) Secret {
	s := Secret{Name: name, Width: 8}
	for _, x := range v {
		s.Bytes = binary.LittleEndian.AppendUint64(s.Bytes, math.Float64bits(x))
	}
	return s
}

// holder hides values the way a careless party might: unexported, behind
// pointers, interfaces and maps.
type holder struct {
	name   string
	copied []float64
	coeffs [][]uint64
	key    *big.Int
	byName map[string]any
	shared *[]float64 // stands for state every party of a simulation shares
}

func TestDetectorFindsPlantedSecrets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	update := make([]float64, 50)
	for i := range update {
		update[i] = rng.NormFloat64()
	}
	coeffs := make([]uint64, 40)
	for i := range coeffs {
		coeffs[i] = rng.Uint64()
	}
	keyBytes := make([]byte, 48)
	for i := range keyBytes {
		keyBytes[i] = byte(rng.Uint32())
	}
	keyBytes[0] |= 1
	coeffForm := Secret{Name: "coefficients", Width: 8}
	for _, c := range coeffs {
		coeffForm.Bytes = binary.LittleEndian.AppendUint64(coeffForm.Bytes, c)
	}
	d := NewDetector(4, f64("update", update), coeffForm, Secret{Name: "key", Bytes: keyBytes})

	cases := map[string]struct {
		h    holder
		want string
	}{
		"nothing":          {holder{name: "bob", copied: []float64{1, 2, 3, 4, 5}}, ""},
		"a window":         {holder{copied: append([]float64{9}, update[20:24]...)}, "update"},
		"three values":     {holder{copied: update[20:23]}, ""}, // shorter than a window
		"in a ring poly":   {holder{coeffs: [][]uint64{{7}, coeffs[3:10]}}, "coefficients"},
		"as a big.Int":     {holder{key: new(big.Int).SetBytes(keyBytes)}, "key"},
		"behind a map":     {holder{byName: map[string]any{"x": &[]float64{0, update[7], update[8], update[9], update[10]}}}, "update"},
		"in a string":      {holder{name: string(f64("", update[30:34]).Bytes)}, "update"},
		"in skipped state": {holder{shared: &update}, ""},
	}
	for name, c := range cases {
		if got := d.FindAny(Blobs(&c.h, "shared")); got != c.want {
			t.Errorf("%s: found %q, want %q", name, got, c.want)
		}
	}
	if got := d.FindAny(Blobs(&holder{shared: &update})); got != "update" {
		t.Errorf("without skip: found %q, want update", got)
	}
}

func TestZeroWindowsAreNotSearched(t *testing.T) {
	d := NewDetector(2, f64("sparse", []float64{0, 0, 0, 1, 2}))
	if got := d.Find(make([]byte, 64)); got != "" {
		t.Errorf("zeros matched %q", got)
	}
	if got := d.Find(f64("", []float64{1, 2}).Bytes); got != "sparse" {
		t.Errorf("the non-zero window was not found: %q", got)
	}
}
