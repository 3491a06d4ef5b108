package snapshot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
	"github.com/roadmap-ledger/roadmap/projections"
)

// every is the keyframe interval of the tests' ledgers (start).
const every = 4

// replayed returns the state at every sequence of l's log, by folding the
// whole log once: what time travel must give.
func replayed(t *testing.T, l *ledger) map[uint64]*projections.State {
	t.Helper()
	out := map[uint64]*projections.State{}
	s := projections.NewState()
	err := l.Log.ReadRange(context.Background(), 1, l.last(t), func(rec eventlog.Record) error {
		ev, err := projections.Decode(rec)
		if err != nil {
			return err
		}
		s.Apply(ev)
		out[ev.Sequence] = s.Clone()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// at returns the state time travel gives at seq.
func at(t *testing.T, l *ledger, seq uint64) *projections.State {
	t.Helper()
	var got *projections.State
	if err := l.Current.At(context.Background(), seq, func(s *projections.State) error { got = s.Clone(); return nil }); err != nil {
		t.Fatalf("at sequence %d: %v", seq, err)
	}
	return got
}

// keyframeFile returns the file of the keyframe at seq in the data
// directory dir.
func keyframeFile(dir string, seq uint64) string {
	return filepath.Join(dir, snapshot.KeyframeDir, fmt.Sprintf("%020d.keyframe", seq))
}

func TestTimeTravelFromKeyframeFilesIsTheWholeReplay(t *testing.T) {
	b := build(t)
	seqs, err := snapshot.KeyframeSequences(filepath.Join(b.dir, snapshot.KeyframeDir))
	if err != nil {
		t.Fatal(err)
	}
	if want := int(b.sequence / every); len(seqs) != want {
		t.Fatalf("%d keyframe files after a clean shutdown, want %d: %v", len(seqs), want, seqs)
	}
	// Started from its snapshot, with two keyframes decoded at most: the
	// others are read from their files.
	l := startWith(t, b.dir, func(c *app.Config) { c.KeyframeCache = 2 })
	if l.Resumed != b.sequence {
		t.Fatalf("resumed at %d, want %d", l.Resumed, b.sequence)
	}
	want := replayed(t, l)
	// Right at, just before and just after every keyframe, going back and
	// forth so the cache keeps missing.
	for _, k := range seqs {
		for _, seq := range []uint64{k - 1, k, k + 1, b.sequence - k} {
			if seq == 0 || seq >= b.sequence {
				continue
			}
			if got := at(t, l, seq); !reflect.DeepEqual(got, want[seq]) {
				t.Errorf("at sequence %d, time travel from the keyframe files differs from the whole replay", seq)
			}
			if n := l.Keyframes.Cached(); n > 2 {
				t.Fatalf("%d keyframes decoded in memory, want at most 2", n)
			}
		}
	}
	if strings.Contains(l.logs.String(), "ignoring a keyframe") {
		t.Errorf("good keyframes were ignored:\n%s", l.logs)
	}
}

func TestAnUnusableKeyframeIsIgnoredAndWrittenAgain(t *testing.T) {
	b := build(t)
	// Another ledger, whose keyframes are of another log.
	other := t.TempDir()
	l := start(t, other)
	l.defineObjectives(t, 3*every)
	l.stop()

	const k = 2 * every // the keyframe spoilt
	good, err := os.ReadFile(keyframeFile(b.dir, k))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile(keyframeFile(other, k))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10
	// Of another stream, with a checksum that matches.
	otherStream := bytes.Replace(good[:len(good)-sha256.Size], []byte("ROADMAP"), []byte("ROADMAQ"), 1)
	sum := sha256.Sum256(otherStream)
	otherStream = append(otherStream, sum[:]...)
	for _, tc := range []struct {
		name   string
		file   []byte // the keyframe's bytes; none when nil
		link   bool   // a link to a good keyframe
		reason string // in the log; "" when nothing is said
	}{
		{name: "missing"},
		{name: "cut short", file: good[:len(good)-100], reason: "checksum does not match"},
		{name: "cut to nothing", file: []byte{}, reason: "cut short"},
		{name: "a bit flipped", file: flipped, reason: "checksum does not match"},
		{name: "of another stream", file: otherStream, reason: "not a keyframe of this log"},
		{name: "of another ledger", file: foreign, reason: "not a keyframe of this log"},
		{name: "a link", link: true, reason: "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, b.dir)
			path := keyframeFile(dir, k)
			plant(t, path, good, tc.link, tc.file)
			l := startWith(t, dir, func(c *app.Config) { c.KeyframeCache = 1 })
			want := replayed(t, l)
			for _, seq := range []uint64{k, k + 1, k + every - 1} {
				if got := at(t, l, seq); !reflect.DeepEqual(got, want[seq]) {
					t.Errorf("at sequence %d, with the keyframe at %d %s, another state", seq, k, tc.name)
				}
			}
			if tc.reason != "" && !strings.Contains(l.logs.String(), tc.reason) {
				t.Errorf("the log does not say the keyframe is ignored because %q:\n%s", tc.reason, l.logs)
			}
			// The travel that passed it wrote it again (Close waits for
			// the writer): a regular file, loaded as the state it holds.
			l.stop()
			info, err := os.Lstat(path)
			if err != nil || !info.Mode().IsRegular() {
				t.Fatalf("the keyframe at %d was not written again: %v", k, err)
			}
			files, err := snapshot.OpenKeyframes(filepath.Dir(path), l.Log.Stream(), l.Tree, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer files.Close()
			if again, ok := files.Keyframe(k); !ok || !reflect.DeepEqual(again, want[k]) {
				t.Errorf("the keyframe written again is not the state at %d (found: %v)", k, ok)
			}
		})
	}
}

// startWith is start with the configuration changed by change.
func startWith(t *testing.T, dir string, change func(*app.Config)) *ledger {
	t.Helper()
	cfg := app.Config{
		DataDir: dir, BootstrapToken: admin, Approvals: roadmap.ApprovalsMajor, KeyframeEvery: every,
		SnapshotEvery: time.Hour,
	}
	change(&cfg)
	return open(t, cfg)
}

func TestKeyframesDeletedAreWrittenAgainByTimeTravel(t *testing.T) {
	b := build(t)
	if err := os.RemoveAll(filepath.Join(b.dir, snapshot.KeyframeDir)); err != nil {
		t.Fatal(err)
	}
	// Started from its snapshot: no replay passes the keyframes, so the
	// first travel replays from the first event and keeps every keyframe
	// it passes.
	l := startWith(t, b.dir, func(c *app.Config) { c.KeyframeCache = 1 })
	if l.Resumed != b.sequence {
		t.Fatalf("resumed at %d, want %d", l.Resumed, b.sequence)
	}
	want := replayed(t, l)
	last := b.sequence - 1
	if got := at(t, l, last); !reflect.DeepEqual(got, want[last]) {
		t.Errorf("at sequence %d, without keyframe files, another state", last)
	}
	l.stop()
	seqs, err := snapshot.KeyframeSequences(filepath.Join(b.dir, snapshot.KeyframeDir))
	if err != nil {
		t.Fatal(err)
	}
	if n := int(last / every); len(seqs) != n {
		t.Errorf("%d keyframes written again, want %d: %v", len(seqs), n, seqs)
	}
	l = startWith(t, b.dir, func(c *app.Config) { c.KeyframeCache = 1 })
	for seq := uint64(1); seq < b.sequence; seq++ {
		if got := at(t, l, seq); !reflect.DeepEqual(got, want[seq]) {
			t.Errorf("at sequence %d, from the keyframes written again, another state", seq)
		}
	}
	if strings.Contains(l.logs.String(), "ignoring a keyframe") {
		t.Errorf("keyframes written again were ignored:\n%s", l.logs)
	}
}

func TestALinkPlantedAsTheKeyframesDirectoryIsRefused(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, snapshot.KeyframeDir)); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), app.Config{DataDir: dir, BootstrapToken: admin})
	if err == nil {
		a.Close()
		t.Fatal("a ledger opened with a link as its keyframes directory")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("the error does not say why: %v", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("files were written through the link: %v", entries)
	}
}
