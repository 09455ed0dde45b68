// Package secrecy finds secrets in what a party holds, for tests that
// check a party never sees a plaintext update or a secret key. A test
// gives the secrets in their byte forms (crypto.PlaintextForms, key
// material) and the bytes a party received or keeps (Blobs walks any
// value for them); a Detector says which secret, if any, shows.
//
// A secret of fixed-width elements (a vector, key coefficients) is found
// by any Window consecutive elements of it, anywhere in a blob, so that a
// party holding part of a secret is caught too. Windows in which an
// element is all zero bytes are not searched: zeros are everywhere.
package secrecy

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"slices"
)

// Secret is a value no party but its owner may hold, in one byte form:
// elements of Width bytes one after another, or, with Width 0, bytes that
// are searched whole.
type Secret struct {
	Name  string
	Width int
	Bytes []byte
}

// Detector searches bytes for any secret it was made with.
type Detector struct {
	windows map[string]string // window bytes -> secret name
	lens    []int             // the window lengths in use
}

// NewDetector indexes the windows of window elements of every secret.
func NewDetector(window int, secrets ...Secret) *Detector {
	d := &Detector{windows: map[string]string{}}
	add := func(b []byte, name string) {
		if len(b) == 0 || allZero(b) {
			return
		}
		d.windows[string(b)] = name
		if !slices.Contains(d.lens, len(b)) {
			d.lens = append(d.lens, len(b))
		}
	}
	for _, s := range secrets {
		if s.Width <= 0 {
			add(s.Bytes, s.Name)
			continue
		}
		n := len(s.Bytes) / s.Width
		if n < window {
			add(s.Bytes, s.Name) // shorter than a window: search it whole
			continue
		}
	next:
		for i := 0; i+window <= n; i++ {
			w := s.Bytes[i*s.Width : (i+window)*s.Width]
			for j := range window {
				if allZero(w[j*s.Width : (j+1)*s.Width]) {
					continue next
				}
			}
			add(w, s.Name)
		}
	}
	return d
}

// Find returns the name of the first secret found in blob, or "".
func (d *Detector) Find(blob []byte) string {
	for _, l := range d.lens {
		for i := 0; i+l <= len(blob); i++ {
			if name, ok := d.windows[string(blob[i:i+l])]; ok {
				return name
			}
		}
	}
	return ""
}

// FindAny returns the name of the first secret found in any of blobs.
func (d *Detector) FindAny(blobs [][]byte) string {
	for _, b := range blobs {
		if name := d.Find(b); name != "" {
			return name
		}
	}
	return ""
}

func allZero(b []byte) bool { return !slices.ContainsFunc(b, func(x byte) bool { return x != 0 }) }

// Blobs returns the raw bytes reachable from v: every slice or array of
// bytes, integers or floats (as little-endian values), string and
// big.Int magnitude (big endian, as big.Int.Bytes gives it), through
// pointers, interfaces, structs (exported fields or not), maps and
// slices. Struct fields named in skip are not entered (for example a
// field that points at state all parties of a simulation share).
func Blobs(v any, skip ...string) [][]byte { return ValueBlobs(reflect.ValueOf(v), skip...) }

// ValueBlobs is Blobs of a reflected value, which may be an unexported
// field.
func ValueBlobs(v reflect.Value, skip ...string) [][]byte {
	w := walker{seen: map[uintptr]bool{}, skip: skip}
	w.walk(v)
	return w.out
}

type walker struct {
	seen map[uintptr]bool
	skip []string
	out  [][]byte
}

var bigIntType = reflect.TypeOf(big.Int{})

func (w *walker) walk(v reflect.Value) {
	if !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		w.walk(v.Elem())
	case reflect.Interface:
		w.walk(v.Elem())
	case reflect.Struct:
		if v.Type() == bigIntType {
			w.bigInt(v)
			return
		}
		for i := range v.NumField() {
			if !slices.Contains(w.skip, v.Type().Field(i).Name) {
				w.walk(v.Field(i))
			}
		}
	case reflect.Map:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		it := v.MapRange()
		for it.Next() {
			w.walk(it.Key())
			w.walk(it.Value())
		}
	case reflect.String:
		w.out = append(w.out, []byte(v.String()))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && (v.IsNil() || v.Len() == 0) {
			return
		}
		if b, ok := raw(v); ok {
			w.out = append(w.out, b)
			return
		}
		for i := range v.Len() {
			w.walk(v.Index(i))
		}
	}
}

// raw returns the little-endian bytes of a slice or array of numbers.
func raw(v reflect.Value) ([]byte, bool) {
	var b []byte
	n := v.Len()
	switch v.Type().Elem().Kind() {
	case reflect.Uint8:
		b = make([]byte, n)
		for i := range n {
			b[i] = byte(v.Index(i).Uint())
		}
	case reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint, reflect.Uintptr:
		size := int(v.Type().Elem().Size())
		for i := range n {
			b = appendUint(b, v.Index(i).Uint(), size)
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		size := int(v.Type().Elem().Size())
		for i := range n {
			b = appendUint(b, uint64(v.Index(i).Int()), size)
		}
	case reflect.Float64:
		for i := range n {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Index(i).Float()))
		}
	case reflect.Float32:
		for i := range n {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v.Index(i).Float())))
		}
	default:
		return nil, false
	}
	return b, true
}

func appendUint(b []byte, x uint64, size int) []byte {
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], x)
	return append(b, buf[:size]...)
}

// bigInt adds a big.Int's magnitude, big endian without leading zeros,
// read from its words (its fields are not exported).
func (w *walker) bigInt(v reflect.Value) {
	abs := v.FieldByName("abs")
	var be []byte
	for i := abs.Len() - 1; i >= 0; i-- {
		if x := abs.Index(i).Uint(); bits.UintSize == 32 {
			be = binary.BigEndian.AppendUint32(be, uint32(x))
		} else {
			be = binary.BigEndian.AppendUint64(be, x)
		}
	}
	if b := bytes.TrimLeft(be, "\x00"); len(b) > 0 {
		w.out = append(w.out, b)
	}
}
