// Package hosts runs a federation's parties on several hosts with
// ProtoActor's remote and cluster packages: each host is a cluster member
// that registers one cluster kind per party it hosts (kind and identity are
// the party's name), and parties find each other by name through the
// cluster's identity lookup. The actors and messages are those of package
// actors, unchanged.
//
// Membership uses ProtoActor's automanaged provider by default, which
// needs no external service: every member serves a small health endpoint on
// its membership port (by convention its remoting port + 1) and polls the
// others'. Any other cluster.ClusterProvider (etcd, consul, k8s) can be
// passed in Config.Provider instead.
//
// Transport: gRPC with mutual TLS from Config.TLS; without TLS a member
// refuses to start unless every address it uses is a loopback address or
// Config.Insecure says otherwise. gRPC's 4 MiB default message limit is
// raised to Config.MaxMessageBytes (64 MiB by default) on both the server
// and the dialling side, since a protected update grows with the model.
package hosts

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/fedactor/fedactor/actors"
)

// DefaultMaxMessageBytes is the default gRPC message limit.
const DefaultMaxMessageBytes = 64 << 20

// Config configures one cluster member. Zero fields take the defaults
// documented on them.
type Config struct {
	// Cluster is the cluster's name; "" means "fedactor".
	Cluster string
	// Bind is the host:port the member's gRPC server listens on.
	Bind string
	// Advertise is the host:port other members reach it at; "" means Bind.
	Advertise string
	// Seeds are the advertised host:port of every member (this one may be
	// included). With the automanaged provider their membership ports are
	// port+1.
	Seeds []string
	// Provider replaces the automanaged membership provider.
	Provider cluster.ClusterProvider
	// TLS enables mutual TLS; it must hold this member's certificate and
	// the CA that signs every member's certificate (see LoadTLS).
	TLS *tls.Config
	// Insecure allows running without TLS on non-loopback addresses.
	Insecure bool
	// MaxMessageBytes bounds one gRPC message; 0 means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// Logger receives ProtoActor's records (membership changes, connection
	// errors while members come and go); nil discards them.
	Logger *slog.Logger
}

// Member is a running cluster member.
type Member struct {
	cfg     Config
	system  *actor.ActorSystem
	cluster *cluster.Cluster

	mu   sync.Mutex
	pids map[string]*actor.PID
	// members is the size of the last cluster topology this member saw
	// (itself included); changed is closed and replaced at every change.
	members int
	changed chan struct{}
}

// New prepares a member; Start joins the cluster. Lookup may be handed to
// actors.NewNode before Start.
func New(cfg Config) (*Member, error) {
	if cfg.Cluster == "" {
		cfg.Cluster = "fedactor"
	}
	if cfg.Advertise == "" {
		cfg.Advertise = cfg.Bind
	}
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	addrs := append([]string{cfg.Bind, cfg.Advertise}, cfg.Seeds...)
	for _, a := range addrs {
		if _, _, err := splitHostPort(a); err != nil {
			return nil, fmt.Errorf("hosts: %w", err)
		}
	}
	if cfg.TLS == nil && !cfg.Insecure {
		for _, a := range addrs {
			if !isLoopback(a) {
				return nil, fmt.Errorf("hosts: %s is not a loopback address: use TLS (-tls-cert, -tls-key, -tls-ca) or force insecure mode", a)
			}
		}
	}
	return &Member{cfg: cfg, pids: map[string]*actor.PID{}, changed: make(chan struct{})}, nil
}

// RemoteConfig returns the remoting configuration of cfg: bind address,
// advertised address, credentials and message limits.
func RemoteConfig(cfg Config) (*remote.Config, error) {
	host, port, err := splitHostPort(cfg.Bind)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	var server []grpc.ServerOption
	if cfg.TLS != nil {
		creds = credentials.NewTLS(cfg.TLS)
		server = append(server, grpc.Creds(creds))
	}
	limit := cfg.MaxMessageBytes
	if limit == 0 {
		limit = DefaultMaxMessageBytes
	}
	server = append(server, grpc.MaxRecvMsgSize(limit), grpc.MaxSendMsgSize(limit))
	opts := []remote.ConfigOption{
		remote.WithServerOptions(server...),
		// Dial options replace remote's default (insecure credentials), so
		// the credentials are always given here.
		remote.WithDialOptions(grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(limit), grpc.MaxCallSendMsgSize(limit))),
	}
	if cfg.Advertise != "" && cfg.Advertise != cfg.Bind {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	return remote.Configure(host, port, opts...), nil
}

// Start joins the cluster as a member hosting the named parties of node.
func (m *Member) Start(node *actors.Node, parties []string) error {
	rc, err := RemoteConfig(m.cfg)
	if err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	var kinds []*cluster.Kind
	for _, name := range parties {
		props, err := node.Props(name)
		if err != nil {
			return err
		}
		kinds = append(kinds, cluster.NewKind(name, props))
	}
	provider := m.cfg.Provider
	if provider == nil {
		_, port, _ := splitHostPort(m.cfg.Advertise)
		var hosts []string
		for _, s := range append([]string{m.cfg.Advertise}, m.cfg.Seeds...) {
			h, p, _ := splitHostPort(s)
			hosts = appendNew(hosts, net.JoinHostPort(h, strconv.Itoa(p+1)))
		}
		provider = automanaged.NewWithConfig(500*time.Millisecond, port+1, hosts...)
	}
	logger := m.cfg.Logger
	m.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return logger }))
	m.system.EventStream.Subscribe(func(evt any) {
		if t, ok := evt.(*cluster.ClusterTopology); ok {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.members = len(t.Members)
			close(m.changed)
			m.changed = make(chan struct{})
		}
	})
	cc := cluster.Configure(m.cfg.Cluster, provider, disthash.New(), rc, cluster.WithKinds(kinds...))
	m.cluster = cluster.New(m.system, cc)
	m.cluster.StartMember()
	return nil
}

// Lookup is an actors.Lookup: it finds a party by name through the
// cluster, remembering what it found.
func (m *Member) Lookup(name string) *actor.PID {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pid := m.pids[name]; pid != nil {
		return pid
	}
	if m.cluster == nil {
		return nil
	}
	pid := m.cluster.Get(name, name)
	if pid != nil {
		m.pids[name] = pid
	}
	return pid
}

// WaitFor returns once every named party can be reached, or ctx's error.
func (m *Member) WaitFor(ctx context.Context, names []string) error {
	for {
		var missing []string
		for _, n := range names {
			if m.Lookup(n) == nil {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hosts: waiting for parties %v: %w", missing, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitAlone returns once no other member is in the cluster as this one
// last saw it (each has left or stopped answering its health checks), or
// with ctx's error. The model owner's node calls it after the run: a
// member leaves once all its parties have had their Stop message, so the
// model owner's does not exit while one is still on its way.
func (m *Member) WaitAlone(ctx context.Context) error {
	for {
		m.mu.Lock()
		members, changed := m.members, m.changed
		m.mu.Unlock()
		if members <= 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hosts: %d other members still in the cluster: %w", members-1, ctx.Err())
		case <-changed:
		}
	}
}

// Send sends msg to the party called name.
func (m *Member) Send(name string, msg any) error {
	pid := m.Lookup(name)
	if pid == nil {
		return fmt.Errorf("hosts: party %s unreachable", name)
	}
	m.system.Root.Send(pid, msg)
	return nil
}

// Shutdown leaves the cluster gracefully, which also stops the actor
// system.
func (m *Member) Shutdown() {
	if m.cluster != nil {
		m.cluster.Shutdown(true)
	}
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65534 {
		return "", 0, fmt.Errorf("address %q: bad port", addr)
	}
	if host == "" {
		return "", 0, errors.New("address " + strconv.Quote(addr) + ": no host")
	}
	return host, port, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
