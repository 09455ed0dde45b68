package main

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/consul"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	"github.com/hashicorp/consul/api"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// provider returns the membership provider called name: nil for
// "automanaged" (the hosts package's default, which needs no service),
// or an etcd or consul client for the given endpoints.
func provider(name string, endpoints []string) (cluster.ClusterProvider, error) {
	switch name {
	case "automanaged", "":
		return nil, nil
	case "etcd":
		if len(endpoints) == 0 {
			endpoints = []string{"127.0.0.1:2379"}
		}
		return etcd.NewWithConfig("/fedactor", clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	case "consul":
		cfg := api.DefaultConfig()
		if len(endpoints) > 0 {
			cfg.Address = endpoints[0]
		}
		return consul.NewWithConfig(cfg)
	}
	return nil, fmt.Errorf("-provider %q: want automanaged, etcd or consul", name)
}
