package dataset

import "fmt"

// NumClasses is the number of classes of MNIST and Fashion-MNIST.
const NumClasses = 10

// Set is a labelled set of greyscale images held compactly: one byte per
// pixel, images stored one after another in row-major order, so that
// len(Images) == Len()*Rows*Cols and Labels[i] belongs to the image at
// Images[i*Rows*Cols:]. Labels lie in [0, NumClasses).
//
// A Set is not modified by any method and may be read concurrently.
type Set struct {
	Images     []uint8
	Labels     []uint8
	Rows, Cols int
}

// Len returns the number of examples.
func (s *Set) Len() int { return len(s.Labels) }

// InputSize returns the number of pixels per image, Rows*Cols.
func (s *Set) InputSize() int { return s.Rows * s.Cols }

// Classes returns the number of classes, NumClasses.
func (s *Set) Classes() int { return NumClasses }

// Label returns the label of example i.
func (s *Set) Label(i int) int { return int(s.Labels[i]) }

// Image returns the pixels of example i. The slice aliases s.Images and
// must not be modified.
func (s *Set) Image(i int) []uint8 {
	n := s.InputSize()
	return s.Images[i*n : (i+1)*n : (i+1)*n]
}

// Read writes the pixels of example i, scaled to [0, 1] as p/255, to
// dst[:InputSize()] and returns the example's label. It panics if i is
// out of range or dst is shorter than InputSize().
func (s *Set) Read(i int, dst []float32) int {
	scale(dst, s.Image(i))
	return int(s.Labels[i])
}

// scale writes src[j]/255 to dst[j].
func scale(dst []float32, src []uint8) {
	dst = dst[:len(src)]
	for j, p := range src {
		dst[j] = float32(p) / 255
	}
}

// Validate reports whether the fields of s are consistent: positive
// image dimensions, len(Images) == len(Labels)*Rows*Cols and every label
// below NumClasses.
func (s *Set) Validate() error {
	if s.Rows <= 0 || s.Cols <= 0 {
		return fmt.Errorf("image size %dx%d is not positive", s.Rows, s.Cols)
	}
	if len(s.Images) != len(s.Labels)*s.Rows*s.Cols {
		return fmt.Errorf("%d pixel bytes do not hold %d images of %dx%d", len(s.Images), len(s.Labels), s.Rows, s.Cols)
	}
	for i, l := range s.Labels {
		if int(l) >= NumClasses {
			return fmt.Errorf("label %d of example %d is not below %d", l, i, NumClasses)
		}
	}
	return nil
}

// Select returns a new Set holding copies of the examples at the given
// indices, in that order. It suits shrinking a set for quick runs (see
// Subsample); use View to avoid copying. It panics if an index is out of
// range.
func (s *Set) Select(indices []int) *Set {
	n := s.InputSize()
	out := &Set{
		Images: make([]uint8, 0, len(indices)*n),
		Labels: make([]uint8, len(indices)),
		Rows:   s.Rows,
		Cols:   s.Cols,
	}
	for k, i := range indices {
		out.Images = append(out.Images, s.Image(i)...)
		out.Labels[k] = s.Labels[i]
	}
	return out
}

// View returns the examples of s at the given indices as a read-only
// view, without copying pixels. Example k of the view is example
// indices[k] of s. The view keeps indices; the caller must not modify it
// while the view is in use.
func (s *Set) View(indices []int) *View {
	return &View{set: s, indices: indices}
}

// View is a subset of a Set selected by an index list, such as one data
// owner's partition. It has the same read methods as Set.
type View struct {
	set     *Set
	indices []int
}

// Len returns the number of examples in the view.
func (v *View) Len() int { return len(v.indices) }

// InputSize returns the number of pixels per image.
func (v *View) InputSize() int { return v.set.InputSize() }

// Classes returns the number of classes, NumClasses.
func (v *View) Classes() int { return NumClasses }

// Label returns the label of example i of the view.
func (v *View) Label(i int) int { return v.set.Label(v.indices[i]) }

// Read writes the pixels of example i of the view, scaled to [0, 1], to
// dst and returns its label, as Set.Read does.
func (v *View) Read(i int, dst []float32) int { return v.set.Read(v.indices[i], dst) }

// Indices returns the indices into the underlying Set; the slice must not
// be modified.
func (v *View) Indices() []int { return v.indices }
