package plots

import (
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var regen = flag.Bool("regen", false, "rewrite the golden images in testdata")

// checkGolden compares the PNG at got with testdata/<name>, allowing a few
// differing pixels (anti-aliasing), or rewrites the golden file with -regen.
func checkGolden(t *testing.T, got, name string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *regen {
		data, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	a, b := readPNG(t, got), readPNG(t, golden)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("%s: size %v, golden %v", name, a.Bounds(), b.Bounds())
	}
	diff, total := 0, 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			total++
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				diff++
			}
		}
	}
	if diff > total/1000 {
		t.Errorf("%s: %d of %d pixels differ from the golden image (run with -regen after checking the new image)", name, diff, total)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

func TestGolden(t *testing.T) {
	cases := []struct {
		file string
		draw func(path string) error
	}{
		{"lines.png", func(path string) error {
			return Lines(path, Chart{Title: "Accuracy", XLabel: "round", YLabel: "test accuracy (%)", YMin: 80, YMax: 100}, []Series{
				{Name: "2 owners", X: []float64{1, 2, 3}, Y: []float64{96.3, 97.8, 98.2}},
				{Name: "4 owners", X: []float64{1, 2, 3}, Y: []float64{94.1, 96.9, 97.7}},
			})
		}},
		{"bars.png", func(path string) error {
			return Bars(path, Chart{Title: "Timings", YLabel: "ms", LogY: true}, []string{"protect", "combine", "reveal"}, []Series{
				{Name: "ckks", Y: []float64{6, 0.4, 2.5}},
				{Name: "paillier", Y: []float64{9000, 30, 4000}},
			})
		}},
		{"stacked.png", func(path string) error {
			return StackedBars(path, Chart{Title: "Labels", YLabel: "samples"}, []string{"bob", "alice"}, []Series{
				{Name: "0", Y: []float64{10, 0}},
				{Name: "1", Y: []float64{5, 20}},
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got := filepath.Join(t.TempDir(), c.file)
			if err := c.draw(got); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, got, c.file)
		})
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	cases := []struct {
		name string
		err  error
	}{
		{"no series", Lines(path, Chart{}, nil)},
		{"x/y mismatch", Lines(path, Chart{}, []Series{{X: []float64{1}, Y: []float64{1, 2}}})},
		{"NaN", Lines(path, Chart{}, []Series{{X: []float64{1}, Y: []float64{math.NaN()}}})},
		{"log of zero", Lines(path, Chart{LogX: true}, []Series{{X: []float64{0}, Y: []float64{1}}})},
		{"bars count", Bars(path, Chart{}, []string{"a", "b"}, []Series{{Y: []float64{1}}})},
		{"no categories", StackedBars(path, Chart{}, nil, []Series{{Y: nil}})},
	}
	for _, c := range cases {
		if c.err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if err := Lines(path, Chart{}, nil); !errors.Is(err, ErrNoData) {
		t.Errorf("empty plot: %v, want ErrNoData", err)
	}
}
