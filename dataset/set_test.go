package dataset

import (
	"slices"
	"testing"
)

// source is the example-source interface of package nn, plus Classes.
type source interface {
	Len() int
	InputSize() int
	Read(i int, dst []float32) int
	Classes() int
}

var (
	_ source = (*Set)(nil)
	_ source = (*View)(nil)
)

func TestSetRead(t *testing.T) {
	s := &Set{Rows: 1, Cols: 3, Images: []uint8{0, 255, 51, 1, 2, 3}, Labels: []uint8{7, 2}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || s.InputSize() != 3 || s.Classes() != 10 {
		t.Fatalf("Len, InputSize, Classes = %d, %d, %d", s.Len(), s.InputSize(), s.Classes())
	}
	dst := []float32{-1, -1, -1, -1}
	if l := s.Read(0, dst); l != 7 {
		t.Errorf("label %d, want 7", l)
	}
	if want := []float32{0, 1, 0.2, -1}; !slices.Equal(dst, want) {
		t.Errorf("Read wrote %v, want %v", dst, want)
	}
	if l := s.Read(1, dst); l != 2 || dst[2] != float32(3)/255 {
		t.Errorf("Read(1) = %d, %v", l, dst)
	}
}

func TestViewAndSelect(t *testing.T) {
	s := synthetic(10)
	idx := []int{9, 2, 4}
	v := s.View(idx)
	c := s.Select(idx)
	if err := c.Validate(); err != nil {
		t.Fatalf("Select made an invalid set: %v", err)
	}
	if v.Len() != 3 || c.Len() != 3 || v.InputSize() != 6 || c.InputSize() != 6 || v.Classes() != 10 {
		t.Fatalf("sizes: view %d/%d, select %d/%d", v.Len(), v.InputSize(), c.Len(), c.InputSize())
	}
	want, got, gotC := make([]float32, 6), make([]float32, 6), make([]float32, 6)
	for k, i := range idx {
		lw := s.Read(i, want)
		if l := v.Read(k, got); l != lw || v.Label(k) != lw || !slices.Equal(got, want) {
			t.Errorf("view example %d differs from set example %d", k, i)
		}
		if l := c.Read(k, gotC); l != lw || c.Label(k) != lw || !slices.Equal(gotC, want) {
			t.Errorf("selected example %d differs from set example %d", k, i)
		}
		if !slices.Equal(c.Image(k), s.Image(i)) {
			t.Errorf("Image(%d) differs", k)
		}
	}
	if !slices.Equal(v.Indices(), idx) {
		t.Errorf("Indices = %v", v.Indices())
	}
	c.Images[0]++
	if c.Images[0] == s.Image(9)[0] {
		t.Error("Select shares pixels with the original")
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		desc string
		set  Set
		ok   bool
	}{
		{"valid", Set{Rows: 2, Cols: 1, Images: []uint8{1, 2}, Labels: []uint8{9}}, true},
		{"empty", Set{Rows: 28, Cols: 28}, true},
		{"zero size", Set{Rows: 0, Cols: 1}, false},
		{"short images", Set{Rows: 2, Cols: 1, Images: []uint8{1}, Labels: []uint8{9}}, false},
		{"label 10", Set{Rows: 1, Cols: 1, Images: []uint8{1}, Labels: []uint8{10}}, false},
	} {
		if err := tc.set.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate = %v", tc.desc, err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	s := &Set{Rows: 28, Cols: 28, Images: make([]uint8, 100*784), Labels: make([]uint8, 100)}
	dst := make([]float32, 784)
	b.SetBytes(784)
	for i := 0; b.Loop(); i++ {
		s.Read(i%100, dst)
	}
}
