package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// TestAnEventOfANewerReleaseStopsTheReadModels publishes, with the plain
// JetStream API, well-formed and sealed events this release cannot read: a
// type it does not know, and a known type at a version newer than its
// catalogue's, as a newer release would write them. The read models stop
// at it rather than skip it, naming its sequence, type and version, live
// and after a restart; nothing is appended after it.
func TestAnEventOfANewerReleaseStopsTheReadModels(t *testing.T) {
	for _, tc := range []struct {
		name, typ, aggregate string
		version              int
		says                 string
	}{
		{"a type this release does not know", "item.archived", "item", 1, "item.archived\\\" version 1, which this release does not know"},
		{"a version newer than this release knows", "token.revoked", "token", 2, "token.revoked version 2, but this release reads versions 1 to 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openCorruptLedger(t, t.TempDir())
			if err := l.app.WaitReady(context.Background()); err != nil {
				t.Fatal(err)
			}
			if status, body := l.send("POST", "/v1/items", `{"title":"Before","kind":"idea"}`); status != 201 {
				t.Fatalf("propose: %d %s", status, body)
			}
			id := uuid.Must(uuid.NewV7()).String()
			e := &eventlog.Envelope{
				ID: uuid.Must(uuid.NewV7()).String(), Type: tc.typ, SchemaVersion: tc.version,
				AggregateType: tc.aggregate, AggregateID: id, Time: time.Now().UTC().Truncate(time.Millisecond),
				Actor: "a newer release", Data: json.RawMessage(`{"reason":"from the future"}`),
			}
			body, err := e.Seal("")
			if err != nil {
				t.Fatal(err)
			}
			msg := nats.NewMsg(eventlog.Subject(tc.aggregate, id))
			msg.Data = body
			ack, err := l.app.Log.JetStream().PublishMsg(context.Background(), msg)
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			named := fmt.Sprintf("sequence %d is ", ack.Sequence)
			check := func() {
				t.Helper()
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
					status, body := l.send("GET", "/readyz", "")
					if status == http.StatusServiceUnavailable && strings.Contains(body, named) && strings.Contains(body, tc.says) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("/readyz answers %d %s; want 503 naming %q and saying %q", status, body, named, tc.says)
					}
				}
				if status, body := l.send("POST", "/v1/items", `{"title":"After","kind":"idea"}`); status != http.StatusServiceUnavailable || !strings.Contains(body, tc.says) {
					t.Errorf("a write after it: %d %s; want 503 saying %q", status, body, tc.says)
				}
				if got := l.last(); got != ack.Sequence {
					t.Errorf("the log's last sequence is %d, want %d: appended after the unreadable event", got, ack.Sequence)
				}
				if !strings.Contains(l.logs.String(), "upgrade this server") {
					t.Errorf("the log does not say to upgrade:\n%s", l.logs.String())
				}
			}
			check()
			l.stop()
			l = openCorruptLedger(t, l.dir)
			check()
		})
	}
}
