package nn

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// arch is a compiled, immutable model architecture shared by all models
// built from it.
type arch struct {
	name    string
	input   Shape
	layers  []Layer
	shapes  []Shape // output shape of each layer
	counts  []int   // parameters of each layer
	offs    []int   // parameter offset of each layer
	ops     []op
	nparams int
	classes int // units of the last Dense layer: classes, or outputs of a regressor
	// regression selects the squared-error loss on real-valued targets
	// instead of softmax cross-entropy on labels.
	regression bool
}

// compile checks layers against input and fuses them into ops. A
// regression architecture needs at least one output, a classifier at least
// two classes.
func compile(name string, input Shape, layers []Layer, regression bool) (*arch, error) {
	if len(layers) == 0 {
		return nil, errors.New("nn: model has no layers")
	}
	if input.Size() <= 0 || (len(input) != 1 && len(input) != 3) {
		return nil, fmt.Errorf("nn: input shape %v must be {N} or {C, H, W} with positive sizes", input)
	}
	a := &arch{name: name, input: slices.Clone(input), layers: slices.Clone(layers), regression: regression}
	cur := a.input
	for i, l := range layers {
		out, np, err := l.outShape(cur)
		if err != nil {
			return nil, fmt.Errorf("nn: layer %d: %w", i, err)
		}
		a.shapes = append(a.shapes, out)
		a.counts = append(a.counts, np)
		a.offs = append(a.offs, a.nparams)
		a.nparams += np
		cur = out
	}
	last := layers[len(layers)-1]
	what, least := "", 2 // a classifier's last layer gives the logits
	if regression {
		what, least = " of a regression model", 1
	}
	if last.kind != kindDense {
		return nil, fmt.Errorf("nn: last layer%s must be Dense (it produces the outputs)", what)
	}
	if last.n < least {
		return nil, fmt.Errorf("nn: last Dense layer%s needs at least %d units", what, least)
	}
	a.classes = last.n

	in := a.input
	dropouts := 0
	for i := 0; i < len(layers); i++ {
		l := layers[i]
		next := func(k kind) bool { return i+1 < len(layers) && layers[i+1].kind == k }
		switch l.kind {
		case kindConv:
			off, relu, pool := a.offs[i], false, 1
			if next(kindReLU) {
				relu = true
				i++
			}
			if next(kindPool) {
				pool = layers[i+1].n
				i++
			}
			o := newPaddedConvOp(off, in, l.n, l.size, l.pad(), relu, pool)
			o.first = off == 0 // no parameters before it: no input gradient
			a.ops = append(a.ops, o)
		case kindDense:
			off := a.offs[i]
			relu := next(kindReLU)
			if relu {
				i++
			}
			a.ops = append(a.ops, &denseOp{off: off, in: in[0], out: l.n, relu: relu})
		case kindPool:
			o := a.shapes[i]
			a.ops = append(a.ops, &poolOp{c: in[0], h: in[1], w: in[2], q: l.n, ph: o[1], pw: o[2]})
		case kindReLU:
			a.ops = append(a.ops, &reluOp{size: in.Size()})
		case kindFlatten:
			a.ops = append(a.ops, flattenOp{})
		case kindDropout:
			dropouts++
			a.ops = append(a.ops, &dropoutOp{size: in.Size(), rate: l.rate, salt: uint64(dropouts) * 0x9e3779b97f4a7c15})
		}
		in = a.shapes[i]
	}
	return a, nil
}

// Model is a sequential network: an immutable architecture plus one flat
// float32 parameter vector. A Model holds no scratch memory, so it costs
// little more than its parameters; training and evaluation buffers live in
// a Trainer. A Model is not safe for concurrent mutation, but any number of
// goroutines may evaluate it at once.
type Model struct {
	a *arch
	w []float32
}

// Names of the models that New builds.
const (
	// CNN is the Keras "simple MNIST convnet" for 1×28×28 inputs:
	// Conv2D(32, 3x3) ReLU MaxPool2D(2) Conv2D(56, 3x3) ReLU MaxPool2D(2)
	// Flatten Dropout(0.5) Dense(10), 30,514 parameters.
	CNN = "cnn"
	// MLP is McMahan et al.'s "2NN" for 784 inputs: Dense(200) ReLU
	// Dense(200) ReLU Dense(10), 199,210 parameters.
	MLP = "mlp"
	// LogReg is multinomial logistic regression on 784 inputs:
	// Dense(10), 7,850 parameters.
	LogReg = "logreg"
	// McMahanCNN is the MNIST CNN of McMahan et al. 2017
	// ("Communication-Efficient Learning of Deep Networks from
	// Decentralized Data", AISTATS, section 3) for 1×28×28 inputs: two
	// 5×5 convolutions with 32 and 64 channels and 'same' padding, each
	// followed by ReLU and 2×2 max pooling, a 512-unit dense layer with
	// ReLU and a 10-way output: Conv2DSame(32, 5) ReLU MaxPool2D(2)
	// Conv2DSame(64, 5) ReLU MaxPool2D(2) Flatten Dense(512) ReLU
	// Dense(10), 1,663,370 parameters.
	McMahanCNN = "mcmahan-cnn"
	// NIIDBenchCNN is the "simple CNN" for CIFAR-10 of Li, Diao, Chen and
	// He 2022 ("Federated Learning on Non-IID Data Silos: An Experimental
	// Study", ICDE, experimental setup), for 3×32×32 inputs: two 5×5
	// convolutions with 6 and 16 channels, each followed by ReLU and 2×2
	// max pooling, then dense layers of 120 and 84 units with ReLU and a
	// 10-way output: Conv2D(6, 5) ReLU MaxPool2D(2) Conv2D(16, 5) ReLU
	// MaxPool2D(2) Flatten Dense(120) ReLU Dense(84) ReLU Dense(10),
	// 62,006 parameters. It is also the network of PyTorch's CIFAR-10
	// tutorial ("Training a Classifier").
	NIIDBenchCNN = "niid-bench-cnn"
)

// Models returns the names of the models New and NewFor build.
func Models() []string { return []string{CNN, MLP, LogReg, McMahanCNN, NIIDBenchCNN} }

// recipe describes a named model: the input shape it is defined for and
// its layers for a number of classes. A flat recipe takes any input,
// flattened to {N}.
type recipe struct {
	input  Shape
	flat   bool
	layers func(classes int) []Layer
}

// recipeOf returns the recipe of a model name. It builds a fresh value on
// every call so that no caller can alter it.
func recipeOf(name string) (recipe, bool) {
	switch name {
	case CNN:
		return recipe{input: Shape{1, 28, 28}, layers: func(k int) []Layer {
			return []Layer{
				Conv2D(32, 3), ReLU(), MaxPool2D(2),
				Conv2D(56, 3), ReLU(), MaxPool2D(2),
				Flatten(), Dropout(0.5), Dense(k),
			}
		}}, true
	case MLP:
		return recipe{input: Shape{784}, flat: true, layers: func(k int) []Layer {
			return []Layer{Dense(200), ReLU(), Dense(200), ReLU(), Dense(k)}
		}}, true
	case LogReg:
		return recipe{input: Shape{784}, flat: true, layers: func(k int) []Layer {
			return []Layer{Dense(k)}
		}}, true
	case McMahanCNN:
		return recipe{input: Shape{1, 28, 28}, layers: func(k int) []Layer {
			return []Layer{
				Conv2DSame(32, 5), ReLU(), MaxPool2D(2),
				Conv2DSame(64, 5), ReLU(), MaxPool2D(2),
				Flatten(), Dense(512), ReLU(), Dense(k),
			}
		}}, true
	case NIIDBenchCNN:
		return recipe{input: Shape{3, 32, 32}, layers: func(k int) []Layer {
			return []Layer{
				Conv2D(6, 5), ReLU(), MaxPool2D(2),
				Conv2D(16, 5), ReLU(), MaxPool2D(2),
				Flatten(), Dense(120), ReLU(), Dense(84), ReLU(), Dense(k),
			}
		}}, true
	}
	return recipe{}, false
}

// New returns the named model (one of Models) for the input shape it is
// defined for and 10 classes, with weights drawn by Init from rng, or all
// zero if rng is nil.
func New(name string, rng *rand.Rand) (*Model, error) {
	return NewFor(name, nil, 10, rng)
}

// NewFor returns the named model (one of Models) for examples of shape
// input and the given number of classes, with weights drawn by Init from
// rng, or all zero if rng is nil. A nil input means the shape the model is
// defined for ({1, 28, 28} for CNN and McMahanCNN, {3, 32, 32} for
// NIIDBenchCNN, {784} for MLP and LogReg). MLP and LogReg take any input
// and flatten it, e.g. LogReg on {60} for the Synthetic(α, β) data; the
// convolutional models need {C, H, W} large enough for their kernels and
// pooling. NewFor(name, nil, 10, rng) is New(name, rng).
func NewFor(name string, input Shape, classes int, rng *rand.Rand) (*Model, error) {
	r, ok := recipeOf(name)
	if !ok {
		return nil, fmt.Errorf("nn: unknown model %q (want one of %s)", name, strings.Join(Models(), ", "))
	}
	if input == nil {
		input = r.input
	}
	if r.flat {
		input = Shape{input.Size()}
	}
	a, err := compile(name, input, r.layers(classes), false)
	if err != nil {
		return nil, err
	}
	return newModel(a, rng), nil
}

// NewModel returns a sequential model of the given layers for examples of
// shape input, with weights drawn by Init from rng, or all zero if rng is
// nil. The last layer must be Dense; its units are the classes.
func NewModel(input Shape, layers []Layer, rng *rand.Rand) (*Model, error) {
	a, err := compile("sequential", input, layers, false)
	if err != nil {
		return nil, err
	}
	return newModel(a, rng), nil
}

// NewRegression returns a sequential regression model of the given layers
// for examples of shape input, with weights drawn by Init from rng, or all
// zero if rng is nil. The last layer must be Dense with at least one unit;
// its units are the real-valued outputs, with no activation after them.
// The loss of one example is the squared error summed over the outputs,
// Σ_j (y_j − t_j)², and a batch's loss is its mean over the examples, so
// the gradient with respect to y is 2·(y − t)/n. A regressor trains and
// evaluates on a TargetSource; see Trainer.Evaluate for what it reports.
func NewRegression(input Shape, layers []Layer, rng *rand.Rand) (*Model, error) {
	a, err := compile("regression", input, layers, true)
	if err != nil {
		return nil, err
	}
	return newModel(a, rng), nil
}

func newModel(a *arch, rng *rand.Rand) *Model {
	m := &Model{a: a, w: make([]float32, a.nparams)}
	if rng != nil {
		m.Init(rng)
	}
	return m
}

// Init redraws all parameters as Keras does by default: kernels from the
// Glorot (Xavier) uniform distribution U(-l, l) with l = sqrt(6/(fanIn +
// fanOut)), where a convolution's fans are channels times kernel area, and
// biases zero.
func (m *Model) Init(rng *rand.Rand) {
	in := m.a.input
	for i, l := range m.a.layers {
		p := m.w[m.a.offs[i] : m.a.offs[i]+m.a.counts[i]]
		var fanIn, fanOut, nk int
		switch l.kind {
		case kindConv:
			fanIn, fanOut = in[0]*l.size*l.size, l.n*l.size*l.size
			nk = l.n * in[0] * l.size * l.size
		case kindDense:
			fanIn, fanOut = in[0], l.n
			nk = l.n * in[0]
		}
		if nk > 0 {
			lim := math.Sqrt(6 / float64(fanIn+fanOut))
			for j := range p[:nk] {
				p[j] = float32((2*rng.Float64() - 1) * lim)
			}
			clear(p[nk:])
		}
		in = m.a.shapes[i]
	}
}

// Name returns the model's name: one of Models for New and NewFor,
// "sequential" for NewModel or "regression" for NewRegression.
func (m *Model) Name() string { return m.a.name }

// InputShape returns the shape of one input example.
func (m *Model) InputShape() Shape { return slices.Clone(m.a.input) }

// InputSize returns the number of features of one input example.
func (m *Model) InputSize() int { return m.a.input.Size() }

// Classes returns the number of units of the last Dense layer: the
// number of output classes of a classifier, or the number of real-valued
// outputs of a regressor.
func (m *Model) Classes() int { return m.a.classes }

// Regression reports whether m is a regressor built by NewRegression,
// trained on the squared error of real-valued targets, rather than a
// classifier trained on the softmax cross-entropy of labels.
func (m *Model) Regression() bool { return m.a.regression }

// Layers returns a copy of the model's layers.
func (m *Model) Layers() []Layer { return slices.Clone(m.a.layers) }

// NumParams returns the number of trainable parameters.
func (m *Model) NumParams() int { return m.a.nparams }

// Params appends the parameters, converted to float64, to dst[:0] and
// returns the result; it allocates only if dst is too short. The order is
// documented in the package comment.
func (m *Model) Params(dst []float64) []float64 {
	dst = slices.Grow(dst[:0], len(m.w))[:len(m.w)]
	for i, v := range m.w {
		dst[i] = float64(v)
	}
	return dst
}

// SetParams sets the parameters from p (rounded to float32), which must
// have length NumParams.
func (m *Model) SetParams(p []float64) error {
	if len(p) != len(m.w) {
		return fmt.Errorf("nn: SetParams: got %d values, model %s has %d parameters", len(p), m.a.name, len(m.w))
	}
	for i, v := range p {
		m.w[i] = float32(v)
	}
	return nil
}

// Weights returns the model's parameter vector itself (not a copy), in the
// documented order. Writes through it change the model.
func (m *Model) Weights() []float32 { return m.w }

// Clone returns an independent copy of m sharing only the (immutable)
// architecture.
func (m *Model) Clone() *Model {
	return &Model{a: m.a, w: slices.Clone(m.w)}
}

// CopyFrom sets m's parameters to src's. Both must have the same
// architecture.
func (m *Model) CopyFrom(src *Model) error {
	if !m.SameArch(src) {
		return fmt.Errorf("nn: CopyFrom: architecture of %s differs from %s", src.a.name, m.a.name)
	}
	copy(m.w, src.w)
	return nil
}

// SameArch reports whether m and o have the same input shape and layers,
// so that their parameter vectors are interchangeable.
func (m *Model) SameArch(o *Model) bool {
	return m.a == o.a || (slices.Equal(m.a.input, o.a.input) && slices.Equal(m.a.layers, o.a.layers))
}

// Summary writes a Keras-style table of the layers, their output shapes
// (NCHW, with None for the batch) and parameter counts, and the totals.
func (m *Model) Summary(w io.Writer) error {
	var b strings.Builder
	line := func(c byte) { b.WriteString(strings.Repeat(string(c), 72) + "\n") }
	row := func(name, shape, params string) {
		fmt.Fprintf(&b, "%s\n", strings.TrimRight(fmt.Sprintf(" %-35s%-26s%s", name, shape, params), " "))
	}
	fmt.Fprintf(&b, "Model: %q\n", m.a.name)
	line('_')
	row("Layer (type)", "Output Shape", "Param #")
	line('=')
	seen := map[string]int{}
	for i, l := range m.a.layers {
		name := l.baseName()
		if k := seen[name]; k > 0 {
			name = fmt.Sprintf("%s_%d", name, k)
		}
		seen[l.baseName()]++
		row(fmt.Sprintf("%s (%s)", name, l.typeName()), m.a.shapes[i].String(), commas(m.a.counts[i]))
	}
	line('=')
	fmt.Fprintf(&b, "Total params: %s (%.2f KB)\n", commas(m.a.nparams), float64(4*m.a.nparams)/1024)
	fmt.Fprintf(&b, "Trainable params: %s\n", commas(m.a.nparams))
	b.WriteString("Non-trainable params: 0\n")
	line('_')
	_, err := io.WriteString(w, b.String())
	return err
}

// commas formats n with thousands separators.
func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
