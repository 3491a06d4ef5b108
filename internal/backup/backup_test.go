package backup_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/backup"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

var actor = ledger.Request{Actor: "operator@example.com"}

// rawLog is the ledger's raw log, as GET /v1/events streams it.
func rawLog(t *testing.T, a *app.App) []byte {
	t.Helper()
	var buf []byte
	bodies := apptest.StoredBodies(t, a)
	for seq := int64(1); seq <= int64(len(bodies)); seq++ {
		buf = eventlog.AppendRawLine(buf, uint64(seq), bodies[seq])
	}
	return buf
}

// written returns a backup of a ledger with objectives, a checkpoint and
// objectives after it, and the ledger.
func written(t *testing.T) ([]byte, *app.App) {
	t.Helper()
	a, ctx := apptest.Open(t, app.Config{})
	for i := range 5 {
		if _, err := a.Ledger.DefineObjective(ctx, actor, roadmap.DefineObjective{Title: fmt.Sprintf("Objective %d", i), KPI: "k", Target: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := a.Ledger.SignCheckpoint(ctx, actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Ledger.DefineObjective(ctx, actor, roadmap.DefineObjective{Title: "After the checkpoint", KPI: "k", Target: "t"}); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	h := backup.Header{Origin: a.Origin, VerifierKey: a.VerifierKey, Checkpoint: res.Answer.Note}
	var seen []int64
	last, err := backup.Write(&file, h, bytes.NewReader(rawLog(t, a)), func(seq int64) { seen = append(seen, seq) })
	if err != nil {
		t.Fatal(err)
	}
	if head := a.Current.Sequence(); uint64(last) != head || len(seen) != int(last) {
		t.Fatalf("wrote to %d with %d progress calls; want the head %d", last, len(seen), head)
	}
	return file.Bytes(), a
}

// TestRestoreStoresTheSameBytesAtTheSameSequences writes a backup of a
// ledger, restores it, and reads the new stream itself: every event's
// stored bytes are the original's, at its sequence.
func TestRestoreStoresTheSameBytesAtTheSameSequences(t *testing.T) {
	data, a := written(t)
	file := filepath.Join(t.TempDir(), "ledger.backup")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "restored")
	got, err := backup.Restore(context.Background(), file, dir, a.VerifierKey)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	want := apptest.StoredBodies(t, a)
	if got.Events != int64(len(want)) || got.Checkpoint.Size >= got.Events {
		t.Fatalf("restored %d events with a checkpoint of %d; want %d, the checkpoint before the last", got.Events, got.Checkpoint.Size, len(want))
	}
	// The restored directory is a ledger of its own, with the same log.
	b, _ := apptest.Open(t, app.Config{DataDir: dir, SigningKeyFile: ""})
	restored := apptest.StoredBodies(t, b)
	if len(restored) != len(want) {
		t.Fatalf("the restored stream holds %d events, want %d", len(restored), len(want))
	}
	for seq, body := range want {
		if !bytes.Equal(restored[seq], body) {
			t.Errorf("sequence %d: restored\n%s\nwant\n%s", seq, restored[seq], body)
		}
	}

	// Into a directory that now holds a ledger: refused.
	if _, err := backup.Restore(context.Background(), file, dir, a.VerifierKey); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("a restore into a ledger's directory: %v, want a refusal", err)
	}
}

// TestCheckRefusesABackupThatDoesNotVerify damages a backup in the ways a
// disk, a transfer or a hand could, and checks each is refused, naming
// why.
func TestCheckRefusesABackupThatDoesNotVerify(t *testing.T) {
	data, a := written(t)
	lines := bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	lines[len(lines)-1] = append(lines[len(lines)-1], '\n')
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name string
		file []byte
		says string
	}{
		{"an empty file", nil, "no first line"},
		{"another format", join([]byte(`{"format":"tar"}`+"\n"), join(lines[1:]...)), "roadmap-backup"},
		{"a newer version", bytes.Replace(data, []byte(`"version":1`), []byte(`"version":2`), 1), "version 2"},
		{"an event dropped", join(lines[0], join(lines[1:3]...), join(lines[4:]...)), "missing"},
		{"two events swapped", join(lines[0], lines[2], lines[1], join(lines[3:]...)), "sequence 1: missing"},
		{"an event changed", bytes.Replace(data, []byte("Objective 2"), []byte("Objective 9"), 1), "do not verify"},
		{"no end line", join(lines[:len(lines)-1]...), "no end line"},
		{"an end line that lies", join(join(lines[:len(lines)-1]...), []byte(`{"end":99}`+"\n")), "says 99"},
		{"cut inside a line", data[:len(data)-3], "cut short"},
		{"a line after the end", join(data, lines[1]), "after its end line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backup.Check(bytes.NewReader(tc.file), a.VerifierKey, nil)
			var failure *verify.Failure
			if err == nil || (!errors.Is(err, backup.ErrInvalid) && !errors.As(err, &failure)) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("check: %v; want a refusal saying %q", err, tc.says)
			}
		})
	}
	if _, err := backup.Check(bytes.NewReader(data), a.VerifierKey, nil); err != nil {
		t.Errorf("the backup itself: %v", err)
	}
}
