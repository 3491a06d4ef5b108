package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// publicLedger is a ledger with two items published on a public view and a
// signed checkpoint covering both, served on 127.0.0.1.
type publicLedger struct {
	URL     string
	KeyFile string
}

func openPublicLedger(t *testing.T) publicLedger {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	a, err := app.Open(ctx, app.Config{DataDir: filepath.Join(dir, "data"), BootstrapToken: verifyAdmin})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	post := func(path string, body any) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+verifyAdmin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			t.Fatalf("POST %s: %s: %s", path, res.Status, data)
		}
		var out map[string]any
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	o := post("/v1/objectives", map[string]any{"title": "Faster onboarding", "kpi": "minutes", "target": "-30%"})["id"].(string)
	for i, summary := range []string{"Guided setup", "Single sign-on for teams"} {
		id := post("/v1/items", map[string]any{"title": "Internal " + summary, "objective_ids": []string{o}})["id"].(string)
		post("/v1/items/"+id+"/prioritise", map[string]any{"horizon": []string{"now", "next"}[i], "rationale": "secret reasons"})
		post("/v1/items/"+id+"/publish", map[string]any{"summary": summary, "rationale": "announced"})
	}
	post("/v1/views", map[string]any{"name": "Roadmap", "slug": "customers", "audience": "public", "objective_ids": []string{o}, "fields": []string{"summary", "horizon", "objectives"}})
	post("/v1/checkpoints", map[string]any{})
	keyFile := filepath.Join(dir, "pinned.vkey")
	if err := os.WriteFile(keyFile, []byte(a.VerifierKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return publicLedger{URL: srv.URL, KeyFile: keyFile}
}

func TestVerifyPublicChecksEveryEntryAgainstTheCheckpoint(t *testing.T) {
	l := openPublicLedger(t)
	for _, page := range []string{"/public/customers", "/public/customers.json"} {
		err, out, errOut := runVerifyOn(t, "--public", l.URL+page, "--public-key", l.KeyFile)
		if err != nil {
			t.Fatalf("verify --public %s: %v\nstderr: %s", page, err, errOut)
		}
		if !strings.HasPrefix(out, "verified: public view customers at sequence ") || !strings.Contains(out, ": 2 entries, each published by an event in checkpoint") {
			t.Errorf("summary %q", out)
		}
	}
	if err, _, _ := runVerifyOn(t, "--public", l.URL+"/public/customers"); err == nil || !strings.Contains(err.Error(), "--public-key") {
		t.Errorf("verify --public without a pinned key: %v, want it refused", err)
	}
}

// TestVerifyPublicRefusesATamperedPage serves the ledger's public page
// through a proxy that changes it on its way, one way per case: each is
// refused.
func TestVerifyPublicRefusesATamperedPage(t *testing.T) {
	l := openPublicLedger(t)
	otherKey := filepath.Join(t.TempDir(), "other.vkey")
	_, vkey, err := proof.LoadOrCreateKey(t.TempDir(), "other-ledger")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherKey, []byte(vkey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(page map[string]any)
		key    string
		want   string
	}{
		{"a summary reworded", func(p map[string]any) { entry(p, 0)["summary"] = "Guided setup, free forever" }, "", "changed after it left the ledger"},
		{"an entry moved to now", func(p map[string]any) { entry(p, 1)["horizon"] = "now" }, "", "changed after it left the ledger"},
		{"an entry added", func(p map[string]any) {
			p["entries"] = append(p["entries"].([]any), entry(p, 0))
		}, "", "changed after it left the ledger"},
		{"an entry dropped", func(p map[string]any) { p["entries"] = p["entries"].([]any)[:1] }, "", "changed after it left the ledger"},
		{"another leaf hash", func(p map[string]any) {
			entry(p, 0)["leaf_hash"] = entry(p, 1)["leaf_hash"]
		}, "", "changed after it left the ledger"},
		{"the statement dropped", func(p map[string]any) { p["statement"] = nil }, "", "names no signed checkpoint"},
		{"another key pinned", func(map[string]any) {}, otherKey, "not signed by the pinned key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res, err := http.Get(l.URL + r.URL.RequestURI())
				if err != nil {
					http.Error(w, err.Error(), 502)
					return
				}
				defer res.Body.Close()
				body, _ := io.ReadAll(res.Body)
				if strings.HasSuffix(r.URL.Path, ".json") {
					var page map[string]any
					if err := json.Unmarshal(body, &page); err == nil {
						tc.change(page)
						body, _ = json.Marshal(page)
					}
				}
				w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
				w.WriteHeader(res.StatusCode)
				w.Write(body)
			}))
			defer proxy.Close()
			key := tc.key
			if key == "" {
				key = l.KeyFile
			}
			err, out, _ := runVerifyOn(t, "--public", proxy.URL+"/public/customers", "--public-key", key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verify: %v (output %q), want it refused saying %q", err, out, tc.want)
			}
			if tc.key == "" && !errors.Is(err, verify.ErrPublicPage) {
				t.Errorf("verify: %v, want an error of ErrPublicPage", err)
			}
		})
	}
}

func entry(page map[string]any, i int) map[string]any {
	return page["entries"].([]any)[i].(map[string]any)
}
