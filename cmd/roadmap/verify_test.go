package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// verifyLedger is a real ledger with a few decisions and two signed
// checkpoints, shared by the verify tests (opening a ledger is the slow part).
type verifyLedger struct {
	URL       string
	App       *app.App
	KeyFile   string // the pinned verifier key
	Earlier   string // the first checkpoint's signed note, kept
	Latest    proof.Checkpoint
	LatestRaw []byte // the latest checkpoint's JSON answer
	// Token is the secret of an auditor's token, which verify sends.
	Token string
	// Setup is how many events come before the decisions: the tokens.
	Setup int64
}

// verifyAdmin is the secret of the bootstrap admin token of the ledgers the
// verify and export tests open.
const verifyAdmin = "_aLMx9lRdxPtheWfs_zMt1Bqwnyx0_uhAiY21zdL"

var (
	verifyOnce   sync.Once
	verifyShared *verifyLedger
	verifyErr    error
	verifyStop   func()
	// sharedSpecCheck gathers the mismatches with the spec of the shared
	// ledger's traffic.
	sharedSpecCheck spectest.Collector
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		// The test binary run as the program itself, by runMain.
		main()
		os.Exit(0)
	}
	code := m.Run()
	if verifyStop != nil {
		verifyStop()
	}
	// The shared ledger's traffic is checked against the spec across tests.
	for _, r := range sharedSpecCheck.Reports() {
		fmt.Fprintln(os.Stderr, "the shared verify ledger:", r)
		code = 1
	}
	os.Exit(code)
}

func sharedVerifyLedger(t *testing.T) *verifyLedger {
	t.Helper()
	verifyOnce.Do(func() { verifyShared, verifyErr = openVerifyLedger() })
	if verifyErr != nil {
		t.Fatalf("verify ledger: %v", verifyErr)
	}
	return verifyShared
}

func openVerifyLedger() (*verifyLedger, error) {
	dir, err := os.MkdirTemp("", "verify-ledger-")
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DataDir: filepath.Join(dir, "data"), BootstrapToken: verifyAdmin})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv := httptest.NewServer(spectest.Handler(&sharedSpecCheck, a.Handler))
	verifyStop = func() {
		srv.Close()
		a.Close()
		os.RemoveAll(dir)
	}
	if err := a.WaitReady(ctx); err != nil {
		return nil, err
	}
	l := &verifyLedger{URL: srv.URL, App: a}
	post := func(path string, body any) (map[string]any, error) {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest("POST", srv.URL+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+verifyAdmin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			return nil, errors.New("POST " + path + ": " + res.Status + ": " + string(data))
		}
		var out map[string]any
		err = json.Unmarshal(data, &out)
		return out, err
	}
	decide := func(n int) error {
		for i := range n {
			o, err := post("/v1/objectives", map[string]any{"title": "Objective " + strconv.Itoa(i), "kpi": "kpi", "target": "+10%"})
			if err != nil {
				return err
			}
			it, err := post("/v1/items", map[string]any{"title": "Idea " + strconv.Itoa(i), "kind": "idea", "objective_ids": []string{o["id"].(string)}})
			if err != nil {
				return err
			}
			if _, err := post("/v1/items/"+it["id"].(string)+"/prioritise", map[string]any{"horizon": "now", "rationale": "because " + strconv.Itoa(i)}); err != nil {
				return err
			}
		}
		return nil
	}
	// verify reads the log, its proofs and checkpoints: an auditor may.
	auditor, err := post("/v1/tokens", map[string]any{"name": "auditor@example.com", "role": "auditor"})
	if err != nil {
		return nil, err
	}
	l.Token = auditor["secret"].(string)
	if l.Setup, err = lastSequence(ctx, a); err != nil {
		return nil, err
	}
	if err := decide(3); err != nil {
		return nil, err
	}
	first, err := post("/v1/checkpoints", nil)
	if err != nil {
		return nil, err
	}
	l.Earlier = first["note"].(string)
	if err := decide(4); err != nil {
		return nil, err
	}
	if _, err := post("/v1/checkpoints", nil); err != nil {
		return nil, err
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/checkpoints/latest", nil)
	req.Header.Set("Authorization", "Bearer "+l.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, errors.New("GET /v1/checkpoints/latest: " + res.Status)
	}
	l.LatestRaw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	var latest struct{ Note string }
	if err := json.Unmarshal(l.LatestRaw, &latest); err != nil {
		return nil, err
	}
	if l.Latest, err = proof.OpenCheckpoint([]byte(latest.Note), a.VerifierKey); err != nil {
		return nil, err
	}
	l.KeyFile = filepath.Join(dir, "pinned.vkey")
	if err := os.WriteFile(l.KeyFile, []byte(a.VerifierKey+"\n"), 0o600); err != nil {
		return nil, err
	}
	return l, nil
}

// lastSequence is the last sequence of a's log.
func lastSequence(ctx context.Context, a *app.App) (int64, error) {
	seq, err := a.Log.LastSequence(ctx)
	return int64(seq), err
}

// runVerifyOn runs verify with flags args and returns its error and
// output.
func runVerifyOn(t *testing.T, args ...string) (error, string, string) {
	t.Helper()
	return runVerifyEnv(t, nil, args...)
}

// runVerifyEnv runs verify with flags args and the environment env.
func runVerifyEnv(t *testing.T, env map[string]string, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, append([]string{"verify"}, args...), func(k string) string { return env[k] }, &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

func TestVerifyUntouchedLedgerPasses(t *testing.T) {
	l := sharedVerifyLedger(t)
	dir := t.TempDir()
	kept := filepath.Join(dir, "earlier.note")
	if err := os.WriteFile(kept, []byte(l.Earlier), 0o600); err != nil {
		t.Fatal(err)
	}
	keptJSON := filepath.Join(dir, "latest.json")
	if err := os.WriteFile(keptJSON, l.LatestRaw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"pinned key", []string{"--server", l.URL, "--public-key", l.KeyFile, "--token", l.Token}},
		{"since an earlier checkpoint", []string{"--server", l.URL, "--public-key", l.KeyFile, "--since-checkpoint", kept, "--token", l.Token}},
		{"since the same checkpoint, kept as JSON", []string{"--server", l.URL, "--public-key", l.KeyFile, "--since-checkpoint", keptJSON, "--token", l.Token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, out, errOut := runVerifyOn(t, tc.args...)
			if err != nil {
				t.Fatalf("verify: %v\nstderr: %s", err, errOut)
			}
			want := "verified: "
			if !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 || !strings.Contains(out, "size "+strconv.FormatInt(l.Latest.Size, 10)) {
				t.Errorf("summary %q, want one line starting %q naming the checkpoint's size %d", out, want, l.Latest.Size)
			}
			if strings.Contains(errOut, "warning") {
				t.Errorf("a warning with the key pinned: %s", errOut)
			}
		})
	}
	t.Run("server's key, with a warning", func(t *testing.T) {
		err, _, errOut := runVerifyOn(t, "--server", l.URL, "--token", l.Token)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if !strings.Contains(errOut, "not pinned") {
			t.Errorf("stderr %q, want a warning that the key is not pinned", errOut)
		}
	})
}

func TestVerifySendsTheToken(t *testing.T) {
	l := sharedVerifyLedger(t)
	var mu sync.Mutex
	var seen []string
	target, _ := url.Parse(l.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"--token", nil, []string{"--token", l.Token}},
		{"ROADMAP_TOKEN", map[string]string{"ROADMAP_TOKEN": l.Token}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			if err, _, _ := runVerifyEnv(t, tc.env, append([]string{"--server", srv.URL, "--public-key", l.KeyFile}, tc.args...)...); err != nil {
				t.Fatalf("verify: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 {
				t.Fatal("no request")
			}
			for _, h := range seen {
				if h != "Bearer "+l.Token {
					t.Errorf("Authorization %q, want the auditor's token", h)
				}
			}
		})
	}
}

func TestVerifyWithoutAValidTokenIsRefused(t *testing.T) {
	l := sharedVerifyLedger(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no token", nil},
		{"a token the ledger does not know", []string{"--token", "rlt_not-a-token-of-this-ledger"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, out, _ := runVerifyOn(t, append([]string{"--server", l.URL, "--public-key", l.KeyFile}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("verify = %v, want the server's 401", err)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// otherKey writes the verifier key of another signing key of the same name
// and returns the file and a signer with it.
func otherKey(t *testing.T, origin string) (string, *proof.Signer) {
	t.Helper()
	dir := t.TempDir()
	skey, vkey, err := proof.LoadOrCreateKey(dir, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := proof.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "other.vkey")
	if err := os.WriteFile(file, []byte(vkey), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, s
}

// tamperingProxy serves the ledger at target through a proxy whose
// rewrite(path, body) changes the answers on their way.
func tamperingProxy(t *testing.T, target string, rewrite func(path string, body []byte) []byte) string {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(res *http.Response) error {
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		body = rewrite(res.Request.URL.Path, body)
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// rewriteEvents applies fn to each line of the raw log; fn returns the
// lines to send instead.
func rewriteEvents(fn func(seq int64, line []byte) [][]byte) func(string, []byte) []byte {
	return func(path string, body []byte) []byte {
		if path != "/v1/events" {
			return body
		}
		var out bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := append([]byte(nil), sc.Bytes()...)
			seq, _, err := eventlog.ParseRawLine(line)
			if err != nil {
				panic(err)
			}
			for _, l := range fn(seq, line) {
				out.Write(l)
				out.WriteByte('\n')
			}
		}
		return out.Bytes()
	}
}

func TestVerifyCatchesACheckpointOfAnotherKey(t *testing.T) {
	l := sharedVerifyLedger(t)
	otherFile, other := otherKey(t, l.Latest.Origin)

	t.Run("another key pinned", func(t *testing.T) {
		err, out, _ := runVerifyOn(t, "--server", l.URL, "--public-key", otherFile, "--token", l.Token)
		if err == nil || !errors.Is(err, proof.ErrUnknownKey) || !strings.Contains(err.Error(), "does not verify with the pinned key") {
			t.Fatalf("verify = %v, want the checkpoint refused for the pinned key", err)
		}
		if out != "" {
			t.Errorf("stdout %q, want nothing", out)
		}
	})

	t.Run("checkpoint re-signed in transit", func(t *testing.T) {
		forged, err := other.Sign(l.Latest)
		if err != nil {
			t.Fatal(err)
		}
		proxy := tamperingProxy(t, l.URL, func(path string, body []byte) []byte {
			if path != "/v1/checkpoints/latest" {
				return body
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				panic(err)
			}
			m["note"] = string(forged)
			b, _ := json.Marshal(m)
			return b
		})
		err, _, _ = runVerifyOn(t, "--server", proxy, "--public-key", l.KeyFile, "--token", l.Token)
		if err == nil || !errors.Is(err, proof.ErrUnknownKey) {
			t.Fatalf("verify = %v, want the re-signed checkpoint refused", err)
		}
	})

	t.Run("kept checkpoint of another key", func(t *testing.T) {
		c, err := proof.ParseCheckpoint([]byte(strings.SplitN(l.Earlier, "\n\n", 2)[0] + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		forged, err := other.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		kept := filepath.Join(t.TempDir(), "kept.note")
		if err := os.WriteFile(kept, forged, 0o600); err != nil {
			t.Fatal(err)
		}
		err, _, _ = runVerifyOn(t, "--server", l.URL, "--public-key", l.KeyFile, "--since-checkpoint", kept, "--token", l.Token)
		if err == nil || !errors.Is(err, proof.ErrUnknownKey) {
			t.Fatalf("verify = %v, want the kept checkpoint refused", err)
		}
	})
}

func TestVerifyCatchesTamperingInTransit(t *testing.T) {
	l := sharedVerifyLedger(t)
	size := l.Latest.Size
	if size < 10 {
		t.Fatalf("checkpoint of %d events, want at least 10", size)
	}
	for _, tc := range []struct {
		name    string
		fn      func(seq int64, line []byte) [][]byte
		wantSeq int64
		want    string
	}{
		{
			name: "an event's bytes changed",
			fn: func(seq int64, line []byte) [][]byte {
				if seq == 5 {
					line = bytes.Replace(line, []byte(`"time":"20`), []byte(`"time":"19`), 1)
				}
				return [][]byte{line}
			},
			wantSeq: 5, want: "sequence 5: event bytes do not verify",
		},
		{
			name: "an event dropped from the middle",
			fn: func(seq int64, line []byte) [][]byte {
				if seq == 6 {
					return nil
				}
				return [][]byte{line}
			},
			wantSeq: 6, want: "sequence 6: missing: got 7",
		},
		{
			name: "the tail cut off",
			fn: func(seq int64, line []byte) [][]byte {
				if seq > size-3 {
					return nil
				}
				return [][]byte{line}
			},
			wantSeq: size - 2, want: "the log ends at " + strconv.FormatInt(size-3, 10) + " but the checkpoint covers " + strconv.FormatInt(size, 10),
		},
		{
			name: "an event rewritten and its hash recomputed",
			fn: func(seq int64, line []byte) [][]byte {
				if seq != size {
					return [][]byte{line}
				}
				_, body, _ := eventlog.ParseRawLine(line)
				e, err := eventlog.Decode(body)
				if err != nil {
					panic(err)
				}
				e.Actor = "mallory@example.com"
				resealed, err := e.Seal(e.PrevHash)
				if err != nil {
					panic(err)
				}
				return [][]byte{[]byte(`{"seq":` + strconv.FormatInt(seq, 10) + `,"event":` + string(resealed) + `}`)}
			},
			wantSeq: size, want: "does not match",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := tamperingProxy(t, l.URL, rewriteEvents(tc.fn))
			err, out, _ := runVerifyOn(t, "--server", proxy, "--public-key", l.KeyFile, "--token", l.Token)
			var f *verify.Failure
			if !errors.As(err, &f) {
				t.Fatalf("verify = %v, want a failure at sequence %d", err, tc.wantSeq)
			}
			if f.Seq != tc.wantSeq || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verify = %q (sequence %d), want sequence %d and %q", err, f.Seq, tc.wantSeq, tc.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestVerifyWithoutACheckpoint(t *testing.T) {
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), BootstrapToken: verifyAdmin})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(spectest.Handler(t, a.Handler))
	t.Cleanup(func() { srv.Close(); a.Close() })
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	err, _, _ = runVerifyOn(t, "--server", srv.URL, "--token", verifyAdmin)
	if err == nil || !strings.Contains(err.Error(), "no signed checkpoint") {
		t.Fatalf("verify = %v, want: no checkpoint", err)
	}
}

func TestVerifyFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--server", "ftp://example.com"},
		{"--server", "http://example.com", "extra"},
	} {
		if err, _, _ := runVerifyOn(t, args...); err == nil {
			t.Errorf("verify %q: no error", args)
		}
	}
}

func TestVerifyProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, time.Nanosecond, 1000)
	time.Sleep(time.Millisecond)
	p.tick(512)
	p.done(1000)
	got := buf.String()
	for _, want := range []string{"at sequence 512 of 1000", "events/s", "left", "1000 events in"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress %q, want %q", got, want)
		}
	}
}
