package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fedactor/fedactor/actors"
	"github.com/fedactor/fedactor/actors/hosts"
	"github.com/fedactor/fedactor/dataset"
	"github.com/fedactor/fedactor/internal/cli"
	"github.com/fedactor/fedactor/internal/sweep"
)

// node runs one cluster member until the run is over.
func node(args []string) error {
	fs := flag.NewFlagSet("node", flag.ExitOnError)
	flags := sweep.NewFlags(fs, "node")
	if err := flags.SetDefaults(map[string]string{"owners": "2", "splits": "iid"}); err != nil { // one setting per run
		return err
	}
	role := fs.String("role", "", "host a fixed party: model-owner, secure-worker or, with -group-size, a group's secure-worker-N")
	parties := fs.String("parties", "", "comma-separated data owners to host, e.g. bob,alice")
	bind := fs.String("bind", "127.0.0.1:7000", "host:port to listen on (membership uses port+1)")
	advertise := fs.String("advertise", "", "host:port other members reach this one at (default -bind)")
	seeds := fs.String("seeds", "", "comma-separated host:port of the other members")
	cert := fs.String("tls-cert", "", "this member's certificate (PEM) for mutual TLS")
	key := fs.String("tls-key", "", "this member's private key (PEM)")
	ca := fs.String("tls-ca", "", "the CA certificate (PEM) that signs every member's certificate")
	insecure := fs.Bool("insecure-allow-non-loopback", false, "run without TLS on non-loopback addresses (traffic and peers unauthenticated!)")
	wait := fs.Duration("wait", 2*time.Minute, "how long the model owner waits for every party to join")
	leave := fs.Duration("leave-wait", time.Minute, "how long the model owner waits after the run for the other members to have its Stop and leave")
	pause := fs.Int("pause-after", 0, "after this round the model owner waits for a line on standard input before the next (to stop or kill a member at a known point; 0 = never)")
	prov := fs.String("provider", "automanaged", "cluster membership: automanaged (no external service), etcd or consul")
	endpoints := fs.String("provider-endpoints", "", "comma-separated etcd endpoints or the consul address (default: their local defaults)")
	fs.Parse(args)

	c, err := flags.Parse()
	if err != nil {
		return err
	}
	settings := c.Settings()
	if len(settings) != 1 {
		return fmt.Errorf("a node runs one setting: give one -scheme, one -splits and one -owners (got %d settings)", len(settings))
	}
	s := settings[0]
	hosted := cli.List(*parties)
	if *role != "" {
		// A group worker's number is checked against -group-size when the party is spawned.
		if *role != actors.ModelOwnerName && !strings.HasPrefix(*role, actors.SecureWorkerName) {
			return fmt.Errorf("-role %q: want %s, %s or %s", *role, actors.ModelOwnerName, actors.SecureWorkerName, actors.GroupWorkerName(0))
		}
		hosted = append(hosted, *role)
	}
	if len(hosted) == 0 {
		return errors.New("nothing to host: give -role and/or -parties")
	}
	logger := cli.Logger(flags.Verbose)
	cfg := hosts.Config{Bind: *bind, Advertise: *advertise, Seeds: cli.List(*seeds), Insecure: *insecure}
	if flags.Verbose {
		cfg.Logger = logger // ProtoActor's own records are noisy while members join and leave
	}
	if cfg.Provider, err = provider(*prov, cli.List(*endpoints)); err != nil {
		return err
	}
	if *cert != "" || *key != "" || *ca != "" {
		if cfg.TLS, err = hosts.LoadTLS(*cert, *key, *ca); err != nil {
			return err
		}
	}
	member, err := hosts.New(cfg)
	if err != nil {
		return err
	}
	d, err := flags.Load()
	if err != nil {
		return err
	}
	fed, parts, err := sweep.Build(c, s, d)
	if err != nil {
		return err
	}
	fed.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mo := slices.Contains(hosted, actors.ModelOwnerName)
	if mo {
		fed.OnRound = func(rm actors.RoundMetrics) {
			status := fmt.Sprintf("accuracy %6.2f%%", 100*rm.TestAccuracy)
			if rm.Err != "" {
				status = "FAILED: " + rm.Err
			}
			fmt.Printf("round %2d/%d  %s  (%.1fs, %d contributors, dropped %v)\n", rm.Round, c.Rounds, status, rm.Seconds, len(rm.Contributors), rm.Dropped)
			if rm.Round == *pause && rm.Round < c.Rounds {
				fmt.Printf("paused after round %d: press Enter to go on\n", rm.Round)
				awaitLine(ctx, os.Stdin)
			}
		}
	}
	n, err := actors.NewNode(fed, member.Lookup)
	if err != nil {
		return err
	}
	defer n.Close()
	if err := member.Start(n, hosted); err != nil {
		return err
	}
	defer member.Shutdown()
	fmt.Printf("node %s hosting %v (%s, %s split, %d owners)\n", *bind, hosted, s.Scheme, s.Split, s.Owners)

	if !mo {
		select {
		case <-n.Stopped():
			fmt.Println("run over")
		case <-ctx.Done():
		}
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	if err := member.WaitFor(waitCtx, n.Parties()); err != nil {
		return err
	}
	if err := member.Send(actors.ModelOwnerName, &actors.Start{}); err != nil {
		return err
	}
	res, err := actors.Wait(ctx, n)
	if err != nil {
		return err
	}
	sum := sweep.NewSummary(c)
	sum.Add(s, fed, res, dataset.LabelHistogram(d.Train.Labels, parts, dataset.NumClasses))
	for _, write := range []func(string) error{sum.Write, sum.Plot} {
		if err := write(c.Out); err != nil {
			return err
		}
	}
	if err := sweep.WriteParams(filepath.Join(c.Out, "final_params.f64"), res.Final); err != nil {
		return err
	}
	// The other members leave once their parties have had Stop; until
	// then this member must stay up to deliver it.
	leaveCtx, cancelLeave := context.WithTimeout(ctx, *leave)
	defer cancelLeave()
	if err := member.WaitAlone(leaveCtx); err != nil {
		fmt.Fprintf(os.Stderr, "warning: %v; their parties may not have been told that the run is over\n", err)
	}
	fmt.Printf("done; results in %s\n", c.Out)
	return nil
}

// awaitLine returns once a line (or the end) has been read from r, or ctx
// is done.
func awaitLine(ctx context.Context, r io.Reader) {
	read := make(chan struct{})
	go func() {
		bufio.NewReader(r).ReadString('\n')
		close(read)
	}()
	select {
	case <-read:
	case <-ctx.Done():
	}
}
