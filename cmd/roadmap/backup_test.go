package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

const backupAdmin = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"

// mustSend sends a request and fails the test unless the answer has status
// want; it returns the answer decoded as a JSON object.
func mustSend(t *testing.T, want int, method, url, secret, body string) map[string]any {
	t.Helper()
	res := send(t, method, url, secret, body)
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.StatusCode, want, data)
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}

// readAll GETs path and returns its status and body.
func readAll(t *testing.T, url, secret string) (int, string) {
	t.Helper()
	res := send(t, "GET", url, secret, "")
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// TestBackupAndRestoreAnswerTheSame backs a running ledger up, restores the
// backup into another directory, serves it and compares the answers of the
// read routes with the original's at the backup's sequence; a backup cut
// short, changed by one byte or checked with another key is refused, and so
// is a directory that holds anything.
func TestBackupAndRestoreAnswerTheSame(t *testing.T) {
	ctx := context.Background()
	original := t.TempDir()
	env := func(dir string) func(string) string {
		return func(name string) string {
			switch name {
			case "ROADMAP_DATA":
				return dir
			case "ROADMAP_BOOTSTRAP_TOKEN":
				return backupAdmin
			case "ROADMAP_APPROVALS":
				return "major"
			}
			return ""
		}
	}
	base, _, stop := startServe(t, env(original))
	defer stop()
	auditor := mustSend(t, 201, "POST", base+"/v1/tokens", backupAdmin, `{"name":"backup-robot","role":"auditor"}`)["secret"].(string)
	objective := mustSend(t, 201, "POST", base+"/v1/objectives", backupAdmin, `{"title":"Grow","kpi":"signups","target":"+10%"}`)["id"].(string)
	var items []string
	for i := range 12 {
		id := mustSend(t, 201, "POST", base+"/v1/items", backupAdmin, fmt.Sprintf(`{"title":"Item %d","kind":"initiative","objective_ids":[%q]}`, i, objective))["id"].(string)
		items = append(items, id)
	}
	mustSend(t, 200, "POST", base+"/v1/items/"+items[0]+"/prioritise", backupAdmin, `{"horizon":"next","rationale":"asked by sales"}`)
	change := mustSend(t, 202, "POST", base+"/v1/items/"+items[1]+"/prioritise", backupAdmin, `{"horizon":"now","rationale":"users ask"}`)
	now := time.Now()
	review := mustSend(t, 201, "POST", base+"/v1/reviews", backupAdmin, fmt.Sprintf(`{"period":%q}`, time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")))["id"].(string)
	mustSend(t, 201, "POST", base+"/v1/checkpoints", backupAdmin, `{}`)
	// Decisions after the checkpoint are in the backup too, checked by
	// their hashes and chains.
	mustSend(t, 200, "POST", base+"/v1/items/"+items[2]+"/prioritise", backupAdmin, `{"horizon":"later","rationale":"someday"}`)

	file := filepath.Join(t.TempDir(), "ledger.backup")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"backup", "--server", base, "--token", auditor, "--out", file}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("backup: %v\n%s", err, stderr.String())
	}
	t.Log(strings.TrimSpace(stdout.String()))
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file: %v, mode %v; want it readable by its owner only", err, fi.Mode().Perm())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(original, proof.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, bytes.TrimSpace(key)) || bytes.Contains(data, []byte("PRIVATE+KEY")) {
		t.Fatal("the backup holds the signing key")
	}

	routes := []string{
		"/v1/roadmap", "/v1/items", "/v1/items/" + items[0], "/v1/items/" + items[1] + "/history", "/v1/items/" + items[0] + "/why",
		"/v1/objectives", "/v1/objectives/" + objective, "/v1/objectives/" + objective + "/history",
		"/v1/reviews", "/v1/reviews/" + review, "/v1/changes", "/v1/changes/" + change["id"].(string),
		"/v1/checkpoints", "/v1/checkpoints/latest", "/v1/checkpoints/public-key", "/v1/audit", "/v1/events",
		"/v1/products/web/capacity",
	}
	want := map[string]string{}
	for _, route := range routes {
		status, body := readAll(t, base+route, backupAdmin)
		if status != 200 {
			t.Fatalf("GET %s on the original: %d %s", route, status, body)
		}
		want[route] = fmt.Sprintf("%d %s", status, body)
	}
	// The original goes on after the backup; the restored copy stays at
	// the backup's sequence.
	mustSend(t, 201, "POST", base+"/v1/items", backupAdmin, `{"title":"After the backup","kind":"idea"}`)

	// Refusals first: nothing is written for any of them.
	busy := t.TempDir()
	if err := os.WriteFile(filepath.Join(busy, "keep"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"restore", file, "--data", busy}, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("restore into a directory that holds a file: %v, want a refusal", err)
	}
	event := bytes.Index(data, []byte(`"title":"Item 3"`))
	for _, bad := range []struct {
		name    string
		content []byte
		args    []string
		says    string
	}{
		{"cut short", data[:len(data)-40], nil, "cut short"},
		{"without its end line", data[:bytes.LastIndex(data[:len(data)-1], []byte("\n"))+1], nil, "no end line"},
		{"one byte changed", bytes.Replace(data, []byte(`"title":"Item 3"`), []byte(`"title":"Item 8"`), 1), nil, "sequence"},
		{"checked with another key", data, []string{"--public-key", otherVerifierKey(t)}, "signature"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			if event < 0 {
				t.Fatal("no event to change in the backup")
			}
			f := filepath.Join(t.TempDir(), "bad.backup")
			if err := os.WriteFile(f, bad.content, 0o600); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "restored")
			err := run(ctx, append([]string{"restore", f, "--data", dir}, bad.args...), nil, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), bad.says) {
				t.Errorf("restore: %v, want a refusal saying %q", err, bad.says)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("a refused restore made %s", dir)
			}
		})
	}

	restored := filepath.Join(t.TempDir(), "restored")
	pinned := filepath.Join(t.TempDir(), "verifier.key")
	if err := os.WriteFile(pinned, []byte(strings.SplitN(want["/v1/checkpoints/public-key"], " ", 2)[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run(ctx, []string{"restore", file, "--data", restored, "--public-key", pinned}, nil, &stdout, io.Discard); err != nil {
		t.Fatalf("restore: %v", err)
	}
	t.Log(strings.TrimSpace(stdout.String()))
	if err := os.WriteFile(filepath.Join(restored, proof.KeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	copyBase, _, stopCopy := startServe(t, env(restored))
	defer stopCopy()
	for _, route := range routes {
		status, body := readAll(t, copyBase+route, backupAdmin)
		if got := fmt.Sprintf("%d %s", status, body); got != want[route] {
			t.Errorf("GET %s on the restored ledger:\n%s\nwant, as the original answered at the backup:\n%s", route, got, want[route])
		}
	}
	// Tokens made before the backup still work on the copy.
	if status, _ := readAll(t, copyBase+"/v1/events?limit=1", auditor); status != 200 {
		t.Errorf("the auditor's token on the restored ledger: %d, want 200", status)
	}
}

// otherVerifierKey writes the verifier key of a signing key made for the same log
// name, but another key, and returns its file.
func otherVerifierKey(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, vkey, err := proof.LoadOrCreateKey(dir, "roadmap-ledger/ROADMAP")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "other.vkey")
	if err := os.WriteFile(f, []byte(vkey), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}
