// Command fedactor runs fedactor's parties on several hosts.
//
//	fedactor node  -role model-owner   -bind 10.0.0.1:7000 -seeds 10.0.0.2:7000,10.0.0.3:7000 [experiment flags]
//	fedactor node  -role secure-worker -bind 10.0.0.2:7000 -seeds ...
//	fedactor node  -parties bob,alice  -bind 10.0.0.3:7000 -seeds ...
//	fedactor certs -out certs -nodes mo,sw,owners -hosts 10.0.0.1,10.0.0.2,10.0.0.3
//
// Every node takes the same experiment flags as experiments/split (for one
// setting: one scheme, one split, one worker count), so that all hosts
// build the same federation; each hosts only the parties it names. The
// model owner's node drives the rounds and writes results.csv,
// summary.json, the figures and final_params.f64 to -out. See
// docs/cluster.md.
package main

import (
	"fmt"
	"log"
	"os"
)

const usage = `usage: fedactor <command> [flags]

commands:
  node    start a cluster member hosting some parties (fedactor node -h)
  certs   make a test CA and node certificates for mutual TLS (fedactor certs -h)
`

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "node":
		err = node(os.Args[2:])
	case "certs":
		err = certs(os.Args[2:])
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "fedactor: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		log.Fatalf("fedactor %s: %v", os.Args[1], err)
	}
}
