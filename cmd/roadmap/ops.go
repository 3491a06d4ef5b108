package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
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
	return nil
}

// newLogger returns serve's logger, writing to w in format (text or json,
// checked by checkOps) at info and above.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// serveMetrics serves metrics on addr, apart from the API, until ctx ends
// or the server is closed; an error of its listener after start is sent to
// failed. It returns an error when addr cannot be listened on.
func serveMetrics(ctx context.Context, addr string, metrics http.Handler, stdout io.Writer, failed chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr (ROADMAP_METRICS_ADDR): %w", err)
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
	fmt.Fprintf(stdout, "roadmap: metrics on http://%s/metrics\n", ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			failed <- fmt.Errorf("metrics: %w", err)
		}
	}()
	return srv, nil
}
