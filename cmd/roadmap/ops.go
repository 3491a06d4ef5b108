package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkOps checks serve's operations flags: the log format and the
// metrics address.
func checkOps(cfg serveConfig) error {
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return fmt.Errorf("--log-format (ROADMAP_LOG_FORMAT) must be text or json, got %q", cfg.logFormat)
	}
	if cfg.metricsAddr != "" {
		_, port, err := net.SplitHostPort(cfg.metricsAddr)
		if err == nil {
			if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
				err = fmt.Errorf("the port %q is not a number from 0 to 65535", port)
			}
		}
		if err != nil {
			return fmt.Errorf("--metrics-addr (ROADMAP_METRICS_ADDR) must be HOST:PORT, such as 127.0.0.1:9090, got %q: %w", cfg.metricsAddr, err)
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert (ROADMAP_TLS_CERT) and --tls-key (ROADMAP_TLS_KEY) go together: give both, or neither")
	}
	if cfg.natsURL == "" && (cfg.natsCreds != "" || cfg.natsTLSCA != "") {
		return errors.New("--nats-creds and --nats-tls-ca need --nats-url: the embedded server takes no connection from outside")
	}
	return nil
}

// registerTLS defines serve's TLS flags: the HTTP port's certificate and
// key, and the NATS connection's credentials and authorities.
func registerTLS(fs *flag.FlagSet, cfg *serveConfig, env func(name, def string) string) {
	fs.StringVar(&cfg.tlsCert, "tls-cert", env("ROADMAP_TLS_CERT", ""), "PEM certificate (chain) to serve HTTPS with, with --tls-key (ROADMAP_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", env("ROADMAP_TLS_KEY", ""), "PEM private key of --tls-cert (ROADMAP_TLS_KEY)")
	fs.StringVar(&cfg.natsCreds, "nats-creds", env("ROADMAP_NATS_CREDS", ""), "NATS credentials file (user JWT and NKey seed) for --nats-url (ROADMAP_NATS_CREDS)")
	fs.StringVar(&cfg.natsTLSCA, "nats-tls-ca", env("ROADMAP_NATS_TLS_CA", ""), "PEM file of the authorities the NATS cluster's certificates are checked against (ROADMAP_NATS_TLS_CA)")
}

// loadTLS returns the HTTP port's TLS configuration, nil without
// --tls-cert; an error names the files when they cannot be read as a
// certificate and its key.
func loadTLS(cfg serveConfig) (*tls.Config, error) {
	if cfg.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", cfg.tlsCert, cfg.tlsKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// redactURLs returns the comma-separated NATS URLs in urls with their
// passwords masked, for a line that is printed.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		} else if err != nil {
			parts[i] = "(a URL that does not parse)"
		}
	}
	return strings.Join(parts, ",")
}

// newLogger returns serve's logger, writing to w in format (text or json,
// checked by checkOps) at info and above.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// serveMetrics serves metrics on addr (over TLS with tlsConfig, when not
// nil), apart from the API, until ctx ends
// or the server is closed; an error of its listener after start is sent to
// failed. It returns an error when addr cannot be listened on.
func serveMetrics(ctx context.Context, addr string, tlsConfig *tls.Config, metrics http.Handler, stdout io.Writer, failed chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr (ROADMAP_METRICS_ADDR): %w", err)
	}
	scheme := "http"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "https"
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	fmt.Fprintf(stdout, "roadmap: metrics on %s://%s/metrics\n", scheme, ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			failed <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return srv, nil
}
