package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// leafUser is one writer's data in LEAF's schema.
type leafUser struct {
	X [][]float64 `json:"x"`
	Y []int       `json:"y"`
}

// leafFile returns a LEAF JSON file for the given writers, each with
// counts[k] random examples of pixel/255 values.
func leafFile(t *testing.T, users []string, counts []int, seed uint64) ([]byte, map[string]leafUser) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 62))
	data := map[string]leafUser{}
	for k, u := range users {
		var ud leafUser
		for range counts[k] {
			x := make([]float64, 784)
			for j := range x {
				x[j] = float64(rng.IntN(256)) / 255
			}
			ud.X = append(ud.X, x)
			ud.Y = append(ud.Y, rng.IntN(62))
		}
		data[u] = ud
	}
	b, err := json.Marshal(map[string]any{"users": users, "num_samples": counts, "user_data": data})
	if err != nil {
		t.Fatal(err)
	}
	return b, data
}

// TestReadFEMNIST decodes a generated file: pixels round-trip exactly,
// labels and writers are kept, and examples are grouped by writer.
func TestReadFEMNIST(t *testing.T) {
	users := []string{"f0001_07", "f0002_33", "f0100_12"}
	b, data := leafFile(t, users, []int{3, 1, 4}, 1)
	s, w, err := ReadFEMNIST(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 8 || s.Classes() != 62 || !slices.Equal(s.Shape(), []int{1, 28, 28}) || !slices.Equal(w.Users, users) {
		t.Fatalf("%d examples, %d classes, shape %v, users %v", s.Len(), s.Classes(), s.Shape(), w.Users)
	}
	dst := make([]float32, 784)
	for k, u := range users {
		if len(w.Examples[k]) != len(data[u].Y) {
			t.Fatalf("writer %s has %d examples, want %d", u, len(w.Examples[k]), len(data[u].Y))
		}
		for i, e := range w.Examples[k] {
			if l := s.Read(e, dst); l != data[u].Y[i] {
				t.Errorf("writer %s example %d: label %d, want %d", u, i, l, data[u].Y[i])
			}
			for j, v := range data[u].X[i] {
				if dst[j] != float32(v) {
					t.Fatalf("writer %s example %d value %d: %v, want %v", u, i, j, dst[j], v)
				}
			}
		}
	}
}

// TestReadFEMNISTErrors feeds malformed files: every one is refused with
// ErrLEAFFormat and a message saying what is wrong.
func TestReadFEMNISTErrors(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"users":       []string{"a", "b"},
			"num_samples": []int{1, 1},
			"user_data": map[string]any{
				"a": map[string]any{"x": [][]float64{make([]float64, 784)}, "y": []int{3}},
				"b": map[string]any{"x": [][]float64{make([]float64, 784)}, "y": []int{61}},
			},
		}
	}
	enc := func(m map[string]any) string {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	edit := func(f func(m map[string]any)) string {
		m := good()
		f(m)
		return enc(m)
	}
	ud := func(m map[string]any, u string) map[string]any {
		return m["user_data"].(map[string]any)[u].(map[string]any)
	}
	valid := enc(good())
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not json", "{users", "invalid"},
		{"array", "[]", `want "{"`},
		{"truncated", valid[:len(valid)/2], ""},
		{"trailing", valid + "{}", "after the object"},
		{"no users", edit(func(m map[string]any) { delete(m, "users") }), `no "users"`},
		{"no user_data", edit(func(m map[string]any) { delete(m, "user_data") }), `no "user_data"`},
		{"count mismatch", edit(func(m map[string]any) { m["num_samples"] = []int{2, 1} }), "num_samples says 2"},
		{"users mismatch", edit(func(m map[string]any) { m["users"] = []string{"a", "c"} }), `user "c" has no data`},
		{"extra user", edit(func(m map[string]any) { m["users"] = []string{"a"}; m["num_samples"] = []int{1} }), "1 users, 1 sample counts and 2"},
		{"x/y mismatch", edit(func(m map[string]any) { ud(m, "a")["y"] = []int{1, 2} }), "1 inputs and 2 labels"},
		{"short row", edit(func(m map[string]any) { ud(m, "a")["x"] = [][]float64{make([]float64, 783)} }), "783 values"},
		{"label 62", edit(func(m map[string]any) { ud(m, "b")["y"] = []int{62} }), "label 62"},
		{"negative label", edit(func(m map[string]any) { ud(m, "b")["y"] = []int{-1} }), "label -1"},
		{"value above 1", edit(func(m map[string]any) {
			x := make([]float64, 784)
			x[5] = 1.5
			ud(m, "a")["x"] = [][]float64{x}
		}), "value 5 is 1.5"},
		{"string value", strings.Replace(valid, "[0,0,0", `["0",0,0`, 1), "user"},
		{"duplicate key", `{"users":["a"],"users":["a"],"num_samples":[0],"user_data":{"a":{"x":[],"y":[]}}}`, "given twice"},
		{"duplicate user", `{"users":["a"],"num_samples":[0],"user_data":{"a":{"x":[],"y":[]},"a":{"x":[],"y":[]}}}`, `user "a" given twice`},
	} {
		_, _, err := ReadFEMNIST(strings.NewReader(tc.data))
		if !errors.Is(err, ErrLEAFFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrLEAFFormat containing %q", tc.name, err, tc.want)
		}
	}
	// Unknown keys, such as LEAF's "hierarchies", are skipped.
	m := good()
	m["hierarchies"] = []string{"x", "y"}
	if _, _, err := ReadFEMNIST(strings.NewReader(enc(m))); err != nil {
		t.Errorf("extra key: %v", err)
	}
}

// TestLoadFEMNIST loads generated train/ and test/ directories of several
// files: writers in file order form the natural partition, and the
// failures are clear.
func TestLoadFEMNIST(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, FEMNISTDir)
	for _, sub := range []string{"train", "test"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f1, _ := leafFile(t, []string{"w1", "w2"}, []int{3, 2}, 1)
	f2, _ := leafFile(t, []string{"w3", "w0"}, []int{1, 4}, 2)
	ft, _ := leafFile(t, []string{"w1", "w3"}, []int{2, 1}, 3)
	writeFile(t, filepath.Join(root, "train", "all_data_0_train.json"), f1)
	writeFile(t, filepath.Join(root, "train", "all_data_1_train.json"), f2)
	writeFile(t, filepath.Join(root, "train", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(root, "test", "all_data_0_test.json"), ft)
	d, err := Load("femnist", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 10 || d.Test.Len() != 3 || d.Train.Classes() != 62 {
		t.Fatalf("train %d, test %d, classes %d", d.Train.Len(), d.Test.Len(), d.Train.Classes())
	}
	// Writers in each file's users order; w0's data precede w3's in file 2.
	want := [][]int{{0, 1, 2}, {3, 4}, {9}, {5, 6, 7, 8}}
	if fmt.Sprint(d.Natural) != fmt.Sprint(want) {
		t.Errorf("natural partition %v, want %v", d.Natural, want)
	}
	p, err := NaturalPartitioner(d)
	if err != nil {
		t.Fatal(err)
	}
	parts, err := p.Partition(d.Train.Labels, 4, nil)
	if err != nil || fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Errorf("natural partition for 4 owners: %v, %v", parts, err)
	}

	// A writer in two training files.
	writeFile(t, filepath.Join(root, "train", "all_data_2_train.json"), ft)
	if _, err := Load("femnist", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true}); !errors.Is(err, ErrLEAFFormat) || !strings.Contains(err.Error(), `user "w1" is also in`) {
		t.Errorf("writer twice: %v", err)
	}
	os.Remove(filepath.Join(root, "train", "all_data_2_train.json"))
	// A corrupt file is named.
	writeFile(t, filepath.Join(root, "test", "all_data_0_test.json"), f1[:100])
	if _, err := Load("femnist", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true}); !errors.Is(err, ErrLEAFFormat) || !strings.Contains(err.Error(), "all_data_0_test.json") {
		t.Errorf("corrupt test file: %v", err)
	}
	// No test files.
	os.Remove(filepath.Join(root, "test", "all_data_0_test.json"))
	if _, err := Load("femnist", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("no test files: %v", err)
	}
	// Nothing at all: not downloadable.
	if _, err := Load("femnist", Options{Dir: t.TempDir(), CacheDir: t.TempDir()}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "LEAF") {
		t.Errorf("no femnist: %v", err)
	}
}
