package plots

import (
	"errors"
	"flag"
	"image"
	"image/color"
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
		{"every bar missing", Bars(path, Chart{LogY: true}, []string{"a"}, []Series{{Y: []float64{math.NaN()}}})},
		{"NaN stacked", StackedBars(path, Chart{}, []string{"a"}, []Series{{Y: []float64{math.NaN()}}})},
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

func TestTimeline(t *testing.T) {
	dir := t.TempDir()
	spans := []Span{{"bob", "train", 0, 2}, {"bob", "upload", 2, 2.5}, {"alice", "train", 0, 3}, {"secure-worker", "combine", 3.1, 3.1}}
	path := filepath.Join(dir, "timeline.png")
	if err := Timeline(path, Chart{Title: "one round", XLabel: "simulated seconds"}, spans); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() < 1000 {
		t.Fatalf("timeline.png: %v", err)
	}
	if err := Timeline(path, Chart{}, nil); !errors.Is(err, ErrNoData) {
		t.Errorf("no spans: %v", err)
	}
	if err := Timeline(path, Chart{}, []Span{{"bob", "train", 2, 1}}); err == nil {
		t.Error("a span that ends before it starts was drawn")
	}
}

// TestMissingBar: a NaN bar is left out, on a linear or a log axis, and
// the other bars of its series are drawn.
func TestMissingBar(t *testing.T) {
	dir := t.TempDir()
	for _, logY := range []bool{false, true} {
		// ckks's pixels: its bars and its legend entry.
		ckks := func(y float64) int {
			path := filepath.Join(dir, "bars.png")
			err := Bars(path, Chart{LogY: logY}, []string{"lan", "3g"}, []Series{{Name: "plain", Y: []float64{2, 30}}, {Name: "ckks", Y: []float64{5, y}}})
			if err != nil {
				t.Fatalf("log %v, ckks on 3g %g: %v", logY, y, err)
			}
			img, n := readPNG(t, path), 0
			want := palette(1)
			for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
				for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
					if sameColour(img.At(x, y), want) {
						n++
					}
				}
			}
			return n
		}
		missing, present := ckks(math.NaN()), ckks(300)
		if missing == 0 || missing >= present/2 {
			t.Errorf("log %v: %d of ckks's pixels without its 3g bar, %d with it: want its lan bar only", logY, missing, present)
		}
	}
}

func sameColour(a, b color.Color) bool {
	r1, g1, b1, _ := a.RGBA()
	r2, g2, b2, _ := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2
}
