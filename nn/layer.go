package nn

import (
	"fmt"
	"strings"
)

// Shape is the shape of one example, without the batch dimension: {C, H, W}
// for images (NCHW order, as in PyTorch) or {N} for flat vectors.
type Shape []int

// Size returns the number of values in one example of shape s.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// String formats s like Keras does, with None for the batch dimension.
func (s Shape) String() string {
	var b strings.Builder
	b.WriteString("(None")
	for _, d := range s {
		fmt.Fprintf(&b, ", %d", d)
	}
	b.WriteString(")")
	return b.String()
}

// kind identifies a layer type.
type kind int

const (
	kindConv kind = iota + 1
	kindPool
	kindReLU
	kindFlatten
	kindDropout
	kindDense
)

// Layer describes one layer of a sequential model. Layers are values built
// by Conv2D, MaxPool2D, ReLU, Flatten, Dropout and Dense; they hold no
// parameters (a Model does).
type Layer struct {
	kind kind
	n    int     // filters (Conv2D), units (Dense), window (MaxPool2D)
	size int     // kernel size (Conv2D)
	rate float64 // drop probability (Dropout)
	same bool    // 'same' zero padding (Conv2D)
}

// Conv2D returns a 2-D convolution with the given number of filters and a
// size×size kernel, valid padding, stride 1 and a bias per filter. Its input
// must have shape {C, H, W}. The kernel is stored as [filters][C][size][size].
func Conv2D(filters, size int) Layer { return Layer{kind: kindConv, n: filters, size: size} }

// Conv2DSame returns a 2-D convolution like Conv2D but with 'same'
// padding: the input is bordered by (size-1)/2 zeros on every side, so the
// output has the input's height and width. size must be odd, which makes
// the padding symmetric and equal to Keras's padding="same" and to
// PyTorch's nn.Conv2d(..., padding=(size-1)/2) (or padding="same").
func Conv2DSame(filters, size int) Layer {
	return Layer{kind: kindConv, n: filters, size: size, same: true}
}

// pad returns the zeros a convolution adds on each side of its input.
func (l Layer) pad() int {
	if l.same {
		return (l.size - 1) / 2
	}
	return 0
}

// MaxPool2D returns a max pooling over non-overlapping size×size windows
// (stride size, valid padding: a trailing row or column that does not fill a
// window is dropped, as in Keras and PyTorch).
func MaxPool2D(size int) Layer { return Layer{kind: kindPool, n: size} }

// ReLU returns the elementwise rectifier max(0, x).
func ReLU() Layer { return Layer{kind: kindReLU} }

// Flatten returns a layer that reshapes {C, H, W} to {C·H·W} in C, H, W
// order (as torch.flatten on NCHW tensors). It moves no data.
func Flatten() Layer { return Layer{kind: kindFlatten} }

// Dropout returns inverted dropout: in training each value is zeroed with
// probability rate and the survivors are scaled by 1/(1-rate); in evaluation
// it is the identity.
func Dropout(rate float64) Layer { return Layer{kind: kindDropout, rate: rate} }

// Dense returns a fully connected layer with the given number of units and
// a bias per unit. Its input must be flat ({N}); the weight matrix is stored
// as [units][N], as in torch.nn.Linear. A classifier's last Dense layer
// produces logits (the softmax is part of the loss); a regressor's produces
// its real-valued outputs.
func Dense(units int) Layer { return Layer{kind: kindDense, n: units} }

// typeName is the Keras class name of l.
func (l Layer) typeName() string {
	switch l.kind {
	case kindConv:
		return "Conv2D"
	case kindPool:
		return "MaxPooling2D"
	case kindReLU:
		return "ReLU"
	case kindFlatten:
		return "Flatten"
	case kindDropout:
		return "Dropout"
	case kindDense:
		return "Dense"
	}
	return "Invalid"
}

// baseName is the Keras default layer name prefix of l.
func (l Layer) baseName() string {
	switch l.kind {
	case kindConv:
		return "conv2d"
	case kindPool:
		return "max_pooling2d"
	case kindReLU:
		return "re_lu"
	case kindFlatten:
		return "flatten"
	case kindDropout:
		return "dropout"
	case kindDense:
		return "dense"
	}
	return "invalid"
}

// String describes l, e.g. "Conv2D(32, 3x3)", or "Conv2D(32, 5x5, same)"
// with 'same' padding.
func (l Layer) String() string {
	switch l.kind {
	case kindConv:
		if l.same {
			return fmt.Sprintf("Conv2D(%d, %dx%d, same)", l.n, l.size, l.size)
		}
		return fmt.Sprintf("Conv2D(%d, %dx%d)", l.n, l.size, l.size)
	case kindPool:
		return fmt.Sprintf("MaxPool2D(%d)", l.n)
	case kindReLU:
		return "ReLU()"
	case kindFlatten:
		return "Flatten()"
	case kindDropout:
		return fmt.Sprintf("Dropout(%g)", l.rate)
	case kindDense:
		return fmt.Sprintf("Dense(%d)", l.n)
	}
	return "Invalid()"
}

// outShape returns the output shape of l for input shape in, and the number
// of trainable parameters of l.
func (l Layer) outShape(in Shape) (Shape, int, error) {
	switch l.kind {
	case kindConv:
		if len(in) != 3 {
			return nil, 0, fmt.Errorf("%v: input shape %v is not {C, H, W}", l, in)
		}
		if l.n <= 0 || l.size <= 0 {
			return nil, 0, fmt.Errorf("%v: filters and kernel size must be positive", l)
		}
		if l.same && l.size%2 == 0 {
			return nil, 0, fmt.Errorf("%v: 'same' padding needs an odd kernel size", l)
		}
		p := l.pad()
		oh, ow := in[1]+2*p-l.size+1, in[2]+2*p-l.size+1
		if oh <= 0 || ow <= 0 {
			return nil, 0, fmt.Errorf("%v: kernel larger than input %v", l, in)
		}
		return Shape{l.n, oh, ow}, l.n*in[0]*l.size*l.size + l.n, nil
	case kindPool:
		if len(in) != 3 {
			return nil, 0, fmt.Errorf("%v: input shape %v is not {C, H, W}", l, in)
		}
		if l.n <= 0 {
			return nil, 0, fmt.Errorf("%v: window must be positive", l)
		}
		oh, ow := in[1]/l.n, in[2]/l.n
		if oh == 0 || ow == 0 {
			return nil, 0, fmt.Errorf("%v: window larger than input %v", l, in)
		}
		return Shape{in[0], oh, ow}, 0, nil
	case kindReLU:
		return in, 0, nil
	case kindFlatten:
		return Shape{in.Size()}, 0, nil
	case kindDropout:
		if !(l.rate >= 0 && l.rate < 1) {
			return nil, 0, fmt.Errorf("%v: rate must be in [0, 1)", l)
		}
		return in, 0, nil
	case kindDense:
		if len(in) != 1 {
			return nil, 0, fmt.Errorf("%v: input shape %v is not flat (add Flatten)", l, in)
		}
		if l.n <= 0 {
			return nil, 0, fmt.Errorf("%v: units must be positive", l)
		}
		return Shape{l.n}, l.n*in[0] + l.n, nil
	}
	return nil, 0, fmt.Errorf("invalid layer (use the nn layer constructors)")
}
