package sweep

import (
	"fmt"

	"github.com/fedactor/fedactor/actors/sim"
)

// deployment returns the devices of n data owners (or registered clients)
// and the crypto cost table that simulated time uses: a device per row of
// the devices file, or every owner on the network preset; the table from
// the costs file, or the shipped one.
func (c Config) deployment(n int) ([]sim.Device, *sim.Costs, error) {
	var devices []sim.Device
	if c.Devices != "" {
		all, err := sim.ReadDevices(c.Devices)
		if err != nil {
			return nil, nil, err
		}
		if len(all) < n {
			return nil, nil, fmt.Errorf("-devices %s: %d devices for %d owners (or clients)", c.Devices, len(all), n)
		}
		devices = all[:n]
	} else {
		link, err := c.link()
		if err != nil {
			return nil, nil, err
		}
		devices = make([]sim.Device, n)
		for i := range devices {
			devices[i] = sim.Device{FLOPS: sim.ReferenceFLOPS, Link: link}
		}
	}
	costs, err := c.costs()
	return devices, costs, err
}

// link returns the -network preset's link.
func (c Config) link() (sim.Link, error) {
	name := c.Network
	if name == "" {
		name = "broadband"
	}
	link, _, err := sim.Network(name)
	if err != nil {
		return sim.Link{}, fmt.Errorf("-network: %w", err)
	}
	return link, nil
}

// costs returns the -costs table, or the shipped one.
func (c Config) costs() (*sim.Costs, error) {
	if c.Costs == "" {
		return sim.DefaultCosts()
	}
	return sim.ReadCosts(c.Costs)
}

// Deployment is what summary.json records of simulated time: the owners'
// network (or devices file), the server's device and the cost table.
type Deployment struct {
	Clock   string     `json:"clock"`
	Network string     `json:"network,omitempty"`
	Link    *sim.Link  `json:"link,omitempty"`
	Source  string     `json:"network_source,omitempty"`
	Devices string     `json:"devices,omitempty"`
	Server  sim.Device `json:"server"`
	Costs   *sim.Costs `json:"costs"`
}

// deploymentRecord returns c's Deployment.
func (c Config) deploymentRecord() (Deployment, error) {
	d := Deployment{Clock: "sim", Devices: c.Devices, Server: sim.DefaultServer()}
	if c.Clock == "wall" {
		d.Clock = "wall"
	}
	if c.Devices == "" {
		d.Network = c.Network
		if d.Network == "" {
			d.Network = "broadband"
		}
		link, source, err := sim.Network(d.Network)
		if err != nil {
			return d, fmt.Errorf("-network: %w", err)
		}
		d.Link, d.Source = &link, source
	}
	var err error
	d.Costs, err = c.costs()
	return d, err
}
