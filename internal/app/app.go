// Package app wires the ledger together: the event log, the projections and
// their runner, the ledger service and the HTTP API. The serve command and the
// end-to-end tests build the same thing through it.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Config says where the ledger keeps its log and how it behaves.
type Config struct {
	// DataDir holds the embedded JetStream's files.
	DataDir string
	// NatsURL connects to an external NATS server or cluster instead.
	NatsURL string
	// Replicas is the stream's replica count with an external cluster.
	Replicas int
	// SystemURL is a system-account connection to the external cluster, to
	// check at start that every server fsyncs each write.
	SystemURL string
	// UnsafeNoFsync gives up fsync on every write (embedded) or its check
	// (external).
	UnsafeNoFsync bool
	Logger        *slog.Logger
	// Now is the ledger's clock; time.Now when nil.
	Now func() time.Time
	// DuplicateWindow overrides JetStream's duplicate window (for tests).
	DuplicateWindow time.Duration
	// CheckpointEvery overrides how many events apart the projections keep
	// checkpoints for time travel (for tests).
	CheckpointEvery uint64
}

// App is a running ledger, short of its HTTP listener.
type App struct {
	Log     *eventlog.Log
	Runner  *projections.Runner
	Current *projections.Current
	Ledger  *ledger.Service
	Handler http.Handler
	stop    context.CancelFunc
}

// Open opens the log and starts replaying it into the projections. The
// handler holds /v1 requests until the replay has caught up. It returns an
// error when the log cannot be opened.
func Open(ctx context.Context, cfg Config) (*App, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: cfg.DataDir, NatsURL: cfg.NatsURL, Replicas: cfg.Replicas, Logger: logger, DuplicateWindow: cfg.DuplicateWindow,
		SystemURL: cfg.SystemURL, UnsafeNoFsync: cfg.UnsafeNoFsync,
	})
	if err != nil {
		return nil, err
	}
	current := projections.NewCurrent(log, cfg.CheckpointEvery)
	runner := projections.NewRunner(log, logger, current)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := runner.Start(runCtx); err != nil {
		stop()
		log.Close()
		return nil, err
	}
	svc := ledger.New(log, current, runner, cfg.Now)
	return &App{
		Log: log, Runner: runner, Current: current, Ledger: svc, stop: stop,
		Handler: api.New(api.Config{
			Ledger: svc, Views: current, Log: log, Wait: runner, Ready: runner.Ready, WaitReady: runner.WaitReady, Health: log.Health, Logger: logger,
		}),
	}, nil
}

// Close stops the projections and closes the log; everything acknowledged is
// already on disk.
func (a *App) Close() error {
	a.stop()
	select {
	case <-a.Runner.Done():
	case <-time.After(10 * time.Second):
		return errors.New("projections did not stop within 10s")
	}
	a.Log.Close()
	return nil
}
