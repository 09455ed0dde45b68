package dataset_test

import (
	"fmt"
	"log"
	"math/rand/v2"
	"os"

	"github.com/fedactor/fedactor/dataset"
)

// An experiment loads a dataset from the -data-dir flag or FEDACTOR_DATA,
// falling back to the cache and a download, then gives each data owner a
// view of its partition.
func ExampleLoad() {
	dataDirFlag := "" // the value of a -data-dir flag, "" if not given
	data, err := dataset.Load("fashion", dataset.Options{
		Dir:      dataset.DataDir(dataDirFlag),
		Progress: os.Stderr,
	})
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	train := data.Train.Select(dataset.Subsample(data.Train.Len(), 6000, rng))
	p, err := dataset.NewPartitioner("dirichlet", dataset.DefaultAlpha)
	if err != nil {
		log.Fatal(err)
	}
	parts, err := p.Partition(train.Labels, 10, rng)
	if err != nil {
		log.Fatal(err)
	}
	owner0 := train.View(parts[0])
	x := make([]float32, owner0.InputSize())
	label := owner0.Read(0, x)
	fmt.Println(owner0.Len(), label)
}

func ExampleNewPartitioner() {
	// Twelve examples of three classes, four of each.
	labels := []uint8{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}
	for _, name := range []string{"iid", "shards"} {
		p, err := dataset.NewPartitioner(name, 0)
		if err != nil {
			log.Fatal(err)
		}
		parts, err := p.Partition(labels, 3, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(name, parts, dataset.LabelHistogram(labels, parts, 3))
	}
	// Output:
	// iid [[1 3 4 10] [0 2 5 8] [6 7 9 11]] [[1 3 0] [1 0 3] [2 1 1]]
	// shards [[6 8 9 11] [0 1 3 4] [2 5 7 10]] [[2 0 2] [2 2 0] [0 2 2]]
}

// The Synthetic(α, β) data of Li et al. 2020 is generated from its name;
// its 30 devices are its natural partition, which "-splits natural"
// hands out one device per data owner.
func ExampleNaturalPartitioner() {
	data, err := dataset.Load("synthetic:alpha=0.5,beta=0.5", dataset.Options{})
	if err != nil {
		log.Fatal(err)
	}
	p, err := dataset.NaturalPartitioner(data)
	if err != nil {
		log.Fatal(err)
	}
	parts, err := p.Partition(data.Train.Labels, 30, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(data.Name, data.Train.Shape(), data.Train.Classes(), len(parts))

	// MNIST has no natural partition: the partitioner is refused.
	_, err = dataset.NaturalPartitioner(&dataset.Data{Name: "mnist"})
	fmt.Println(err)
	// Output:
	// synthetic:alpha=0.5,beta=0.5 [60] 10 30
	// dataset: mnist: dataset has no natural partition (use iid, shards, dirichlet or quantity)
}
