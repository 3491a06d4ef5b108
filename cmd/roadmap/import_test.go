package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// importAdmin is the secret of the import tests' bootstrap admin token.
const importAdmin = "7KV36PnRcPA-t_tgHevLxOkfeu-Dh3z5OVUh2SsC"

// importLedger starts a real ledger behind a real HTTP server on 127.0.0.1.
func importLedger(t *testing.T) (*app.App, string) {
	t.Helper()
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), BootstrapToken: importAdmin})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(spectest.Handler(t, a.Handler))
	t.Cleanup(func() { srv.Close(); a.Close() })
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, srv.URL
}

// runImportCommand runs roadmap import with args, the token given by
// ROADMAP_TOKEN, and returns its stdout and stderr.
func runImportCommand(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	env := func(name string) string {
		if name == "ROADMAP_TOKEN" {
			return importAdmin
		}
		return ""
	}
	err := run(ctx, append([]string{"import"}, args...), env, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func appLast(t *testing.T, a *app.App) uint64 {
	t.Helper()
	seq, err := a.Log.LastSequence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func TestImportCommandDryRunThenImport(t *testing.T) {
	a, url := importLedger(t)
	file := filepath.Join(t.TempDir(), "backlog.csv")
	if err := os.WriteFile(file, []byte("title,horizon,external_id\nGuided setup,next,CRM-1\nTemplates,,CRM-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := appLast(t, a)
	out, _, err := runImportCommand(t, file, "--server", url, "--dry-run")
	if err != nil || !strings.HasPrefix(out, "dry run (nothing recorded) of "+file+": 2 created, 0 updated, 0 unchanged (import ") {
		t.Fatalf("dry run: %v: %q", err, out)
	}
	if got := appLast(t, a); got != before {
		t.Fatalf("the dry run appended %d events", got-before)
	}
	// The flags may come before the file too.
	out, _, err = runImportCommand(t, "--server", url, file)
	if err != nil || !strings.HasPrefix(out, "imported "+file+": 2 created, 0 updated, 0 unchanged") {
		t.Fatalf("import: %v: %q", err, out)
	}
	if got := appLast(t, a); got != before+3 {
		t.Errorf("the import appended %d events, want 3", got-before)
	}
	out, _, err = runImportCommand(t, file, "--server", url)
	if err != nil || !strings.Contains(out, "0 created, 0 updated, 2 unchanged") {
		t.Errorf("importing again: %v: %q", err, out)
	}
}

func TestImportCommandListsEveryBadRowAndFails(t *testing.T) {
	a, url := importLedger(t)
	file := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(file, []byte("title,horizon\nFine,next\n,later\nSoon,soon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := appLast(t, a)
	_, stderr, err := runImportCommand(t, file, "--server", url)
	if err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("err %v, want the 422 refusal", err)
	}
	for _, want := range []string{
		file + `: line 3, column "title": is required and must not be blank`,
		file + `: line 4, column "horizon": must be now, next or later`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if got := appLast(t, a); got != before {
		t.Errorf("a refused import appended %d events", got-before)
	}

	// What the file and the server say reaches the terminal escaped.
	hostile := filepath.Join(t.TempDir(), "hostile.csv")
	if err := os.WriteFile(hostile, []byte("title,\x1b[2Jcolour\u202e\nx,y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runImportCommand(t, hostile, "--server", url)
	if err == nil || strings.ContainsAny(stderr+err.Error(), "\x1b\u202e") || !strings.Contains(stderr, `\x1b[2jcolour\u202e`) {
		t.Errorf("err %v, stderr %q: want the column named with its control characters escaped", err, stderr)
	}
}

func TestImportCommandReadsAJiraExport(t *testing.T) {
	_, url := importLedger(t)
	out, _, err := runImportCommand(t, "../../api/testdata/jira-export.csv", "--server", url, "--format", "jira")
	if err != nil || !strings.Contains(out, ": 7 created, 0 updated, 0 unchanged") {
		t.Fatalf("Jira import: %v: %q", err, out)
	}
	if _, _, err := runImportCommand(t, "x.csv", "--server", url, "--format", "trello"); err == nil {
		t.Error("an unknown --format was accepted")
	}
}
