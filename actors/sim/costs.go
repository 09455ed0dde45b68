package sim

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// The crypto steps whose cost the table gives.
const (
	OpProtect       = "protect"        // a data owner protects its update
	OpCombine       = "combine"        // a holder folds one more payload in
	OpRevealShare   = "reveal_share"   // a data owner answers a reveal request
	OpReveal        = "reveal"         // the model owner reveals the aggregate
	OpKeyShare      = "key_share"      // a data owner makes its key messages
	OpCollectiveKey = "collective_key" // the secure worker makes the collective key
)

// OpCost is the cost of one crypto step for a vector of Costs.Len values:
// Base seconds, plus PerParty seconds for every party the step's work
// grows with (the holders an ss update is split among, the owners a
// secagg mask or reveal covers).
type OpCost struct {
	Base     float64 `json:"base_s"`
	PerParty float64 `json:"per_party_s"`
}

// Costs is a calibration table: the cost of every crypto step of every
// scheme, measured on one machine for vectors of Len values. Costs scale
// linearly with the vector length.
type Costs struct {
	// Machine says where and how the table was measured.
	Machine string `json:"machine"`
	// Len is the vector length the costs were measured at.
	Len int `json:"len"`
	// Ops holds the cost of each step by scheme and step name.
	Ops map[string]map[string]OpCost `json:"ops"`
}

//go:embed costs.json
var defaultCosts []byte

// DefaultCosts returns the table shipped with fedactor.
func DefaultCosts() (*Costs, error) { return parseCosts(defaultCosts) }

// ReadCosts reads a table written by WriteCosts (see experiments/crypto
// -calibrate).
func ReadCosts(path string) (*Costs, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("costs: %w", err)
	}
	c, err := parseCosts(b)
	if err != nil {
		return nil, fmt.Errorf("costs %s: %w", path, err)
	}
	return c, nil
}

func parseCosts(b []byte) (*Costs, error) {
	var c Costs
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Costs) check() error {
	if c.Len < 1 {
		return fmt.Errorf("vector length %d < 1", c.Len)
	}
	if len(c.Ops) == 0 {
		return errors.New("no schemes")
	}
	for scheme, ops := range c.Ops {
		for op, cost := range ops {
			if !finite(cost.Base) || !finite(cost.PerParty) || cost.Base < 0 || cost.PerParty < 0 {
				return fmt.Errorf("%s %s: costs %g and %g per party: want finite and >= 0", scheme, op, cost.Base, cost.PerParty)
			}
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Step returns the simulated time of crypto step op of scheme for a
// vector of length values that involves parties parties (ignored by steps
// that do not grow with them). A step the table does not list costs
// nothing: schemes without it do not take it.
func (c *Costs) Step(scheme, op string, length, parties int) time.Duration {
	cost, ok := c.Ops[scheme][op]
	if !ok {
		return 0
	}
	return Seconds((cost.Base + cost.PerParty*float64(parties)) * float64(length) / float64(c.Len))
}

// Schemes lists the schemes the table covers.
func (c *Costs) Schemes() []string {
	var names []string
	for s := range c.Ops {
		names = append(names, s)
	}
	slices.Sort(names)
	return names
}

// Covers reports an error unless the table covers scheme.
func (c *Costs) Covers(scheme string) error {
	if _, ok := c.Ops[scheme]; !ok {
		return fmt.Errorf("sim: the cost table (%s) has no row for scheme %q (has %s)", c.Machine, scheme, strings.Join(c.Schemes(), ", "))
	}
	return nil
}
