package snapshot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
)

const admin = "Zq8vW2nR5tLx9cPb3mKd7hFj4sGy6aEe1uNo0iTw"

func thisMonth() string { return monthAfter(0) }
func nextMonth() string { return monthAfter(1) }

func monthAfter(months int) string {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// logBuffer collects a ledger's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ledger is a ledger served on 127.0.0.1 from a data directory.
type ledger struct {
	*app.App
	URL  string
	logs *logBuffer
	stop func()
}

// start opens the ledger in dir, which writes a snapshot only on Close,
// serves it, and waits until it answers.
func start(t *testing.T, dir string) *ledger { return startEvery(t, dir, time.Hour) }

// startEvery is start with a snapshot written every interval too.
func startEvery(t *testing.T, dir string, every time.Duration) *ledger {
	t.Helper()
	return open(t, app.Config{
		DataDir: dir, BootstrapToken: admin, Approvals: roadmap.ApprovalsMajor, KeyframeEvery: 4,
		SnapshotEvery: every,
	})
}

// open opens the ledger cfg says, logging to a buffer, serves it, and
// waits until it answers.
func open(t *testing.T, cfg app.Config) *ledger {
	t.Helper()
	logs := &logBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open the ledger: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	var once sync.Once
	l := &ledger{App: a, URL: srv.URL, logs: logs, stop: func() {
		once.Do(func() {
			srv.Close()
			if err := a.Close(); err != nil {
				t.Errorf("close the ledger: %v", err)
			}
		})
	}}
	t.Cleanup(l.stop)
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatalf("the ledger is not ready: %v", err)
	}
	return l
}

func (l *ledger) last(t *testing.T) uint64 {
	t.Helper()
	seq, err := l.Log.LastSequence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// copyDir copies a stopped ledger's data directory, owner-only as the
// ledger keeps it.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatalf("copy the data directory: %v", err)
	}
	return to
}

var client = &http.Client{Timeout: 30 * time.Second}

// built is a ledger built once through the API, stopped, with the snapshot
// its Close wrote, and its answers to every read.
type built struct {
	dir      string
	scenario apptest.Scenario
	answers  map[string]string
	sequence uint64
}

func build(t *testing.T) built {
	t.Helper()
	dir := t.TempDir()
	l := start(t, dir)
	if l.Resumed != 0 {
		t.Fatalf("a new ledger resumed at sequence %d", l.Resumed)
	}
	s := apptest.BuildScenario(t, client, l.URL, admin, thisMonth(), nextMonth())
	b := built{dir: dir, scenario: s, answers: readEverything(t, l, s), sequence: l.last(t)}
	l.stop()
	if _, err := os.Stat(filepath.Join(dir, snapshot.File)); err != nil {
		t.Fatalf("no snapshot after a clean shutdown: %v", err)
	}
	return b
}

func TestASnapshotAnswersAsTheWholeReplayDoes(t *testing.T) {
	b := build(t)
	path := filepath.Join(b.dir, snapshot.File)
	older, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	l := start(t, b.dir)
	if l.Resumed != b.sequence {
		t.Fatalf("resumed at sequence %d, want %d (the snapshot's); log:\n%s", l.Resumed, b.sequence, l.logs)
	}
	apptest.SameAnswers(t, "loaded from the snapshot", b.answers, readEverything(t, l, b.scenario))
	// More decisions, then a stop: the snapshot moves on with them.
	l.defineObjectives(t, 3)
	now := readEverything(t, l, b.scenario)
	last := l.last(t)
	l.stop()

	// The older snapshot: only the events after it are replayed.
	if err := os.WriteFile(path, older, 0o600); err != nil {
		t.Fatal(err)
	}
	// A snapshot cut short by a kill, under its temporary name, is removed.
	leftover := filepath.Join(b.dir, "."+snapshot.File+".tmp-123")
	if err := os.WriteFile(leftover, older[:100], 0o600); err != nil {
		t.Fatal(err)
	}
	l = start(t, b.dir)
	if _, err := os.Lstat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a half-written snapshot is left: %v", err)
	}
	if l.Resumed != b.sequence || l.Runner.Applied() != last {
		t.Fatalf("resumed at %d and applied %d, want %d and %d", l.Resumed, l.Runner.Applied(), b.sequence, last)
	}
	apptest.SameAnswers(t, "loaded from an older snapshot, the rest replayed", now, readEverything(t, l, b.scenario))
	l.stop()

	// No snapshot: the whole log, the same answers.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	l = start(t, b.dir)
	if l.Resumed != 0 {
		t.Fatalf("resumed at %d without a snapshot", l.Resumed)
	}
	apptest.SameAnswers(t, "replayed from the first event", now, readEverything(t, l, b.scenario))
}

// readEverything answers every read route for s.
func readEverything(t *testing.T, l *ledger, s apptest.Scenario) map[string]string {
	t.Helper()
	return apptest.ReadEverything(t, client, l.URL, admin, s)
}

// defineObjectives records n more objectives.
func (l *ledger) defineObjectives(t *testing.T, n int) {
	t.Helper()
	for range n {
		req, _ := http.NewRequest("POST", l.URL+"/v1/objectives", strings.NewReader(`{"title":"Later objective","kpi":"k","target":"t"}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		if res, body, err := apptest.Do(t, req); err != nil || res.StatusCode != 201 {
			t.Fatalf("define an objective: %v %s", err, body)
		}
	}
}

func TestAnUnusableSnapshotIsIgnoredAndTheWholeLogReplayed(t *testing.T) {
	b := build(t)
	good, err := os.ReadFile(filepath.Join(b.dir, snapshot.File))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(change func(*snapshot.Parts)) []byte {
		p := snapshot.Split(good)
		change(&p)
		return snapshot.Join(p)
	}
	// Other ledgers: a shorter one, and a longer one with other events.
	shorter := t.TempDir()
	start(t, shorter).stop()
	longer := t.TempDir()
	l := start(t, longer)
	apptest.BuildScenario(t, client, l.URL, admin, thisMonth(), nextMonth())
	l.defineObjectives(t, 3)
	l.stop()

	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	for _, tc := range []struct {
		name   string
		into   string // the data directory to copy, b.dir when empty
		file   []byte // the snapshot's bytes; none when nil
		link   bool   // the snapshot is a link to a good one
		reason string
	}{
		{name: "missing", reason: "no snapshot"},
		{name: "cut short", file: good[:len(good)-100], reason: "checksum does not match"},
		{name: "cut to nothing", file: []byte{}, reason: "not a snapshot file"},
		{name: "a bit flipped", file: flipped, reason: "checksum does not match"},
		{name: "of an older format", file: edit(func(p *snapshot.Parts) { p.Format = snapshot.Format - 1 }), reason: fmt.Sprintf("format %d, not %d", snapshot.Format-1, snapshot.Format)},
		{name: "of another stream", file: edit(func(p *snapshot.Parts) { p.Stream = "OTHER" }), reason: "built from stream OTHER"},
		{name: "ahead of the log", into: shorter, file: good, reason: "but the log ends at"},
		{name: "of another log", into: longer, file: good, reason: "the log's event at sequence 1 is not the one"},
		{name: "whose last event hashes otherwise", file: edit(func(p *snapshot.Parts) {
			p.Tree = bytes.Clone(p.Tree)
			// The last stored hashes of the tree include the last leaf's.
			for i := len(p.Tree) - 32*8; i < len(p.Tree); i++ {
				p.Tree[i] ^= 1
			}
		}), reason: "is not the one it was built from"},
		{name: "whose tree is of another size", file: edit(func(p *snapshot.Parts) { p.Tree = p.Tree[:len(p.Tree)-32] }), reason: "stores"},
		{name: "whose state is cut short", file: edit(func(p *snapshot.Parts) { p.Current = p.Current[:len(p.Current)/2] }), reason: "not an image of the read models"},
		{name: "whose requests are cut short", file: edit(func(p *snapshot.Parts) { p.Requests = p.Requests[:len(p.Requests)-1] }), reason: "not an image of the read models"},
		{name: "at a sequence behind its state", file: edit(func(p *snapshot.Parts) { p.Sequence-- }), reason: "stores"},
		{name: "a link", link: true, reason: "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := cmpOr(tc.into, b.dir)
			dir := copyDir(t, from)
			path := filepath.Join(dir, snapshot.File)
			plant(t, path, good, tc.link, tc.file)
			l := start(t, dir)
			if l.Resumed != 0 {
				t.Fatalf("resumed at sequence %d from an unusable snapshot", l.Resumed)
			}
			if logs := l.logs.String(); !strings.Contains(logs, "replaying the whole log") || !strings.Contains(logs, tc.reason) {
				t.Errorf("the log does not say it replays the whole log because %q:\n%s", tc.reason, logs)
			}
			if from == b.dir {
				apptest.SameAnswers(t, "after ignoring the snapshot", b.answers, readEverything(t, l, b.scenario))
			}
			// Its clean shutdown replaces the snapshot with a good one.
			l.stop()
			if l := start(t, dir); l.Resumed == 0 {
				t.Errorf("the snapshot written on the shutdown after it was not loaded:\n%s", l.logs)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestTheSnapshotIsWrittenWhileTheLedgerRuns(t *testing.T) {
	dir := t.TempDir()
	l := startEvery(t, dir, 20*time.Millisecond)
	path := filepath.Join(dir, snapshot.File)
	for round := range 3 {
		l.defineObjectives(t, 5)
		want := l.last(t)
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Another reader of the file the ledger keeps replacing: it
			// finds the old one or the new one, never half of one.
			r, err := snapshot.Load(context.Background(), path, l.Log, 4)
			if err != nil && !errors.Is(err, snapshot.ErrMissing) {
				t.Fatalf("round %d: %v", round, err)
			}
			if err == nil && r.Sequence == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no snapshot at sequence %d within 10s (%v, at %d)", round, want, err, r.Sequence)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// plant puts in path's place what a case of an unusable file asks for: a
// link to a copy of good elsewhere, the bytes file, or (file nil) nothing.
func plant(t *testing.T, path string, good []byte, link bool, file []byte) {
	t.Helper()
	os.Remove(path)
	switch {
	case link:
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, good, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	case file != nil:
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
