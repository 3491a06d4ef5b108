package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
)

// ack is one decision the ledger acknowledged: sent is when the request
// that got the acknowledgement was sent, at when it came.
type ack struct {
	id       string
	seq      uint64
	sent, at time.Time
}

// failoverAdmin is the secret of the bootstrap admin token the writers use.
const failoverAdmin = "kwfHtx1KlB0rSM_eOQxFRnzaaxfPdDKUF9oRHuu3"

// The failover's targets: writes resume within failoverResume of the
// leader stopping, and at least minAcked writes are acknowledged before the
// failover, during it (from the stop until the node is back) and after it.
const (
	failoverResume = 10 * time.Second
	minAcked       = 20
)

// degradedProblem is the type of the one answer a write may get while the
// stream has no leader: 503, with Retry-After, to be retried.
const degradedProblem = "urn:roadmap-ledger:problem:unavailable"

// TestFailoverKeepsEveryAcknowledgedDecision runs the ledger against a
// three-node cluster with a stream of three replicas, stops the stream
// leader's node under write load, and checks that the only failure a
// writer sees is the designed one (503 unavailable, with Retry-After), that
// writes resume within ten seconds, that /readyz shows the degraded state
// while it lasts, that the node catches up when it comes back, that writes
// are acknowledged before, during and after, and that no acknowledged
// decision is lost or doubled.
func TestFailoverKeepsEveryAcknowledgedDecision(t *testing.T) {
	c := apptest.StartCluster(t, true)
	nodes := c.Nodes
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{NatsURL: c.URLs, SystemURL: c.SysURLs, Replicas: 3, SigningKeyFile: signingKeyFile(t), BootstrapToken: failoverAdmin})
	if err != nil {
		t.Fatalf("open ledger on the cluster: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	client := &http.Client{Timeout: 15 * time.Second}

	// Writers propose items; each logical request keeps its Idempotency-Key
	// across retries, so a retry after a lost answer cannot double it. Only
	// the degraded answer is retried; any other failure fails the test.
	var (
		mu       sync.Mutex
		acked    []ack
		codes    = map[int]int{}
		degraded int
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				if !writeUntilAcknowledged(t, client, srv.URL, key, func(res *http.Response, body []byte, sent time.Time) {
					mu.Lock()
					defer mu.Unlock()
					codes[res.StatusCode]++
					if res.StatusCode == 201 {
						var it struct {
							ID      string `json:"id"`
							Version uint64 `json:"version"`
						}
						_ = json.Unmarshal(body, &it)
						acked = append(acked, ack{id: it.ID, seq: it.Version, sent: sent, at: time.Now()})
					} else {
						degraded++
					}
				}) {
					return
				}
			}
		}()
	}
	// The writers stop before the test ends, even when it fails early.
	var once sync.Once
	stopWriters := func() { once.Do(func() { close(stop); wg.Wait() }) }
	t.Cleanup(stopWriters)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	apptest.WaitUntil(t, 20*time.Second, "writes before the failover", func() bool { return count() >= 50 })

	// Stop the node that leads the stream.
	info, err := a.Log.JetStream().Stream(ctx, eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.Info(ctx)
	if err != nil || si.Cluster == nil || si.Cluster.Leader == "" {
		t.Fatalf("stream leader: %+v, %v", si.Cluster, err)
	}
	var leader *apptest.Node
	for _, n := range nodes {
		if n.Name == si.Cluster.Leader {
			leader = n
		}
	}
	// The ledger's follower makes its consumer again with a JetStream
	// request; when the node stopped also led the cluster's meta group and
	// was the one the ledger was connected to, that request is sent during
	// the meta election, is lost, and the client waits it out for its fixed
	// 10s: writes then resume after about 11s. A known gap
	// (docs/reliability.md), given that much more time and named in the log.
	resumeLimit := failoverResume
	if leader.Srv.JetStreamIsLeader() && a.Log.Conn().ConnectedServerName() == leader.Name {
		resumeLimit += 5 * time.Second
		t.Logf("the stream leader %s also leads the meta group and serves the ledger's connection: writes have %s to resume", leader.Name, resumeLimit)
	}
	before := count()
	leader.Stop()
	stoppedAt := time.Now()
	t.Logf("stopped the stream leader %s after %d acknowledged writes", leader.Name, before)

	sawDegraded := false
	readyz := func() (int, string) {
		res, err := client.Get(srv.URL + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		return res.StatusCode, buf.String()
	}
	// Writes resumed when the first request sent after the stop was
	// acknowledged (those in flight at the stop may be answered by the
	// leader on its way out). The wait is longer than the target only to
	// report how late they were.
	var resumed time.Duration
	apptest.WaitUntil(t, 3*failoverResume, "writes to resume after the leader stopped", func() bool {
		if code, body := readyz(); code == 503 || strings.Contains(body, "degraded") {
			sawDegraded = true
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acked[before:] {
			if a.sent.After(stoppedAt) {
				resumed = a.at.Sub(stoppedAt)
				return true
			}
		}
		return false
	})
	t.Logf("writes resumed %s after the leader stopped", resumed.Round(10*time.Millisecond))
	if resumed > resumeLimit {
		t.Errorf("writes resumed %s after the leader stopped, want within %s", resumed.Round(10*time.Millisecond), resumeLimit)
	}
	apptest.WaitUntil(t, failoverResume, "/readyz to report the degraded state", func() bool {
		code, body := readyz()
		if code == 200 && strings.Contains(body, "degraded") && strings.Contains(body, leader.Name) {
			sawDegraded = true
		}
		return sawDegraded
	})
	apptest.WaitUntil(t, failoverResume, "writes on two nodes", func() bool { return count() >= before+minAcked })

	// Bring the node back: it catches up and the ledger is ready again. A
	// node has 30s to start on a busy machine.
	leader.Start(t)
	apptest.WaitUntil(t, 30*time.Second, "the stopped node to catch up", func() bool {
		code, body := readyz()
		return code == 200 && strings.Contains(body, `"ready"`)
	})
	back := count()
	apptest.WaitUntil(t, failoverResume, "writes after the node came back", func() bool { return count() >= back+minAcked })
	stopWriters()
	t.Logf("acknowledged: %d before the failover, %d during it, %d after the node came back; answers: %v (%d degraded)",
		before, back-before, count()-back, codes, degraded)

	// Every acknowledged decision is in the log exactly once, at the
	// sequence it was acknowledged with.
	last, err := a.Log.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[uint64]string{}
	titles := map[string]int{}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	errDone := fmt.Errorf("done")
	err = a.Log.Follow(fctx, 1, func(r eventlog.Record) error {
		if _, err := eventlog.Decode(r.Body); err != nil {
			t.Errorf("sequence %d does not verify: %v", r.Sequence, err)
		}
		stored[r.Sequence] = r.Envelope.AggregateID
		if r.Envelope.AggregateType == "item" {
			var data struct{ Title string }
			_ = json.Unmarshal(r.Envelope.Data, &data)
			titles[data.Title]++
		}
		if r.Sequence >= last {
			return errDone
		}
		return nil
	})
	if err != errDone {
		t.Fatal(err)
	}
	for _, a := range acked {
		if stored[a.seq] != a.id {
			t.Errorf("acknowledged item %s at sequence %d, the log has %q there", a.id, a.seq, stored[a.seq])
		}
	}
	for title, n := range titles {
		if n != 1 {
			t.Errorf("%q is in the log %d times", title, n)
		}
	}
	if len(acked) == 0 || uint64(len(acked)) > last {
		t.Errorf("%d acknowledged, %d stored", len(acked), last)
	}
}

// writeUntilAcknowledged proposes the item of key until it is acknowledged,
// calling answered with every answer and when its request was sent. It retries a failed connection and
// the degraded answer (503 unavailable with Retry-After) for up to 30s, the
// ledger's own deadline for a write; it fails the test on any other answer,
// or when the 30s pass, and then returns false.
func writeUntilAcknowledged(t *testing.T, client *http.Client, base, key string, answered func(*http.Response, []byte, time.Time)) bool {
	body := fmt.Sprintf(`{"title":"item %s","kind":"idea"}`, key)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("POST", base+"/v1/items", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+failoverAdmin)
		req.Header.Set("Idempotency-Key", key)
		sent := time.Now()
		res, err := client.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		answer, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			last = err.Error()
			continue
		}
		var p struct{ Type string }
		_ = json.Unmarshal(answer, &p)
		switch {
		case res.StatusCode == 201:
			answered(res, answer, sent)
			return true
		case res.StatusCode == 503 && res.Header.Get("Retry-After") != "" && p.Type == degradedProblem:
			answered(res, answer, sent)
			last = string(answer)
		default:
			t.Errorf("write %s answered %d (Retry-After %q): %s", key, res.StatusCode, res.Header.Get("Retry-After"), answer)
			return false
		}
	}
	t.Errorf("write %s not acknowledged within 30s; last: %s", key, last)
	return false
}

func TestAClusterThatDoesNotFsyncEveryWriteIsRefused(t *testing.T) {
	c := apptest.StartCluster(t, false)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  app.Config
		want string
	}{
		{"without a system connection the ledger cannot check", app.Config{NatsURL: c.URLs, Replicas: 3, SigningKeyFile: signingKeyFile(t)}, "--nats-system-url"},
		{"with one it names the servers that do not sync", app.Config{NatsURL: c.URLs, SystemURL: c.SysURLs, Replicas: 3, SigningKeyFile: signingKeyFile(t)}, "n1, n2, n3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := app.Open(ctx, tc.cfg)
			if err == nil {
				a.Close()
				t.Fatal("the ledger opened on a cluster that does not fsync every write")
			}
			if !errors.Is(err, eventlog.ErrNoFsync) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrNoFsync mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("with --unsafe-no-fsync it runs and says so", func(t *testing.T) {
		a, err := app.Open(ctx, app.Config{NatsURL: c.URLs, Replicas: 3, UnsafeNoFsync: true, SigningKeyFile: signingKeyFile(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if h := a.Log.Health(ctx); !h.Writable || len(h.Problems) == 0 || !strings.Contains(h.Problems[0], "unsafe-no-fsync") {
			t.Errorf("health %+v, want writable and flagged", h)
		}
	})
}

func TestEmbeddedLedgerSaysWhenItDoesNotFsync(t *testing.T) {
	ctx := context.Background()
	for _, unsafe := range []bool{false, true} {
		a, err := app.Open(ctx, app.Config{DataDir: t.TempDir(), UnsafeNoFsync: unsafe})
		if err != nil {
			t.Fatal(err)
		}
		h := a.Log.Health(ctx)
		a.Close()
		if flagged := len(h.Problems) > 0; flagged != unsafe || !h.Writable {
			t.Errorf("unsafe=%v: health %+v", unsafe, h)
		}
	}
}

// signingKeyFile makes a signing key for the ledger's checkpoints in a
// temporary directory and returns its file, as an operator gives it with
// --signing-key to ledgers on an external cluster.
func signingKeyFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := proof.LoadOrCreateKey(dir, app.Origin(eventlog.DefaultStream)); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, proof.KeyFile)
}

// TestAnAppendWaitsOutALostQuorum stops two of the three nodes, so the
// stream has no leader and a publish gets no acknowledgement, and brings
// them back while an append waits: the append is acknowledged once the
// stream has a leader again, well before its deadline, and stored once.
func TestAnAppendWaitsOutALostQuorum(t *testing.T) {
	c := apptest.StartCluster(t, true)
	ctx := context.Background()
	log, err := eventlog.Open(ctx, eventlog.Config{NatsURL: c.URLs, SystemURL: c.SysURLs, Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	appendOne := func(ctx context.Context, title string) (eventlog.Appended, error) {
		id := uuid.NewString()
		env, err := eventlog.NewEnvelope(&roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: title, Kind: roadmap.KindIdea, Product: "default", ObjectiveIDs: []string{}}},
			eventlog.Meta{ID: uuid.NewString(), AggregateType: "item", AggregateID: id, Time: time.Now().UTC().Truncate(time.Microsecond), Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		return log.Append(ctx, env, "", eventlog.AppendOptions{})
	}
	if _, err := appendOne(ctx, "before"); err != nil {
		t.Fatal(err)
	}

	c.Nodes[1].Stop()
	c.Nodes[2].Stop()
	type result struct {
		ack eventlog.Appended
		err error
	}
	done := make(chan result, 1)
	deadline := 45 * time.Second
	started := time.Now()
	go func() {
		actx, cancel := context.WithTimeout(ctx, deadline)
		defer cancel()
		ack, err := appendOne(actx, "while the quorum is lost")
		done <- result{ack, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("the append ended without a quorum: %+v", r)
	case <-time.After(4 * time.Second):
	}
	c.Nodes[1].Start(t)
	c.Nodes[2].Start(t)

	r := <-done
	if r.err != nil {
		t.Fatalf("the append failed after %s: %v", time.Since(started).Round(time.Millisecond), r.err)
	}
	if took := time.Since(started); took > deadline/2 {
		t.Errorf("the append took %s, most of its deadline", took.Round(time.Millisecond))
	}
	if r.ack.Duplicate {
		t.Error("the append's own resend was reported as a duplicate of an earlier request")
	}
	last, err := log.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last != 2 || r.ack.Sequence != 2 {
		t.Errorf("the log ends at %d and the append was acknowledged at %d; want both 2 (stored once)", last, r.ack.Sequence)
	}
}

// Two processes of one cluster pointed at one data directory would share
// the files only one may write (the snapshot, the tree's hashes, the
// history): the second is refused, and the directory is free again once
// the first closes.
func TestADataDirectoryServesOneLedgerAtATime(t *testing.T) {
	c := apptest.StartCluster(t, true)
	ctx := context.Background()
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, NatsURL: c.URLs, SystemURL: c.SysURLs, Replicas: 3, SigningKeyFile: signingKeyFile(t)}
	first, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if second, err := app.Open(ctx, cfg); err == nil {
		second.Close()
		first.Close()
		t.Fatal("a second ledger opened on the same data directory")
	} else if !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("the second ledger's error: %v", err)
	}
	first.Close()
	again, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("the data directory after the first closed: %v", err)
	}
	again.Close()
}

// The data directory is the operator's path: a link to where the disk is
// serves as the directory itself would, and the files inside are the
// ledger's.
func TestADataDirectoryMayBeALinkToOne(t *testing.T) {
	disk := t.TempDir()
	link := filepath.Join(t.TempDir(), "data")
	if err := os.Symlink(disk, link); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), app.Config{DataDir: link})
	if err != nil {
		t.Fatalf("open on a linked data directory: %v", err)
	}
	a.Close()
	if _, err := os.Stat(filepath.Join(disk, snapshot.TreeFile)); err != nil {
		t.Errorf("the tree's file is not where the link points: %v", err)
	}
}
