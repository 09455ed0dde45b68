package dataset

import (
	"testing"

	"github.com/fedactor/fedactor/internal/testenv"
)

// TestDataEnvIsTestenvs keeps the variable the tests read the data from
// the one Load reads it from.
func TestDataEnvIsTestenvs(t *testing.T) {
	if testenv.DataEnv != EnvDataDir {
		t.Errorf("testenv reads $%s, dataset $%s", testenv.DataEnv, EnvDataDir)
	}
}

func TestLoadReal(t *testing.T) {
	if testing.Short() {
		t.Skip("decompressing the real datasets takes ~20 s under -race -short")
	}
	dir := testenv.DataDir(t)
	// The MNIST-shaped datasets of FEDACTOR_DATA. CIFAR-10 and FEMNIST
	// have no copy there (none can be fetched on the development
	// machines); their loaders are tested on generated files, and
	// "synthetic" is generated.
	for _, name := range []string{"mnist", "fashion"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := Load(name, Options{Dir: dir, CacheDir: t.TempDir(), SystemDir: t.TempDir(), Offline: true})
			if err != nil {
				t.Fatalf("Load(%q): %v", name, err)
			}
			for _, c := range []struct {
				set  *Set
				want int
			}{{d.Train, 60000}, {d.Test, 10000}} {
				s := c.set
				if s.Len() != c.want || s.Rows != 28 || s.Cols != 28 || s.InputSize() != 784 || len(s.Images) != c.want*784 {
					t.Fatalf("set of %d images of %dx%d (%d bytes), want %d of 28x28", s.Len(), s.Rows, s.Cols, len(s.Images), c.want)
				}
				hist := LabelHistogram(s.Labels, [][]int{Subsample(s.Len(), 0, nil)}, s.Classes())[0]
				for class, n := range hist {
					if n < c.want/12 || n > c.want/8 {
						t.Errorf("%d examples of class %d out of %d", n, class, c.want)
					}
				}
				x := make([]float32, s.InputSize())
				var sum float32
				for i := range 100 {
					s.Read(i, x)
					for _, v := range x {
						sum += v
					}
				}
				if mean := sum / float32(100*len(x)); mean < 0.05 || mean > 0.5 {
					t.Errorf("mean pixel %.3f", mean)
				}
			}
		})
	}
}
