package nn_test

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/fedactor/fedactor/nn"
)

func ExampleNew() {
	m, err := nn.New(nn.CNN, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Summary(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Model: "cnn"
	// ________________________________________________________________________
	//  Layer (type)                       Output Shape              Param #
	// ========================================================================
	//  conv2d (Conv2D)                    (None, 32, 26, 26)        320
	//  re_lu (ReLU)                       (None, 32, 26, 26)        0
	//  max_pooling2d (MaxPooling2D)       (None, 32, 13, 13)        0
	//  conv2d_1 (Conv2D)                  (None, 56, 11, 11)        16,184
	//  re_lu_1 (ReLU)                     (None, 56, 11, 11)        0
	//  max_pooling2d_1 (MaxPooling2D)     (None, 56, 5, 5)          0
	//  flatten (Flatten)                  (None, 1400)              0
	//  dropout (Dropout)                  (None, 1400)              0
	//  dense (Dense)                      (None, 10)                14,010
	// ========================================================================
	// Total params: 30,514 (119.20 KB)
	// Trainable params: 30,514
	// Non-trainable params: 0
	// ________________________________________________________________________
}

// stripes is a toy Source: 28×28 images with one bright horizontal stripe
// whose row band (0-9) is the label.
type stripes struct{ n int }

func (s stripes) Len() int       { return s.n }
func (s stripes) InputSize() int { return 784 }
func (s stripes) Read(i int, dst []float32) int {
	label := i % 10
	clear(dst)
	row := 1 + label*2 + i%2
	for x := 0; x < 28; x++ {
		dst[row*28+x] = 1
	}
	return label
}

func ExampleTrainer() {
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := nn.New(nn.CNN, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := nn.Trainer{Model: m, Optimizer: nn.NewAdam(1e-3), BatchSize: 32, Threads: 1}
	data := stripes{n: 480}
	for epoch := 0; epoch < 3; epoch++ {
		if _, err := tr.TrainEpoch(data, nil, rng); err != nil {
			fmt.Println(err)
			return
		}
	}
	acc, _, err := tr.Evaluate(data, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accuracy above 0.9:", acc > 0.9)

	// The flat parameter vector, as the federated layers see it.
	p := m.Params(nil)
	fmt.Println(len(p), "parameters")
	// Output:
	// accuracy above 0.9: true
	// 30514 parameters
}

// NewFor builds a named architecture for another input or class count:
// logistic regression on the 60 features of Synthetic(α, β), McMahan et
// al.'s CNN for FEMNIST's 62 classes.
func ExampleNewFor() {
	for _, c := range []struct {
		name    string
		input   nn.Shape
		classes int
	}{
		{nn.LogReg, nn.Shape{60}, 10},
		{nn.McMahanCNN, nil, 10},
		{nn.McMahanCNN, nn.Shape{1, 28, 28}, 62},
		{nn.NIIDBenchCNN, nil, 10},
	} {
		m, err := nn.NewFor(c.name, c.input, c.classes, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%-14s %v -> %d classes: %d parameters\n", m.Name(), m.InputShape(), m.Classes(), m.NumParams())
	}
	// Output:
	// logreg         (None, 60) -> 10 classes: 610 parameters
	// mcmahan-cnn    (None, 1, 28, 28) -> 10 classes: 1663370 parameters
	// mcmahan-cnn    (None, 1, 28, 28) -> 62 classes: 1690046 parameters
	// niid-bench-cnn (None, 3, 32, 32) -> 10 classes: 62006 parameters
}
