package hosts

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"

	"github.com/fedactor/fedactor/actors"
)

// FreeAddr lets the external tests use freeAddr.
var FreeAddr = freeAddr

// freeAddr returns a loopback host:port with port and port+1 free.
func freeAddr(t *testing.T) string {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		if err != nil {
			continue
		}
		l2.Close()
		return fmt.Sprintf("127.0.0.1:%d", port)
	}
	t.Fatal("no free port pair")
	return ""
}

// startRemote starts an actor system with remoting configured by cfg.
func startRemote(t *testing.T, cfg Config) *actor.ActorSystem {
	t.Helper()
	rc, err := RemoteConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	r := remote.NewRemote(sys, rc)
	r.Start()
	t.Cleanup(func() { r.Shutdown(false); sys.Shutdown() })
	return sys
}

// sendBig sends a size-byte protected update from one system to an actor on
// another and returns the size the receiver saw, or an error on time-out.
func sendBig(t *testing.T, sender, receiver Config, size int) (int, error) {
	return sendBigWait(t, sender, receiver, size, 10*time.Second)
}

// sendBigWait is sendBig with a time-out.
func sendBigWait(t *testing.T, sender, receiver Config, size int, wait time.Duration) (int, error) {
	t.Helper()
	b := startRemote(t, receiver)
	got := make(chan int, 1)
	_, err := b.Root.SpawnNamed(actor.PropsFromFunc(func(c actor.Context) {
		if u, ok := c.Message().(*actors.ProtectedUpdate); ok {
			got <- len(u.Payload)
		}
	}), "sink")
	if err != nil {
		t.Fatal(err)
	}
	a := startRemote(t, sender)
	a.Root.Send(actor.NewPID(receiver.Bind, "sink"), &actors.ProtectedUpdate{Round: 1, Sender: "bob", Payload: make([]byte, size)})
	select {
	case n := <-got:
		return n, nil
	case <-time.After(wait):
		return 0, fmt.Errorf("no delivery of %d bytes", size)
	}
}

const twentyMB = 20 << 20

func TestTwentyMegabyteMessage(t *testing.T) {
	n, err := sendBig(t, Config{Bind: freeAddr(t)}, Config{Bind: freeAddr(t)}, twentyMB)
	if err != nil || n != twentyMB {
		t.Fatalf("got %d bytes, %v; want %d", n, err, twentyMB)
	}
}

// TestDefaultLimitDropsBigMessages shows why the limit is raised: at gRPC's
// 4 MiB default the same message never arrives.
func TestDefaultLimitDropsBigMessages(t *testing.T) {
	four := 4 << 20
	if _, err := sendBigWait(t, Config{Bind: freeAddr(t), MaxMessageBytes: four}, Config{Bind: freeAddr(t), MaxMessageBytes: four}, twentyMB, 2*time.Second); err == nil {
		t.Fatal("a 20 MB message passed a 4 MiB limit")
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	if err := WriteCerts(dir, []string{"a", "b"}, []string{"127.0.0.1", "localhost"}); err != nil {
		t.Fatal(err)
	}
	load := func(name string) *tls.Config {
		c, err := LoadTLS(filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem"), filepath.Join(dir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	n, err := sendBig(t, Config{Bind: freeAddr(t), TLS: load("a")}, Config{Bind: freeAddr(t), TLS: load("b")}, twentyMB)
	if err != nil || n != twentyMB {
		t.Fatalf("over mutual TLS: got %d bytes, %v; want %d", n, err, twentyMB)
	}
	// A sender whose certificate another CA signed is refused.
	other := t.TempDir()
	if err := WriteCerts(other, []string{"mallory"}, []string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	mallory, err := LoadTLS(filepath.Join(other, "mallory.pem"), filepath.Join(other, "mallory-key.pem"), filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sendBigWait(t, Config{Bind: freeAddr(t), TLS: mallory}, Config{Bind: freeAddr(t), TLS: load("b")}, 1000, 2*time.Second); err == nil {
		t.Fatal("a certificate from a foreign CA was accepted")
	}
	// So is a plaintext sender.
	if _, err := sendBigWait(t, Config{Bind: freeAddr(t)}, Config{Bind: freeAddr(t), TLS: load("b")}, 1000, 2*time.Second); err == nil {
		t.Fatal("a plaintext sender was accepted by a TLS member")
	}
}

func TestInsecureOnlyOnLoopback(t *testing.T) {
	cases := []struct {
		cfg Config
		ok  bool
	}{
		{Config{Bind: "127.0.0.1:7000", Seeds: []string{"127.0.0.1:7002"}}, true},
		{Config{Bind: "localhost:7000"}, true},
		{Config{Bind: "0.0.0.0:7000", Advertise: "10.0.0.5:7000"}, false},
		{Config{Bind: "127.0.0.1:7000", Seeds: []string{"192.168.1.9:7000"}}, false},
		{Config{Bind: "10.0.0.5:7000", Insecure: true}, true},
		{Config{Bind: "no-port"}, false},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if (err == nil) != c.ok {
			t.Errorf("%+v: err = %v, want ok=%v", c.cfg, err, c.ok)
		}
		if err != nil && c.ok == false && strings.Contains(err.Error(), "loopback") && !strings.Contains(err.Error(), "TLS") {
			t.Errorf("error does not say how to fix it: %v", err)
		}
	}
}
