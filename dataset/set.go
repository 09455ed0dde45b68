package dataset

import "fmt"

// NumClasses is the number of classes of MNIST, Fashion-MNIST, CIFAR-10
// and the Synthetic(α, β) data, and of a Set whose ClassCount is 0.
const NumClasses = 10

// Set is a labelled classification set held compactly. Its examples are
// either images, one byte per pixel (Images), or vectors of real-valued
// features (Features, for the Synthetic(α, β) data): exactly one of the
// two holds the data, the other is nil.
//
// Images are stored one after another, each as Channels planes of Rows×Cols
// pixels in row-major order (channel-major, as CIFAR-10's files and NCHW
// tensors), so len(Images) == Len()*InputSize() and Labels[i] belongs to
// the image at Images[i*InputSize():]. Read scales pixels to [0, 1] as
// p/255. Features are stored the same way, as float32 values that Read
// returns unchanged; a set of flat feature vectors has Channels and Rows 1
// and Cols features. Labels lie in [0, Classes()).
//
// A Set is not modified by any method and may be read concurrently.
type Set struct {
	Images     []uint8
	Labels     []uint8
	Rows, Cols int
	// Channels is the number of planes per example: 1 for greyscale, 3
	// for RGB. 0 means 1.
	Channels int
	// ClassCount is the number of classes, e.g. 62 for FEMNIST. 0 means
	// NumClasses (10).
	ClassCount int
	// Features, if not nil, holds the examples as float32 feature vectors
	// instead of Images: len(Features) == Len()*InputSize().
	Features []float32
}

// Len returns the number of examples.
func (s *Set) Len() int { return len(s.Labels) }

// InputSize returns the number of values per example,
// Channels*Rows*Cols.
func (s *Set) InputSize() int { return s.channels() * s.Rows * s.Cols }

// Shape returns the shape of one example as {Channels, Rows, Cols} (with
// Channels at least 1): the NCHW layout of package nn's convolutions, and
// a flat vector of Cols features when Channels and Rows are 1.
func (s *Set) Shape() []int {
	if s.Features != nil && s.channels() == 1 && s.Rows == 1 {
		return []int{s.Cols}
	}
	return []int{s.channels(), s.Rows, s.Cols}
}

// channels returns Channels, or 1 if it is 0.
func (s *Set) channels() int {
	if s.Channels == 0 {
		return 1
	}
	return s.Channels
}

// Classes returns the number of classes: ClassCount, or NumClasses if it
// is 0.
func (s *Set) Classes() int {
	if s.ClassCount == 0 {
		return NumClasses
	}
	return s.ClassCount
}

// Label returns the label of example i.
func (s *Set) Label(i int) int { return int(s.Labels[i]) }

// Image returns the pixels of example i, or nil for a set of Features.
// The slice aliases s.Images and must not be modified.
func (s *Set) Image(i int) []uint8 {
	if s.Features != nil {
		return nil
	}
	n := s.InputSize()
	return s.Images[i*n : (i+1)*n : (i+1)*n]
}

// Read writes example i to dst[:InputSize()], pixels scaled to [0, 1] as
// p/255 or features as they are, and returns the example's label. It
// panics if i is out of range or dst is shorter than InputSize().
func (s *Set) Read(i int, dst []float32) int {
	if s.Features != nil {
		n := s.InputSize()
		copy(dst[:n], s.Features[i*n:(i+1)*n])
	} else {
		scale(dst, s.Image(i))
	}
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
// example dimensions, a Channels and ClassCount in range, data in
// exactly one of Images and Features of length Len()*InputSize() (either
// may be empty when there are no examples), finite features and every
// label below Classes().
func (s *Set) Validate() error {
	if s.Rows <= 0 || s.Cols <= 0 || s.Channels < 0 {
		return fmt.Errorf("example size %dx%dx%d is not positive", s.Channels, s.Rows, s.Cols)
	}
	if s.ClassCount < 0 || s.ClassCount == 1 || s.ClassCount > 256 {
		return fmt.Errorf("class count %d is not 0 (meaning %d) or in 2..256", s.ClassCount, NumClasses)
	}
	n := len(s.Labels) * s.InputSize()
	if s.Features != nil {
		if len(s.Images) != 0 {
			return fmt.Errorf("set holds both %d pixel bytes and %d features", len(s.Images), len(s.Features))
		}
		if len(s.Features) != n {
			return fmt.Errorf("%d feature values do not hold %d examples of %d features", len(s.Features), len(s.Labels), s.InputSize())
		}
		for j, v := range s.Features {
			if !finite(v) {
				return fmt.Errorf("feature %d of example %d is %v", j%s.InputSize(), j/s.InputSize(), v)
			}
		}
	} else if len(s.Images) != n {
		return fmt.Errorf("%d pixel bytes do not hold %d images of %dx%dx%d", len(s.Images), len(s.Labels), s.channels(), s.Rows, s.Cols)
	}
	for i, l := range s.Labels {
		if int(l) >= s.Classes() {
			return fmt.Errorf("label %d of example %d is not below %d", l, i, s.Classes())
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
		Labels:     make([]uint8, len(indices)),
		Rows:       s.Rows,
		Cols:       s.Cols,
		Channels:   s.Channels,
		ClassCount: s.ClassCount,
	}
	if s.Features != nil {
		out.Features = make([]float32, 0, len(indices)*n)
	} else {
		out.Images = make([]uint8, 0, len(indices)*n)
	}
	for k, i := range indices {
		if s.Features != nil {
			out.Features = append(out.Features, s.Features[i*n:(i+1)*n]...)
		} else {
			out.Images = append(out.Images, s.Image(i)...)
		}
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

// InputSize returns the number of values per example.
func (v *View) InputSize() int { return v.set.InputSize() }

// Classes returns the number of classes of the underlying Set.
func (v *View) Classes() int { return v.set.Classes() }

// Label returns the label of example i of the view.
func (v *View) Label(i int) int { return v.set.Label(v.indices[i]) }

// Read writes example i of the view to dst and returns its label, as
// Set.Read does.
func (v *View) Read(i int, dst []float32) int { return v.set.Read(v.indices[i], dst) }

// Indices returns the indices into the underlying Set; the slice must not
// be modified.
func (v *View) Indices() []int { return v.indices }
