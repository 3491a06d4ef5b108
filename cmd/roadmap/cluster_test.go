package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

const clusterAdmin = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"

// clusterCall sends one request as the admin, with extra headers as name,
// value pairs, and returns its status, body and Retry-After; err is a
// request that got no answer.
func clusterCall(client *http.Client, method, url, body string, headers ...string) (int, []byte, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+clusterAdmin)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, data, res.Header.Get("Retry-After"), err
}

// degraded reports whether an answer is the one a write may get while the
// stream has no leader: 503 unavailable with Retry-After, to be retried.
func degraded(status int, body []byte, retryAfter string) bool {
	var p struct{ Type string }
	_ = json.Unmarshal(body, &p)
	return status == 503 && retryAfter != "" && p.Type == "urn:roadmap-ledger:problem:unavailable"
}

// TestTwoServersOnOneCluster runs two ledger servers through the command,
// serve --nats-url, on a real three-node cluster with the stream replicated
// three times, and writes through both while the stream's leader is
// stopped and started again. Nothing acknowledged is lost or doubled, each
// server reads its own writes at once, an idempotency key holds across the
// servers, two writes to one item at one version never both succeed, and
// both servers' read models converge to the same answers.
func TestTwoServersOnOneCluster(t *testing.T) {
	c := apptest.StartCluster(t, true)
	keyDir := t.TempDir()
	if _, _, err := proof.LoadOrCreateKey(keyDir, app.Origin(eventlog.DefaultStream)); err != nil {
		t.Fatal(err)
	}
	env := func(name string) string {
		switch name {
		case "ROADMAP_BOOTSTRAP_TOKEN":
			return clusterAdmin
		case "ROADMAP_APPROVALS":
			return "off"
		}
		return ""
	}
	flags := []string{"--nats-url", c.URLs, "--nats-system-url", c.SysURLs, "--replicas", "3", "--signing-key", filepath.Join(keyDir, proof.KeyFile)}
	var servers []string
	for range 2 {
		// Each process keeps its caches in a data directory of its own.
		base, _, stop := startServe(t, env, append(flags, "--data", t.TempDir())...)
		defer stop()
		servers = append(servers, base)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	for _, base := range servers {
		apptest.WaitUntil(t, 30*time.Second, base+" to be ready", func() bool {
			status, _, _, err := clusterCall(client, "GET", base+"/readyz", "")
			return err == nil && status == 200
		})
	}

	// An idempotency key holds across servers: the retry on the other
	// server gets the first answer and appends nothing.
	first, body1 := mustCall(t, client, 201, "POST", servers[0]+"/v1/items", `{"title":"Once","kind":"idea"}`, "Idempotency-Key", "across-servers")
	_, body2 := mustCall(t, client, 201, "POST", servers[1]+"/v1/items", `{"title":"Once","kind":"idea"}`, "Idempotency-Key", "across-servers")
	if !bytes.Equal(body1, body2) {
		t.Errorf("the retry on the other server answered\n%s\nwant the first answer\n%s", body2, body1)
	}
	item := first["id"].(string)

	// Two writes to one item at one version, one through each server at
	// once: one succeeds, the other is refused 412, round after round.
	placed, _ := mustCall(t, client, 200, "POST", servers[0]+"/v1/items/"+item+"/prioritise", `{"horizon":"later","rationale":"to start with"}`)
	version := uint64(placed["version"].(float64))
	horizons := []string{"next", "later"}
	for round := range 8 {
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		answers := make([][]byte, 2)
		for i, base := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], answers[i], _, _ = clusterCall(client, "POST", base+"/v1/items/"+item+"/reprioritise",
					fmt.Sprintf(`{"horizon":%q,"rationale":"round %d from server %d"}`, horizons[round%2], round, i), "If-Match", fmt.Sprintf(`"%d"`, version))
			}()
		}
		wg.Wait()
		won := -1
		for i, s := range statuses {
			switch s {
			case 200:
				if won >= 0 {
					t.Fatalf("round %d: both writes at version %d succeeded: %s and %s", round, version, answers[0], answers[1])
				}
				won = i
			case 412:
			default:
				t.Fatalf("round %d: server %d answered %d: %s", round, i, s, answers[i])
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither write at version %d succeeded: %d %s, %d %s", round, version, statuses[0], answers[0], statuses[1], answers[1])
		}
		var it struct{ Version uint64 }
		_ = json.Unmarshal(answers[won], &it)
		version = it.Version
	}

	// Writers on both servers propose items, each with its own key, retried
	// only on the designed answer; each checks it reads its write back from
	// the server that acknowledged it.
	var (
		mu    sync.Mutex
		acked = map[string]string{} // key → item id
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := range 4 {
		base := servers[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 15 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				id, ok := writeAcknowledged(t, client, base, key)
				if !ok {
					return
				}
				status, body, _, err := clusterCall(client, "GET", base+"/v1/items/"+id, "")
				if err != nil || status != 200 {
					t.Errorf("%s did not read its own write %s back: %d %s %v", base, id, status, body, err)
					return
				}
				mu.Lock()
				acked[key] = id
				mu.Unlock()
			}
		}()
	}
	var once sync.Once
	stopWriters := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer stopWriters()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	apptest.WaitUntil(t, 20*time.Second, "writes before the failover", func() bool { return count() >= 40 })

	// Stop the node that leads the stream, write on, and bring it back.
	nc, err := eventlog.Open(context.Background(), eventlog.Config{NatsURL: c.URLs, Replicas: 3, UnsafeNoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := nc.JetStream().Stream(context.Background(), eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := stream.Info(context.Background())
	nc.Close()
	if err != nil || si.Cluster == nil || si.Cluster.Leader == "" {
		t.Fatalf("the stream's leader: %v", err)
	}
	var leader *apptest.Node
	for _, n := range c.Nodes {
		if n.Name == si.Cluster.Leader {
			leader = n
		}
	}
	if leader == nil {
		t.Fatalf("no node is named %q", si.Cluster.Leader)
	}
	before := count()
	leader.Stop()
	t.Logf("stopped the stream leader %s after %d acknowledged writes", leader.Name, before)
	apptest.WaitUntil(t, 30*time.Second, "writes on two nodes", func() bool { return count() >= before+40 })
	during := count()
	leader.Start(t)
	apptest.WaitUntil(t, 30*time.Second, "writes after the node came back", func() bool { return count() >= during+40 })
	stopWriters()
	if t.Failed() {
		return
	}

	// Both servers converge: the same raw log and the same roadmap.
	var logs [2][]byte
	apptest.WaitUntil(t, 30*time.Second, "both servers to answer the same", func() bool {
		var roadmaps [2][]byte
		for i, base := range servers {
			_, logs[i], _, _ = clusterCall(client, "GET", base+"/v1/events", "")
			_, roadmaps[i], _, _ = clusterCall(client, "GET", base+"/v1/roadmap", "")
		}
		return len(logs[0]) > 0 && bytes.Equal(logs[0], logs[1]) && bytes.Equal(roadmaps[0], roadmaps[1])
	})

	// Every acknowledged write is in the log once, and no write twice.
	proposed := map[string]int{}
	lines := bufio.NewScanner(bytes.NewReader(logs[0]))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		_, body, err := eventlog.ParseRawLine(lines.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		e, err := eventlog.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type == roadmap.TypeItemProposed {
			var d struct{ Title string }
			_ = json.Unmarshal(e.Data, &d)
			proposed[d.Title]++
		}
	}
	for title, n := range proposed {
		if n > 1 {
			t.Errorf("%q is proposed %d times", title, n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for key, id := range acked {
		if proposed["item "+key] != 1 {
			t.Errorf("the acknowledged write %s (%s) is in the log %d times", key, id, proposed["item "+key])
		}
		for _, base := range servers {
			if status, body, _, err := clusterCall(client, "GET", base+"/v1/items/"+id, ""); err != nil || status != 200 {
				t.Errorf("%s does not know the acknowledged item %s: %d %s %v", base, id, status, body, err)
			}
		}
	}
	t.Logf("%d writes acknowledged through two servers (%d before the leader stopped, %d while it was down), %d events in the log",
		len(acked), before, during-before, strings.Count(string(logs[0]), "\n"))
}

// mustCall sends a request and fails the test unless it answers want; it
// returns the answer decoded and as sent.
func mustCall(t *testing.T, client *http.Client, want int, method, url, body string, headers ...string) (map[string]any, []byte) {
	t.Helper()
	status, data, _, err := clusterCall(client, method, url, body, headers...)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %s %v; want %d", method, url, status, data, err, want)
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out, data
}

// writeAcknowledged proposes the item of key through base until it is
// acknowledged, with the same Idempotency-Key on every try, retrying a
// request that got no answer and the designed answer only, for up to 30s;
// it fails the test on any other answer. It returns the item's id.
func writeAcknowledged(t *testing.T, client *http.Client, base, key string) (string, bool) {
	body := fmt.Sprintf(`{"title":"item %s","kind":"idea"}`, key)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, answer, retryAfter, err := clusterCall(client, "POST", base+"/v1/items", body, "Idempotency-Key", key)
		switch {
		case err != nil:
			last = err.Error()
		case status == 201:
			var it struct{ ID string }
			_ = json.Unmarshal(answer, &it)
			return it.ID, true
		case degraded(status, answer, retryAfter):
			last = string(answer)
		default:
			t.Errorf("write %s through %s answered %d: %s", key, base, status, answer)
			return "", false
		}
	}
	t.Errorf("write %s through %s not acknowledged within 30s; last: %s", key, base, last)
	return "", false
}
