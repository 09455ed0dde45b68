package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned
// byte) and the number of dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// Limits applied to IDX headers before anything is allocated, so that a
// corrupt header cannot make the reader reserve gigabytes of memory.
const (
	// MaxImageSide is the largest accepted number of rows or columns.
	MaxImageSide = 1 << 12
	// MaxIDXBytes is the largest accepted payload of one IDX file, in bytes
	// after decompression (MNIST's training images take 47 MB).
	MaxIDXBytes = 1 << 30
)

// initialChunk bounds the first allocation made for a payload. Buffers
// grow (by doubling) only as data actually arrives, so the memory used is
// bounded by the data read, not by what the header claims.
const initialChunk = 1 << 20

// ErrFormat is wrapped by every error that reports malformed IDX data:
// a wrong magic number, a bad dimension, a truncated payload or trailing
// bytes after it.
var ErrFormat = errors.New("invalid IDX data")

// ReadImages decodes an IDX file of unsigned-byte images (magic 0x00000803,
// three dimensions: count, rows, cols) from r, which may be gzip-compressed
// (detected by its magic bytes) or raw. It returns the pixels of all
// images, row-major and image after image, so len(pixels) ==
// count*rows*cols. The whole stream must be consumed exactly: trailing
// bytes are an error, and a gzip stream's checksum is verified.
func ReadImages(r io.Reader) (pixels []uint8, rows, cols int, err error) {
	br, closer, err := decompress(r)
	if err != nil {
		return nil, 0, 0, err
	}
	defer closer()
	dims, err := readHeader(br, imagesMagic, 3)
	if err != nil {
		return nil, 0, 0, err
	}
	n, h, w := dims[0], dims[1], dims[2]
	if h == 0 || w == 0 || h > MaxImageSide || w > MaxImageSide {
		return nil, 0, 0, fmt.Errorf("%w: image size %dx%d outside 1..%d", ErrFormat, h, w, MaxImageSide)
	}
	size := n * h * w // at most 2^32 * 2^24, fits in uint64
	if size > MaxIDXBytes {
		return nil, 0, 0, fmt.Errorf("%w: %d images of %dx%d exceed %d bytes", ErrFormat, n, h, w, MaxIDXBytes)
	}
	pixels, err = readPayload(br, int(size))
	if err != nil {
		return nil, 0, 0, err
	}
	return pixels, int(h), int(w), nil
}

// ReadLabels decodes an IDX file of unsigned-byte labels (magic
// 0x00000801, one dimension) from r, gzip-compressed or raw, under the same
// rules as ReadImages.
func ReadLabels(r io.Reader) ([]uint8, error) {
	br, closer, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer closer()
	dims, err := readHeader(br, labelsMagic, 1)
	if err != nil {
		return nil, err
	}
	if dims[0] > MaxIDXBytes {
		return nil, fmt.Errorf("%w: %d labels exceed %d bytes", ErrFormat, dims[0], MaxIDXBytes)
	}
	return readPayload(br, int(dims[0]))
}

// ReadSet reads a labelled image set from an IDX images file and an IDX
// labels file, each gzip-compressed or raw. Errors name the offending
// file; differing image and label counts are an error naming both.
func ReadSet(imagesPath, labelsPath string) (*Set, error) {
	var (
		pixels, labels []uint8
		rows, cols     int
	)
	err := withFile(imagesPath, func(r io.Reader) (err error) {
		pixels, rows, cols, err = ReadImages(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = withFile(labelsPath, func(r io.Reader) (err error) {
		labels, err = ReadLabels(r)
		return err
	})
	if err != nil {
		return nil, err
	}
	return newSet(pixels, labels, rows, cols, imagesPath, labelsPath)
}

// newSet assembles and validates a Set read from the two named sources.
func newSet(pixels, labels []uint8, rows, cols int, imagesName, labelsName string) (*Set, error) {
	s := &Set{Images: pixels, Labels: labels, Rows: rows, Cols: cols}
	if n := len(pixels) / (rows * cols); n != len(labels) {
		return nil, fmt.Errorf("dataset: %s holds %d images but %s holds %d labels", imagesName, n, labelsName, len(labels))
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", labelsName, err)
	}
	return s, nil
}

// withFile opens path, passes it to fn and names the file in any error.
func withFile(path string, fn func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("dataset: %w", err) // *fs.PathError names the file
	}
	defer f.Close()
	if err := fn(f); err != nil {
		return fmt.Errorf("dataset: read %s: %w", path, err)
	}
	return nil
}

// decompress returns a buffered reader over the decompressed contents of
// r and a function releasing it.
func decompress(r io.Reader) (*bufio.Reader, func(), error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil && len(magic) < 2 {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if magic[0] != 0x1f || magic[1] != 0x8b {
		return br, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("gzip: %w", err)
	}
	return bufio.NewReader(zr), func() { zr.Close() }, nil
}

// readHeader reads and checks the magic number and ndims dimensions.
func readHeader(r io.Reader, magic uint32, ndims int) ([]uint64, error) {
	buf := make([]byte, 4*(1+ndims))
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if got := binary.BigEndian.Uint32(buf); got != magic {
		return nil, fmt.Errorf("%w: magic number 0x%08x, want 0x%08x", ErrFormat, got, magic)
	}
	dims := make([]uint64, ndims)
	for i := range dims {
		dims[i] = uint64(binary.BigEndian.Uint32(buf[4*(i+1):]))
	}
	return dims, nil
}

// readPayload reads exactly n bytes followed by the end of the stream.
// Memory grows with the bytes received, never ahead of them by more than
// a factor of two (or initialChunk).
func readPayload(r io.Reader, n int) ([]uint8, error) {
	buf := make([]uint8, 0, min(n, initialChunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]uint8, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: truncated: got %d of %d data bytes: %w", ErrFormat, len(buf), n, io.ErrUnexpectedEOF)
			}
			return nil, fmt.Errorf("read data: %w", err)
		}
	}
	// Reading past the payload makes gzip verify its checksum and reveals
	// trailing garbage.
	var extra [1]byte
	switch m, err := io.ReadFull(r, extra[:]); {
	case m > 0:
		return nil, fmt.Errorf("%w: trailing bytes after %d data bytes", ErrFormat, n)
	case errors.Is(err, io.EOF):
		return buf, nil
	default:
		return nil, fmt.Errorf("read data: %w", err)
	}
}
