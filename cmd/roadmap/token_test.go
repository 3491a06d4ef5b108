package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recordingProxy serves the ledger at target and records the path and the
// Authorization header of every request.
type recordingProxy struct {
	URL  string
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct{ path, auth, accept string }

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &recordingProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, seenRequest{path: r.URL.Path, auth: r.Header.Get("Authorization"), accept: r.Header.Get("Accept")})
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *recordingProxy) requests() []seenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seenRequest(nil), p.seen...)
}

// runWithEnv runs the program with args and the environment env.
func runWithEnv(t *testing.T, env map[string]string, args ...string) (error, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, args, func(name string) string { return env[name] }, &stdout, &stderr)
	return err, stdout.String()
}

func TestExportSendsTheToken(t *testing.T) {
	l := sharedVerifyLedger(t)
	for _, tc := range []struct {
		name  string
		env   map[string]string
		flags []string
		want  string
	}{
		{"flag", nil, []string{"--token", l.Token}, "Bearer " + l.Token},
		{"environment", map[string]string{"ROADMAP_TOKEN": l.Token}, nil, "Bearer " + l.Token},
		{"the flag wins over the environment", map[string]string{"ROADMAP_TOKEN": "rlt_not-this-one"}, []string{"--token", l.Token}, "Bearer " + l.Token},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newRecordingProxy(t, l.URL)
			out := filepath.Join(t.TempDir(), "bundle")
			args := append([]string{"export", "--server", p.URL, "--out", out}, tc.flags...)
			if err, _ := runWithEnv(t, tc.env, args...); err != nil {
				t.Fatalf("export: %v", err)
			}
			paths := map[string]bool{}
			for _, r := range p.requests() {
				paths[r.path] = true
				if r.auth != tc.want {
					t.Errorf("GET %s: Authorization %q, want %q", r.path, r.auth, tc.want)
				}
			}
			for _, want := range []string{"/v1/export/manifest", "/v1/events", "/v1/audit"} {
				if !paths[want] {
					t.Errorf("export made no request to %s (made %v)", want, paths)
				}
			}
		})
	}
}

func authServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		problem := func(status int, title, detail string) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"type":"urn:roadmap-ledger:problem:auth","title":"` + title + `","status":0,"detail":"` + detail + `"}`))
		}
		switch r.Header.Get("Authorization") {
		case "":
			problem(http.StatusUnauthorized, "Unauthorized", "this request needs a bearer token")
		case "Bearer viewer":
			problem(http.StatusForbidden, "Forbidden", "the role viewer may not read "+r.URL.Path)
		default:
			problem(http.StatusUnauthorized, "Unauthorized", "unknown token")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVerifyAndExportNameAuthProblems(t *testing.T) {
	srv := authServer(t)
	keyFile, _ := otherKey(t, "roadmap-ledger/ROADMAP")
	for _, tc := range []struct {
		name  string
		token []string
		want  []string
	}{
		{"no token", nil, []string{"401", "none was given", "--token", "ROADMAP_TOKEN", "this request needs a bearer token"}},
		{"unknown token", []string{"--token", "nope"}, []string{"401", "does not accept the token", "unknown token"}},
		{"role not allowed", []string{"--token", "viewer"}, []string{"403", "role", "the role viewer may not read"}},
	} {
		for _, c := range []struct {
			name string
			cmd  []string
		}{
			{"verify, the server's key", []string{"verify", "--server", srv}},
			{"verify, a pinned key", []string{"verify", "--server", srv, "--public-key", keyFile}},
			{"export", []string{"export", "--server", srv, "--out", filepath.Join(t.TempDir(), "bundle")}},
		} {
			cmd := c.cmd
			t.Run(tc.name+"/"+c.name, func(t *testing.T) {
				err, out := runWithEnv(t, nil, append(cmd, tc.token...)...)
				if err == nil {
					t.Fatalf("%s passed against a server that refuses it", cmd[0])
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s: %v\nwant it to say %q", cmd[0], err, w)
					}
				}
				if out != "" {
					t.Errorf("stdout %q, want nothing", out)
				}
			})
		}
	}
}
