//go:build unix

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// TestVerifyCatchesAnEventRewrittenInTheStore copies the shared ledger's
// stream event by event into a new data directory, rewriting the rationale
// of one stored event on the way, as someone with access to the server's
// files could. A server started on the copy with the ledger's own key (whoever
// can rewrite the files can run the server too) replays it and signs a fresh
// checkpoint over what it holds; verify must still name the rewritten event.
func TestVerifyCatchesAnEventRewrittenInTheStore(t *testing.T) {
	l := sharedVerifyLedger(t)
	ctx := context.Background()
	last, err := l.App.Log.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	var subjects []string
	victim := 0
	err = l.App.Log.ReadRange(ctx, 1, last, func(r eventlog.Record) error {
		if victim == 0 && bytes.Contains(r.Body, []byte(`"because 1"`)) {
			victim = int(r.Sequence)
		}
		bodies = append(bodies, bytes.Clone(r.Body))
		subjects = append(subjects, eventlog.Subject(r.Envelope.AggregateType, r.Envelope.AggregateID))
		return nil
	})
	if err != nil || victim == 0 {
		t.Fatalf("reading the ledger: %v (rewritable event at %d)", err, victim)
	}

	copyDir := t.TempDir()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: copyDir})
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range bodies {
		if i+1 == victim {
			body = bytes.Replace(body, []byte(`"because 1"`), []byte(`"because 9"`), 1)
		}
		msg := nats.NewMsg(subjects[i])
		msg.Data = body
		if _, err := log.JetStream().PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	log.Close()

	key := filepath.Join(filepath.Dir(l.KeyFile), "data", "signing.key")
	// The copy holds the ledger's tokens too: the server on it takes them.
	a, err := app.Open(ctx, app.Config{DataDir: copyDir, SigningKeyFile: key, BootstrapToken: verifyAdmin})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(spectest.Handler(t, a.Handler))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1/checkpoints", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+verifyAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("signing a checkpoint on the copy: %s", res.Status)
	}

	err, _, _ = runVerifyOn(t, "--server", srv.URL, "--public-key", l.KeyFile, "--token", l.Token)
	if err == nil {
		t.Fatal("verify passed a ledger with an event rewritten in its store")
	}
	if want := "sequence " + strconv.Itoa(victim) + ":"; !strings.Contains(err.Error(), want) {
		t.Errorf("verify: %v; want it to name %q", err, want)
	}
}
