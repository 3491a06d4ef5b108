package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runMainEnv, set to 1, makes the test binary run main itself (TestMain).
const runMainEnv = "ROADMAP_TEST_RUN_MAIN"

// runMain runs the program's main, as a process of its own, with args and
// only the environment env, and returns its exit code and what it printed.
// A program still running after 30 s is killed and the test fails.
func runMain(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append([]string{runMainEnv + "=1", "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("roadmap %s still ran after 30s; stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out.String(), errOut.String())
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run the program: %v", err)
	}
	return code, out.String(), errOut.String()
}

// TestServeRefusesBadFlagsAndEnvironment gives serve one bad value at a
// time, as a flag or as its environment variable, and checks that it
// refuses to start with a message naming the flag (or variable) and what is
// wrong with the value: before it listens, and, for a value it can judge by
// itself, before it touches the data directory.
func TestServeRefusesBadFlagsAndEnvironment(t *testing.T) {
	aFile := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(aFile, []byte("a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string // every part the message must have
		// touches is set when the value can only be judged by opening
		// the data directory, which serve then creates.
		touches bool
	}{
		{name: "an address without a port", args: []string{"--addr", "localhost"}, want: []string{"--addr", `"localhost"`, "HOST:PORT", "missing port"}},
		{name: "a port out of range", args: []string{"--addr", "127.0.0.1:65536"}, want: []string{"--addr", `"65536"`, "0 to 65535"}},
		{name: "a port by service name", args: []string{"--addr", "127.0.0.1:http"}, want: []string{"--addr", `"http"`, "0 to 65535"}},
		{name: "an empty address", args: []string{"--addr", ""}, want: []string{"--addr", "HOST:PORT"}},
		{name: "a bad ROADMAP_ADDR", env: map[string]string{"ROADMAP_ADDR": "127.0.0.1:-1"}, want: []string{"ROADMAP_ADDR", `"-1"`}},
		{name: "zero replicas", args: []string{"--replicas", "0"}, want: []string{"--replicas", "1 to 5", "got 0"}},
		{name: "negative replicas", args: []string{"--nats-url", "nats://127.0.0.1:4222", "--replicas", "-1"}, want: []string{"--replicas", "1 to 5", "got -1"}},
		{name: "six replicas", args: []string{"--nats-url", "nats://127.0.0.1:4222", "--replicas", "6"}, want: []string{"--replicas", "1 to 5", "got 6"}},
		{name: "replicas that are not a number", args: []string{"--replicas", "three"}, want: []string{`invalid value "three"`, "-replicas"}},
		{name: "a ROADMAP_REPLICAS that is not a number", env: map[string]string{"ROADMAP_REPLICAS": "three"}, want: []string{"ROADMAP_REPLICAS", "whole number", `"three"`}},
		{name: "a ROADMAP_REPLICAS out of range", env: map[string]string{"ROADMAP_REPLICAS": "9", "ROADMAP_NATS_URL": "nats://127.0.0.1:4222"}, want: []string{"ROADMAP_REPLICAS", "1 to 5", "got 9"}},
		{name: "an unknown approval policy", args: []string{"--approvals", "sometimes"}, want: []string{"--approvals", "major or off", `"sometimes"`}},
		{name: "an approval policy in capitals", args: []string{"--approvals", "MAJOR"}, want: []string{"--approvals", "major or off", `"MAJOR"`}},
		{name: "an unknown ROADMAP_APPROVALS", env: map[string]string{"ROADMAP_APPROVALS": "all"}, want: []string{"ROADMAP_APPROVALS", "major or off", `"all"`}},
		{name: "a ROADMAP_WEBHOOKS_ALLOW_PRIVATE that is not true or false", env: map[string]string{"ROADMAP_WEBHOOKS_ALLOW_PRIVATE": "yes"}, want: []string{"ROADMAP_WEBHOOKS_ALLOW_PRIVATE", "true or false", `"yes"`}},
		{name: "a negative shutdown timeout", args: []string{"--shutdown-timeout", "-5s"}, want: []string{"--shutdown-timeout", "longer than 0", "-5s"}},
		{name: "a zero shutdown timeout", args: []string{"--shutdown-timeout", "0s"}, want: []string{"--shutdown-timeout", "longer than 0"}},
		{name: "a shutdown timeout without a unit", args: []string{"--shutdown-timeout", "30"}, want: []string{`invalid value "30"`, "-shutdown-timeout"}},
		{name: "a ROADMAP_UNSAFE_NO_FSYNC that is neither 1 nor 0", env: map[string]string{"ROADMAP_UNSAFE_NO_FSYNC": "true"}, want: []string{"ROADMAP_UNSAFE_NO_FSYNC", "1 (on) or 0 (off)", `"true"`}},
		{name: "a ROADMAP_GROUP_COMMIT that is neither 1 nor 0", env: map[string]string{"ROADMAP_GROUP_COMMIT": "yes"}, want: []string{"ROADMAP_GROUP_COMMIT", "1 (on) or 0 (off)", `"yes"`}},
		{name: "an empty data directory", args: []string{"--data", ""}, want: []string{"--data", "got nothing"}},
		{name: "a data directory that is a file", args: []string{"--data", aFile}, want: []string{"--data", aFile, "is a file"}},
		{name: "a data directory under a file", args: []string{"--data", filepath.Join(aFile, "data")}, want: []string{"data directory", "not a directory"}},
		{name: "an unknown log format", args: []string{"--log-format", "logfmt"}, want: []string{"--log-format", "text or json", `"logfmt"`}},
		{name: "an unknown ROADMAP_LOG_FORMAT", env: map[string]string{"ROADMAP_LOG_FORMAT": "JSON"}, want: []string{"ROADMAP_LOG_FORMAT", "text or json", `"JSON"`}},
		{name: "a metrics address without a port", args: []string{"--metrics-addr", "localhost"}, want: []string{"--metrics-addr", `"localhost"`, "HOST:PORT"}},
		{name: "a bad ROADMAP_METRICS_ADDR", env: map[string]string{"ROADMAP_METRICS_ADDR": "127.0.0.1:99999"}, want: []string{"ROADMAP_METRICS_ADDR", `"99999"`}},
		{name: "a certificate without its key", args: []string{"--tls-cert", aFile}, want: []string{"--tls-cert", "--tls-key", "both, or neither"}},
		{name: "a ROADMAP_TLS_KEY without a certificate", env: map[string]string{"ROADMAP_TLS_KEY": aFile}, want: []string{"ROADMAP_TLS_CERT", "both, or neither"}},
		{name: "a certificate that is not one", args: []string{"--tls-cert", aFile, "--tls-key", aFile}, want: []string{"--tls-cert", aFile, "--tls-key"}},
		{name: "NATS credentials without --nats-url", args: []string{"--nats-creds", aFile}, want: []string{"--nats-creds", "need --nats-url"}},
		{name: "a NATS authority without --nats-url", env: map[string]string{"ROADMAP_NATS_TLS_CA": aFile}, want: []string{"--nats-tls-ca", "need --nats-url"}},
		{name: "an unknown flag", args: []string{"--adress", "127.0.0.1:8080"}, want: []string{"-adress", "not defined"}},
		{name: "an argument", args: []string{"now"}, want: []string{"no arguments", `"now"`}},
		{name: "a bootstrap secret on the command line", args: []string{"--bootstrap-token", "secret-0123456789-secret-0123456789"}, want: []string{"ROADMAP_BOOTSTRAP_TOKEN", "--bootstrap-token-file"}},
		{name: "a bootstrap secret too short", env: map[string]string{"ROADMAP_BOOTSTRAP_TOKEN": "short"}, touches: true, want: []string{"bootstrap"}},
		{name: "a signing key that is not there", args: []string{"--signing-key", "/nonexistent/signing.key"}, touches: true, want: []string{"signing key", "/nonexistent/signing.key", "no such file"}},
		{name: "an external cluster without a signing key", args: []string{"--nats-url", "nats://127.0.0.1:4222"}, want: []string{"--nats-url needs --signing-key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"ROADMAP_DATA": data}
			for k, v := range tc.env {
				env[k] = v
			}
			var stdout, stderr bytes.Buffer
			// A refusal is at once; a serve that started anyway is
			// stopped after 15 s and reported.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			err := run(ctx, append([]string{"serve"}, tc.args...), func(k string) string { return env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatalf("serve %q with %v started; want a refusal", tc.args, tc.env)
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("message %q does not say %q", err, part)
				}
			}
			if strings.Contains(stdout.String(), "listening on") {
				t.Errorf("serve listened before refusing:\n%s", stdout.String())
			}
			if _, statErr := os.Stat(data); !tc.touches && statErr == nil {
				t.Errorf("serve made the data directory before refusing a value it could judge by itself")
			}
			if fi, err := os.Stat(aFile); err != nil || fi.IsDir() {
				t.Errorf("the file given as a data directory changed: %v", err)
			}
		})
	}
}

// TestServeRefusesABusyAddress starts serve on an address another listener
// holds: it refuses, naming the flag and the address, and no token is
// printed as if the ledger had started.
func TestServeRefusesABusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := t.TempDir()
	var stdout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = run(ctx, []string{"serve", "--addr", ln.Addr().String(), "--data", data}, func(string) string { return "" }, &stdout, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--addr") || !strings.Contains(err.Error(), ln.Addr().String()) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("serve on a busy address: %v; want a refusal naming --addr, the address and that it is in use", err)
	}
	if strings.Contains(stdout.String(), "listening on") {
		t.Errorf("serve said it listens:\n%s", stdout.String())
	}
}

// TestMainExitsNonZeroOnABadValue runs the program as a process: a bad
// value is one line on stderr, "roadmap: " and the message, exit status 1,
// nothing on stdout.
func TestMainExitsNonZeroOnABadValue(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"serve", "--addr", "localhost"}, `roadmap: --addr (ROADMAP_ADDR) must be HOST:PORT, such as 127.0.0.1:8080, got "localhost"`},
		{[]string{"ROADMAP_REPLICAS=three"}, []string{"serve"}, `roadmap: ROADMAP_REPLICAS must be a whole number from 1 to 5, got "three"`},
		{nil, []string{"serve", "--shutdown-timeout", "-1s"}, "roadmap: --shutdown-timeout must be longer than 0, got -1s"},
	} {
		code, stdout, stderr := runMain(t, tc.env, tc.args...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v %v: exit %d, stdout %q, stderr %q; want exit 1, nothing on stdout and one line %q", tc.env, tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestServeGroupCommitIsOffUnlessAsked: group commit is off by default, and
// on with the flag or ROADMAP_GROUP_COMMIT=1, the flag winning.
func TestServeGroupCommitIsOffUnlessAsked(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{name: "neither flag nor environment", want: false},
		{name: "the flag", args: []string{"--group-commit"}, want: true},
		{name: "the environment", env: map[string]string{"ROADMAP_GROUP_COMMIT": "1"}, want: true},
		{name: "the flag turning the environment off", args: []string{"--group-commit=false"}, env: map[string]string{"ROADMAP_GROUP_COMMIT": "1"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseServe(tc.args, func(name string) string { return tc.env[name] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.groupCommit != tc.want {
				t.Errorf("group commit: %v, want %v", cfg.groupCommit, tc.want)
			}
		})
	}
}
