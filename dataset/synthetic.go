package dataset

import "math/rand/v2"

// Synthetic returns n side×side images in classes classes (at most
// side·side, at most 256): background noise below 60, and for class c a
// bright horizontal segment of side/2 pixels starting at pixel
// c·side·side/classes. A linear model learns it in a few steps, which makes
// it a fast stand-in for MNIST in tests and smoke runs.
func Synthetic(n, side, classes int, rng *rand.Rand) *Set {
	s := &Set{Rows: side, Cols: side, Images: make([]uint8, n*side*side), Labels: make([]uint8, n)}
	seg := max(1, side/2)
	for i := range n {
		c := rng.IntN(classes)
		s.Labels[i] = uint8(c)
		img := s.Images[i*side*side : (i+1)*side*side]
		for p := range img {
			img[p] = uint8(rng.IntN(60))
		}
		start := c * side * side / classes
		for p := start; p < min(start+seg, len(img)); p++ {
			img[p] = 255
		}
	}
	return s
}
