package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// idxImages encodes n images of rows x cols pixels in the IDX format.
func idxImages(n, rows, cols int, pixels []uint8) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{imagesMagic, uint32(n), uint32(rows), uint32(cols)} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write(pixels)
	return b.Bytes()
}

// idxLabels encodes labels in the IDX format.
func idxLabels(labels []uint8) []byte {
	var b bytes.Buffer
	for _, v := range []uint32{labelsMagic, uint32(len(labels))} {
		binary.Write(&b, binary.BigEndian, v)
	}
	b.Write(labels)
	return b.Bytes()
}

// gz compresses data with gzip.
func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// synthetic returns a small deterministic set of n images of 3x2 pixels.
func synthetic(n int) *Set {
	s := &Set{Rows: 3, Cols: 2, Labels: make([]uint8, n), Images: make([]uint8, n*6)}
	for i := range s.Labels {
		s.Labels[i] = uint8(i % NumClasses)
	}
	for i := range s.Images {
		s.Images[i] = uint8(i * 7)
	}
	return s
}

func TestReadRoundTrip(t *testing.T) {
	s := synthetic(25)
	for _, tc := range []struct {
		name string
		enc  func([]byte) []byte
	}{
		{"raw", func(b []byte) []byte { return b }},
		{"gzip", gz},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pixels, rows, cols, err := ReadImages(bytes.NewReader(tc.enc(idxImages(s.Len(), s.Rows, s.Cols, s.Images))))
			if err != nil {
				t.Fatalf("ReadImages: %v", err)
			}
			if rows != s.Rows || cols != s.Cols || !bytes.Equal(pixels, s.Images) {
				t.Errorf("ReadImages = %d bytes, %dx%d; want %d bytes, %dx%d", len(pixels), rows, cols, len(s.Images), s.Rows, s.Cols)
			}
			labels, err := ReadLabels(bytes.NewReader(tc.enc(idxLabels(s.Labels))))
			if err != nil {
				t.Fatalf("ReadLabels: %v", err)
			}
			if !bytes.Equal(labels, s.Labels) {
				t.Errorf("ReadLabels = %v, want %v", labels, s.Labels)
			}
		})
	}
}

func TestReadSetFiles(t *testing.T) {
	s := synthetic(12)
	dir := t.TempDir()
	images := filepath.Join(dir, "images.gz")
	labels := filepath.Join(dir, "labels")
	writeFile(t, images, gz(idxImages(s.Len(), s.Rows, s.Cols, s.Images)))
	writeFile(t, labels, idxLabels(s.Labels))
	got, err := ReadSet(images, labels)
	if err != nil {
		t.Fatalf("ReadSet: %v", err)
	}
	if !bytes.Equal(got.Images, s.Images) || !bytes.Equal(got.Labels, s.Labels) || got.Rows != s.Rows || got.Cols != s.Cols {
		t.Errorf("ReadSet returned a different set")
	}
}

// TestReadErrors checks that every kind of malformed file is reported, by
// ReadSet, as an error naming the file.
func TestReadErrors(t *testing.T) {
	s := synthetic(10)
	goodImages := idxImages(s.Len(), s.Rows, s.Cols, s.Images)
	goodLabels := idxLabels(s.Labels)
	corruptGzip := gz(goodImages)
	corruptGzip[len(corruptGzip)-6] ^= 0xff // CRC-32 in the trailer
	badBody := gz(goodImages)
	badBody[12] ^= 0x55 // inside the deflate stream
	badLabel := slices.Clone(goodLabels)
	badLabel[len(badLabel)-1] = NumClasses

	for _, tc := range []struct {
		name           string
		images, labels []byte
		bad            string // "images", "labels" or "both": which file the error names
		format         bool   // whether the error wraps ErrFormat
	}{
		{"empty images", nil, goodLabels, "images", true},
		{"short header", goodImages[:7], goodLabels, "images", true},
		{"header only", goodImages[:16], goodLabels, "images", true},
		{"truncated images", goodImages[:len(goodImages)-1], goodLabels, "images", true},
		{"truncated gzip", gz(goodImages)[:30], goodLabels, "images", false},
		{"truncated labels", goodImages, goodLabels[:len(goodLabels)-3], "labels", true},
		{"trailing bytes", append(slices.Clone(goodImages), 0), goodLabels, "images", true},
		{"images magic on labels", goodImages, goodImages, "labels", true},
		{"labels magic on images", goodLabels, goodLabels, "images", true},
		{"zero rows", idxImages(1, 0, 5, nil), goodLabels, "images", true},
		{"huge side", idxImages(1, MaxImageSide+1, 1, nil), goodLabels, "images", true},
		{"huge count", idxImages(1<<31, 1<<12, 1<<12, nil), goodLabels, "images", true},
		{"plausible count, no data", idxImages(60000, 28, 28, nil), goodLabels, "images", true},
		{"corrupt gzip checksum", corruptGzip, goodLabels, "images", false},
		{"corrupt gzip body", badBody, goodLabels, "images", false},
		{"count mismatch", goodImages, idxLabels(s.Labels[:9]), "both", false},
		{"label out of range", goodImages, badLabel, "labels", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			images := filepath.Join(dir, "img-idx3")
			labels := filepath.Join(dir, "lbl-idx1")
			writeFile(t, images, tc.images)
			writeFile(t, labels, tc.labels)
			_, err := ReadSet(images, labels)
			if err == nil {
				t.Fatal("ReadSet succeeded, want an error")
			}
			msg := err.Error()
			if tc.bad != "labels" && !strings.Contains(msg, images) {
				t.Errorf("error %q does not name %s", msg, images)
			}
			if tc.bad != "images" && !strings.Contains(msg, labels) {
				t.Errorf("error %q does not name %s", msg, labels)
			}
			if tc.format && !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not wrap ErrFormat", msg)
			}
		})
	}
}

func TestReadSetMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := ReadSet(missing, missing)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadSet(missing) = %v, want a not-exist error naming the file", err)
	}
}

// TestReadHugeHeaderAllocatesLittle checks that a header claiming far more
// data than present does not make the reader allocate for the claim.
func TestReadHugeHeaderAllocatesLittle(t *testing.T) {
	data := idxImages(1<<20, 32, 32, make([]uint8, 100)) // claims 1 GiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, _, _, err := ReadImages(bytes.NewReader(data)); err == nil {
		t.Fatal("ReadImages succeeded, want an error")
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("ReadImages allocated %d bytes for a %d-byte input", grew, len(data))
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
