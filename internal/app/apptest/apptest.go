// Package apptest starts whole ledgers for the tests of the packages below
// the API: the real log on an embedded JetStream in a temporary directory,
// the projections and the ledger service, as serve wires them. Only tests
// import it.
package apptest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// Open starts a ledger with cfg (in a temporary directory when it names
// none), waits until it answers, and closes it when the test ends. The
// context it returns ends with the test too. It fails the test when the
// ledger cannot start.
func Open(tb testing.TB, cfg app.Config) (*app.App, context.Context) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	tb.Cleanup(cancel)
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open the ledger: %v", err)
	}
	tb.Cleanup(func() {
		if err := a.Close(); err != nil {
			tb.Errorf("close the ledger: %v", err)
		}
	})
	if err := a.WaitReady(ctx); err != nil {
		tb.Fatalf("the ledger is not ready: %v", err)
	}
	return a, ctx
}

// StoredBodies reads the stream itself, not the API or the projections:
// every event's stored body, byte for byte, by sequence. It fails the test
// when the stream cannot be read.
func StoredBodies(tb testing.TB, a *app.App) map[int64][]byte {
	tb.Helper()
	ctx := context.Background()
	last, err := a.Log.LastSequence(ctx)
	if err != nil {
		tb.Fatalf("the stream's last sequence: %v", err)
	}
	out := map[int64][]byte{}
	if last == 0 {
		return out
	}
	done := errors.New("done")
	err = a.Log.Follow(ctx, 1, func(rec eventlog.Record) error {
		out[int64(rec.Sequence)] = bytes.Clone(rec.Body)
		if rec.Sequence >= last {
			return done
		}
		return nil
	})
	if !errors.Is(err, done) {
		tb.Fatalf("read the stream: %v", err)
	}
	return out
}
