package dataset

import (
	"bytes"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to both IDX readers: they must never
// panic, must return either data or an error, and successful results must
// match the header. Seeds cover raw and gzip images and labels, truncated
// and oversized headers; more live in testdata/fuzz/FuzzReadIDX.
func FuzzReadIDX(f *testing.F) {
	s := synthetic(4)
	images := idxImages(s.Len(), s.Rows, s.Cols, s.Images)
	labels := idxLabels(s.Labels)
	for _, seed := range [][]byte{
		images,
		gz(images),
		labels,
		gz(labels),
		images[:20],
		gz(images)[:25],
		idxImages(0, 1, 1, nil),
		idxImages(60000, 28, 28, nil),
		gz(idxImages(1<<31, 1<<12, 1<<12, nil)),
		idxLabels(nil),
		{0x1f, 0x8b},
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pixels, rows, cols, err := ReadImages(bytes.NewReader(data))
		if err == nil {
			if rows < 1 || cols < 1 || rows > MaxImageSide || cols > MaxImageSide || len(pixels)%(rows*cols) != 0 {
				t.Errorf("ReadImages = %d bytes of %dx%d images", len(pixels), rows, cols)
			}
			if len(data) < 16 {
				t.Errorf("ReadImages accepted %d bytes", len(data))
			}
		} else if pixels != nil {
			t.Errorf("ReadImages returned data with error %v", err)
		}
		got, err := ReadLabels(bytes.NewReader(data))
		if err == nil {
			if len(data) < 8 {
				t.Errorf("ReadLabels accepted %d bytes", len(data))
			}
			if !bytes.Equal(got, data[8:]) && !isGzip(data) {
				t.Errorf("ReadLabels of raw data returned %d bytes, not the payload", len(got))
			}
		} else if got != nil {
			t.Errorf("ReadLabels returned data with error %v", err)
		}
	})
}

func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }
