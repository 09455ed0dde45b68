package crypto_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/fedactor/fedactor/crypto"
)

// Two data owners aggregate their updates with additive secret sharing;
// the model owner divides the revealed sum by the total weight (FedAvg).
func Example() {
	s, err := crypto.New("ss", crypto.Config{Owners: 2, Len: 3})
	if err != nil {
		log.Fatal(err)
	}
	updates := [][]float64{{0.1, -0.2, 0.3}, {0.3, 0.2, -0.1}}
	weights := []float64{100, 300} // sample counts
	sum, total, _, err := crypto.Run(s, updates, weights, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	for i := range sum {
		fmt.Printf("%.4f ", sum[i]/total)
	}
	fmt.Println(total)
	// Output: 0.2500 0.1000 0.0000 400
}
