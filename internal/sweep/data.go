package sweep

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/fedactor/fedactor/dataset"
)

// Data is a loaded dataset and the examples of it a run uses.
type Data struct {
	Train, Test *dataset.Set
	// TrainIdx and TestIdx are the examples in use, in increasing order:
	// all of them, or the seeded subsamples of -limit and -test-limit.
	TrainIdx, TestIdx []int
}

// LoadData loads the dataset called name from dir (a -data-dir value;
// empty falls back to $FEDACTOR_DATA, the cache and a verified download)
// and keeps seeded subsamples of limit training and testLimit test
// examples (0 keeps all), drawn from TrainStream and TestStream. Download
// progress goes to stderr.
func LoadData(name, dir string, limit, testLimit int, seed uint64) (*Data, error) {
	if limit < 0 || testLimit < 0 {
		return nil, fmt.Errorf("load %s: -limit %d and -test-limit %d must be >= 0", name, limit, testLimit)
	}
	d, err := dataset.Load(name, dataset.Options{Dir: dataset.DataDir(dir), Progress: os.Stderr})
	if err != nil {
		return nil, err
	}
	return &Data{Train: d.Train, Test: d.Test,
		TrainIdx: dataset.Subsample(d.Train.Len(), limit, TrainStream.Rand(seed)),
		TestIdx:  dataset.Subsample(d.Test.Len(), testLimit, TestStream.Rand(seed))}, nil
}

// NewData returns the data of a run that uses every example of train and
// test.
func NewData(train, test *dataset.Set) *Data {
	return &Data{Train: train, Test: test, TrainIdx: dataset.Subsample(train.Len(), 0, nil), TestIdx: dataset.Subsample(test.Len(), 0, nil)}
}

// SyntheticData returns train and test examples of dataset.Synthetic
// (28x28 images in 10 classes) drawn from seed: data for smoke runs and
// tests that need no download.
func SyntheticData(train, test int, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	return NewData(dataset.Synthetic(train, 28, dataset.NumClasses, rng), dataset.Synthetic(test, 28, dataset.NumClasses, rng))
}
