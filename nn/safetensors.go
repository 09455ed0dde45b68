package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fedactor/fedactor/internal/atomicfile"
)

// Safetensors export and import.
//
// A safetensors file is an 8-byte little-endian header length n, n bytes
// of UTF-8 JSON mapping tensor names to {"dtype", "shape",
// "data_offsets": [begin, end]} (plus an optional "__metadata__" object of
// strings), then the tensors' bytes, little-endian, with offsets relative
// to the end of the header. Because the flat parameter vector is already
// in PyTorch layout (see the package comment), the data section of a
// file SaveSafetensors writes is exactly that vector as float32.

// MaxSafetensorsHeader is the largest JSON header, in bytes, that
// LoadSafetensors accepts (the limit of the reference implementation).
const MaxSafetensorsHeader = 100 << 20

// Metadata keys that SaveSafetensors sets in a file's "__metadata__".
// Callers may add others but not override these.
const (
	// MetaFormat is "pt": the tensors are laid out as in PyTorch.
	MetaFormat = "format"
	// MetaArchitecture is the model's name (Model.Name): one of Models,
	// "sequential" or "regression".
	MetaArchitecture = "architecture"
	// MetaNumParams is the number of parameters in decimal, e.g. "30514".
	MetaNumParams = "num_params"
	// MetaInputShape is the shape of one example, comma-separated, e.g.
	// "1,28,28" (C, H, W) or "784".
	MetaInputShape = "input_shape"
	// MetaLayers lists the layers as Layer.String gives them, separated by
	// spaces, e.g. "Conv2D(32, 3x3) ReLU() MaxPool2D(2) ...". Together with
	// MetaInputShape it determines the PyTorch module: "Conv2D(F, KxK)"
	// is nn.Conv2d(C, F, K), "Conv2D(F, KxK, same)" is nn.Conv2d(C, F, K,
	// padding=(K-1)//2), "MaxPool2D(Q)" is max_pool2d(x, Q), "Dense(U)"
	// is nn.Linear(N, U), "Dropout(R)" is nn.Dropout(R), and ReLU() and
	// Flatten() are torch.relu and torch.flatten(x, 1).
	MetaLayers = "layers"
)

// ErrFormat is wrapped by every error LoadSafetensors returns for a
// stream that is not a well-formed safetensors file: truncated, with an
// oversized or invalid JSON header, or with offsets that are out of range,
// overlap or leave gaps.
var ErrFormat = errors.New("malformed safetensors file")

// ErrMismatch is wrapped by every error LoadSafetensors returns for a
// well-formed file that does not fit the model: a tensor missing or
// unexpected, of another dtype or shape, or holding NaN or infinity.
var ErrMismatch = errors.New("safetensors file does not match model")

// TensorSpec describes one parameter tensor of a Model as it appears in a
// PyTorch state_dict and in a safetensors file.
type TensorSpec struct {
	// Name is the state_dict key, e.g. "conv1.weight".
	Name string
	// Shape is the PyTorch shape: [out, in, kh, kw] for a convolution
	// kernel, [out, in] for a dense weight, [out] for a bias.
	Shape []int
	// Offset is the index of the tensor's first value in the flat
	// parameter vector (see Params); the tensor occupies Size values from
	// there, in row-major order of Shape.
	Offset int
}

// Size returns the number of values of the tensor, the product of Shape.
func (t TensorSpec) Size() int { return Shape(t.Shape).Size() }

// Tensors returns the model's parameter tensors in parameter-vector order,
// named as the attributes of the equivalent PyTorch module would be: each
// Conv2D layer gives "convK.weight" and "convK.bias", each Dense layer
// "fcK.weight" and "fcK.bias", with K counting layers of that kind from 1;
// a model with a single layer of a kind drops the number ("fc.weight").
// For CNN that is conv1, conv2 and fc; for MLP fc1, fc2 and fc3; for
// LogReg fc.
func (m *Model) Tensors() []TensorSpec {
	var nconv, ndense int
	for _, l := range m.a.layers {
		switch l.kind {
		case kindConv:
			nconv++
		case kindDense:
			ndense++
		}
	}
	name := func(prefix string, k, n int) string {
		if n == 1 {
			return prefix
		}
		return prefix + strconv.Itoa(k)
	}
	var specs []TensorSpec
	var kconv, kdense int
	in := m.a.input
	for i, l := range m.a.layers {
		off := m.a.offs[i]
		switch l.kind {
		case kindConv:
			kconv++
			p := name("conv", kconv, nconv)
			specs = append(specs,
				TensorSpec{Name: p + ".weight", Shape: []int{l.n, in[0], l.size, l.size}, Offset: off},
				TensorSpec{Name: p + ".bias", Shape: []int{l.n}, Offset: off + l.n*in[0]*l.size*l.size})
		case kindDense:
			kdense++
			p := name("fc", kdense, ndense)
			specs = append(specs,
				TensorSpec{Name: p + ".weight", Shape: []int{l.n, in[0]}, Offset: off},
				TensorSpec{Name: p + ".bias", Shape: []int{l.n}, Offset: off + l.n*in[0]})
		}
		in = m.a.shapes[i]
	}
	return specs
}

// SaveSafetensors writes m's parameters to w as a safetensors file: one
// F32 tensor per entry of m.Tensors, in that order, with PyTorch names
// and shapes, so that torch's load_state_dict accepts it for the
// equivalent module. The header's "__metadata__" holds metadata (which
// may be nil) plus the keys MetaFormat, MetaArchitecture, MetaNumParams,
// MetaInputShape and MetaLayers; metadata must not set those itself and
// must be valid UTF-8. The header is padded with spaces to a multiple of
// 8 bytes so that the data is 8-byte aligned. The output depends only on
// m's architecture and parameters and on metadata.
//
// SaveSafetensors refuses a model holding NaN or infinite parameters,
// which LoadSafetensors would reject.
func SaveSafetensors(w io.Writer, m *Model, metadata map[string]string) error {
	if err := saveSafetensors(w, m, metadata); err != nil {
		return fmt.Errorf("nn: save safetensors: %w", err)
	}
	return nil
}

// SaveSafetensorsFile writes m to the file path as SaveSafetensors does,
// atomically: the file is written under a temporary name in the same
// directory and renamed into place once complete, so on error path is
// left as it was.
func SaveSafetensorsFile(path string, m *Model, metadata map[string]string) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		return saveSafetensors(w, m, metadata)
	})
	if err != nil {
		return fmt.Errorf("nn: save safetensors: %w", err)
	}
	return nil
}

// saveSafetensors is SaveSafetensors without the error prefix.
func saveSafetensors(w io.Writer, m *Model, metadata map[string]string) error {
	if m == nil {
		return errors.New("nil model")
	}
	header, err := safetensorsHeader(m, metadata)
	if err != nil {
		return err
	}
	buf := make([]byte, 8, 8+len(header)+4*len(m.w))
	binary.LittleEndian.PutUint64(buf, uint64(len(header)))
	buf = append(buf, header...)
	for _, v := range m.w {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err = w.Write(buf)
	return err
}

// safetensorsHeader returns the padded JSON header describing m.
func safetensorsHeader(m *Model, metadata map[string]string) ([]byte, error) {
	for i, v := range m.w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("parameter %d of model %s is %v", i, m.a.name, v)
		}
	}
	meta := map[string]string{
		MetaFormat:       "pt",
		MetaArchitecture: m.a.name,
		MetaNumParams:    strconv.Itoa(m.a.nparams),
		MetaInputShape:   joinInts(m.a.input, ","),
		MetaLayers:       layersString(m.a.layers),
	}
	for k, v := range metadata {
		if _, ok := meta[k]; ok {
			return nil, fmt.Errorf("metadata key %q is reserved", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
		}
		meta[k] = v
	}
	var b bytes.Buffer
	b.WriteString(`{"__metadata__":`)
	enc, err := json.Marshal(meta) // keys sorted
	if err != nil {
		return nil, err
	}
	b.Write(enc)
	for _, t := range m.Tensors() {
		name, err := json.Marshal(t.Name)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, `,%s:{"dtype":"F32","shape":[%s],"data_offsets":[%d,%d]}`,
			name, joinInts(t.Shape, ","), 4*t.Offset, 4*(t.Offset+t.Size()))
	}
	b.WriteByte('}')
	for b.Len()%8 != 0 {
		b.WriteByte(' ')
	}
	return b.Bytes(), nil
}

// joinInts formats s as decimal numbers separated by sep.
func joinInts(s []int, sep string) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, sep)
}

// layersString lists layers separated by spaces.
func layersString(layers []Layer) string {
	parts := make([]string, len(layers))
	for i, l := range layers {
		parts[i] = l.String()
	}
	return strings.Join(parts, " ")
}

// LoadSafetensors reads a safetensors file from r into m's parameters and
// returns the file's "__metadata__" (nil if it has none). The file must
// hold exactly the tensors of m.Tensors, each F32 with the listed shape,
// finite, with offsets that tile the data section without overlaps or
// gaps, and nothing after the data. Tensors may appear in any order in the
// header and the data section. Malformed input is an error wrapping
// ErrFormat; a well-formed file that does not fit m is an error wrapping
// ErrMismatch; read errors are wrapped as they come. On any error m is
// left unchanged.
//
// The header may be at most MaxSafetensorsHeader bytes; memory grows with
// the bytes actually read, so a short stream claiming a long header costs
// little. If r has a Len method (bytes.Reader, strings.Reader,
// bytes.Buffer), a header longer than the rest of the stream is rejected
// before reading it.
func LoadSafetensors(r io.Reader, m *Model) (map[string]string, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	meta, err := loadSafetensors(r, m, size)
	if err != nil {
		return nil, fmt.Errorf("nn: load safetensors: %w", err)
	}
	return meta, nil
}

// LoadSafetensorsFile reads the safetensors file at path into m as
// LoadSafetensors does; errors name the file.
func LoadSafetensorsFile(path string, m *Model) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load safetensors: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("nn: load safetensors: %w", err)
	}
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	meta, err := loadSafetensors(f, m, size)
	if err != nil {
		return nil, fmt.Errorf("nn: load safetensors %s: %w", path, err)
	}
	return meta, nil
}

// headerEntry is one tensor's description in a safetensors header.
type headerEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// loadSafetensors is LoadSafetensors for a stream of size bytes (-1 if
// unknown).
func loadSafetensors(r io.Reader, m *Model, size int64) (map[string]string, error) {
	if m == nil {
		return nil, errors.New("nil model")
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
		return nil, readErr(err, "header length")
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxSafetensorsHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds the limit of %d bytes", ErrFormat, n, MaxSafetensorsHeader)
	}
	if size >= 0 && n > uint64(size-8) {
		return nil, fmt.Errorf("%w: truncated: header length %d exceeds the %d bytes after it", ErrFormat, n, size-8)
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if uint64(len(header)) < n {
		return nil, fmt.Errorf("%w: header truncated after %d of %d bytes", ErrFormat, len(header), n)
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}

	// Every tensor the model needs, of the right dtype and shape, and
	// nothing else.
	specs := m.Tensors()
	want := make(map[string]TensorSpec, len(specs))
	for _, t := range specs {
		want[t.Name] = t
		e, ok := entries[t.Name]
		if !ok {
			return nil, fmt.Errorf("%w: tensor %q is missing", ErrMismatch, t.Name)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("%w: tensor %q has dtype %q, want F32", ErrMismatch, t.Name, e.Dtype)
		}
		if !shapeEqual(e.Shape, t.Shape) {
			return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v", ErrMismatch, t.Name, e.Shape, t.Shape)
		}
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		if _, ok := want[name]; !ok {
			return nil, fmt.Errorf("%w: unexpected tensor %q (model %s has %d tensors)", ErrMismatch, name, m.a.name, len(specs))
		}
		names = append(names, name)
	}

	// Offsets: each tensor's byte length matches its shape, and sorted by
	// start they tile [0, total) exactly.
	for _, name := range names {
		e := entries[name]
		b, end := e.DataOffsets[0], e.DataOffsets[1]
		if b > end || end-b != 4*uint64(want[name].Size()) {
			return nil, fmt.Errorf("%w: tensor %q has data offsets [%d, %d], want a span of %d bytes", ErrFormat, name, b, end, 4*want[name].Size())
		}
	}
	sort.Slice(names, func(i, j int) bool {
		return entries[names[i]].DataOffsets[0] < entries[names[j]].DataOffsets[0]
	})
	var total uint64
	for _, name := range names {
		b, end := entries[name].DataOffsets[0], entries[name].DataOffsets[1]
		switch {
		case b < total:
			return nil, fmt.Errorf("%w: tensor %q at bytes [%d, %d) overlaps the tensor before it, which ends at %d", ErrFormat, name, b, end, total)
		case b > total:
			return nil, fmt.Errorf("%w: gap of bytes [%d, %d) before tensor %q", ErrFormat, total, b, name)
		}
		total = end
	}
	// total == 4·NumParams now, as every tensor matched its spec.
	if size >= 0 && total > uint64(size-8)-n {
		return nil, fmt.Errorf("%w: truncated: data section of %d bytes exceeds the %d bytes after the header", ErrFormat, total, uint64(size-8)-n)
	}
	data := make([]byte, total)
	if got, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: data truncated after %d of %d bytes", ErrFormat, got, total)
		}
		return nil, fmt.Errorf("reading data: %w", err)
	}
	var extra [1]byte
	if k, err := io.ReadFull(r, extra[:]); k > 0 {
		return nil, fmt.Errorf("%w: trailing bytes after the %d-byte data section", ErrFormat, total)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading data: %w", err)
	}

	w := make([]float32, len(m.w))
	for _, t := range specs {
		src := data[entries[t.Name].DataOffsets[0]:]
		dst := w[t.Offset : t.Offset+t.Size()]
		for i := range dst {
			v := math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: tensor %q value %d is %v", ErrMismatch, t.Name, i, v)
			}
			dst[i] = v
		}
	}
	copy(m.w, w)
	return meta, nil
}

// readErr reports a failure to read what: a short stream as ErrFormat,
// anything else as a read error.
func readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: stream ends before the %s", ErrFormat, what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// shapeEqual reports whether the header shape got equals want.
func shapeEqual(got []int64, want []int) bool {
	return slices.EqualFunc(got, want, func(g int64, w int) bool { return g == int64(w) })
}

// parseHeader decodes a safetensors JSON header: one object whose keys are
// unique, "__metadata__" mapping strings to strings and every other key a
// tensor entry with exactly dtype, shape and two data offsets, followed
// by nothing but whitespace.
func parseHeader(header []byte) (map[string]headerEntry, map[string]string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: header: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if !utf8.Valid(header) {
		return nil, nil, bad("not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, bad("does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // '{', checked above
		return nil, nil, bad("%v", err)
	}
	entries := make(map[string]headerEntry)
	var meta map[string]string
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad("%v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, bad("key %v is not a string", tok)
		}
		if seen[key] {
			return nil, nil, bad("duplicate key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, bad("value of %q: %v", key, err)
		}
		if key == "__metadata__" {
			if raw[0] != '{' {
				return nil, nil, bad("__metadata__ is not an object")
			}
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, bad("__metadata__ is not an object of strings: %v", err)
			}
			continue
		}
		if raw[0] != '{' {
			return nil, nil, bad("tensor %q is not an object", key)
		}
		var e headerEntry
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, nil, bad("tensor %q: %v", key, err)
		}
		if e.Dtype == "" || e.Shape == nil || len(e.DataOffsets) != 2 {
			return nil, nil, bad("tensor %q needs a dtype, a shape and two data offsets", key)
		}
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, bad("tensor %q has negative dimension in shape %v", key, e.Shape)
			}
		}
		entries[key] = e
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, bad("%v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			return nil, nil, bad("after the object: %v", err)
		}
		return nil, nil, bad("unexpected %v after the object", tok)
	}
	return entries, meta, nil
}
