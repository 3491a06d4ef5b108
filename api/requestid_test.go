package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// logBuffer is the service's log as JSON lines, at every level, written
// by a slog handler that several requests share.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the lines logged so far.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// ofRequest returns the lines that name the request id, but its access
// line (accessLines).
func (b *logBuffer) ofRequest(t *testing.T, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range b.lines(t) {
		if line["request_id"] == id && line["msg"] != "request" {
			out = append(out, line)
		}
	}
	return out
}

func TestRequestIDIsEchoedOrMade(t *testing.T) {
	l := startLedger(t)
	for _, sent := range []string{"abc-123", "01JD6K9ZP3Q6X0C2V7N8R4T5W1", strings.Repeat("x", 128), "trace=7;span:9/a"} {
		res := l.do("GET", "/v1/roadmap", nil, "X-Request-Id", sent)
		if got := res.Header.Get("X-Request-Id"); got != sent {
			t.Errorf("X-Request-Id %q answered %q, want it echoed", sent, got)
		}
	}
	// A problem answer carries it too.
	if res := l.do("GET", "/v1/roadmap", nil, "Authorization", "Bearer nope", "X-Request-Id", "refused-1"); res.Status != 401 || res.Header.Get("X-Request-Id") != "refused-1" {
		t.Errorf("a 401 answered X-Request-Id %q (status %d), want refused-1", res.Header.Get("X-Request-Id"), res.Status)
	}

	made := map[string]bool{}
	for _, sent := range []string{"", "two words", strings.Repeat("x", 129), "café", "tab\there"} {
		res := l.do("GET", "/healthz", nil, "X-Request-Id", sent)
		got := res.Header.Get("X-Request-Id")
		if got == "" || got == sent || len(got) > 128 || strings.ContainsAny(got, " \t") || made[got] {
			t.Errorf("X-Request-Id %q answered %q, want a fresh sane id (made so far %v)", sent, got, made)
		}
		made[got] = true
	}
}

// TestAFailingRequestLogsItsID breaks the log under the API: the read that
// needs it fails, and the error line names the request.
func TestAFailingRequestLogsItsID(t *testing.T) {
	var logs logBuffer
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Logger: logs.logger()})
	item := l.item("Logged")
	l.App.Log.Close()

	res := l.do("GET", "/v1/items/"+item+"/history", nil, "X-Request-Id", "failing-request-1")
	checkProblem(t, res, 500)
	lines := logs.ofRequest(t, "failing-request-1")
	if len(lines) != 1 || lines[0]["level"] != "ERROR" || lines[0]["msg"] != "internal error" || lines[0]["error"] == "" {
		t.Fatalf("the failing request logged %v, want one internal error naming it", lines)
	}
	// A request without an id logs under the one it was given.
	res = l.do("GET", "/v1/items/"+item+"/history", nil)
	if lines := logs.ofRequest(t, res.Header.Get("X-Request-Id")); len(lines) != 1 || lines[0]["level"] != "ERROR" {
		t.Fatalf("the failing request %q logged %v, want one error naming it", res.Header.Get("X-Request-Id"), lines)
	}
}

// TestAClientThatHangsUpIsNoError cuts requests that read the whole log
// while the server reads it, from later and later, until one is cut while
// the server was still at work: that request is logged at debug, and
// nothing at error.
func TestAClientThatHangsUpIsNoError(t *testing.T) {
	var logs logBuffer
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Logger: logs.logger()})
	var file strings.Builder
	file.WriteString("title,kind,product,horizon\n")
	for i := range 300 {
		fmt.Fprintf(&file, "Idea %d,idea,web,later\n", i)
	}
	l.mustImport(201, "", file.String())

	// An actor no event has: the scan reads every event and answers none.
	path := l.URL + "/v1/audit?actor=nobody&limit=1000"
	cut := ""
	for i := 0; i < 40 && cut == ""; i++ {
		id := fmt.Sprintf("hang-up-%d", i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i)*time.Millisecond)
		req, err := http.NewRequestWithContext(ctx, "GET", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminSecret)
		req.Header.Set("X-Request-Id", id)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		} else if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GET %s: %v", path, err)
		}
		cancel()
		// The server notices within moments; its line comes after.
		for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline) && cut == ""; time.Sleep(10 * time.Millisecond) {
			if len(logs.ofRequest(t, id)) > 0 {
				cut = id
			}
			if err == nil {
				break // answered whole: nothing to wait for
			}
		}
	}
	if cut == "" {
		t.Fatal("no request was cut while the server was at work: make the log longer")
	}
	for _, line := range logs.lines(t) {
		if line["level"] == "ERROR" {
			t.Errorf("logged at error: %v", line)
		}
	}
	lines := logs.ofRequest(t, cut)
	if len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["msg"] != "client went away" {
		t.Errorf("the request cut logged %v, want one line at debug", lines)
	}
	t.Logf("cut %s: %v", cut, lines)
}
