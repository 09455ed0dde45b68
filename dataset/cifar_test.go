package dataset

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarRecords returns n records in the CIFAR-10 binary format with
// random labels and pixels, and the Set they encode.
func cifarRecords(n int, seed uint64) ([]byte, *Set) {
	rng := rand.New(rand.NewPCG(seed, 10))
	s := &Set{Rows: 32, Cols: 32, Channels: 3}
	var b []byte
	for range n {
		l := uint8(rng.IntN(10))
		img := make([]byte, 3072)
		for i := range img {
			img[i] = uint8(rng.IntN(256))
		}
		b = append(b, l)
		b = append(b, img...)
		s.Labels = append(s.Labels, l)
		s.Images = append(s.Images, img...)
	}
	return b, s
}

// cifarFixture is a generated CIFAR-10: six batch files of a few records
// each, the archive holding them as the official one does, and digests.
type cifarFixture struct {
	files       map[string][]byte
	archive     []byte
	sums        map[string]string
	train, test *Set
}

func newCIFARFixture(t *testing.T) *cifarFixture {
	fx := &cifarFixture{files: map[string][]byte{}, sums: map[string]string{}, train: &Set{Rows: 32, Cols: 32, Channels: 3}}
	for k, f := range CIFARTrainFiles {
		b, s := cifarRecords(3+k, uint64(k))
		fx.files[f] = b
		fx.train.Labels = append(fx.train.Labels, s.Labels...)
		fx.train.Images = append(fx.train.Images, s.Images...)
	}
	b, s := cifarRecords(4, 99)
	fx.files[CIFARTestFile], fx.test = b, s
	var tb bytes.Buffer
	zw := gzip.NewWriter(&tb)
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte, typ byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: typ}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	add(CIFARDir+"/", nil, tar.TypeDir)
	add(CIFARDir+"/batches.meta.txt", []byte("airplane\n"), tar.TypeReg)
	for _, f := range append(slices.Clone(CIFARTrainFiles), CIFARTestFile) {
		add(CIFARDir+"/"+f, fx.files[f], tar.TypeReg)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	fx.archive = tb.Bytes()
	for name, data := range fx.files {
		fx.sums[name] = sha256Hex(data)
	}
	fx.sums[CIFARArchive] = sha256Hex(fx.archive)
	return fx
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (fx *cifarFixture) check(t *testing.T, d *Data) {
	t.Helper()
	if d.Name != "cifar10" || d.Natural != nil {
		t.Errorf("name %q, natural %v", d.Name, d.Natural)
	}
	for _, c := range []struct {
		name      string
		got, want *Set
	}{{"train", d.Train, fx.train}, {"test", d.Test, fx.test}} {
		if !bytes.Equal(c.got.Images, c.want.Images) || !bytes.Equal(c.got.Labels, c.want.Labels) || !slices.Equal(c.got.Shape(), []int{3, 32, 32}) {
			t.Errorf("%s set differs from the fixture", c.name)
		}
		if err := c.got.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestReadCIFAR decodes generated records, channel-major: pixel 1024 of an
// image is the first green value, and Read scales it by 1/255.
func TestReadCIFAR(t *testing.T) {
	b, want := cifarRecords(5, 1)
	s, err := ReadCIFAR(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Images, want.Images) || !bytes.Equal(s.Labels, want.Labels) || s.InputSize() != 3072 || s.Classes() != 10 {
		t.Fatal("records decoded wrongly")
	}
	dst := make([]float32, 3072)
	if l := s.Read(2, dst); l != int(b[2*CIFARRecord]) || dst[1024] != float32(b[2*CIFARRecord+1+1024])/255 {
		t.Errorf("Read(2): label %d, green[0] %v", l, dst[1024])
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no records"},
		{"truncated record", b[:2*CIFARRecord+100], "record 2 truncated after 100"},
		{"label only", b[:CIFARRecord+1], "record 1 truncated"},
		{"label 10", append([]byte{10}, b[1:CIFARRecord]...), "label 10"},
	} {
		_, err := ReadCIFAR(bytes.NewReader(tc.data))
		if !errors.Is(err, ErrCIFARFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrCIFARFormat containing %q", tc.name, err, tc.want)
		}
	}
}

// TestLoadCIFAR covers the places CIFAR-10 comes from: extracted batch
// files in Dir, the archive in Dir or the cache (unpacked into the cache),
// and a download; and the failures: a corrupt file or archive, a missing
// one offline, an archive without a batch.
func TestLoadCIFAR(t *testing.T) {
	fx := newCIFARFixture(t)
	installFiles := func(t *testing.T, dir string) {
		if err := os.MkdirAll(filepath.Join(dir, CIFARDir), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range fx.files {
			writeFile(t, filepath.Join(dir, CIFARDir, name), data)
		}
	}
	t.Run("extracted files in dir", func(t *testing.T) {
		dir := t.TempDir()
		installFiles(t, dir)
		d, err := Load("cifar10", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true, Checksums: fx.sums})
		if err != nil {
			t.Fatal(err)
		}
		fx.check(t, d)
	})
	t.Run("archive in dir", func(t *testing.T) {
		dir, cache := t.TempDir(), t.TempDir()
		writeFile(t, filepath.Join(dir, CIFARArchive), fx.archive)
		d, err := Load("cifar-10", Options{Dir: dir, CacheDir: cache, Offline: true, Checksums: fx.sums})
		if err != nil {
			t.Fatal(err)
		}
		fx.check(t, d)
		got := listFiles(t, cache)
		want := []string{}
		for name := range fx.files {
			want = append(want, filepath.Join(CIFARDir, name))
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("cache holds %v, want the unpacked batches %v", got, want)
		}
		// The unpacked cache serves the next load without the archive.
		os.Remove(filepath.Join(dir, CIFARArchive))
		if d, err := Load("cifar10", Options{CacheDir: cache, Offline: true, Checksums: fx.sums}); err != nil {
			t.Error(err)
		} else {
			fx.check(t, d)
		}
	})
	t.Run("download", func(t *testing.T) {
		var hits int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits++
			if r.URL.Path != "/"+CIFARArchive {
				http.NotFound(w, r)
				return
			}
			w.Write(fx.archive)
		}))
		defer srv.Close()
		cache := t.TempDir()
		opt := Options{CacheDir: cache, BaseURL: srv.URL, Checksums: fx.sums}
		d, err := Load("cifar10", opt)
		if err != nil {
			t.Fatal(err)
		}
		fx.check(t, d)
		if _, err := Load("cifar10", opt); err != nil || hits != 1 {
			t.Errorf("second load: %v after %d downloads, want 1", err, hits)
		}
	})
	t.Run("corrupt download", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write(fx.archive[:len(fx.archive)-1])
		}))
		defer srv.Close()
		cache := t.TempDir()
		_, err := Load("cifar10", Options{CacheDir: cache, BaseURL: srv.URL, Checksums: fx.sums})
		if !errors.Is(err, ErrChecksum) {
			t.Errorf("error %v, want ErrChecksum", err)
		}
		if files := listFiles(t, cache); len(files) != 0 {
			t.Errorf("cache holds %v after a failed download", files)
		}
	})
	t.Run("real digests reject generated files", func(t *testing.T) {
		dir := t.TempDir()
		installFiles(t, dir)
		_, err := Load("cifar10", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true})
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "data_batch_1.bin") {
			t.Errorf("error %v, want ErrChecksum naming data_batch_1.bin", err)
		}
	})
	t.Run("missing offline", func(t *testing.T) {
		_, err := Load("cifar10", Options{Dir: t.TempDir(), CacheDir: t.TempDir(), Offline: true, Checksums: fx.sums})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), CIFARArchive) {
			t.Errorf("error %v, want ErrNotFound naming the archive", err)
		}
	})
	t.Run("truncated batch", func(t *testing.T) {
		dir := t.TempDir()
		installFiles(t, dir)
		short := fx.files[CIFARTestFile][:CIFARRecord+7]
		writeFile(t, filepath.Join(dir, CIFARDir, CIFARTestFile), short)
		sums := map[string]string{}
		for k, v := range fx.sums {
			sums[k] = v
		}
		sums[CIFARTestFile] = sha256Hex(short)
		_, err := Load("cifar10", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true, Checksums: sums})
		if !errors.Is(err, ErrCIFARFormat) || !strings.Contains(err.Error(), CIFARTestFile) {
			t.Errorf("error %v, want ErrCIFARFormat naming %s", err, CIFARTestFile)
		}
	})
	t.Run("archive without a batch", func(t *testing.T) {
		var tb bytes.Buffer
		zw := gzip.NewWriter(&tb)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: CIFARDir + "/data_batch_1.bin", Mode: 0o644, Size: int64(len(fx.files["data_batch_1.bin"]))})
		tw.Write(fx.files["data_batch_1.bin"])
		tw.Close()
		zw.Close()
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, CIFARArchive), tb.Bytes())
		sums := map[string]string{}
		for k, v := range fx.sums {
			sums[k] = v
		}
		sums[CIFARArchive] = sha256Hex(tb.Bytes())
		_, err := Load("cifar10", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true, Checksums: sums})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "data_batch_2.bin") {
			t.Errorf("error %v, want ErrNotFound naming data_batch_2.bin", err)
		}
	})
	t.Run("not gzip", func(t *testing.T) {
		dir := t.TempDir()
		junk := []byte("not an archive")
		writeFile(t, filepath.Join(dir, CIFARArchive), junk)
		sums := map[string]string{CIFARArchive: sha256Hex(junk)}
		if _, err := Load("cifar10", Options{Dir: dir, CacheDir: t.TempDir(), Offline: true, Checksums: sums}); err == nil || !strings.Contains(err.Error(), "unpack") {
			t.Errorf("error %v, want an unpack error", err)
		}
	})
}

// FuzzReadCIFAR feeds arbitrary bytes to the record reader: it must not
// panic, and must either fail with ErrCIFARFormat or decode exactly
// len/3073 records whose labels and pixels are the input's bytes.
func FuzzReadCIFAR(f *testing.F) {
	b, _ := cifarRecords(2, 5)
	for _, seed := range [][]byte{b, b[:CIFARRecord], b[:CIFARRecord+1], b[:10], {}, {10}, append([]byte{255}, b[1:CIFARRecord]...)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadCIFAR(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrCIFARFormat) {
				t.Fatalf("error %v does not wrap ErrCIFARFormat", err)
			}
			if s != nil {
				t.Fatal("a set and an error")
			}
			return
		}
		if len(data)%CIFARRecord != 0 || s.Len() != len(data)/CIFARRecord {
			t.Fatalf("%d bytes gave %d records", len(data), s.Len())
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		for i := range s.Len() {
			rec := data[i*CIFARRecord : (i+1)*CIFARRecord]
			if s.Labels[i] != rec[0] || !bytes.Equal(s.Image(i), rec[1:]) {
				t.Fatalf("record %d decoded wrongly", i)
			}
		}
	})
}
