// Command roadmap runs the roadmap decision ledger.
//
//	roadmap serve [--data DIR] [--addr HOST:PORT] [--signing-key FILE] [--nats-url URL --replicas N]
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/bench"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		// An error may carry what a server or a user wrote (a problem's
		// detail, a title): escaped, like every other output.
		fmt.Fprintln(os.Stderr, "roadmap:", termtext.Escape(err.Error()))
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `roadmap: an event-sourced roadmap decision ledger

Commands:
  serve    run the ledger's HTTP API (embedded JetStream by default)
  bench    measure the ledger beside raw JetStream on this machine
  verify   check a ledger's log against its signed checkpoint, as an auditor
  export   write an export bundle of the ledger, for verify --bundle
  review   review replay: step through a governance review's decisions in order
  import   import the backlog from a CSV file or a Jira export
  backup   copy the whole ledger, while it runs, into one file
  restore  restore a backup into an empty data directory, checked first

Run "roadmap COMMAND -h" for a command's flags.
`

// run is the whole program; main and the tests call it alike.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return bench.Run(ctx, args[1:], stdout, stderr)
	case "verify":
		return verifyCommand(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return exportCommand(ctx, args[1:], getenv, stdout, stderr)
	case "review":
		return reviewCommand(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return importCommand(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return restoreCommand(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// serveConfig is what serve's flags and environment say.
type serveConfig struct {
	data, addr, natsURL, systemURL string
	signingKey, bootstrapToken     string
	approvals                      string
	logFormat, metricsAddr         string
	tlsCert, tlsKey                string
	natsCreds, natsTLSCA           string
	replicas                       int
	unsafeNoFsync                  bool
	groupCommit                    bool
	shutdownTimeout                time.Duration
	webhooksAllowPrivate           bool
}

func parseServe(args []string, getenv func(string) string, stderr io.Writer) (serveConfig, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	replicas, err := strconv.Atoi(env("ROADMAP_REPLICAS", "1"))
	if err != nil {
		return serveConfig{}, fmt.Errorf("ROADMAP_REPLICAS must be a whole number from 1 to 5, got %q", getenv("ROADMAP_REPLICAS"))
	}
	unsafeNoFsync := false
	switch v := getenv("ROADMAP_UNSAFE_NO_FSYNC"); v {
	case "1":
		unsafeNoFsync = true
	case "", "0":
	default:
		// Read as "off", a "true" or "yes" would keep fsync on while the
		// operator believes it off, and the other way round for "false".
		return serveConfig{}, fmt.Errorf("ROADMAP_UNSAFE_NO_FSYNC must be 1 (on) or 0 (off), got %q", v)
	}
	groupCommit := false
	switch v := getenv("ROADMAP_GROUP_COMMIT"); v {
	case "1":
		groupCommit = true
	case "", "0":
	default:
		return serveConfig{}, fmt.Errorf("ROADMAP_GROUP_COMMIT must be 1 (on) or 0 (off), got %q", v)
	}
	var allowPrivate bool
	switch v := getenv("ROADMAP_WEBHOOKS_ALLOW_PRIVATE"); v {
	case "true", "1":
		allowPrivate = true
	case "", "false", "0":
	default:
		return serveConfig{}, fmt.Errorf("ROADMAP_WEBHOOKS_ALLOW_PRIVATE must be true or false, got %q", v)
	}
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.data, "data", env("ROADMAP_DATA", "./data"), "data directory of the embedded JetStream (ROADMAP_DATA)")
	fs.StringVar(&cfg.signingKey, "signing-key", env("ROADMAP_SIGNING_KEY", ""), "file of the key that signs checkpoints; without it, DATA/signing.key, made on first start; required with --nats-url (ROADMAP_SIGNING_KEY)")
	fs.StringVar(&cfg.addr, "addr", env("ROADMAP_ADDR", "127.0.0.1:8080"), "HTTP listen address (ROADMAP_ADDR)")
	fs.StringVar(&cfg.natsURL, "nats-url", env("ROADMAP_NATS_URL", ""), "external NATS server or cluster instead of the embedded one (ROADMAP_NATS_URL)")
	fs.IntVar(&cfg.replicas, "replicas", replicas, "stream replicas on an external cluster (ROADMAP_REPLICAS)")
	fs.StringVar(&cfg.systemURL, "nats-system-url", env("ROADMAP_NATS_SYSTEM_URL", ""), "system-account connection to the external cluster, to check that every server fsyncs each write (ROADMAP_NATS_SYSTEM_URL)")
	fs.BoolVar(&cfg.unsafeNoFsync, "unsafe-no-fsync", unsafeNoFsync, "run without fsync on every write (embedded) or without checking it (external): acknowledged decisions can be lost in a power cut (ROADMAP_UNSAFE_NO_FSYNC=1)")
	fs.BoolVar(&cfg.groupCommit, "group-commit", groupCommit, "gather decisions on different aggregates that arrive together into one JetStream atomic batch, each with its own checks, synced once; needs nats-server 2.12 or later (ROADMAP_GROUP_COMMIT=1)")
	cfg.bootstrapToken = getenv("ROADMAP_BOOTSTRAP_TOKEN")
	bootstrapFile := env("ROADMAP_BOOTSTRAP_TOKEN_FILE", "")
	fs.StringVar(&bootstrapFile, "bootstrap-token-file", bootstrapFile, "file holding the secret of an admin token named bootstrap, recorded on start unless it already is, readable by its owner only; or give the secret in ROADMAP_BOOTSTRAP_TOKEN. Without either, the first start of a ledger with no token makes one and prints it once (ROADMAP_BOOTSTRAP_TOKEN_FILE)")
	fs.Func("bootstrap-token", "removed: it showed the secret in the process list", func(string) error {
		return errors.New("it showed the secret to anyone who lists processes; give the secret in ROADMAP_BOOTSTRAP_TOKEN or in a file named by --bootstrap-token-file")
	})
	fs.StringVar(&cfg.approvals, "approvals", env("ROADMAP_APPROVALS", "major"), "which decisions need an approver: major (any decision that puts an item into now or takes it out) or off (ROADMAP_APPROVALS)")
	fs.StringVar(&cfg.logFormat, "log-format", env("ROADMAP_LOG_FORMAT", "text"), "how log lines are written: text (key=value) or json (ROADMAP_LOG_FORMAT)")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", env("ROADMAP_METRICS_ADDR", ""), "serve GET /metrics on this HOST:PORT instead of the API's address (ROADMAP_METRICS_ADDR)")
	registerTLS(fs, &cfg, env)
	fs.BoolVar(&cfg.webhooksAllowPrivate, "webhooks-allow-private", allowPrivate, "let webhooks reach loopback, private and link-local addresses, for receivers on the same host or network (ROADMAP_WEBHOOKS_ALLOW_PRIVATE=true)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on shutdown")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if bootstrapFile != "" {
		if cfg.bootstrapToken != "" {
			return cfg, errors.New("give the bootstrap secret once: ROADMAP_BOOTSTRAP_TOKEN or --bootstrap-token-file, not both")
		}
		if cfg.bootstrapToken, err = readSecretFile(bootstrapFile); err != nil {
			return cfg, fmt.Errorf("--bootstrap-token-file: %w", err)
		}
	}
	if cfg.approvals != string(roadmap.ApprovalsMajor) && cfg.approvals != string(roadmap.ApprovalsOff) {
		return cfg, fmt.Errorf("--approvals (ROADMAP_APPROVALS) must be major or off, got %q", cfg.approvals)
	}
	if cfg.replicas < 1 || cfg.replicas > 5 {
		return cfg, fmt.Errorf("--replicas (ROADMAP_REPLICAS) must be 1 to 5, got %d", cfg.replicas)
	}
	if err := checkAddr(cfg.addr); err != nil {
		return cfg, err
	}
	if err := checkOps(cfg); err != nil {
		return cfg, err
	}
	if cfg.shutdownTimeout <= 0 {
		return cfg, fmt.Errorf("--shutdown-timeout must be longer than 0, got %v", cfg.shutdownTimeout)
	}
	if cfg.natsURL == "" && strings.TrimSpace(cfg.data) == "" {
		return cfg, errors.New("--data (ROADMAP_DATA) must name the data directory of the embedded JetStream, got nothing")
	}
	if cfg.natsURL == "" && cfg.replicas != 1 {
		return cfg, errors.New("--replicas needs --nats-url: the embedded server is a single node")
	}
	return cfg, nil
}

// checkAddr checks that addr is an address serve can listen on, HOST:PORT
// with a port from 0 to 65535 (0: one the system picks), before anything is
// opened: a typo is refused at once, not after the log is replayed.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err == nil {
		if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
			err = fmt.Errorf("the port %q is not a number from 0 to 65535", port)
		}
	}
	if err != nil {
		return fmt.Errorf("--addr (ROADMAP_ADDR) must be HOST:PORT, such as 127.0.0.1:8080, got %q: %w", addr, err)
	}
	return nil
}

// readSecretFile reads a secret from the file at path: its one line,
// without surrounding spaces. A file that others than its owner may read
// is refused, as ssh refuses such a key.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s may be read by others than its owner (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" || strings.ContainsAny(secret, "\r\n") {
		return "", fmt.Errorf("%s must hold the secret alone, on one line", path)
	}
	return secret, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stderr)
	if err != nil {
		return err
	}
	// The first token is printed from the goroutine that records it.
	stdout = &lockedWriter{w: stdout}
	if cfg.natsURL != "" && cfg.signingKey == "" {
		// Every process on the cluster must sign with the same key, and a
		// data directory is not where an external cluster keeps the ledger.
		return errors.New("--nats-url needs --signing-key FILE: the key that signs checkpoints, the same for every process on the cluster (see docs/operations.md)")
	}
	logger := newLogger(cfg.logFormat, stderr)
	// The certificate is read before the log is opened: a wrong file is
	// refused at once.
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	// app.Open makes the data directory; a file in its place is named here.
	if fi, err := os.Stat(cfg.data); err == nil && !fi.IsDir() {
		return fmt.Errorf("--data (ROADMAP_DATA) %s is a file; name a directory", cfg.data)
	}
	if cfg.unsafeNoFsync {
		logger.Warn("running with --unsafe-no-fsync: acknowledged decisions can be lost in a power cut")
	}
	a, err := app.Open(ctx, app.Config{
		DataDir: cfg.data, SigningKeyFile: cfg.signingKey, NatsURL: cfg.natsURL, Replicas: cfg.replicas,
		SystemURL: cfg.systemURL, UnsafeNoFsync: cfg.unsafeNoFsync, GroupCommit: cfg.groupCommit, Logger: logger,
		BootstrapToken: cfg.bootstrapToken, Approvals: roadmap.ApprovalPolicy(cfg.approvals), MetricsApart: cfg.metricsAddr != "",
		NatsCredsFile: cfg.natsCreds, NatsRootCAFile: cfg.natsTLSCA,
		WebhooksAllowPrivate: cfg.webhooksAllowPrivate,
		OnFirstToken: func(secret string) {
			fmt.Fprintf(stdout, "roadmap: made the first admin token, named bootstrap. It is shown this once; keep it safe:\n\n    %s\n\n", secret)
		},
	})
	if err != nil {
		return err
	}
	defer a.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("--addr (ROADMAP_ADDR): %w", err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// Event streams never go idle: end them when shutting down, or the
	// shutdown would wait for their clients to hang up.
	srv.RegisterOnShutdown(a.CloseStreams)
	where := "embedded JetStream in " + cfg.data
	if cfg.natsURL != "" {
		where = fmt.Sprintf("NATS at %s, %d replica(s)", redactURLs(cfg.natsURL), cfg.replicas)
	}
	fmt.Fprintf(stdout, "roadmap: listening on %s://%s (%s)\n", scheme, ln.Addr(), where)

	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	if cfg.metricsAddr != "" {
		msrv, err := serveMetrics(ctx, cfg.metricsAddr, tlsConfig, a.Metrics, stdout, served)
		if err != nil {
			srv.Close()
			return err
		}
		defer msrv.Close()
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	fmt.Fprintln(stdout, "roadmap: stopped")
	return nil
}

// lockedWriter lets several goroutines write to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
