package dataset

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FEMNIST in the JSON format of LEAF (Caldas et al. 2018, "LEAF: A
// Benchmark for Federated Settings"; github.com/TalwalkarLab/leaf): each
// file is one object
//
//	{"users": ["f0000_14", ...],
//	 "num_samples": [157, ...],
//	 "user_data": {"f0000_14": {"x": [[784 floats], ...], "y": [label, ...]}, ...}}
//
// with users and num_samples in the same order, and LEAF's preprocessing
// splits a data set into several such files under train/ and test/. An
// FEMNIST example is a 28×28 greyscale image as 784 values in [0, 1]
// (LEAF writes pixel/255, row-major) and a label in 0..61: 10 digits, 26
// upper-case and 26 lower-case letters. Its natural partition is by
// writer, the LEAF "user".
const (
	// FEMNISTDir is the directory under Options.Dir (or the cache) that
	// holds train/ and test/.
	FEMNISTDir = "femnist"
	// FEMNISTClasses is the number of FEMNIST classes.
	FEMNISTClasses = 62
	// FEMNISTSide is the height and width of an FEMNIST image.
	FEMNISTSide = 28
)

// ErrLEAFFormat is wrapped by every error that reports malformed LEAF
// JSON: invalid JSON, a missing or inconsistent field, a user listed
// twice, an example of the wrong size, a value outside [0, 1] or a label
// out of range.
var ErrLEAFFormat = errors.New("invalid LEAF JSON data")

// Writers lists the writers (LEAF users) of an FEMNIST set in file
// order, with the indices of each one's examples: Examples[k] belongs to
// Users[k].
type Writers struct {
	Users    []string
	Examples [][]int
}

// ReadFEMNIST decodes one LEAF JSON file of FEMNIST examples from r and
// returns them as a Set of 28×28 images with FEMNISTClasses classes,
// together with its writers: the users in the order of the file's
// "users" list, each with the indices of its examples in the Set. Pixel
// values are stored as round(255·x), exact for LEAF's pixel/255 values.
// The object must have "users", "num_samples" and "user_data" (other keys
// are ignored), agree on the users and their counts, and hold only
// examples of 784 values in [0, 1] with labels in 0..61; anything else is
// an error wrapping ErrLEAFFormat. The file is decoded one user at a
// time.
func ReadFEMNIST(r io.Reader) (*Set, *Writers, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrLEAFFormat, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	if err := expectDelim(dec, '{'); err != nil {
		return nil, nil, bad("%v", err)
	}
	const d = FEMNISTSide * FEMNISTSide
	s := &Set{Rows: FEMNISTSide, Cols: FEMNISTSide, ClassCount: FEMNISTClasses}
	var users []string
	var counts []int
	byUser := map[string][]int{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad("%v", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, nil, bad("key %q given twice", key)
		}
		seen[key] = true
		switch key {
		case "users":
			if err := dec.Decode(&users); err != nil {
				return nil, nil, bad("users: %v", err)
			}
		case "num_samples":
			if err := dec.Decode(&counts); err != nil {
				return nil, nil, bad("num_samples: %v", err)
			}
		case "user_data":
			if err := expectDelim(dec, '{'); err != nil {
				return nil, nil, bad("user_data: %v", err)
			}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, nil, bad("user_data: %v", err)
				}
				user, _ := tok.(string)
				if _, dup := byUser[user]; dup {
					return nil, nil, bad("user_data: user %q given twice", user)
				}
				var ud struct {
					X [][]float64 `json:"x"`
					Y []int       `json:"y"`
				}
				if err := dec.Decode(&ud); err != nil {
					return nil, nil, bad("user %q: %v", user, err)
				}
				if len(ud.X) != len(ud.Y) {
					return nil, nil, bad("user %q has %d inputs and %d labels", user, len(ud.X), len(ud.Y))
				}
				idx := make([]int, len(ud.Y))
				for i, x := range ud.X {
					if len(x) != d {
						return nil, nil, bad("user %q example %d has %d values, want %d (28x28)", user, i, len(x), d)
					}
					y := ud.Y[i]
					if y < 0 || y >= FEMNISTClasses {
						return nil, nil, bad("user %q example %d has label %d, want 0..%d", user, i, y, FEMNISTClasses-1)
					}
					for j, v := range x {
						if !(v >= 0 && v <= 1) {
							return nil, nil, bad("user %q example %d value %d is %v, not in [0, 1]", user, i, j, v)
						}
						s.Images = append(s.Images, uint8(math.Round(255*v)))
					}
					idx[i] = len(s.Labels)
					s.Labels = append(s.Labels, uint8(y))
				}
				byUser[user] = idx
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, nil, bad("user_data: %v", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, bad("%s: %v", key, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, bad("data after the object")
	}
	for _, k := range []string{"users", "num_samples", "user_data"} {
		if !seen[k] {
			return nil, nil, bad("no %q", k)
		}
	}
	if len(users) != len(counts) || len(users) != len(byUser) {
		return nil, nil, bad("%d users, %d sample counts and %d users' data", len(users), len(counts), len(byUser))
	}
	w := &Writers{Users: users, Examples: make([][]int, len(users))}
	for k, u := range users {
		idx, ok := byUser[u]
		if !ok {
			return nil, nil, bad("user %q has no data", u)
		}
		if len(idx) != counts[k] {
			return nil, nil, bad("user %q has %d examples, num_samples says %d", u, len(idx), counts[k])
		}
		w.Examples[k] = idx
	}
	return s, w, nil
}

// expectDelim reads the next token and checks that it is delim.
func expectDelim(dec *json.Decoder, delim json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != delim {
		return fmt.Errorf("got %v, want %q", tok, delim)
	}
	return nil
}

// loadFEMNIST loads FEMNIST from the first of Options.Dir/femnist/ and
// the cache's femnist/ that has a train/ directory: every *.json file of
// train/ (in name order) for the training set, with its writers as the
// natural partition, and of test/ for the test set. FEMNIST has no
// canonical download (LEAF builds it from NIST Special Database 19), so
// a missing directory is an error wrapping ErrNotFound.
func (l *loader) loadFEMNIST() (*Data, error) {
	cache, err := l.cacheDir()
	if err != nil {
		return nil, err
	}
	for _, dir := range l.dirs(cache) {
		if _, err := os.Stat(filepath.Join(dir, "train")); err != nil {
			continue
		}
		d := &Data{Name: l.sp.name}
		var w *Writers
		if d.Train, w, err = readFEMNISTDir(filepath.Join(dir, "train")); err != nil {
			return nil, err
		}
		if d.Test, _, err = readFEMNISTDir(filepath.Join(dir, "test")); err != nil {
			return nil, err
		}
		for _, ex := range w.Examples {
			if len(ex) > 0 {
				d.Natural = append(d.Natural, ex)
			}
		}
		return d, nil
	}
	return nil, fmt.Errorf("dataset: femnist: %w: no train/ in %s; FEMNIST cannot be downloaded, build it with LEAF's scripts (JSON files under train/ and test/)",
		ErrNotFound, strings.Join(l.dirs(cache), ", "))
}

// readFEMNISTDir reads and concatenates the *.json files of dir in name
// order; a writer may appear in only one of them.
func readFEMNISTDir(dir string) (*Set, *Writers, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("dataset: %w", err)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("dataset: femnist: %w: no *.json files in %s", ErrNotFound, dir)
	}
	slices.Sort(files)
	all := &Set{Rows: FEMNISTSide, Cols: FEMNISTSide, ClassCount: FEMNISTClasses}
	w := &Writers{}
	where := map[string]string{}
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, fmt.Errorf("dataset: %w", err)
		}
		s, fw, err := ReadFEMNIST(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("dataset: read %s: %w", p, err)
		}
		base := all.Len()
		for k, u := range fw.Users {
			if prev, dup := where[u]; dup {
				return nil, nil, fmt.Errorf("dataset: read %s: %w: user %q is also in %s", p, ErrLEAFFormat, u, prev)
			}
			where[u] = p
			idx := make([]int, len(fw.Examples[k]))
			for i, j := range fw.Examples[k] {
				idx[i] = base + j
			}
			w.Users = append(w.Users, u)
			w.Examples = append(w.Examples, idx)
		}
		all.Images = append(all.Images, s.Images...)
		all.Labels = append(all.Labels, s.Labels...)
	}
	if all.Len() == 0 {
		return nil, nil, fmt.Errorf("dataset: femnist: %w: the files in %s hold no examples", ErrLEAFFormat, dir)
	}
	return all, w, nil
}
