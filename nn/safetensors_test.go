package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinyModel returns a small convnet (conv, pool, conv, dense, dense) with
// random weights, quick to save and load, for malformed-input tests and
// fuzzing.
func tinyModel(t testing.TB, seed uint64) *Model {
	t.Helper()
	m, err := NewModel(Shape{2, 6, 6}, []Layer{
		Conv2D(3, 3), ReLU(), MaxPool2D(2), Conv2D(2, 2), Flatten(), Dense(4), ReLU(), Dense(2),
	}, rand.New(rand.NewPCG(seed, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// randomize gives every parameter of m (biases too) a random value.
func randomize(m *Model, rng *rand.Rand) {
	for i := range m.w {
		m.w[i] = float32(rng.NormFloat64())
	}
}

func saveBytes(t testing.TB, m *Model, meta map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := SaveSafetensors(&b, m, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stFile assembles a safetensors file from a header and a data section.
func stFile(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// splitFile returns the header and data of a well-formed file.
func splitFile(t testing.TB, file []byte) (string, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(file)
	return string(file[8 : 8+n]), file[8+n:]
}

// parsedHeader is a safetensors header decoded independently of the code
// under test.
type parsedEntry struct {
	Dtype       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets []int  `json:"data_offsets"`
}

func parseTestHeader(t testing.TB, header string) (map[string]parsedEntry, map[string]string) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(header), &raw); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	entries := map[string]parsedEntry{}
	for k, v := range raw {
		if k == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var e parsedEntry
		if err := json.Unmarshal(v, &e); err != nil {
			t.Fatal(err)
		}
		entries[k] = e
	}
	return entries, meta
}

func TestSafetensorsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	models := []*Model{tinyModel(t, 1)}
	for _, name := range []string{CNN, MLP, LogReg} {
		m, err := New(name, rng)
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	for _, m := range models {
		t.Run(m.Name(), func(t *testing.T) {
			randomize(m, rng)
			m.w[0] = float32(math.Copysign(0, -1)) // signed zero survives
			m.w[1] = math.SmallestNonzeroFloat32   // so do subnormals
			user := map[string]string{"round": "7", "note": "ünïcode <ok>"}
			file := saveBytes(t, m, user)
			if !bytes.Equal(file, saveBytes(t, m, user)) {
				t.Fatal("two saves of one model differ")
			}
			hn := binary.LittleEndian.Uint64(file)
			if (8+hn)%8 != 0 {
				t.Errorf("data starts at byte %d, not 8-byte aligned", 8+hn)
			}
			if got, want := len(file)-8-int(hn), 4*m.NumParams(); got != want {
				t.Errorf("data section %d bytes, want %d", got, want)
			}

			// Into a fresh model of the same architecture.
			fresh, err := NewModel(m.InputShape(), m.Layers(), nil)
			if err != nil {
				t.Fatal(err)
			}
			meta, err := LoadSafetensors(bytes.NewReader(file), fresh)
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.w {
				if math.Float32bits(fresh.w[i]) != math.Float32bits(m.w[i]) {
					t.Fatalf("parameter %d: loaded %v, saved %v", i, fresh.w[i], m.w[i])
				}
			}
			want := map[string]string{
				"round": "7", "note": "ünïcode <ok>",
				MetaFormat: "pt", MetaArchitecture: m.Name(),
				MetaNumParams:  fmt.Sprint(m.NumParams()),
				MetaInputShape: joinInts(m.InputShape(), ","),
				MetaLayers:     layersString(m.Layers()),
			}
			if fmt.Sprint(meta) != fmt.Sprint(want) {
				t.Errorf("metadata %v, want %v", meta, want)
			}

			// Through a file, and through a reader without Len.
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := SaveSafetensorsFile(path, m, user); err != nil {
				t.Fatal(err)
			}
			onDisk, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(onDisk, file) {
				t.Fatalf("file differs from stream (err %v)", err)
			}
			clear(fresh.w)
			if _, err := LoadSafetensorsFile(path, fresh); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fresh.w, m.w) {
				t.Error("parameters differ after file round trip")
			}
			clear(fresh.w)
			if _, err := LoadSafetensors(struct{ *bytes.Reader }{bytes.NewReader(file)}, fresh); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(fresh.w, m.w) {
				t.Error("parameters differ after round trip through a plain reader")
			}
		})
	}
}

// TestSafetensorsCNNGolden pins the PyTorch names, shapes and offsets of
// the CNN export and its reserved metadata.
func TestSafetensorsCNNGolden(t *testing.T) {
	m, err := New(CNN, nil)
	if err != nil {
		t.Fatal(err)
	}
	header, data := splitFile(t, saveBytes(t, m, nil))
	entries, meta := parseTestHeader(t, header)
	want := map[string]parsedEntry{
		"conv1.weight": {"F32", []int{32, 1, 3, 3}, []int{0, 1152}},
		"conv1.bias":   {"F32", []int{32}, []int{1152, 1280}},
		"conv2.weight": {"F32", []int{56, 32, 3, 3}, []int{1280, 65792}},
		"conv2.bias":   {"F32", []int{56}, []int{65792, 66016}},
		"fc.weight":    {"F32", []int{10, 1400}, []int{66016, 122016}},
		"fc.bias":      {"F32", []int{10}, []int{122016, 122056}},
	}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Errorf("header tensors\n got %v\nwant %v", entries, want)
	}
	if len(data) != 4*30514 {
		t.Errorf("data section %d bytes, want %d", len(data), 4*30514)
	}
	wantMeta := map[string]string{
		"format": "pt", "architecture": "cnn", "num_params": "30514", "input_shape": "1,28,28",
		"layers": "Conv2D(32, 3x3) ReLU() MaxPool2D(2) Conv2D(56, 3x3) ReLU() MaxPool2D(2) Flatten() Dropout(0.5) Dense(10)",
	}
	if fmt.Sprint(meta) != fmt.Sprint(wantMeta) {
		t.Errorf("metadata %v, want %v", meta, wantMeta)
	}
	// Tensors in the header appear in parameter order.
	var order []string
	for _, s := range m.Tensors() {
		order = append(order, s.Name)
	}
	if want := []string{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"}; !slices.Equal(order, want) {
		t.Errorf("Tensors order %v, want %v", order, want)
	}
	last := -1
	for _, name := range order {
		i := strings.Index(header, `"`+name+`"`)
		if i < last {
			t.Errorf("tensor %s out of order in header", name)
		}
		last = i
	}
}

func TestSafetensorsNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		want string
	}{
		{MLP, "fc1.weight[200 784] fc1.bias[200] fc2.weight[200 200] fc2.bias[200] fc3.weight[10 200] fc3.bias[10]"},
		{LogReg, "fc.weight[10 784] fc.bias[10]"},
	} {
		m, err := New(tc.name, nil)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		total := 0
		for _, s := range m.Tensors() {
			parts = append(parts, fmt.Sprintf("%s%v", s.Name, s.Shape))
			if s.Offset != total {
				t.Errorf("%s: %s at offset %d, want %d", tc.name, s.Name, s.Offset, total)
			}
			total += s.Size()
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("%s tensors %s, want %s", tc.name, got, tc.want)
		}
		if total != m.NumParams() {
			t.Errorf("%s: tensors hold %d values, model has %d", tc.name, total, m.NumParams())
		}
	}
}

// stateDict decodes a safetensors file independently of LoadSafetensors:
// name to shape and float32 values.
type tensor struct {
	shape []int
	v     []float32
}

func stateDict(t testing.TB, file []byte) map[string]tensor {
	t.Helper()
	header, data := splitFile(t, file)
	entries, _ := parseTestHeader(t, header)
	sd := map[string]tensor{}
	for name, e := range entries {
		raw := data[e.DataOffsets[0]:e.DataOffsets[1]]
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		sd[name] = tensor{e.Shape, v}
	}
	return sd
}

// torchCNN evaluates the PyTorch module
//
//	conv1 = Conv2d(1, 32, 3); conv2 = Conv2d(32, 56, 3); fc = Linear(1400, 10)
//	x = max_pool2d(relu(conv1(x)), 2); x = max_pool2d(relu(conv2(x)), 2)
//	fc(flatten(x, 1))
//
// on one NCHW example from a state_dict, indexing every tensor by its
// PyTorch shape, so it checks the exported layout (including the flatten
// order C, H, W) without reference to the parameter vector.
func torchCNN(sd map[string]tensor, x []float64) []float64 {
	type act struct {
		c, h, w int
		v       []float64
	}
	conv := func(a act, p string) act {
		wt, b := sd[p+".weight"], sd[p+".bias"]
		o, ci, kh, kw := wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3]
		r := act{o, a.h - kh + 1, a.w - kw + 1, nil}
		r.v = make([]float64, o*r.h*r.w)
		for oc := 0; oc < o; oc++ {
			for y := 0; y < r.h; y++ {
				for xx := 0; xx < r.w; xx++ {
					s := float64(b.v[oc])
					for c := 0; c < ci; c++ {
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								s += float64(wt.v[((oc*ci+c)*kh+i)*kw+j]) * a.v[(c*a.h+y+i)*a.w+xx+j]
							}
						}
					}
					r.v[(oc*r.h+y)*r.w+xx] = max(s, 0) // relu
				}
			}
		}
		return r
	}
	pool := func(a act) act {
		r := act{a.c, a.h / 2, a.w / 2, nil}
		r.v = make([]float64, r.c*r.h*r.w)
		for c := 0; c < r.c; c++ {
			for y := 0; y < r.h; y++ {
				for xx := 0; xx < r.w; xx++ {
					m := math.Inf(-1)
					for i := 0; i < 2; i++ {
						for j := 0; j < 2; j++ {
							m = max(m, a.v[(c*a.h+2*y+i)*a.w+2*xx+j])
						}
					}
					r.v[(c*r.h+y)*r.w+xx] = m
				}
			}
		}
		return r
	}
	a := pool(conv(pool(conv(act{1, 28, 28, x}, "conv1")), "conv2"))
	flat := a.v // torch.flatten of a C×H×W tensor: index (c·H + y)·W + x
	fc := sd["fc.weight"]
	out := make([]float64, fc.shape[0])
	for o := range out {
		s := float64(sd["fc.bias"].v[o])
		for i := 0; i < fc.shape[1]; i++ {
			s += float64(fc.v[o*fc.shape[1]+i]) * flat[i]
		}
		out[o] = s
	}
	return out
}

// TestSafetensorsTorchSemantics checks that the exported CNN, evaluated
// as PyTorch would evaluate its state_dict on NCHW input, gives the
// model's own logits.
func TestSafetensorsTorchSemantics(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	m, err := New(CNN, rng)
	if err != nil {
		t.Fatal(err)
	}
	for i := range m.w {
		if m.w[i] == 0 {
			m.w[i] = 0.1 * float32(rng.NormFloat64()) // non-zero biases
		}
	}
	sd := stateDict(t, saveBytes(t, m, nil))
	const n = 3
	src := randomSource(rng, n, 784, 10)
	w := newWork(m.a, n, false)
	if err := w.load(src, []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	logits := w.forward(m.w, n, &fwdCtx{})
	for e := 0; e < n; e++ {
		x := make([]float64, 784)
		for j := range x {
			x[j] = float64(src.x[e*784+j])
		}
		want := torchCNN(sd, x)
		for j, v := range want {
			if got := float64(logits[e*10+j]); math.Abs(got-v) > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("example %d logit %d: model %v, PyTorch semantics %v", e, j, got, v)
			}
		}
	}
}

func TestSaveSafetensorsErrors(t *testing.T) {
	m := tinyModel(t, 1)
	var b bytes.Buffer
	for _, tc := range []struct {
		name string
		m    *Model
		meta map[string]string
		want string
	}{
		{"nil model", nil, nil, "nil model"},
		{"reserved key", m, map[string]string{MetaArchitecture: "x"}, "reserved"},
		{"bad utf-8", m, map[string]string{"k": "\xff"}, "UTF-8"},
	} {
		if err := SaveSafetensors(&b, tc.m, tc.meta); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	nan := m.Clone()
	nan.w[5] = float32(math.NaN())
	if err := SaveSafetensors(&b, nan, nil); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN parameter: error %v", err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveSafetensorsFile(path, m, nil); err != nil {
		t.Fatal(err)
	}
	if err := SaveSafetensorsFile(path, nan, nil); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN parameter to file: error %v", err)
	}
	if _, err := LoadSafetensorsFile(path, m.Clone()); err != nil {
		t.Errorf("failed save damaged the existing file: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("failed save left %d files behind", len(entries)-1)
	}
	if err := SaveSafetensors(failWriter{}, m, nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: error %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// tinyHeader returns the header of tinyModel's file with the tensor
// entries given as name→JSON overriding (or, with "", deleting) the
// originals, in parameter order, without metadata or padding.
func tinyHeader(t testing.TB, m *Model, edits map[string]string) string {
	t.Helper()
	var parts []string
	for _, s := range m.Tensors() {
		e := fmt.Sprintf(`{"dtype":"F32","shape":[%s],"data_offsets":[%d,%d]}`,
			joinInts(s.Shape, ","), 4*s.Offset, 4*(s.Offset+s.Size()))
		if v, ok := edits[s.Name]; ok {
			e = v
		}
		if e != "" {
			parts = append(parts, fmt.Sprintf("%q:%s", s.Name, e))
		}
	}
	for k, v := range edits {
		if !strings.Contains(strings.Join(parts, ","), `"`+k+`"`) && v != "" && !slices.ContainsFunc(m.Tensors(), func(s TensorSpec) bool { return s.Name == k }) {
			parts = append(parts, fmt.Sprintf("%q:%s", k, v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestLoadSafetensorsMalformed(t *testing.T) {
	m := tinyModel(t, 1)
	randomize(m, rand.New(rand.NewPCG(1, 1)))
	good := saveBytes(t, m, map[string]string{"k": "v"})
	header, data := splitFile(t, good)
	specs := m.Tensors()
	// Tensor sizes in bytes: conv1 w 216 b 12, conv2 w 96 b 8, fc1 w 32 b 16, fc2 w 32 b 8.
	w1 := specs[0]
	nanData := slices.Clone(data)
	binary.LittleEndian.PutUint32(nanData[4*specs[2].Offset+4:], math.Float32bits(float32(math.NaN())))
	infData := slices.Clone(data)
	binary.LittleEndian.PutUint32(infData[4*specs[5].Offset:], math.Float32bits(float32(math.Inf(-1))))
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	overCap := binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1)
	overFile := binary.LittleEndian.AppendUint64(nil, uint64(len(header)+len(data)+1))
	entry := func(shape string, b, e int) string {
		return fmt.Sprintf(`{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, shape, b, e)
	}
	// A file whose tensors are listed in reverse data order: valid.
	var rev []byte
	{
		var parts []string
		var buf []byte
		for i := len(specs) - 1; i >= 0; i-- {
			s := specs[i]
			parts = append(parts, fmt.Sprintf("%q:%s", s.Name, entry("["+joinInts(s.Shape, ",")+"]", len(buf), len(buf)+4*s.Size())))
			buf = append(buf, data[4*s.Offset:4*(s.Offset+s.Size())]...)
		}
		rev = stFile("{"+strings.Join(parts, ",")+"}", buf)
	}

	for _, tc := range []struct {
		name string
		file []byte
		want error  // ErrFormat or ErrMismatch; nil for a valid file
		msg  string // part of the error message
	}{
		{"valid", good, nil, ""},
		{"valid, no metadata, unpadded", stFile(tinyHeader(t, m, nil), data), nil, ""},
		{"valid, reversed data order", rev, nil, ""},
		{"valid, trailing whitespace", stFile(tinyHeader(t, m, nil)+"\n\t  ", data), nil, ""},
		{"leading whitespace", stFile(" "+tinyHeader(t, m, nil), data), ErrFormat, "start with"},
		{"empty", nil, ErrFormat, "header length"},
		{"short length", good[:5], ErrFormat, "header length"},
		{"length only", good[:8], ErrFormat, "truncated"},
		{"header cut", good[:8+len(header)/2], ErrFormat, "truncated"},
		{"data cut", good[:len(good)-1], ErrFormat, "truncated"},
		{"header only", good[:8+len(header)], ErrFormat, "truncated"},
		{"trailing byte", append(slices.Clone(good), 0), ErrFormat, "trailing"},
		{"huge header length", append(huge, good[8:]...), ErrFormat, "exceeds the limit"},
		{"header over cap", append(overCap, good[8:]...), ErrFormat, "exceeds the limit"},
		{"header past end", append(overFile, good[8:]...), ErrFormat, "truncated"},
		{"zero header", stFile("", data), ErrFormat, "start with"},
		{"bad json", stFile(`{"conv1.weight":`, data), ErrFormat, "header"},
		{"bad json 2", stFile(`{"conv1.weight" {}}`, data), ErrFormat, "header"},
		{"not an object", stFile(`[1,2]`, data), ErrFormat, "start with"},
		{"two objects", stFile(tinyHeader(t, m, nil)+"{}", data), ErrFormat, "after the object"},
		{"junk padding", stFile(tinyHeader(t, m, nil)+"\x00", data), ErrFormat, "after the object"},
		{"invalid utf-8", stFile("{\"\xff\":1}", data), ErrFormat, "UTF-8"},
		{"duplicate key", stFile(strings.Replace(tinyHeader(t, m, nil), "{", `{"fc2.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`, 1), data), ErrFormat, "duplicate"},
		{"metadata not strings", stFile(strings.Replace(tinyHeader(t, m, nil), "{", `{"__metadata__":{"a":1},`, 1), data), ErrFormat, "__metadata__"},
		{"metadata null", stFile(strings.Replace(tinyHeader(t, m, nil), "{", `{"__metadata__":null,`, 1), data), ErrFormat, "__metadata__"},
		{"tensor not object", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": "[1]"}), data), ErrFormat, "not an object"},
		{"unknown field", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2],"data_offsets":[176,184],"x":1}`}), data), ErrFormat, "unknown field"},
		{"no offsets", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2]}`}), data), ErrFormat, "two data offsets"},
		{"three offsets", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2],"data_offsets":[0,1,2]}`}), data), ErrFormat, "two data offsets"},
		{"negative offset", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}`}), data), ErrFormat, "header"},
		{"negative dim", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[-2],"data_offsets":[376,384]}`}), data), ErrFormat, "negative"},
		{"fractional dim", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2.5],"data_offsets":[376,384]}`}), data), ErrFormat, "header"},
		{"wrong shape", stFile(tinyHeader(t, m, map[string]string{"conv1.weight": entry("[3,2,9]", 0, 216)}), data), ErrMismatch, "shape"},
		{"transposed shape", stFile(tinyHeader(t, m, map[string]string{"fc1.weight": entry("[2,4]", 4*specs[4].Offset, 4*specs[4].Offset+32)}), data), ErrMismatch, "shape"},
		{"wrong dtype", stFile(strings.Replace(tinyHeader(t, m, nil), `"F32"`, `"F64"`, 1), data), ErrMismatch, "dtype"},
		{"missing tensor", stFile(tinyHeader(t, m, map[string]string{"fc1.bias": ""}), data), ErrMismatch, "missing"},
		{"extra tensor", stFile(tinyHeader(t, m, map[string]string{"fc3.bias": entry("[0]", 0, 0)}), data), ErrMismatch, "unexpected"},
		{"overlapping offsets", stFile(tinyHeader(t, m, map[string]string{"conv1.bias": entry("[3]", 4*w1.Size()-4, 4*w1.Size()+8)}), data), ErrFormat, "overlaps"},
		{"gap", stFile(tinyHeader(t, m, map[string]string{"conv1.bias": entry("[3]", 4*w1.Size()+4, 4*w1.Size()+16)}), data), ErrFormat, "gap"},
		{"span too long", stFile(tinyHeader(t, m, map[string]string{"conv1.bias": entry("[3]", 4*w1.Size(), 4*w1.Size()+16)}), data), ErrFormat, "span"},
		{"reversed offsets", stFile(tinyHeader(t, m, map[string]string{"conv1.bias": entry("[3]", 4*w1.Size()+12, 4*w1.Size())}), data), ErrFormat, "span"},
		{"offsets past end", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": entry("[2]", 1<<40, 1<<40+8)}), data), ErrFormat, "gap"},
		{"offset overflow", stFile(tinyHeader(t, m, map[string]string{"fc2.bias": `{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,18446744073709551615]}`}), data), ErrFormat, "span"},
		{"NaN", stFile(header, nanData), ErrMismatch, "NaN"},
		{"Inf", stFile(header, infData), ErrMismatch, "Inf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, plain := range []bool{false, true} {
				into := tinyModel(t, 99)
				before := slices.Clone(into.w)
				var r interface{ Read([]byte) (int, error) } = bytes.NewReader(tc.file)
				if plain {
					r = struct{ *bytes.Reader }{bytes.NewReader(tc.file)} // no Len
				}
				_, err := LoadSafetensors(r, into)
				if tc.want == nil {
					if err != nil {
						t.Fatalf("plain=%v: %v", plain, err)
					}
					if !slices.Equal(into.w, m.w) {
						t.Fatalf("plain=%v: loaded parameters differ", plain)
					}
					continue
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "nn: load safetensors: ") {
					t.Fatalf("plain=%v: error %v, want %v containing %q", plain, err, tc.want, tc.msg)
				}
				if !slices.Equal(into.w, before) {
					t.Fatalf("plain=%v: model changed by a failed load", plain)
				}
			}
		})
	}
}

func TestLoadSafetensorsWrongModel(t *testing.T) {
	mlp, err := New(MLP, nil)
	if err != nil {
		t.Fatal(err)
	}
	logreg, err := New(LogReg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadSafetensors(bytes.NewReader(saveBytes(t, logreg, nil)), mlp)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), `"fc1.weight" is missing`) {
		t.Errorf("logreg file into mlp: %v", err)
	}
	_, err = LoadSafetensors(bytes.NewReader(saveBytes(t, mlp, nil)), logreg)
	if !errors.Is(err, ErrMismatch) {
		t.Errorf("mlp file into logreg: %v", err)
	}
	if _, err := LoadSafetensors(bytes.NewReader(saveBytes(t, mlp, nil)), nil); err == nil {
		t.Error("nil model accepted")
	}
	if _, err := LoadSafetensorsFile(filepath.Join(t.TempDir(), "missing"), mlp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzLoadSafetensors checks that LoadSafetensors never panics, that it
// leaves the model alone when it fails, and that whatever it accepts
// saves and loads back to the same parameters.
func FuzzLoadSafetensors(f *testing.F) {
	m := tinyModel(f, 1)
	good := saveBytes(f, m, map[string]string{"k": "v"})
	header, data := splitFile(f, good)
	f.Add(good)
	f.Add(stFile(tinyHeader(f, m, nil), data))
	f.Add(good[:len(good)/2])
	f.Add(stFile(`{"conv1.weight":`, data))
	f.Add(stFile(strings.Replace(header, "[3,2,3,3]", "[3,2,9]", 1), data))
	f.Add(stFile(tinyHeader(f, m, map[string]string{"conv1.bias": `{"dtype":"F32","shape":[3],"data_offsets":[212,224]}`}), data))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 1<<62), good[8:]...))
	f.Fuzz(func(t *testing.T, file []byte) {
		into := tinyModel(t, 2)
		before := slices.Clone(into.w)
		if _, err := LoadSafetensors(bytes.NewReader(file), into); err != nil {
			if !slices.Equal(into.w, before) {
				t.Fatal("failed load changed the model")
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrMismatch) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrMismatch", err)
			}
			return
		}
		again := tinyModel(t, 3)
		if _, err := LoadSafetensors(bytes.NewReader(saveBytes(t, into, nil)), again); err != nil {
			t.Fatalf("re-saved file rejected: %v", err)
		}
		if !slices.Equal(again.w, into.w) {
			t.Fatal("re-saved file loads different parameters")
		}
	})
}
