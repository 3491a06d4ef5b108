// Package app wires the ledger together: the event log, the projections and
// their runner, the ledger service and the HTTP API. The serve command and the
// end-to-end tests build the same thing through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/metrics"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
	"github.com/roadmap-ledger/roadmap/internal/webhook"
	"github.com/roadmap-ledger/roadmap/projections"

	"github.com/prometheus/client_golang/prometheus"
)

// Config says where the ledger keeps its log and how it behaves.
type Config struct {
	// DataDir holds the embedded JetStream's files, and the signing key
	// (signing.key, made on first start) unless SigningKeyFile is given.
	DataDir string
	// SigningKeyFile is the file of the key that signs checkpoints (a note
	// signer key named Origin), instead of the data directory's. The ledger
	// needs one or the other.
	SigningKeyFile string
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
	// GroupCommit gathers decisions that arrive together into one
	// JetStream atomic batch, synced once (eventlog.Config.GroupCommit).
	GroupCommit bool
	Logger      *slog.Logger
	// Now is the ledger's clock; time.Now when nil.
	Now func() time.Time
	// DuplicateWindow overrides JetStream's duplicate window (for tests).
	DuplicateWindow time.Duration
	// KeyframeEvery overrides how many events apart the projections keep
	// keyframes of their state for time travel (for tests and benchmarks).
	KeyframeEvery uint64
	// KeyframeCache overrides how many keyframes are kept decoded in
	// memory (snapshot.KeyframeCache); the others are in files of their
	// own in the data directory (snapshot.KeyframeDir), read on demand.
	KeyframeCache int
	// BootstrapToken, when set, is the secret of an admin token named
	// "bootstrap", recorded on start unless already recorded.
	BootstrapToken string
	// Approvals is the policy for major changes; the zero value records
	// every decision at once (off). serve's default is major.
	Approvals roadmap.ApprovalPolicy
	// SnapshotEvery is how often the read models are written to a
	// snapshot in the data directory (internal/snapshot), which a restart
	// loads so that it replays only the events after it; five minutes when
	// 0 (writing one costs a few microseconds of CPU per event of the log).
	// A snapshot is also written on Close. Negative: no snapshot is loaded
	// nor written, and every start replays the whole log.
	SnapshotEvery time.Duration
	// OnFirstToken is told the secret of the admin token made on the first
	// start of a ledger that has no token and no BootstrapToken, once.
	OnFirstToken func(secret string)
	// NatsCredsFile and NatsRootCAFile are the credentials file of the
	// connection to the external cluster and the authorities its TLS
	// certificates are checked against (eventlog.Config).
	NatsCredsFile, NatsRootCAFile string
	// MetricsApart keeps GET /metrics off Handler: serve then serves
	// App.Metrics on an address of its own.
	MetricsApart bool
	// FeedHeartbeat and FeedBuffer override the change feed's heartbeat
	// interval and per-client buffer (api.DefaultFeedHeartbeat,
	// api.DefaultFeedBuffer), for tests and benchmarks.
	FeedHeartbeat time.Duration
	FeedBuffer    int
	// WebhooksAllowPrivate lets webhooks reach loopback, private and
	// link-local addresses (on-premise receivers, tests).
	WebhooksAllowPrivate bool
	// WebhookSchedule and WebhookTimeout override the waits between
	// retries of a failed delivery and the bound on one delivery
	// (webhook.DefaultSchedule, webhook.DefaultTimeout), for tests.
	WebhookSchedule []time.Duration
	WebhookTimeout  time.Duration
}

// App is a running ledger, short of its HTTP listener.
type App struct {
	Log     *eventlog.Log
	Runner  *projections.Runner
	Current *projections.Current
	// Tree is the Merkle tree of the log, a projection like Current.
	Tree *proof.Tree
	// Keyframes are the files of the keyframes of Current's time travel;
	// nil without a data directory, when they are kept in memory.
	Keyframes *snapshot.KeyframeFiles
	// Origin names the log in its checkpoints, and the signing key.
	Origin string
	// VerifierKey is the public key of the signing key, for auditors to pin.
	VerifierKey string
	Ledger      *ledger.Service
	// Handler serves the API, and GET /metrics unless Config.MetricsApart.
	Handler http.Handler
	// Metrics serves the ledger's metrics in the Prometheus text format.
	Metrics http.Handler
	// Webhooks delivers events to the subscribed URLs.
	Webhooks *webhook.Dispatcher
	// CloseStreams ends the API's event streams, for a graceful shutdown.
	CloseStreams func()
	// Resumed is the sequence the read models were loaded at from a
	// snapshot, and 0 when the start replayed the whole log.
	Resumed   uint64
	stop      context.CancelFunc
	waitReady func(ctx context.Context) error
	// background is closed once the change feed and the webhook
	// deliveries have stopped.
	background chan struct{}
	keeper     *snapshot.Keeper
	kept       chan struct{} // closed when the keeper stops writing periodically
	// closeFiles writes the keyframes waiting to be written, stops their
	// writer, and closes the files of the Merkle tree and the history.
	closeFiles func()
	unlock     func() // lets go of the data directory
}

// WaitReady blocks until the projections have caught up with the log and
// the bootstrap token is recorded: until the API answers /v1 requests.
func (a *App) WaitReady(ctx context.Context) error { return a.waitReady(ctx) }

// Origin returns the origin of the checkpoints of the log kept in stream:
// "roadmap-ledger/" and the stream's name. It is also the signing key's
// name.
func Origin(stream string) string { return "roadmap-ledger/" + stream }

// signingKey returns the signer of the checkpoints of origin: the key in
// cfg.SigningKeyFile, or the data directory's, made on first start.
func signingKey(cfg Config, origin string, logger *slog.Logger) (*proof.Signer, error) {
	var skey, vkey string
	var err error
	switch {
	case cfg.SigningKeyFile != "":
		if skey, vkey, err = proof.LoadKeyFile(cfg.SigningKeyFile); err != nil {
			return nil, err
		}
		if info, err := os.Stat(cfg.SigningKeyFile); err == nil && runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
			logger.Warn("the signing key is readable by others: make it readable by its owner only (chmod 600)",
				"file", cfg.SigningKeyFile, "mode", fmt.Sprintf("%#o", info.Mode().Perm()))
		}
	case cfg.DataDir != "":
		path := filepath.Join(cfg.DataDir, proof.KeyFile)
		_, statErr := os.Stat(path)
		if skey, vkey, err = proof.LoadOrCreateKey(cfg.DataDir, origin); err != nil {
			return nil, err
		}
		if errors.Is(statErr, fs.ErrNotExist) {
			logger.Warn("made a new signing key for checkpoints: back it up, and give auditors its verifier key",
				"file", path, "verifier_key", vkey)
		}
	default:
		return nil, errors.New("no signing key for checkpoints: give a key file (--signing-key) or a data directory to keep one in")
	}
	signer, err := proof.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	if signer.Name() != origin {
		return nil, fmt.Errorf("the signing key is named %q, but this ledger's checkpoints need a key named %q", signer.Name(), origin)
	}
	logger.Info("checkpoints are signed", "origin", origin, "verifier_key", vkey)
	return signer, nil
}

// TokenKey returns the key the hashes of token secrets are recorded with
// in the ledger whose checkpoints signer signs: derived from the signing
// key, so it is wherever that key is and nowhere else. A ledger whose
// signing key is replaced no longer knows the tokens made under the old
// one (a new bootstrap secret is the way back in).
func TokenKey(signer *proof.Signer) roadmap.TokenKey {
	return roadmap.NewTokenKey(signer.DeriveKey("token secrets"))
}

// WebhookKey returns the key webhook signing secrets are sealed with in
// the ledger whose checkpoints signer signs, derived from the signing key
// as TokenKey is: the server opens a secret to sign a delivery, and
// nobody who reads the log can.
func WebhookKey(signer *proof.Signer) roadmap.WebhookKey {
	return roadmap.NewWebhookKey(signer.DeriveKey("webhook secrets"))
}

// Open opens the log and starts replaying it into the projections. The
// handler holds /v1 requests until the replay has caught up. It returns an
// error when the log cannot be opened.
func Open(ctx context.Context, cfg Config) (*App, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BootstrapToken != "" {
		if err := ledger.CheckBootstrapSecret(cfg.BootstrapToken); err != nil {
			return nil, err
		}
	}
	// The data directory holds files only this process may write (the
	// snapshot, the tree's hashes, the history, the keyframes): a second
	// process pointed at it, as two servers of one cluster on one machine
	// could be, is refused.
	unlock := func() {}
	if cfg.DataDir != "" {
		// The operator's own path: it may be a link to where the disk is.
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
		var err error
		if unlock, err = safefile.LockDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	origin := Origin(eventlog.DefaultStream)
	signer, err := signingKey(cfg, origin, logger)
	if err != nil {
		unlock()
		return nil, err
	}
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: cfg.DataDir, NatsURL: cfg.NatsURL, Replicas: cfg.Replicas, Logger: logger, DuplicateWindow: cfg.DuplicateWindow,
		SystemURL: cfg.SystemURL, UnsafeNoFsync: cfg.UnsafeNoFsync, GroupCommit: cfg.GroupCommit, CredsFile: cfg.NatsCredsFile, RootCAFile: cfg.NatsRootCAFile,
	})
	if err != nil {
		unlock()
		return nil, err
	}
	closeLog := func() {
		log.Close()
		unlock()
	}
	// The read models, the Merkle tree of the log among them, are loaded
	// from the snapshot when it can be trusted, else rebuilt from the
	// first event.
	restored := loadSnapshot(ctx, cfg, log, logger)
	current, requests, tree := restored.Current, restored.Requests, restored.Tree
	if restored.Sequence == 0 {
		current = projections.NewCurrent(log, cfg.KeyframeEvery)
		requests = projections.NewIdempotency(log)
		// With a data directory, the tree's hashes and the history of
		// the clock and the moves live in files of their own, beside the
		// snapshot that names them.
		tree = proof.NewTree()
		if cfg.DataDir != "" {
			if tree, err = proof.NewFileTree(filepath.Join(cfg.DataDir, snapshot.TreeFile)); err != nil {
				closeLog()
				return nil, err
			}
			if err := current.KeepHistoryIn(filepath.Join(cfg.DataDir, snapshot.HistoryFile)); err != nil {
				tree.Close()
				closeLog()
				return nil, err
			}
		}
	}
	// With a data directory, the keyframes of time travel live in files
	// of their own, checked against the tree; else in memory.
	var keyframes *snapshot.KeyframeFiles
	if cfg.DataDir != "" {
		keyframes, err = snapshot.OpenKeyframes(filepath.Join(cfg.DataDir, snapshot.KeyframeDir), log.Stream(), tree, cfg.KeyframeCache, logger)
		if err != nil {
			tree.Close()
			current.Close()
			closeLog()
			return nil, err
		}
		current.UseKeyframes(keyframes)
	}
	closeFiles := func() {
		if keyframes != nil {
			keyframes.Close()
		}
		tree.Close()
		current.Close()
	}
	// The tree first: a keyframe, kept as Current applies its event, is
	// written with the tree's root at its sequence.
	runner := projections.NewRunner(log, logger, projections.Bodies(tree.Append), current, requests)
	runner.Resume(restored.Sequence)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	if err := runner.Start(runCtx); err != nil {
		stop()
		closeFiles()
		closeLog()
		return nil, err
	}
	var keeper *snapshot.Keeper
	kept := make(chan struct{})
	if path := snapshotPath(cfg); path != "" {
		keeper = snapshot.NewKeeper(path, log.Stream(), restored.Sequence, runner, current, requests, tree, logger)
		every := cfg.SnapshotEvery
		if every == 0 {
			every = 5 * time.Minute
		}
		go func() {
			defer close(kept)
			keeper.Run(runCtx, every)
		}()
	} else {
		close(kept)
	}
	// A registry of the ledger's own, never the process-wide default:
	// two ledgers in one process (the tests) each count their own.
	// The feed and the webhooks are made below; a scrape comes only once
	// the ledger serves.
	var srv *api.Server
	var hooks *webhook.Dispatcher
	m := metrics.New(prometheus.NewRegistry(), metrics.Sources{
		Stats: log.Stats, Applied: runner.Applied, Read: current.Read, Now: cfg.Now,
		StreamClients:   func() int { return srv.StreamClients() },
		WebhooksFailing: func() int { return hooks.Failing() },
	})
	svc := ledger.New(m.Store(log), current, requests, runner, cfg.Now)
	svc.SignCheckpoints(tree, signer)
	svc.SetApprovals(cfg.Approvals)
	tokenKey := TokenKey(signer)
	svc.SetTokenKey(tokenKey)
	svc.SetWebhookKey(WebhookKey(signer))
	bucket, err := log.Bucket(ctx, "WEBHOOKS")
	if err != nil {
		stop()
		<-runner.Done()
		closeFiles()
		closeLog()
		return nil, err
	}
	hooks = webhook.New(webhook.Config{
		Views: current, Wait: runner, Bucket: bucket, Secret: svc.WebhookSecret,
		Encode:   func(r projections.Record) ([]byte, error) { return api.CloudEvent(origin, r) },
		Schedule: cfg.WebhookSchedule, Timeout: cfg.WebhookTimeout, AllowPrivate: cfg.WebhooksAllowPrivate,
		Logger: logger, Now: cfg.Now,
		Observe: func(a webhook.Attempt) { m.ObserveDelivery(a.Status, a.Error != "") },
	})
	boot := startBootstrap(runCtx, runner, svc, cfg, logger)
	ready := func() error {
		if err := runner.Ready(); err != nil {
			return err
		}
		if err := tree.Err(); err != nil {
			return fmt.Errorf("cannot prove the log: %w", err)
		}
		return boot.ready()
	}
	waitReady := func(ctx context.Context) error {
		if err := runner.WaitReady(ctx); err != nil {
			return err
		}
		return boot.wait(ctx)
	}
	var served http.Handler // GET /metrics on the API's address
	if !cfg.MetricsApart {
		served = m.Handler()
	}
	srv = api.New(api.Config{
		Ledger: svc, Views: current, Log: log, Wait: runner, Ready: ready, WaitReady: waitReady, Health: log.Health, Logger: logger,
		Proofs: tree, VerifierKey: signer.VerifierKey(), SignNote: signer.SignNote, Now: cfg.Now, TokenKey: tokenKey,
		Requests: m, Metrics: served,
		FeedSource: origin, FeedHeartbeat: cfg.FeedHeartbeat, FeedBuffer: cfg.FeedBuffer,
		Deliveries: hooks,
		CheckWebhookURL: func(ctx context.Context, url string) error {
			return webhook.CheckURL(ctx, url, cfg.WebhooksAllowPrivate)
		},
	})
	background := make(chan struct{})
	go func() {
		defer close(background)
		feedDone := make(chan struct{})
		go func() { defer close(feedDone); srv.RunFeed(runCtx) }()
		hooks.Run(runCtx)
		<-feedDone
	}()
	return &App{
		Log: log, Runner: runner, Current: current, Tree: tree, Keyframes: keyframes, Origin: origin, VerifierKey: signer.VerifierKey(),
		Ledger: svc, Resumed: restored.Sequence, stop: stop, keeper: keeper, kept: kept, closeFiles: closeFiles, unlock: unlock,
		waitReady: waitReady, Metrics: m.Handler(),
		Handler: srv, Webhooks: hooks, background: background, CloseStreams: srv.CloseStreams,
	}, nil
}

// snapshotPath returns where the read models' snapshot is kept, or "" when
// none is.
func snapshotPath(cfg Config) string {
	if cfg.DataDir == "" || cfg.SnapshotEvery < 0 {
		return ""
	}
	return filepath.Join(cfg.DataDir, snapshot.File)
}

// loadSnapshot returns the read models of the snapshot in the data
// directory, checked against the log, or the zero Restored, saying why,
// when there is none to trust.
func loadSnapshot(ctx context.Context, cfg Config, log *eventlog.Log, logger *slog.Logger) snapshot.Restored {
	path := snapshotPath(cfg)
	if path == "" {
		return snapshot.Restored{}
	}
	start := time.Now()
	restored, err := snapshot.Load(ctx, path, log, cfg.KeyframeEvery)
	switch {
	case err == nil:
		logger.Info("loaded the read models from a snapshot: replaying the log after it",
			"sequence", restored.Sequence, "file", path, "took", time.Since(start).Round(time.Millisecond))
	case errors.Is(err, snapshot.ErrMissing):
		logger.Info("no snapshot of the read models: replaying the whole log", "file", path)
	default:
		logger.Warn("ignoring the snapshot of the read models: replaying the whole log", "file", path, "error", err)
	}
	return restored
}

// bootstrap is the making of the bootstrap token once the projections have
// caught up: the API is not ready until it is done.
type bootstrap struct {
	done chan struct{}
}

func startBootstrap(ctx context.Context, runner *projections.Runner, svc *ledger.Service, cfg Config, logger *slog.Logger) *bootstrap {
	b := &bootstrap{done: make(chan struct{})}
	go func() {
		if err := runner.WaitReady(ctx); err != nil {
			return
		}
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
			secret, err := svc.Bootstrap(ctx, cfg.BootstrapToken)
			if err == nil {
				if secret != "" && cfg.OnFirstToken != nil {
					cfg.OnFirstToken(secret)
				}
				close(b.done)
				return
			}
			// The log may be between leaders: try again, as the
			// projections do.
			logger.Warn("cannot record the bootstrap token yet", "error", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
	}()
	return b
}

func (b *bootstrap) ready() error {
	select {
	case <-b.done:
		return nil
	default:
		return errors.New("the bootstrap token is not recorded yet")
	}
}

func (b *bootstrap) wait(ctx context.Context) error {
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the projections, writes a snapshot of them and closes the
// log; everything acknowledged is already on disk. A snapshot that cannot
// be written is logged: the next start replays more of the log.
func (a *App) Close() error {
	a.stop()
	var err error
	select {
	case <-a.Runner.Done():
	case <-time.After(10 * time.Second):
		err = errors.New("projections did not stop within 10s")
	}
	select {
	case <-a.background:
	case <-time.After(10 * time.Second):
		err = errors.Join(err, errors.New("the change feed and webhook deliveries did not stop within 10s"))
	}
	<-a.kept
	if a.keeper != nil && err == nil {
		if serr := a.keeper.Save(); serr != nil {
			a.keeper.Logger.Warn("cannot write a snapshot of the read models", "file", a.keeper.Path, "error", serr)
		}
	}
	a.closeFiles()
	a.Log.Close() // whatever the projections do, the log is closed cleanly
	a.unlock()
	return err
}
