package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeEndToEnd runs the program the way main does, on a temp data
// directory and a free port, makes a decision through it, stops it with the
// context (as SIGTERM does), starts it again and finds the decision there.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := func(name string) string {
		if name == "ROADMAP_DATA" {
			return dir
		}
		return ""
	}

	base, stop := startServe(t, env)
	res, err := http.Post(base+"/v1/items", "application/json", strings.NewReader(`{"title":"Dark mode","kind":"idea"}`))
	if err != nil {
		t.Fatal(err)
	}
	var item struct{ ID, Status string }
	if err := json.NewDecoder(res.Body).Decode(&item); err != nil || res.StatusCode != 201 {
		t.Fatalf("propose: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	stop()

	base, stop = startServe(t, env)
	defer stop()
	res, err = http.Get(base + "/v1/items/" + item.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("item after restart: status %d, want 200", res.StatusCode)
	}
	res, err = http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("readyz: %d, want 200", res.StatusCode)
	}
}

// startServe runs "roadmap serve" on 127.0.0.1:0 and returns its base URL
// and a function that stops it and checks it stopped cleanly.
func startServe(t *testing.T, getenv func(string) string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	base := ""
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: listening on "); ok {
			base, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not say where it listens: %v", <-done)
	}
	go io.Copy(io.Discard, out)
	stopped := false
	return base, func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v, want nil after a shutdown", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop within 30s")
		}
	}
}

func TestCommandLine(t *testing.T) {
	none := func(string) string { return "" }
	cases := []struct {
		name string
		args []string
		want string // part of the error; "" for none
	}{
		{"no command shows the usage", nil, flag.ErrHelp.Error()},
		{"an unknown command is refused", []string{"launch"}, `unknown command "launch"`},
		{"replicas need an external cluster", []string{"serve", "--replicas", "3"}, "--replicas needs --nats-url"},
		{"replicas beyond five are refused", []string{"serve", "--nats-url", "nats://127.0.0.1:4222", "--replicas", "7"}, "1 to 5"},
		{"stray arguments are refused", []string{"serve", "now"}, "no arguments"},
		{"help is not an error", []string{"help"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, none, io.Discard, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("err %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if err := run(context.Background(), nil, none, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("no args: %v, want flag.ErrHelp", err)
	}
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	env := map[string]string{"ROADMAP_DATA": "/srv/ledger", "ROADMAP_ADDR": "127.0.0.1:9999", "ROADMAP_NATS_URL": "nats://127.0.0.1:4222", "ROADMAP_REPLICAS": "3"}
	cfg, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.data != "/srv/ledger" || cfg.addr != "127.0.0.1:9999" || cfg.natsURL != "nats://127.0.0.1:4222" || cfg.replicas != 3 {
		t.Errorf("config from env %+v", cfg)
	}
	cfg, err = parseServe([]string{"--data", "/tmp/other", "--nats-url", ""}, func(k string) string { return env[k] }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--replicas needs --nats-url") {
		t.Errorf("flags over env with replicas 3 and no url: %+v, %v", cfg, err)
	}
	cfg, err = parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || cfg.data != "./data" || cfg.addr != "127.0.0.1:8080" || cfg.replicas != 1 {
		t.Errorf("defaults %+v, %v", cfg, err)
	}
}
