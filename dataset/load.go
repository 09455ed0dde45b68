package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// EnvDataDir is the environment variable naming a directory of local
// dataset copies; see DataDir.
const EnvDataDir = "FEDACTOR_DATA"

// DefaultSystemDir is the parent of system-wide dataset copies. Debian's
// dataset-fashion-mnist package installs Fashion-MNIST under
// /usr/share/datasets/fashion-mnist.
const DefaultSystemDir = "/usr/share/datasets"

// The standard IDX file names, shared by MNIST and Fashion-MNIST.
const (
	TrainImagesFile = "train-images-idx3-ubyte.gz"
	TrainLabelsFile = "train-labels-idx1-ubyte.gz"
	TestImagesFile  = "t10k-images-idx3-ubyte.gz"
	TestLabelsFile  = "t10k-labels-idx1-ubyte.gz"
)

// ErrChecksum is wrapped by the error returned when a local or downloaded
// file does not have the expected SHA-256 digest.
var ErrChecksum = errors.New("checksum mismatch")

// ErrNotFound is wrapped by the error Load returns when a file is in none
// of the local places and downloading is disabled.
var ErrNotFound = errors.New("dataset file not found")

// spec describes one named dataset.
type spec struct {
	name    string
	dir     string            // directory name under Dir, CacheDir and the system dir
	mirror  string            // base URL of the public mirror
	system  bool              // whether DefaultSystemDir may hold a copy
	sha256s map[string]string // file name -> hex SHA-256
}

// lookup returns the spec of a dataset name. It builds a fresh value on
// every call so that no caller can alter the built-in table.
func lookup(name string) (spec, bool) {
	switch name {
	case "mnist":
		return spec{
			name:   "mnist",
			dir:    "mnist",
			mirror: "https://ossci-datasets.s3.amazonaws.com/mnist/",
			sha256s: map[string]string{
				TrainImagesFile: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
				TrainLabelsFile: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
				TestImagesFile:  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
				TestLabelsFile:  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
			},
		}, true
	case "fashion", "fashion-mnist":
		return spec{
			name:   "fashion",
			dir:    "fashion-mnist",
			mirror: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
			system: true,
			sha256s: map[string]string{
				TrainImagesFile: "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
				TrainLabelsFile: "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
				TestImagesFile:  "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
				TestLabelsFile:  "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
			},
		}, true
	case "cifar10", "cifar-10":
		return cifarSpec(), true
	case "femnist":
		return spec{name: "femnist", dir: FEMNISTDir}, true
	}
	return spec{}, false
}

// Names returns the dataset names Load accepts. "synthetic" takes options
// (see ParseSynthetic), e.g. "synthetic:alpha=0.5,beta=0.5".
func Names() []string { return []string{"mnist", "fashion", "cifar10", "femnist", "synthetic"} }

// DataDir returns the directory of local dataset copies chosen by the
// user: flagValue (typically a -data-dir flag) if it is not empty, else
// the value of the FEDACTOR_DATA environment variable, else "".
func DataDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(EnvDataDir)
}

// Options configures Load. The zero value searches the user cache and
// the system directory and downloads missing files from the public
// mirrors with http.DefaultClient, silently.
type Options struct {
	// Dir, if set, is searched first. It holds one subdirectory per
	// dataset, named as in the package documentation (mnist/,
	// fashion-mnist/). See DataDir.
	Dir string

	// CacheDir is the parent of the download cache; files are cached in
	// CacheDir/<dataset dir>/. Empty means os.UserCacheDir()/fedactor.
	CacheDir string

	// SystemDir is the parent of system-wide copies, searched after the
	// cache for datasets that may have one (Fashion-MNIST only). Empty
	// means DefaultSystemDir.
	SystemDir string

	// Offline disables downloading: a file missing locally is an error
	// wrapping ErrNotFound.
	Offline bool

	// BaseURL, if set, replaces the public mirror's base URL; a file is
	// fetched from BaseURL followed by its name.
	BaseURL string

	// Client performs downloads. Nil means http.DefaultClient.
	Client *http.Client

	// Progress, if not nil, receives a line when a download starts and
	// another at every further quarter of the file, including the end
	// (every 8 MiB and at the end when the size is unknown).
	Progress io.Writer

	// Checksums overrides the expected SHA-256 digests (lower-case hex),
	// keyed by file name such as TrainImagesFile. Files not listed keep
	// the built-in digest. It is meant for tests and private mirrors.
	Checksums map[string]string
}

// Data is a dataset split into its training and test sets.
type Data struct {
	Name        string
	Train, Test *Set
	// Natural is the dataset's own partition of Train, for a dataset
	// collected on devices or from writers: Natural[k] lists, in
	// increasing order, the indices into Train of device or writer k's
	// examples. It is nil for a dataset without one (MNIST,
	// Fashion-MNIST, CIFAR-10). See NaturalPartitioner.
	Natural [][]int
}

// Load is LoadContext with context.Background().
func Load(name string, opt Options) (*Data, error) {
	return LoadContext(context.Background(), name, opt)
}

// LoadContext returns the dataset called name, one of Names
// ("fashion-mnist" and "cifar-10" are accepted too). For MNIST and
// Fashion-MNIST each of the four files is taken from the first of these
// places that has it: opt.Dir, the cache, the system directory
// (Fashion-MNIST only), or else a download into the cache. CIFAR-10 is
// read from its six batch files, unpacked from the official archive when
// needed (see the package documentation). Every file is checked against
// its SHA-256 digest wherever it comes from; a mismatch is an error naming
// the file, not a reason to look elsewhere. FEMNIST is read from LEAF JSON
// files in opt.Dir or the cache and is never downloaded. A
// "synthetic[:options]" name is generated, not loaded (see
// ParseSynthetic), and ignores opt. ctx bounds downloads.
func LoadContext(ctx context.Context, name string, opt Options) (*Data, error) {
	if head, _, _ := strings.Cut(name, ":"); head == "synthetic" {
		s, err := ParseSynthetic(name)
		if err != nil {
			return nil, err
		}
		return s.Generate()
	}
	sp, ok := lookup(name)
	if !ok {
		return nil, fmt.Errorf("dataset: unknown dataset %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	for file, sum := range opt.Checksums {
		if _, ok := sp.sha256s[file]; !ok {
			return nil, fmt.Errorf("dataset: checksum override for unknown file %q", file)
		}
		sp.sha256s[file] = strings.ToLower(sum)
	}
	l := loader{sp: sp, opt: opt}
	switch sp.name {
	case "cifar10":
		return l.loadCIFAR(ctx)
	case "femnist":
		return l.loadFEMNIST()
	}
	d := &Data{Name: sp.name}
	var err error
	if d.Train, err = l.set(ctx, TrainImagesFile, TrainLabelsFile); err != nil {
		return nil, err
	}
	if d.Test, err = l.set(ctx, TestImagesFile, TestLabelsFile); err != nil {
		return nil, err
	}
	return d, nil
}

// loader resolves, verifies and decodes the files of one dataset.
type loader struct {
	sp  spec
	opt Options
}

// set loads one images/labels pair.
func (l *loader) set(ctx context.Context, imagesFile, labelsFile string) (*Set, error) {
	imagesPath, raw, err := l.fetch(ctx, imagesFile)
	if err != nil {
		return nil, err
	}
	pixels, rows, cols, err := ReadImages(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("dataset: read %s: %w", imagesPath, err)
	}
	labelsPath, raw, err := l.fetch(ctx, labelsFile)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("dataset: read %s: %w", labelsPath, err)
	}
	return newSet(pixels, labels, rows, cols, imagesPath, labelsPath)
}

// cacheDir returns the directory where this dataset's downloads go.
func (l *loader) cacheDir() (string, error) {
	parent := l.opt.CacheDir
	if parent == "" {
		user, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("dataset: cache directory: %w", err)
		}
		parent = filepath.Join(user, "fedactor")
	}
	return filepath.Join(parent, l.sp.dir), nil
}

// dirs returns the directories searched for this dataset's files, in
// order: Options.Dir/<dir>, the cache and, if the dataset may have one,
// the system copy.
func (l *loader) dirs(cache string) []string {
	var dirs []string
	if l.opt.Dir != "" {
		dirs = append(dirs, filepath.Join(l.opt.Dir, l.sp.dir))
	}
	dirs = append(dirs, cache)
	if l.sp.system {
		sys := l.opt.SystemDir
		if sys == "" {
			sys = DefaultSystemDir
		}
		dirs = append(dirs, filepath.Join(sys, l.sp.dir))
	}
	return dirs
}

// local returns the path and verified contents of file from the first of
// the local directories that holds it; ok is false if none does.
func (l *loader) local(file string) (path string, raw []byte, ok bool, err error) {
	cache, err := l.cacheDir()
	if err != nil {
		return "", nil, false, err
	}
	want := l.sp.sha256s[file]
	for _, dir := range l.dirs(cache) {
		path := filepath.Join(dir, file)
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", nil, false, fmt.Errorf("dataset: %w", err)
		}
		if err := verify(raw, want); err != nil {
			return "", nil, false, fmt.Errorf("dataset: %s: %w", path, err)
		}
		return path, raw, true, nil
	}
	return "", nil, false, nil
}

// fetch returns the path and verified contents of file, downloading it if
// no local copy exists.
func (l *loader) fetch(ctx context.Context, file string) (string, []byte, error) {
	if path, raw, ok, err := l.local(file); err != nil || ok {
		return path, raw, err
	}
	cache, err := l.cacheDir()
	if err != nil {
		return "", nil, err
	}
	dirs := l.dirs(cache)
	want := l.sp.sha256s[file]
	if l.opt.Offline {
		return "", nil, fmt.Errorf("dataset: %s/%s: %w in %s (downloads disabled)", l.sp.dir, file, ErrNotFound, strings.Join(dirs, ", "))
	}
	base := l.opt.BaseURL
	if base == "" {
		base = l.sp.mirror
	}
	path := filepath.Join(cache, file)
	d := downloader{client: l.opt.Client, progress: l.opt.Progress}
	if err := d.download(ctx, strings.TrimSuffix(base, "/")+"/"+file, path, want); err != nil {
		return "", nil, fmt.Errorf("dataset: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("dataset: %w", err)
	}
	if err := verify(raw, want); err != nil { // changed since the download
		return "", nil, fmt.Errorf("dataset: %s: %w", path, err)
	}
	return path, raw, nil
}

// verify checks data against a hex SHA-256 digest.
func verify(data []byte, want string) error {
	h := sha256.New()
	h.Write(data)
	return checkSum(h, want)
}
