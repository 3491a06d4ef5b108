package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// exportTo runs roadmap export against the shared ledger into a new
// directory and returns it.
func exportTo(t *testing.T, l *verifyLedger, flags ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"export", "--server", l.URL, "--token", l.Token, "--out", dir}, flags...)
	if err := run(ctx, args, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	return dir
}

// copyBundle copies a bundle into a new directory, to tamper with.
func copyBundle(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	for _, name := range []string{bundleManifest, bundleCheckpoint, bundleEvents, bundleDecisions} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// editFile rewrites one file of a bundle.
func editFile(t *testing.T, dir, name string, fn func([]byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fn(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wantBundleFailure runs verify --bundle and checks that it fails, saying
// each of want.
func wantBundleFailure(t *testing.T, dir, keyFile string, want ...string) {
	t.Helper()
	err, _, _ := runVerifyOn(t, "--bundle", dir, "--public-key", keyFile)
	if err == nil {
		t.Fatalf("verify --bundle passed a bad bundle; want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("verify --bundle: %v; want it to say %q", err, w)
		}
	}
}

// resign signs the checkpoint of a signed note again with another key of
// the same name, and returns the new note and the other key's file.
func resign(t *testing.T, signed []byte) ([]byte, string) {
	t.Helper()
	text, _, _ := bytes.Cut(signed, []byte("\n\n"))
	cp, err := proof.ParseCheckpoint(append(text, '\n'))
	if err != nil {
		t.Fatal(err)
	}
	keyFile, signer := otherKey(t, cp.Origin)
	out, err := signer.Sign(cp)
	if err != nil {
		t.Fatal(err)
	}
	return out, keyFile
}

func TestExportThenVerifyBundle(t *testing.T) {
	l := sharedVerifyLedger(t)
	full := exportTo(t, l)
	err, stdout, stderr := runVerifyOn(t, "--bundle", full, "--public-key", l.KeyFile)
	if err != nil {
		t.Fatalf("verify --bundle of an untouched export: %v\n%s", err, stderr)
	}
	// The shared ledger holds its tokens (setup), 9 decisions, a checkpoint
	// of size setup+9 at setup+10, 12 more decisions, and a checkpoint of
	// size setup+22. The numbers below count from the end of the setup.
	n := l.Setup
	if want := fmt.Sprintf("events 1 to %d", n+22); !strings.Contains(stdout, want) {
		t.Fatalf("verify --bundle says %q; want %q", stdout, want)
	}
	if _, err := os.Stat(filepath.Join(full, bundleDecisions)); err != nil {
		t.Fatal(err)
	}

	// A range from the time of event 11: events 11 to 22, from a prefix.
	var since time.Time
	b, err := os.ReadFile(filepath.Join(full, bundleEvents))
	if err != nil {
		t.Fatal(err)
	}
	_ = verify.ReadLines(bytes.NewReader(b), func(seq int64, body []byte) error {
		if seq == n+11 {
			e, err := eventlog.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			since = e.Time
		}
		return nil
	})
	part := exportTo(t, l, "--since", since.Format(time.RFC3339Nano))
	err, stdout, stderr = runVerifyOn(t, "--bundle", part, "--public-key", l.KeyFile)
	if err != nil {
		t.Fatalf("verify --bundle of a range: %v\n%s", err, stderr)
	}
	if want := fmt.Sprintf("events %d to %d", n+11, n+22); !strings.Contains(stdout, want) {
		t.Fatalf("verify --bundle says %q; want %q", stdout, want)
	}
	// Until the time of event 11: the range ends at the checkpoint of size 9.
	early := exportTo(t, l, "--until", since.Format(time.RFC3339Nano))
	if err, stdout, _ := runVerifyOn(t, "--bundle", early, "--public-key", l.KeyFile); err != nil || !strings.Contains(stdout, fmt.Sprintf("events 1 to %d", n+9)) {
		t.Fatalf("verify --bundle until event 11: %v: %s", err, stdout)
	}

	for _, dir := range []string{full, part} {
		// One byte of an event edited.
		bad := copyBundle(t, dir)
		editFile(t, bad, bundleEvents, func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"title":"`))
			b[i+len(`"title":"`)] ^= 0x01
			return b
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleEvents, "sequence ")

		// A byte outside the events' bodies: only the file's hash can tell.
		bad = copyBundle(t, dir)
		editFile(t, bad, bundleEvents, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`{"seq":`), []byte(`{"seq": `), 1)
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleEvents, "manifest")

		// A line dropped from the middle.
		bad = copyBundle(t, dir)
		editFile(t, bad, bundleEvents, func(b []byte) []byte {
			lines := bytes.SplitAfter(b, []byte("\n"))
			return bytes.Join(append(lines[:3:3], lines[4:]...), nil)
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleEvents, "missing")

		// The tail cut off: the root and the manifest's size both tell.
		bad = copyBundle(t, dir)
		editFile(t, bad, bundleEvents, func(b []byte) []byte {
			lines := bytes.SplitAfter(b, []byte("\n"))
			return bytes.Join(lines[:len(lines)-3], nil)
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleEvents, "tail was cut off")

		// The manifest edited (a space added): its signature fails.
		bad = copyBundle(t, dir)
		editFile(t, bad, bundleManifest, func(b []byte) []byte {
			return bytes.Replace(b, []byte("checkpoint checkpoint.txt"), []byte("checkpoint  checkpoint.txt"), 1)
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleManifest, "signature")

		// The checkpoint re-signed with another key of the same name.
		bad = copyBundle(t, dir)
		cp, err := os.ReadFile(filepath.Join(dir, bundleCheckpoint))
		if err != nil {
			t.Fatal(err)
		}
		forged, otherKeyFile := resign(t, cp)
		if err := os.WriteFile(filepath.Join(bad, bundleCheckpoint), forged, 0o644); err != nil {
			t.Fatal(err)
		}
		wantBundleFailure(t, bad, l.KeyFile, bundleCheckpoint)
		// ... and the manifest edited to name the forged checkpoint.
		editFile(t, bad, bundleManifest, func(b []byte) []byte {
			lines := strings.Split(string(b), "\n")
			lines[3] = checkpointLine(forged)
			return []byte(strings.Join(lines, "\n"))
		})
		wantBundleFailure(t, bad, l.KeyFile, bundleManifest, "pinned key")

		// The untouched bundle, checked with the wrong pinned key.
		wantBundleFailure(t, dir, otherKeyFile, bundleManifest, "pinned key")
	}
}

// checkpointLine is the manifest line of a checkpoint note.
func checkpointLine(note []byte) string {
	return fmt.Sprintf("checkpoint checkpoint.txt %d %x", len(note), sha256.Sum256(note))
}

func TestVerifyBundleFlags(t *testing.T) {
	if err, _, _ := runVerifyOn(t, "--bundle", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--public-key") {
		t.Fatalf("verify --bundle without a pinned key: %v", err)
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"export", "--server", "http://127.0.0.1:1"}, func(string) string { return "" }, &bytes.Buffer{}, &stderr); err == nil {
		t.Fatal("export without --out passed")
	}
}

// TestExportNeverWritesThroughAPlantedLink plants, in the directory an
// export is told to write to, a symbolic link named like a bundle file and
// pointing at a file of the exporter's: export refuses the non-empty
// directory, and with --force replaces the link with its own file, leaving
// the link's target untouched. Every file it writes is the owner's only.
func TestExportNeverWritesThroughAPlantedLink(t *testing.T) {
	l := sharedVerifyLedger(t)
	victim := filepath.Join(t.TempDir(), "precious.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{bundleManifest, bundleEvents, bundleDecisions} {
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	export := func(flags ...string) (error, string) {
		var stdout, stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := append([]string{"export", "--server", l.URL, "--token", l.Token, "--out", dir}, flags...)
		err := run(ctx, args, func(string) string { return "" }, &stdout, &stderr)
		return err, stderr.String()
	}

	if err, _ := export(); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("export into a directory holding files: %v; want a refusal naming --force", err)
	}
	if err, stderr := export("--force"); err != nil {
		t.Fatalf("export --force: %v\n%s", err, stderr)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Fatalf("the link's target was overwritten: %q", b)
	}
	for _, name := range []string{bundleManifest, bundleCheckpoint, bundleEvents, bundleDecisions} {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v; want a regular file readable by its owner only", name, fi.Mode())
		}
	}
	if err, stdout, stderr := runVerifyOn(t, "--bundle", dir, "--public-key", l.KeyFile); err != nil {
		t.Fatalf("verify --bundle of the forced export: %v\n%s%s", err, stdout, stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("the bundle directory holds %d entries; want the 4 files and no temporary one", len(entries))
	}
}
