package apptest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Node is one nats-server of a three-node JetStream cluster on 127.0.0.1,
// with fixed ports so it can be stopped and started again as itself. Its
// configuration is a file, as an operator would write it: an application
// account with JetStream and a system account the ledger checks fsync with.
type Node struct {
	Name              string
	dir               string
	port, clusterPort int
	routes            []string
	syncAlways        bool
	Srv               *server.Server
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start starts the node again, as itself, failing the test when it cannot.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	if err := n.tryStart(); err != nil {
		t.Fatal(err)
	}
}

// tryStart starts the node and waits until it takes connections.
func (n *Node) tryStart() error {
	sync := "2m"
	if n.syncAlways {
		sync = "always"
	}
	conf := fmt.Sprintf(`
server_name: %s
listen: "127.0.0.1:%d"
jetstream { store_dir: %q, sync_interval: %s }
cluster { name: roadmap-failover, listen: "127.0.0.1:%d", routes: [%s] }
accounts {
  APP { jetstream: enabled, users: [{user: ledger, password: ledger}] }
  SYS { users: [{user: admin, password: admin}] }
}
system_account: SYS
`, n.Name, n.port, n.dir, sync, n.clusterPort, strings.Join(n.routes, ", "))
	path := filepath.Join(n.dir, "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return err
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		return fmt.Errorf("node %s config: %v", n.Name, err)
	}
	opts.NoSigs, opts.NoLog = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("node %s: %v", n.Name, err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return fmt.Errorf("node %s not ready within 30s (port %d, cluster port %d)", n.Name, n.port, n.clusterPort)
	}
	n.Srv = srv
	return nil
}

// Stop shuts the node down and waits until it has.
func (n *Node) Stop() {
	if n.Srv != nil {
		n.Srv.Shutdown()
		n.Srv.WaitForShutdown()
		n.Srv = nil
	}
}

// Cluster is three nodes and the URLs to reach them as the ledger's user and
// as the system account.
type Cluster struct {
	Nodes         []*Node
	URLs, SysURLs string
}

// tryCluster starts three nodes on free ports; it stops those it started
// when one does not start.
func tryCluster(t testing.TB, syncAlways bool) (Cluster, error) {
	c := Cluster{Nodes: make([]*Node, 3)}
	for i := range c.Nodes {
		c.Nodes[i] = &Node{Name: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), port: freePort(t), clusterPort: freePort(t), syncAlways: syncAlways}
	}
	var urls, sysURLs []string
	for _, n := range c.Nodes {
		for _, o := range c.Nodes {
			if o != n {
				n.routes = append(n.routes, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", o.clusterPort)))
			}
		}
		urls = append(urls, fmt.Sprintf("nats://ledger:ledger@127.0.0.1:%d", n.port))
		sysURLs = append(sysURLs, fmt.Sprintf("nats://admin:admin@127.0.0.1:%d", n.port))
	}
	c.URLs, c.SysURLs = strings.Join(urls, ","), strings.Join(sysURLs, ",")
	for _, n := range c.Nodes {
		if err := n.tryStart(); err != nil {
			for _, started := range c.Nodes {
				started.Stop()
			}
			return c, err
		}
		t.Cleanup(n.Stop)
	}
	return c, nil
}

// StartCluster starts a three-node JetStream cluster on 127.0.0.1 (each
// node syncing every write when syncAlways) and waits until JetStream takes
// requests; the nodes stop when the test ends.
func StartCluster(t testing.TB, syncAlways bool) Cluster {
	t.Helper()
	// The ports are picked free, then bound by the nodes a moment later:
	// another process of a busy machine may take one in between. Such a
	// start is tried again on other ports.
	var c Cluster
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if c, err = tryCluster(t, syncAlways); err == nil {
			break
		}
		t.Logf("the cluster did not start (%v); again on other ports", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// JetStream is usable once the cluster has elected its meta leader.
	nc, err := nats.Connect(c.URLs)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	WaitUntil(t, 30*time.Second, "the cluster's JetStream to be ready", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	})
	return c
}

// WaitUntil polls ok until it holds, failing the test after limit.
func WaitUntil(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
