package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// TestServeEndToEnd runs the program the way main does, on a temp data
// directory and a free port. The first start of the empty ledger prints an
// admin token once; a decision is made with it; the program is stopped with
// the context (as SIGTERM does), started again, and the decision is there,
// with no second token printed.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := func(name string) string {
		if name == "ROADMAP_DATA" {
			return dir
		}
		return ""
	}

	base, out, stop := startServe(t, env)
	secret := firstToken(t, out)
	if res := send(t, "POST", base+"/v1/items", "", `{"title":"Dark mode","kind":"idea"}`); res.StatusCode != 401 {
		t.Errorf("propose without a token: %d, want 401", res.StatusCode)
	}
	res := send(t, "POST", base+"/v1/items", secret, `{"title":"Dark mode","kind":"idea"}`)
	var item struct{ ID, Status string }
	if err := json.NewDecoder(res.Body).Decode(&item); err != nil || res.StatusCode != 201 {
		t.Fatalf("propose: %d %v", res.StatusCode, err)
	}
	stop()

	base, out, stop = startServe(t, env)
	defer stop()
	res = send(t, "GET", base+"/v1/items/"+item.ID, secret, "")
	if res.StatusCode != 200 {
		t.Fatalf("item after restart: status %d, want 200", res.StatusCode)
	}
	var got struct{ Title string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || got.Title != "Dark mode" {
		t.Errorf("item after restart: %+v %v", got, err)
	}
	res = send(t, "GET", base+"/readyz", "", "")
	if res.StatusCode != 200 {
		t.Errorf("readyz: %d, want 200", res.StatusCode)
	}
	if strings.Contains(out(), "rlt_") || strings.Contains(out(), "made the first admin token") {
		t.Errorf("the second start printed a token:\n%s", out())
	}
}

// TestServeWithABootstrapToken starts serve with ROADMAP_BOOTSTRAP_TOKEN and
// with --bootstrap-token-file: the secret is an admin's token at once, and
// nothing is printed.
func TestServeWithABootstrapToken(t *testing.T) {
	const secret = "vVHMLMQpAqPdFT4gsKE7OZUYoqhesKUDgrD520xj"
	file := filepath.Join(t.TempDir(), "bootstrap.secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"ROADMAP_BOOTSTRAP_TOKEN", secret, nil},
		{"--bootstrap-token-file", "", []string{"--bootstrap-token-file", file}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := func(name string) string {
				switch name {
				case "ROADMAP_DATA":
					return dir
				case "ROADMAP_BOOTSTRAP_TOKEN":
					return tc.env
				}
				return ""
			}
			base, out, stop := startServe(t, env, tc.args...)
			defer stop()
			res := send(t, "POST", base+"/v1/tokens", secret, `{"name":"pm@example.com","role":"editor"}`)
			if res.StatusCode != 201 {
				t.Fatalf("make a token with the bootstrap secret: %d, want 201", res.StatusCode)
			}
			res = send(t, "GET", base+"/v1/roadmap", "not-the-bootstrap-secret-0123456789", "")
			if res.StatusCode != 401 {
				t.Errorf("another secret: %d, want 401", res.StatusCode)
			}
			if strings.Contains(out(), "rlt_") || strings.Contains(out(), secret) {
				t.Errorf("serve printed a token:\n%s", out())
			}
		})
	}
}

// firstToken waits for serve to print the first admin token and returns
// its secret.
func firstToken(t *testing.T, out func() string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		text := out()
		if _, rest, ok := strings.Cut(text, "roadmap: made the first admin token, named bootstrap. It is shown this once; keep it safe:\n\n    "); ok {
			if secret, _, ok := strings.Cut(rest, "\n\n"); ok {
				if !strings.HasPrefix(secret, "rlt_") || strings.ContainsAny(secret, " \t") {
					t.Fatalf("printed token %q, want one rlt_ secret", secret)
				}
				return secret
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no first token within 20s:\n%s", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send makes one request with a bearer secret (none when empty) and
// returns the answer, its body read into memory.
func send(t *testing.T, method, url, secret, body string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	// The answers of the ledger serve runs are checked against the spec.
	client := &http.Client{Transport: spectest.Transport(t, http.DefaultTransport)}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body = io.NopCloser(bytes.NewReader(data))
	return res
}

// startServe runs "roadmap serve" on 127.0.0.1:0 with extra flags and
// returns its base URL, a function that returns what it has printed so
// far, and a function that stops it and checks it stopped cleanly.
func startServe(t *testing.T, getenv func(string) string, flags ...string) (string, func() string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, flags...), getenv, w, io.Discard)
		w.Close()
	}()
	var mu sync.Mutex
	var printed strings.Builder
	lines := bufio.NewScanner(out)
	base := ""
	for lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: listening on "); ok {
			base, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not say where it listens: %v", <-done)
	}
	go func() {
		for lines.Scan() {
			mu.Lock()
			printed.WriteString(lines.Text() + "\n")
			mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return printed.String()
	}
	stopped := false
	return base, output, func() {
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

// TestTheBootstrapSecretStaysOutOfTheProcessList checks that the secret
// cannot be given as an argument, which anyone listing processes reads, and
// that a secret file others may read is refused.
func TestTheBootstrapSecretStaysOutOfTheProcessList(t *testing.T) {
	none := func(string) string { return "" }
	_, err := parseServe([]string{"--bootstrap-token", "secret-0123456789-secret-0123456789"}, none, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "ROADMAP_BOOTSTRAP_TOKEN") || !strings.Contains(err.Error(), "--bootstrap-token-file") {
		t.Errorf("--bootstrap-token SECRET: %v; want a refusal naming the environment variable and the file flag", err)
	}
	dir := t.TempDir()
	open := filepath.Join(dir, "open.secret")
	if err := os.WriteFile(open, []byte("secret-0123456789-secret-0123456789\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseServe([]string{"--bootstrap-token-file", open}, none, io.Discard); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a secret file others may read: %v; want a refusal", err)
	}
	both := func(k string) string {
		if k == "ROADMAP_BOOTSTRAP_TOKEN" {
			return "secret-0123456789-secret-0123456789"
		}
		return ""
	}
	if err := os.Chmod(open, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseServe([]string{"--bootstrap-token-file", open}, both, io.Discard); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("a secret in the environment and a file: %v; want a refusal", err)
	}
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	env := map[string]string{"ROADMAP_DATA": "/srv/ledger", "ROADMAP_ADDR": "127.0.0.1:9999", "ROADMAP_NATS_URL": "nats://127.0.0.1:4222", "ROADMAP_REPLICAS": "3",
		"ROADMAP_BOOTSTRAP_TOKEN": "env-bootstrap-secret-0123456789abcdef"}
	cfg, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.data != "/srv/ledger" || cfg.addr != "127.0.0.1:9999" || cfg.natsURL != "nats://127.0.0.1:4222" || cfg.replicas != 3 ||
		cfg.bootstrapToken != "env-bootstrap-secret-0123456789abcdef" {
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
