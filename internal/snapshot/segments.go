package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

// Segments of events beside the keyframes: time travel from the keyframe
// at K to a sequence up to K+KeyframeEvery-1 applies the events after K.
// Read from the log, each such read starts at a new place in the stream,
// which makes the embedded server load and cache the message blocks there
// (most of the process's memory under such queries, and a fifth of a
// query's CPU). So the stored bytes of the events K+1 to K+KeyframeEvery
// are also written once, beside the keyframe, to DIR/keyframes/<K>.events,
// when the projections pass K+KeyframeEvery, and time travel from K reads
// them from there.
//
// Like a keyframe, a segment is a cache. It carries the stream, K and the
// number of events, then each event's stored body with its length. Every
// event used is checked against the Merkle tree of the log: the
// tlog.RecordHash of its body must be the tree's leaf at its sequence, so a
// segment of another log, or changed, is never applied. A segment that is
// missing, not a regular file, cut short, not framed as written, of
// another stream or whose events do not match the log is not used: it is
// removed, the events are read from the log, and that read goes on to the
// next keyframe to write the segment again.

// eventsMagic starts every segment file.
const eventsMagic = "roadmap-ledger events\n"

// EventsFormat is the layout of the segment files this version writes.
const EventsFormat = 1

// EventsPath returns the file of the segment of events after the keyframe
// at from.
func (k *KeyframeFiles) EventsPath(from uint64) string {
	return filepath.Join(k.dir, fmt.Sprintf("%020d.events", from))
}

// KeepEvents implements projections.EventSegments: the segment is written
// to its file by the keyframes' writer, as Keep does.
func (k *KeyframeFiles) KeepEvents(from uint64, n int, events []byte, wait bool) {
	seg := segment{from: from, n: n, events: events}
	hand(k, k.events, from, seg, kept{seg: seg}, wait)
}

// Events implements projections.EventSegments: the events from+1 to to
// from the segment waiting to be written or from its file, each checked
// against the tree of the log.
func (k *KeyframeFiles) Events(from, to uint64) ([][]byte, bool) {
	if to <= from {
		return nil, true
	}
	k.mu.Lock()
	seg, ok := k.events[from]
	k.mu.Unlock()
	var err error
	if !ok {
		seg, err = k.loadEvents(from)
	}
	var bodies [][]byte
	if err == nil {
		bodies, err = k.checkEvents(seg, to)
	}
	switch {
	case err == nil:
		return bodies, true
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	}
	path := k.EventsPath(from)
	k.logger.Warn("ignoring the events after a keyframe of time travel: they are read from the log", "sequence", from, "file", path, "error", err)
	if !ok {
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			k.logger.Warn("cannot remove an unusable segment of events", "file", path, "error", rerr)
		}
	}
	return nil, false
}

// checkEvents returns the bodies of the events of seg up to to, each
// checked against the leaf of the tree at its sequence.
func (k *KeyframeFiles) checkEvents(seg segment, to uint64) ([][]byte, error) {
	if to-seg.from > uint64(seg.n) {
		return nil, fmt.Errorf("%w: %d events after %d, not %d", ErrUnusable, seg.n, seg.from, to-seg.from)
	}
	r := binread.Reader{B: seg.events}
	bodies := make([][]byte, 0, to-seg.from)
	for i := range seg.n {
		body := r.Bytes()
		if r.Err != nil {
			return nil, fmt.Errorf("%w: event %d of %d: %v", ErrUnusable, i+1, seg.n, r.Err)
		}
		if uint64(i) < to-seg.from {
			bodies = append(bodies, body)
		}
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after its last event", ErrUnusable, len(r.B))
	}
	for i, body := range bodies {
		seq := seg.from + uint64(i) + 1
		leaf, err := k.roots.Leaf(seq)
		if err != nil {
			return nil, fmt.Errorf("%w: no tree of the log to check it against: %v", ErrUnusable, err)
		}
		if tlog.RecordHash(body) != leaf {
			return nil, fmt.Errorf("%w: its event at sequence %d is not the log's", ErrUnusable, seq)
		}
	}
	return bodies, nil
}

// eventsHead is what the segment file of the n events after from starts
// with.
func (k *KeyframeFiles) eventsHead(from uint64, n int) []byte {
	b := []byte(eventsMagic)
	b = binary.AppendUvarint(b, EventsFormat)
	b = appendBytes(b, []byte(k.stream))
	b = binary.AppendUvarint(b, from)
	return binary.AppendUvarint(b, uint64(n))
}

// storeEvents writes the file of seg, unless one of the same events of the
// same stream is there already (Events checks its events when it reads it).
func (k *KeyframeFiles) storeEvents(seg segment) error {
	if k.filed(seg.from, seg.n) {
		return nil
	}
	head := k.eventsHead(seg.from, seg.n)
	data := make([]byte, 0, len(head)+len(seg.events))
	data = append(append(data, head...), seg.events...)
	return safefile.WriteBytes(k.EventsPath(seg.from), 0o600, data)
}

// HasEvents implements projections.EventSegments: the n events after from
// wait to be written, or their file is there, its head naming them (Events
// checks each event when it reads them).
func (k *KeyframeFiles) HasEvents(from uint64, n int) bool {
	k.mu.Lock()
	_, waiting := k.events[from]
	k.mu.Unlock()
	return waiting || k.filed(from, n)
}

// filed reports whether the file of the n events after from is there, its
// head naming them.
func (k *KeyframeFiles) filed(from uint64, n int) bool {
	head := k.eventsHead(from, n)
	have, err := readHead(k.EventsPath(from), len(head))
	return err == nil && bytes.Equal(have, head)
}

// loadEvents reads the segment after the keyframe at from from its file,
// checking its head. It returns an error wrapping fs.ErrNotExist when there
// is no file, ErrUnusable when it cannot be trusted.
func (k *KeyframeFiles) loadEvents(from uint64) (segment, error) {
	f, err := openRegular(k.EventsPath(from))
	if err != nil {
		return segment{}, err
	}
	data, err := readAll(f, nil)
	f.Close()
	if err != nil {
		return segment{}, err
	}
	r := binread.Reader{B: data}
	magic := r.Take(len(eventsMagic))
	format := r.Uvarint()
	stream := r.Bytes()
	seq := r.Uvarint()
	n := r.Uvarint()
	switch {
	case r.Err != nil:
		return segment{}, fmt.Errorf("%w: cut short", ErrUnusable)
	case string(magic) != eventsMagic || format != EventsFormat:
		return segment{}, fmt.Errorf("%w: not a segment of events of format %d", ErrUnusable, EventsFormat)
	case string(stream) != k.stream || seq != from:
		return segment{}, fmt.Errorf("%w: not the events of this log after sequence %d", ErrUnusable, from)
	case n > uint64(len(r.B)):
		return segment{}, fmt.Errorf("%w: cut short", ErrUnusable)
	}
	return segment{from: from, n: int(n), events: r.B}, nil
}
