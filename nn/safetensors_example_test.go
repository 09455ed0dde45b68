package nn_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/fedactor/fedactor/nn"
)

func ExampleSaveSafetensors() {
	m, err := nn.New(nn.CNN, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	if err := nn.SaveSafetensors(&file, m, map[string]string{"round": "12"}); err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range m.Tensors() {
		fmt.Println(t.Name, t.Shape)
	}

	// Load into a fresh model of the same architecture.
	back, err := nn.New(nn.CNN, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	meta, err := nn.LoadSafetensors(&file, back)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(meta[nn.MetaArchitecture], meta[nn.MetaNumParams], meta["round"])
	// Output:
	// conv1.weight [32 1 3 3]
	// conv1.bias [32]
	// conv2.weight [56 32 3 3]
	// conv2.bias [56]
	// fc.weight [10 1400]
	// fc.bias [10]
	// cnn 30514 12
}
