package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// fixture is a synthetic dataset: the gzip-compressed contents of the four
// standard files and their digests.
type fixture struct {
	train, test *Set
	files       map[string][]byte
	sums        map[string]string
}

func newFixture(trainN, testN int) *fixture {
	fx := &fixture{train: synthetic(trainN), test: synthetic(testN)}
	fx.test.Images[0] = 255 // tell the sets apart
	fx.files = map[string][]byte{
		TrainImagesFile: gz(idxImages(fx.train.Len(), fx.train.Rows, fx.train.Cols, fx.train.Images)),
		TrainLabelsFile: gz(idxLabels(fx.train.Labels)),
		TestImagesFile:  gz(idxImages(fx.test.Len(), fx.test.Rows, fx.test.Cols, fx.test.Images)),
		TestLabelsFile:  gz(idxLabels(fx.test.Labels)),
	}
	fx.sums = make(map[string]string)
	for name, data := range fx.files {
		sum := sha256.Sum256(data)
		fx.sums[name] = hex.EncodeToString(sum[:])
	}
	return fx
}

// install writes the files into dir, creating it. Files listed in corrupt
// get altered contents.
func (fx *fixture) install(t *testing.T, dir string, corrupt ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range fx.files {
		if slices.Contains(corrupt, name) {
			data = gz([]byte("not the right file"))
		}
		writeFile(t, filepath.Join(dir, name), data)
	}
}

// check reports whether d holds the fixture's sets.
func (fx *fixture) check(t *testing.T, d *Data) {
	t.Helper()
	for _, c := range []struct {
		name      string
		got, want *Set
	}{{"train", d.Train, fx.train}, {"test", d.Test, fx.test}} {
		if !bytes.Equal(c.got.Images, c.want.Images) || !bytes.Equal(c.got.Labels, c.want.Labels) || c.got.Rows != c.want.Rows || c.got.Cols != c.want.Cols {
			t.Errorf("%s set differs from the fixture", c.name)
		}
	}
}

// listFiles returns the paths of all regular files under dir, relative to it.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// TestLoadSources checks the search order Dir, cache, system directory:
// the first place holding a file is used, and a bad file there is an
// error, not a reason to look further.
func TestLoadSources(t *testing.T) {
	fx := newFixture(30, 10)
	for _, tc := range []struct {
		desc    string
		dataset string
		good    string   // place holding the intact files
		bad     []string // places holding corrupt files
		wantErr string   // place named by the expected error, if any
	}{
		{"dir", "mnist", "dir", nil, ""},
		{"cache", "mnist", "cache", nil, ""},
		{"dir before cache", "mnist", "dir", []string{"cache"}, ""},
		{"corrupt dir stops", "mnist", "cache", []string{"dir"}, "dir"},
		{"fashion dir", "fashion", "dir", []string{"cache", "system"}, ""},
		{"fashion cache before system", "fashion", "cache", []string{"system"}, ""},
		{"fashion system", "fashion", "system", nil, ""},
		{"fashion-mnist alias", "fashion-mnist", "system", nil, ""},
		{"corrupt cache stops", "fashion", "system", []string{"cache"}, "cache"},
		{"mnist has no system copy", "mnist", "system", nil, "not found"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			root := t.TempDir()
			places := map[string]string{
				"dir":    filepath.Join(root, "dir"),
				"cache":  filepath.Join(root, "cache"),
				"system": filepath.Join(root, "system"),
			}
			sub := "mnist"
			if tc.dataset != "mnist" {
				sub = "fashion-mnist"
			}
			fx.install(t, filepath.Join(places[tc.good], sub))
			for _, b := range tc.bad {
				fx.install(t, filepath.Join(places[b], sub), TrainImagesFile)
			}
			opt := Options{
				Dir:       places["dir"],
				CacheDir:  places["cache"],
				SystemDir: places["system"],
				Offline:   true,
				Checksums: fx.sums,
			}
			d, err := Load(tc.dataset, opt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				fx.check(t, d)
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if p, ok := places[tc.wantErr]; ok {
				want := filepath.Join(p, sub, TrainImagesFile)
				if !strings.Contains(err.Error(), want) || !errors.Is(err, ErrChecksum) {
					t.Errorf("error %q does not name %s as a checksum mismatch", err, want)
				}
			} else if !errors.Is(err, ErrNotFound) {
				t.Errorf("error %q does not wrap ErrNotFound", err)
			}
		})
	}
}

func TestLoadRealChecksumsRejectSynthetic(t *testing.T) {
	fx := newFixture(5, 5)
	dir := t.TempDir()
	fx.install(t, filepath.Join(dir, "mnist"))
	_, err := Load("mnist", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true})
	want := filepath.Join(dir, "mnist", TrainImagesFile)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), want) {
		t.Errorf("Load = %v, want a checksum error naming %s", err, want)
	}
}

func TestLoadBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Options
		want string
	}{
		{"cifar", Options{}, "valid: mnist, fashion"},
		{"mnist", Options{Checksums: map[string]string{"x.gz": "00"}}, `unknown file "x.gz"`},
	} {
		_, err := Load(tc.name, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDataDir(t *testing.T) {
	t.Setenv(EnvDataDir, "/from/env")
	if got := DataDir("/from/flag"); got != "/from/flag" {
		t.Errorf("DataDir(flag) = %q", got)
	}
	if got := DataDir(""); got != "/from/env" {
		t.Errorf("DataDir(\"\") = %q, want the environment's value", got)
	}
	t.Setenv(EnvDataDir, "")
	if got := DataDir(""); got != "" {
		t.Errorf("DataDir with nothing set = %q", got)
	}
}

// server serves the fixture's files under /mirror/. Requests for files in
// override get the handler given there instead.
func (fx *fixture) server(t *testing.T, override map[string]http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		name, ok := strings.CutPrefix(r.URL.Path, "/mirror/")
		if h := override[name]; ok && h != nil {
			h(w, r)
			return
		}
		data, found := fx.files[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func TestDownload(t *testing.T) {
	fx := newFixture(200, 50)
	srv, requests := fx.server(t, nil)
	cache := t.TempDir()
	var progress bytes.Buffer
	opt := Options{
		CacheDir:  cache,
		SystemDir: t.TempDir(),
		BaseURL:   srv.URL + "/mirror", // no trailing slash: one is added
		Client:    srv.Client(),
		Progress:  &progress,
		Checksums: fx.sums,
	}
	d, err := Load("fashion", opt)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	fx.check(t, d)
	want := []string{
		filepath.Join("fashion-mnist", TestImagesFile),
		filepath.Join("fashion-mnist", TestLabelsFile),
		filepath.Join("fashion-mnist", TrainImagesFile),
		filepath.Join("fashion-mnist", TrainLabelsFile),
	}
	if got := listFiles(t, cache); !slices.Equal(got, want) {
		t.Errorf("cache holds %v, want %v", got, want)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	out := progress.String()
	if !strings.Contains(out, srv.URL+"/mirror/"+TrainImagesFile+": 100%") || strings.Count(out, "\n") > 4*5 {
		t.Errorf("unexpected progress output:\n%s", out)
	}

	// A second load is served from the cache.
	if _, err := Load("fashion", opt); err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("second Load made %d more requests", n-4)
	}
}

// TestDownloadFailures checks that a failed download reports the URL and
// leaves nothing behind: the cache then holds only the files that were
// downloaded intact before the failure (the train images come first).
func TestDownloadFailures(t *testing.T) {
	fx := newFixture(200, 50)
	half := func(w http.ResponseWriter, r *http.Request) {
		data := fx.files[TrainLabelsFile]
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(data))
		buf.Write(data[:len(data)/2])
		buf.Flush()
	}
	short := func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: a body that simply ends early cannot be told
		// from a complete one except by its checksum.
		w.Write(fx.files[TrainLabelsFile][:20])
	}
	wrong := func(w http.ResponseWriter, r *http.Request) {
		w.Write(fx.files[TestLabelsFile])
	}
	for _, tc := range []struct {
		desc    string
		handler http.HandlerFunc
		want    string
		is      error
	}{
		{"404", http.NotFound, "404 Not Found", nil},
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) }, "503", nil},
		{"checksum mismatch", wrong, "SHA-256 is", ErrChecksum},
		{"stops halfway", half, "unexpected EOF", nil},
		{"short body without length", short, "SHA-256 is", ErrChecksum},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			srv, _ := fx.server(t, map[string]http.HandlerFunc{TrainLabelsFile: tc.handler})
			cache := t.TempDir()
			_, err := Load("mnist", Options{
				CacheDir:  cache,
				BaseURL:   srv.URL + "/mirror/",
				Client:    srv.Client(),
				Checksums: fx.sums,
			})
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			url := srv.URL + "/mirror/" + TrainLabelsFile
			if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s and contain %q", err, url, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			want := []string{filepath.Join("mnist", TrainImagesFile)}
			if got := listFiles(t, cache); !slices.Equal(got, want) {
				t.Errorf("cache holds %v, want %v", got, want)
			}
		})
	}
}

func TestDownloadCanceled(t *testing.T) {
	fx := newFixture(20, 5)
	srv, requests := fx.server(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cache := t.TempDir()
	_, err := LoadContext(ctx, "mnist", Options{CacheDir: cache, BaseURL: srv.URL + "/mirror/", Client: srv.Client(), Checksums: fx.sums})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("LoadContext = %v, want context.Canceled", err)
	}
	if got := listFiles(t, cache); len(got) != 0 || requests.Load() != 0 {
		t.Errorf("canceled load left %v after %d requests", got, requests.Load())
	}
}
