package dataset

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/fedactor/fedactor/internal/atomicfile"
)

// CIFAR-10, binary version (Krizhevsky 2009; https://www.cs.toronto.edu/~kriz/cifar.html).
//
// Each batch file is a sequence of records of one label byte (0..9) and
// 3,072 pixel bytes: the 1,024 red values of the 32×32 image in row-major
// order, then the green, then the blue. The official files hold 10,000
// records each; the archive unpacks to cifar-10-batches-bin/.
const (
	// CIFARDir is the directory the archive unpacks to, and the
	// directory name under Options.Dir and the cache.
	CIFARDir = "cifar-10-batches-bin"
	// CIFARArchive is the official archive's file name.
	CIFARArchive = "cifar-10-binary.tar.gz"
	// CIFARSide is the height and width of an image.
	CIFARSide = 32
	// CIFARRecord is the size of one record in bytes.
	CIFARRecord = 1 + 3*CIFARSide*CIFARSide
)

// CIFARTrainFiles and CIFARTestFile are the batch files of the training
// and test sets.
var (
	CIFARTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	CIFARTestFile   = "test_batch.bin"
)

// cifarURL is the official archive. The page publishes its MD5,
// c32a1d4ab5d03f1284b67883e8d87530; its SHA-256 below (170,052,171 bytes)
// is the one recorded by several independent public projects that check
// the download, and the per-file digests those of the unpacked files.
const cifarURL = "https://www.cs.toronto.edu/~kriz/" + CIFARArchive

// cifarSpec returns the spec of CIFAR-10: the digests of the archive and
// of the six batch files.
func cifarSpec() spec {
	return spec{
		name:   "cifar10",
		dir:    CIFARDir,
		mirror: "https://www.cs.toronto.edu/~kriz/",
		sha256s: map[string]string{
			CIFARArchive:       "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
			"data_batch_1.bin": "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
			"data_batch_2.bin": "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
			"data_batch_3.bin": "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
			"data_batch_4.bin": "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
			"data_batch_5.bin": "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
			CIFARTestFile:      "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
		},
	}
}

// MaxCIFARRecords bounds the records ReadCIFAR accepts from one stream
// (the official batches hold 10,000).
const MaxCIFARRecords = 1 << 20

// ErrCIFARFormat is wrapped by every error that reports malformed CIFAR-10
// data: a truncated record, a label above 9, no records, or too many.
var ErrCIFARFormat = errors.New("invalid CIFAR-10 data")

// ReadCIFAR decodes CIFAR-10 binary records from r until the end of the
// stream and returns them as a Set of 3×32×32 images with 10 classes. A
// stream that ends inside a record, holds no record or more than
// MaxCIFARRecords, or has a label above 9 is an error wrapping
// ErrCIFARFormat. Memory grows with the records actually read.
func ReadCIFAR(r io.Reader) (*Set, error) {
	s := &Set{Rows: CIFARSide, Cols: CIFARSide, Channels: 3}
	br := bufio.NewReaderSize(r, 1<<16)
	var rec [CIFARRecord]byte
	for n := 0; ; n++ {
		k, err := io.ReadFull(br, rec[:])
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: record %d truncated after %d of %d bytes", ErrCIFARFormat, n, k, CIFARRecord)
		}
		if err != nil {
			return nil, fmt.Errorf("reading record %d: %w", n, err)
		}
		if n == MaxCIFARRecords {
			return nil, fmt.Errorf("%w: more than %d records", ErrCIFARFormat, MaxCIFARRecords)
		}
		if rec[0] >= NumClasses {
			return nil, fmt.Errorf("%w: record %d has label %d, want 0..%d", ErrCIFARFormat, n, rec[0], NumClasses-1)
		}
		s.Labels = append(s.Labels, rec[0])
		s.Images = append(s.Images, rec[1:]...)
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("%w: no records", ErrCIFARFormat)
	}
	return s, nil
}

// loadCIFAR loads CIFAR-10: the training set is the five data batches in
// order, the test set the test batch. Each batch file is taken from
// Options.Dir/cifar-10-batches-bin/ or the cache's
// cifar-10-batches-bin/; if any is in neither, the archive (from
// Options.Dir/, the cache or, unless Offline, a download into the cache)
// is unpacked into the cache first. Every file is checked against its
// SHA-256 digest.
func (l *loader) loadCIFAR(ctx context.Context) (*Data, error) {
	files := append(append([]string(nil), CIFARTrainFiles...), CIFARTestFile)
	missing := false
	for _, f := range files {
		if _, _, ok, err := l.local(f); err != nil {
			return nil, err
		} else if !ok {
			missing = true
		}
	}
	if missing {
		if err := l.unpackCIFAR(ctx, files); err != nil {
			return nil, err
		}
	}
	read := func(f string) (*Set, error) {
		p, raw, ok, err := l.local(f)
		if err != nil {
			return nil, err
		}
		if !ok { // removed since it was unpacked
			return nil, fmt.Errorf("dataset: %s/%s: %w", l.sp.dir, f, ErrNotFound)
		}
		s, err := ReadCIFAR(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("dataset: read %s: %w", p, err)
		}
		return s, nil
	}
	d := &Data{Name: l.sp.name}
	for _, f := range CIFARTrainFiles {
		s, err := read(f)
		if err != nil {
			return nil, err
		}
		if d.Train == nil {
			d.Train = s
			continue
		}
		d.Train.Images = append(d.Train.Images, s.Images...)
		d.Train.Labels = append(d.Train.Labels, s.Labels...)
	}
	var err error
	if d.Test, err = read(CIFARTestFile); err != nil {
		return nil, err
	}
	return d, nil
}

// unpackCIFAR finds or downloads the verified archive and writes the
// batch files it holds into the cache, each verified against its digest
// and written atomically.
func (l *loader) unpackCIFAR(ctx context.Context, files []string) error {
	cache, err := l.cacheDir()
	if err != nil {
		return err
	}
	archive := ""
	var candidates []string
	if l.opt.Dir != "" {
		candidates = append(candidates, filepath.Join(l.opt.Dir, CIFARArchive))
	}
	candidates = append(candidates, filepath.Join(cache, CIFARArchive))
	want := l.sp.sha256s[CIFARArchive]
	for _, p := range candidates {
		switch err := verifyFile(p, want); {
		case err == nil:
			archive = p
		case errors.Is(err, fs.ErrNotExist):
			continue
		default:
			return fmt.Errorf("dataset: %s: %w", p, err)
		}
		break
	}
	if archive == "" {
		if l.opt.Offline {
			return fmt.Errorf("dataset: %s: %w in %s, nor the batch files in %s (downloads disabled)",
				CIFARArchive, ErrNotFound, strings.Join(candidates, ", "), strings.Join(l.dirs(cache), ", "))
		}
		base := l.opt.BaseURL
		if base == "" {
			base = l.sp.mirror
		}
		archive = filepath.Join(cache, CIFARArchive)
		d := downloader{client: l.opt.Client, progress: l.opt.Progress}
		if err := d.download(ctx, strings.TrimSuffix(base, "/")+"/"+CIFARArchive, archive, want); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
	}
	if err := l.extractCIFAR(archive, cache, files); err != nil {
		return fmt.Errorf("dataset: unpack %s: %w", archive, err)
	}
	return nil
}

// extractCIFAR copies the members cifar-10-batches-bin/<file> of the
// archive at path into dir, verifying each; every file must be present.
func (l *loader) extractCIFAR(archive, dir string, files []string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return err
	}
	defer zr.Close()
	todo := map[string]bool{}
	for _, name := range files {
		todo[name] = true
	}
	tr := tar.NewReader(zr)
	for len(todo) > 0 {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		dirName, name := path.Split(path.Clean(h.Name))
		if path.Clean(dirName) != CIFARDir || !todo[name] || h.Typeflag != tar.TypeReg {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		want := l.sp.sha256s[name]
		err = atomicfile.Write(filepath.Join(dir, name), func(w io.Writer) error {
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(w, h), tr); err != nil {
				return err
			}
			if err := checkSum(h, want); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		delete(todo, name)
	}
	for _, name := range files {
		if todo[name] {
			return fmt.Errorf("%w: the archive has no %s/%s", ErrNotFound, CIFARDir, name)
		}
	}
	return nil
}

// verifyFile checks the file at p against a hex SHA-256 digest, reading
// it as a stream.
func verifyFile(p, want string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	return checkSum(h, want)
}
