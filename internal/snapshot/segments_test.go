package snapshot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
	"github.com/roadmap-ledger/roadmap/projections"
)

// eventsFile returns the file of the segment of events after the keyframe
// at seq in the data directory dir.
func eventsFile(dir string, seq uint64) string {
	return filepath.Join(dir, snapshot.KeyframeDir, fmt.Sprintf("%020d.events", seq))
}

// countingSource is a projections.Source that counts the events it reads
// from the log.
type countingSource struct {
	projections.Source
	read atomic.Int64
}

func (s *countingSource) Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error {
	return s.Source.Follow(ctx, from, func(r eventlog.Record) error { s.read.Add(1); return fn(r) })
}

func (s *countingSource) ReadRange(ctx context.Context, from, to uint64, fn func(eventlog.Record) error) error {
	return s.Source.ReadRange(ctx, from, to, func(r eventlog.Record) error { s.read.Add(1); return fn(r) })
}

// bodies returns the stored bodies of the events from to to of l's log.
func bodies(t *testing.T, l *ledger, from, to uint64) [][]byte {
	t.Helper()
	var out [][]byte
	if err := l.Log.ReadRange(context.Background(), from, to, func(r eventlog.Record) error {
		out = append(out, bytes.Clone(r.Body))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTimeTravelFromSegmentsIsTheWholeReplayAndReadsNoEvent(t *testing.T) {
	b := build(t)
	// A segment after every keyframe (and the first event) the log has
	// gone past by a whole interval.
	for k := uint64(0); k+every <= b.sequence; k += every {
		if info, err := os.Lstat(eventsFile(b.dir, k)); err != nil || !info.Mode().IsRegular() {
			t.Fatalf("no segment of the events after %d: %v", k, err)
		}
	}
	l := startWith(t, b.dir, func(c *app.Config) { c.KeyframeCache = 2 })
	want := replayed(t, l)
	whole := b.sequence / every * every // the last sequence a segment holds

	// The ledger's own time travel, at, just before and just after every
	// keyframe, back and forth.
	for k := uint64(0); k <= b.sequence; k += every {
		for _, seq := range []uint64{k - 1, k, k + 1, k + 2, b.sequence - k} {
			if seq == 0 || seq >= b.sequence || seq > b.sequence {
				continue
			}
			if got := at(t, l, seq); !reflect.DeepEqual(got, want[seq]) {
				t.Errorf("at sequence %d, time travel from a keyframe and its segment differs from the whole replay", seq)
			}
		}
	}

	// The same keyframes and segments behind a Current whose log counts
	// what is read from it: nothing, wherever a segment is whole.
	source := &countingSource{Source: l.Log}
	c := projections.NewCurrent(source, every)
	c.UseKeyframes(l.Keyframes)
	if err := l.Log.ReadRange(context.Background(), 1, b.sequence, func(rec eventlog.Record) error {
		ev, err := projections.Decode(rec)
		if err != nil {
			return err
		}
		c.Apply(ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq < b.sequence; seq++ {
		before := source.read.Load()
		var got *projections.State
		if err := c.At(context.Background(), seq, func(s *projections.State) error { got = s.Clone(); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[seq]) {
			t.Errorf("at sequence %d, another state", seq)
		}
		read := source.read.Load() - before
		if seq <= whole && read != 0 {
			t.Errorf("at sequence %d, %d events read from the log, want none (its segment is whole)", seq, read)
		}
	}
	if strings.Contains(l.logs.String(), "ignoring") {
		t.Errorf("good keyframes or segments were ignored:\n%s", l.logs)
	}
}

func TestAnUnusableSegmentIsIgnoredAndWrittenAgain(t *testing.T) {
	b := build(t)
	other := t.TempDir()
	l := start(t, other)
	l.defineObjectives(t, 3*every)
	l.stop()

	const k = 2 * every // the keyframe whose segment is spoilt
	good, err := os.ReadFile(eventsFile(b.dir, k))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := os.ReadFile(eventsFile(other, k))
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x10 // in the body of an event time travel uses
	otherStream := bytes.Replace(good, []byte("ROADMAP"), []byte("ROADMAQ"), 1)
	for _, tc := range []struct {
		name   string
		file   []byte // the segment's bytes; none when nil
		link   bool   // a link to a good segment
		reason string // in the log; "" when nothing is said
	}{
		{name: "missing"},
		{name: "cut short", file: good[:len(good)-100], reason: "cut short"},
		{name: "cut to nothing", file: []byte{}, reason: "cut short"},
		{name: "a byte more", file: append(bytes.Clone(good), 0), reason: "after its last event"},
		{name: "a bit flipped", file: flipped, reason: "is not the log's"},
		{name: "of another stream", file: otherStream, reason: "not the events of this log"},
		{name: "of another ledger", file: foreign, reason: "is not the log's"},
		{name: "a link", link: true, reason: "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, b.dir)
			path := eventsFile(dir, k)
			os.Remove(path)
			switch {
			case tc.link:
				target := filepath.Join(t.TempDir(), "elsewhere")
				if err := os.WriteFile(target, good, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			case tc.file != nil:
				if err := os.WriteFile(path, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l := startWith(t, dir, func(c *app.Config) { c.KeyframeCache = 1 })
			want := replayed(t, l)
			// The last event first, so that a spoilt one is met at once.
			for _, seq := range []uint64{k + every - 1, k + 1, k + 2} {
				if got := at(t, l, seq); !reflect.DeepEqual(got, want[seq]) {
					t.Errorf("at sequence %d, with the segment after %d %s, another state", seq, k, tc.name)
				}
			}
			if tc.reason != "" && !strings.Contains(l.logs.String(), tc.reason) {
				t.Errorf("the log does not say the segment is ignored because %q:\n%s", tc.reason, l.logs)
			}
			// The read from the log wrote it again (Close waits for the
			// writer): a regular file holding the log's events.
			logged := bodies(t, l, k+1, k+every)
			l.stop()
			info, err := os.Lstat(path)
			if err != nil || !info.Mode().IsRegular() {
				t.Fatalf("the segment after %d was not written again: %v", k, err)
			}
			files, err := snapshot.OpenKeyframes(filepath.Dir(path), l.Log.Stream(), l.Tree, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer files.Close()
			got, ok := files.Events(k, k+every)
			if !ok || !reflect.DeepEqual(got, logged) {
				t.Errorf("the segment written again is not the log's events after %d (found: %v)", k, ok)
			}
		})
	}
}

// A replay passing a segment kept already does not gather it again: the
// files say so only for a segment whose file's head names it.
func TestASegmentIsKeptAlreadyOnlyWhenItsFileNamesIt(t *testing.T) {
	b := build(t)
	l := start(t, b.dir)
	segs := projections.EventSegments(l.Keyframes)
	if !segs.HasEvents(every, int(every)) {
		t.Error("a segment written whole is not kept")
	}
	if segs.HasEvents(every, int(every)-1) {
		t.Error("a segment is kept with another count of events")
	}
	next := b.sequence/every*every + every
	if segs.HasEvents(next, int(every)) {
		t.Errorf("the segment after %d is kept before the log has it", next)
	}
	path := eventsFile(b.dir, every)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(good, []byte("ROADMAP"), []byte("ROADMAQ"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	if segs.HasEvents(every, int(every)) {
		t.Error("a segment of another stream is kept")
	}
	os.Remove(path)
	if segs.HasEvents(every, int(every)) {
		t.Error("a missing segment is kept")
	}
}
