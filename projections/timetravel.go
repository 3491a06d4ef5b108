package projections

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// Time travel: the state as it stood at any past sequence, or at the end of
// any moment. Current hands a keyframe, a clone of the whole state, every
// KeyframeEvery events to its Keyframes (a clone is cheap: views are
// replaced, never changed in place), and keeps the ledger's clock at every
// event. A keyframe is not a signed checkpoint of the log (internal/proof):
// it is the projections' own shortcut, which a replay makes again.
//
// Where the keyframes live is the Keyframes' business: in memory
// (MemoryKeyframes, for a ledger without a data directory and for tests),
// or in files of their own, loaded on demand into a bounded cache
// (internal/snapshot.KeyframeFiles), so that the memory of a long ledger
// does not grow with its history.

// KeyframeEvery is how many events apart the keyframes of the state are
// kept, so time travel replays fewer than this many events from the log.
const KeyframeEvery = 1_000

// Keyframes keeps the keyframes of the state for time travel.
type Keyframes interface {
	// Keep keeps s, the state at a keyframe's sequence (a multiple of the
	// Current's keyframe interval), for Keyframe to return later; s is
	// never changed afterwards. Keeping a keyframe again is harmless. With
	// wait, Keep may wait while earlier keyframes are written (the runner
	// waits); without, it may drop s rather than wait (time travel, which
	// makes a missing keyframe again whenever it passes one, does not).
	Keep(s *State, wait bool)
	// Keyframe returns the state kept at seq, which the caller must not
	// change, or false when there is none that can be trusted.
	Keyframe(seq uint64) (*State, bool)
}

// EventSegments is a Keyframes that also keeps, beside the keyframe at K,
// the stored events K+1 to K+KeyframeEvery (a segment), so that time travel
// from that keyframe reads no event from the log. Current hands it each
// segment it sees whole, as it passes the next keyframe, framed by
// AppendSegmentEvent.
type EventSegments interface {
	// KeepEvents keeps the n events after sequence from, framed in
	// events, which is never changed afterwards; wait as for Keep.
	KeepEvents(from uint64, n int, events []byte, wait bool)
	// Events returns the stored bodies of the events from+1 to to (at
	// most one segment), each checked against the log, or false when the
	// segment kept at from is missing or cannot be trusted: the caller
	// then reads them from the log.
	Events(from, to uint64) ([][]byte, bool)
	// HasEvents reports whether the n events after from are kept
	// already, so that a replay passing them need not gather them again.
	HasEvents(from uint64, n int) bool
}

// AppendSegmentEvent appends the stored body of one event to a segment:
// its length as a uvarint, then its bytes.
func AppendSegmentEvent(b, body []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(body)))
	return append(b, body...)
}

// SplitSegment returns the first n bodies of a segment framed by
// AppendSegmentEvent, aliasing events, or an error when it holds fewer or
// is not framed so.
func SplitSegment(events []byte, n int) ([][]byte, error) {
	r := binread.Reader{B: events}
	out := make([][]byte, 0, n)
	for range n {
		body := r.Bytes()
		if r.Err != nil {
			return nil, fmt.Errorf("segment event %d of %d: %w", len(out)+1, n, r.Err)
		}
		out = append(out, body)
	}
	return out, nil
}

// MemoryKeyframes keeps every keyframe in memory: the keyframes of a ledger
// without a data directory. Its memory grows with the log.
type MemoryKeyframes struct {
	mu     sync.RWMutex
	states map[uint64]*State
}

// NewMemoryKeyframes returns an empty MemoryKeyframes.
func NewMemoryKeyframes() *MemoryKeyframes {
	return &MemoryKeyframes{states: map[uint64]*State{}}
}

// Keep implements Keyframes.
func (m *MemoryKeyframes) Keep(s *State, _ bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[s.Sequence] = s
}

// Keyframe implements Keyframes.
func (m *MemoryKeyframes) Keyframe(seq uint64) (*State, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.states[seq]
	return s, ok
}

// Sequences returns the sequences of the keyframes kept, in order.
func (m *MemoryKeyframes) Sequences() []uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]uint64, 0, len(m.states))
	for seq := range m.states {
		out = append(out, seq)
	}
	slices.Sort(out)
	return out
}

// SequenceAt resolves a moment to a ledger position: the last sequence up to
// which every event was decided at or before t. Event times follow log order
// up to the few milliseconds two concurrent decisions may overlap; resolving
// against the running latest time keeps the answer monotonic and
// deterministic.
func (c *Current) SequenceAt(t time.Time) (uint64, error) {
	us := t.UnixMicro()
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, err := c.hist.search(func(at int64) bool { return at > us })
	return uint64(i), err
}

// KeyframeInterval returns how many events apart the keyframes are.
func (c *Current) KeyframeInterval() uint64 { return c.every }

// At calls fn with the state as it stood at sequence seq (clamped to the live
// sequence). For a past sequence it starts from the nearest keyframe at or
// before it and replays fewer events than lie between keyframes from the
// log, so time travel never replays the whole log. A keyframe its
// Keyframes cannot give (missing, or found unusable) is skipped for an
// earlier one, or the first event, and made again on the way: every
// keyframe the replay passes is kept. fn must not keep the state.
func (c *Current) At(ctx context.Context, seq uint64, fn func(*State) error) error {
	c.mu.RLock()
	live := c.state.Sequence
	if seq >= live {
		defer c.mu.RUnlock()
		return fn(c.state)
	}
	c.mu.RUnlock()
	select {
	case c.travels <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.travels }()

	// The nearest keyframe at or before seq; those after it, up to seq,
	// are missing and made again below.
	var base *State
	for k := seq / c.every * c.every; k > 0; k -= c.every {
		if s, ok := c.keyframes.Keyframe(k); ok {
			base = s
			break
		}
	}
	var state *State
	if base == nil {
		state = NewState()
	} else {
		state = base.Clone()
	}
	if state.Sequence == seq {
		return fn(state)
	}
	segs, _ := c.keyframes.(EventSegments)
	// From the nearest keyframe, the events up to seq from its segment
	// when it has a usable one: nothing is read from the log.
	if segs != nil && seq-state.Sequence < c.every {
		if bodies, ok := segs.Events(state.Sequence, seq); ok {
			if err := c.applyBodies(state, bodies); err != nil {
				return fmt.Errorf("replay to sequence %d: %w", seq, err)
			}
			return fn(state)
		}
	}
	// Else from the log. A replay that passes several missing keyframes is
	// long already: it waits for each to be taken, so that the next travel
	// near them is short. One that passes one does not wait. With
	// segments, the read goes on to the next keyframe (when the log has
	// it), applying nothing past seq, so that the segment of every
	// keyframe it starts from is kept and the next travel there reads
	// nothing from the log.
	wait := seq/c.every-state.Sequence/c.every > 1
	to := seq
	var seg []byte
	segFrom, segN := state.Sequence, 0
	if segs != nil {
		if next := (seq/c.every + 1) * c.every; seq%c.every != 0 && next <= live {
			to = next
		}
	}
	err := readRange(ctx, c.source, state.Sequence+1, to, func(rec eventlog.Record) error {
		if segs != nil {
			seg = AppendSegmentEvent(seg, rec.Body)
			segN++
			if rec.Sequence%c.every == 0 {
				segs.KeepEvents(segFrom, segN, seg, false)
				seg, segFrom, segN = nil, rec.Sequence, 0
			}
		}
		if rec.Sequence > seq {
			return nil
		}
		ev, err := Decode(rec)
		if err != nil {
			return err
		}
		state.Apply(ev)
		if ev.Sequence%c.every == 0 {
			c.keyframes.Keep(state.Clone(), wait)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay to sequence %d: %w", seq, err)
	}
	return fn(state)
}

// applyBodies applies to state the events stored as bodies, those right
// after its sequence.
func (c *Current) applyBodies(state *State, bodies [][]byte) error {
	r := eventlog.NewBodyReader(eventlog.DomainData)
	for _, body := range bodies {
		rec, err := r.Read(state.Sequence+1, body)
		if err != nil {
			return err
		}
		ev, err := Decode(rec)
		if err != nil {
			return err
		}
		state.Apply(ev)
	}
	return nil
}
