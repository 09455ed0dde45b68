package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/fedactor/fedactor/actors/hosts"
	"github.com/fedactor/fedactor/internal/cli"
)

// certs writes a test CA and one certificate per node.
func certs(args []string) error {
	fs := flag.NewFlagSet("certs", flag.ExitOnError)
	out := fs.String("out", "certs", "directory for ca.pem and <node>.pem / <node>-key.pem")
	nodes := fs.String("nodes", "node", "comma-separated node names, one certificate each")
	hostList := fs.String("hosts", "127.0.0.1,localhost", "comma-separated host names and IP addresses the certificates are valid for")
	fs.Parse(args)
	names, hs := cli.List(*nodes), cli.List(*hostList)
	if len(names) == 0 || len(hs) == 0 {
		return fmt.Errorf("need -nodes and -hosts")
	}
	if err := hosts.WriteCerts(*out, names, hs); err != nil {
		return err
	}
	fmt.Printf("wrote %s/ca.pem and certificates for %s (valid for %s)\n", *out, strings.Join(names, ", "), strings.Join(hs, ", "))
	return nil
}
