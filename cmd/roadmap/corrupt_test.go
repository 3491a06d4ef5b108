package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// syncBuffer is a buffer several goroutines may write to: a logger's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// corruptLedger is a ledger served on 127.0.0.1 whose log the test writes
// to directly.
type corruptLedger struct {
	t    *testing.T
	dir  string
	app  *app.App
	url  string
	logs *syncBuffer
	stop func()
}

const corruptAdmin = "corrupt-tests-bootstrap-admin-secret-0123456789"

func openCorruptLedger(t *testing.T, dir string) *corruptLedger {
	t.Helper()
	logs := &syncBuffer{}
	a, err := app.Open(context.Background(), app.Config{DataDir: dir, BootstrapToken: corruptAdmin, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("open the ledger: %v", err)
	}
	srv := httptest.NewServer(spectest.Handler(t, a.Handler, spectest.DamagedLog()))
	l := &corruptLedger{t: t, dir: dir, app: a, url: srv.URL, logs: logs}
	var once sync.Once
	l.stop = func() {
		once.Do(func() {
			srv.Close()
			if err := a.Close(); err != nil {
				t.Errorf("close the ledger: %v", err)
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

// send makes one request as the admin and returns its status and body.
func (l *corruptLedger) send(method, path, body string) (int, string) {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+corruptAdmin)
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

func (l *corruptLedger) last() uint64 {
	l.t.Helper()
	seq, err := l.app.Log.LastSequence(context.Background())
	if err != nil {
		l.t.Fatal(err)
	}
	return seq
}

// TestACorruptMessageStopsTheReadModelsAndVerifyNamesIt writes a message
// that is not an event into the ledger's stream with the plain JetStream
// API, as a damaged store or a stray publisher would, while the ledger
// serves; and again, for a ledger started on a log that already holds one.
// The read models stop at it and say where: /readyz answers 503 naming its
// sequence, the log has an error naming it, every /v1 request that needs
// the read models is refused 503 naming it and appends nothing, and
// roadmap verify, reading the raw log, fails naming the same sequence.
func TestACorruptMessageStopsTheReadModelsAndVerifyNamesIt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(good []byte) []byte
	}{
		{"a message cut in half", func(good []byte) []byte { return good[:len(good)/2] }},
		{"bytes that are not JSON", func([]byte) []byte { return []byte("\x00\xff not an event \xfe") }},
		{"an envelope whose data is not its type's", func(good []byte) []byte {
			return bytes.Replace(good, []byte(`"title":"Idea 1"`), []byte(`"title":42`), 1)
		}},
		{"an empty message", func([]byte) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openCorruptLedger(t, t.TempDir())
			if err := l.app.WaitReady(context.Background()); err != nil {
				t.Fatal(err)
			}
			var item string
			for i := range 3 {
				status, body := l.send("POST", "/v1/items", fmt.Sprintf(`{"title":"Idea %d","kind":"idea"}`, i))
				if status != 201 {
					t.Fatalf("propose: %d %s", status, body)
				}
				if i == 1 {
					var it struct{ ID string }
					_ = json.Unmarshal([]byte(body), &it)
					item = it.ID
				}
			}
			if status, body := l.send("POST", "/v1/checkpoints", ""); status != 201 {
				t.Fatalf("sign a checkpoint: %d %s", status, body)
			}
			// The body of the stored item.proposed of "Idea 1", to damage.
			var good []byte
			if err := l.app.Log.ReadRange(context.Background(), 1, l.last(), func(r eventlog.Record) error {
				if r.Envelope.AggregateID == item {
					good = bytes.Clone(r.Body)
				}
				return nil
			}); err != nil || good == nil {
				t.Fatalf("find the item's event: %v", err)
			}

			msg := nats.NewMsg(eventlog.Subject("item", item))
			msg.Data = tc.corrupt(good)
			ack, err := l.app.Log.JetStream().PublishMsg(context.Background(), msg)
			if err != nil {
				t.Fatalf("publish the corrupt message: %v", err)
			}
			bad := ack.Sequence
			named := fmt.Sprintf("sequence %d", bad)
			l.checkStopped(bad, named)

			// Started again on the same log, the ledger replays up to the
			// message and stops there, saying so the same ways.
			l.stop()
			l = openCorruptLedger(t, l.dir)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := l.app.WaitReady(ctx); err == nil || !strings.Contains(err.Error(), named) {
				t.Errorf("after a restart, waiting for the read models: %v; want an error naming %s", err, named)
			}
			l.checkStopped(bad, named)
		})
	}
}

// checkStopped checks that the ledger says its read models stopped at the
// message at sequence bad, in every place an operator or auditor looks.
func (l *corruptLedger) checkStopped(bad uint64, named string) {
	t := l.t
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := l.send("GET", "/readyz", "")
		if status == http.StatusServiceUnavailable && strings.Contains(body, named) {
			t.Logf("/readyz: %d %s", status, strings.TrimSpace(body))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz answers %d %s; want 503 naming %s within 20s", status, body, named)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if logs := l.logs.String(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, named) {
		t.Errorf("the ledger's log has no error naming %s:\n%s", named, logs)
	}
	if strings.Contains(l.logs.String(), "following the log again") {
		t.Errorf("the read models followed the log again after the corrupt message, as after a lost connection:\n%s", l.logs.String())
	}

	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/items", `{"title":"After the damage","kind":"idea"}`},
		{"GET", "/v1/roadmap", ""},
		{"GET", "/v1/items", ""},
	} {
		status, body := l.send(r.method, r.path, r.body)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, named) {
			t.Errorf("%s %s: %d %s; want 503 naming %s", r.method, r.path, status, body, named)
		}
	}
	if got := l.last(); got != bad {
		t.Errorf("the log's last sequence is %d, want %d: appended after the corrupt message", got, bad)
	}

	err, stdout, stderr := runVerifyOn(t, "--server", l.url, "--token", corruptAdmin)
	t.Logf("verify: %v", err)
	if err == nil || !strings.Contains(err.Error(), named) {
		t.Errorf("verify: %v; want a failure naming %s\nstdout:\n%s\nstderr:\n%s", err, named, stdout, stderr)
	}
}
