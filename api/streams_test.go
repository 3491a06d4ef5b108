package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// stalledClient opens GET path with token and reads only its headers: the
// server goes on writing until the socket's buffers are full, and then
// holds whatever the answer had in hand. Its receive buffer is made small,
// so that little of the answer hides in the kernel.
func stalledClient(t *testing.T, url, token, accept string) (status int, hangUp func()) {
	t.Helper()
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	transport := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", accept)
	res, err := transport.RoundTrip(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	return res.StatusCode, func() {
		cancel()
		res.Body.Close()
		transport.CloseIdleConnections()
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Fifty auditors' streams of a 12 MB log that never read hold a bounded
// part of the server's memory (about 45 MiB here, most of it the nats
// server's own buffers), and the server goes on answering everyone else.
// Before a stream's reads were made a client's (eventlog.ForClient), each such
// stream held thousands of events pulled ahead: about 470 MiB for fifty.
func TestStreamsThatAreNotReadHoldBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 12 MB log")
	}
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), UnsafeNoFsync: true})
	description := strings.Repeat("An item described at length so that the log is large. ", 30)
	for file := range 2 {
		var csv strings.Builder
		csv.WriteString("title,description,product\n")
		for i := range 3000 {
			fmt.Fprintf(&csv, "Item %d-%d,%s,web\n", file, i, description)
		}
		l.mustImport(201, "", csv.String())
	}

	const clients, perToken = 50, 4
	tokens := make([]string, (clients+perToken-1)/perToken)
	for i := range tokens {
		tokens[i] = l.token(fmt.Sprintf("auditor-%d@example.com", i), "auditor")
	}
	before := heapInUse()
	var hangUps []func()
	defer func() {
		for _, h := range hangUps {
			h()
		}
	}()
	for i := range clients {
		path, accept := "/v1/events", "application/x-ndjson"
		if i%2 == 1 {
			path = "/v1/audit"
		}
		status, hangUp := stalledClient(t, l.URL+path, tokens[i/perToken], accept)
		hangUps = append(hangUps, hangUp)
		if status != http.StatusOK {
			t.Fatalf("stream %d answered %d", i, status)
		}
	}

	// A fifth stream of a token that has four is refused, and says when
	// to try again. (The token's four are opened just before: a stream that
	// is not read is cut once a chunk waits 15 s, which frees its slot.)
	limited := l.token("auditor-limited@example.com", "auditor")
	for range perToken {
		status, hangUp := stalledClient(t, l.URL+"/v1/events", limited, "application/x-ndjson")
		hangUps = append(hangUps, hangUp)
		if status != http.StatusOK {
			t.Fatalf("a stream answered %d", status)
		}
	}
	res := l.do("GET", "/v1/audit?limit=1", nil, "Authorization", "Bearer "+limited, "Accept", "application/x-ndjson")
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("a fifth stream of one token answered %d (Retry-After %q), want 429 with Retry-After", res.Status, res.Header.Get("Retry-After"))
	}
	// Everyone else is served, and promptly.
	start := time.Now()
	if res := l.do("GET", "/v1/roadmap", nil); res.Status != http.StatusOK {
		t.Errorf("the roadmap answered %d beside the stalled streams", res.Status)
	}
	l.must(201, "POST", "/v1/items", map[string]any{"title": "Decided beside the stalled streams", "product": "web"})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a read and a write beside the stalled streams took %v", took)
	}

	// Give the streams time to fill what they may hold, then weigh it.
	time.Sleep(2 * time.Second)
	held := int64(heapInUse()) - int64(before)

	t.Logf("%d stalled streams hold %.1f MiB of heap", clients, float64(held)/(1<<20))
	if limit := int64(128 << 20); held > limit {
		t.Errorf("%d stalled streams hold %d MiB of heap; want under %d MiB", clients, held>>20, limit>>20)
	}

	// Hung up, their slots are free again.
	for _, h := range hangUps {
		h()
	}
	hangUps = nil
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := l.do("GET", "/v1/events?limit=1", nil, "Authorization", "Bearer "+limited)
		if res.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stalled streams hung up, their token's stream still answers %d", res.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
