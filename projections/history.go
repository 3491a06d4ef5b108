package projections

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/chunkfile"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// step is what Current keeps of every event: the ledger's clock up to it
// and where it moved its item.
type step struct {
	at int64 // the latest event time (Unix µs) up to this event
	m  move
}

// stepBytes is a step in a history file: the time, then the two places.
const stepBytes = 16

const (
	stepChunkBits  = 12
	stepChunkLen   = 1 << stepChunkBits // 4,096 steps
	stepChunkBytes = stepChunkLen * stepBytes
)

func appendStep(b []byte, s step) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(s.at))
	b = binary.LittleEndian.AppendUint32(b, uint32(s.m.from))
	return binary.LittleEndian.AppendUint32(b, uint32(s.m.to))
}

// readStep reads the step at the start of b, checking its places.
func readStep(b []byte) (step, error) {
	s := step{
		at: int64(binary.LittleEndian.Uint64(b)),
		m:  move{from: packedPlace(binary.LittleEndian.Uint32(b[8:])), to: packedPlace(binary.LittleEndian.Uint32(b[12:]))},
	}
	for _, p := range []packedPlace{s.m.from, s.m.to} {
		if int(p.horizon()) > len(roadmap.Horizons) {
			return step{}, fmt.Errorf("a place in horizon %d", p.horizon())
		}
	}
	return s, nil
}

// history is the steps of the ledger by sequence-1. Without a file it
// keeps them all in memory (tail). With one, every whole chunk of 4,096
// steps goes to the file as it fills, and memory keeps only the steps
// after the last whole chunk and the time of each chunk's first step, so
// a moment is found with one chunk read back: 8 bytes for 4,096 events
// instead of 16 an event. Only Current's writer appends, under its lock.
type history struct {
	file   *chunkfile.File // nil: all in memory
	firsts []int64         // the time of the first step of each whole chunk in the file
	tail   []step          // the steps after them; elements are never changed once appended
	last   int64           // the time of the last step
	err    error           // why the file took no more chunks; later steps stay in memory
}

// filed returns how many whole chunks are in the file.
func (h *history) filed() int64 { return int64(len(h.firsts)) }

func (h *history) len() int64 { return h.filed()*stepChunkLen + int64(len(h.tail)) }

// reserve makes room for n steps in all.
func (h *history) reserve(n int64) {
	if h.file == nil && n > h.len() {
		h.tail = slices.Grow(h.tail, int(n-h.len()))
	}
}

// push appends a step. A tail that makes a whole chunk goes to the file;
// when the file fails, the steps stay in memory and the file takes no
// more.
func (h *history) push(s step) {
	if h.tail == nil && h.file != nil {
		h.tail = make([]step, 0, stepChunkLen)
	}
	h.tail = append(h.tail, s)
	h.last = s.at
	if h.file == nil || h.err != nil || len(h.tail) < stepChunkLen {
		return
	}
	b := make([]byte, 0, stepChunkBytes)
	for _, s := range h.tail {
		b = appendStep(b, s)
	}
	if h.err = h.file.Append(h.filed(), b); h.err != nil {
		return
	}
	h.firsts = append(h.firsts, h.tail[0].at)
	// An image may hold the old tail: the next one is a new array.
	h.tail = make([]step, 0, stepChunkLen)
}

// step returns step i (sequence i+1).
func (h *history) step(i int64) (step, error) {
	if base := h.filed() * stepChunkLen; i >= base {
		return h.tail[i-base], nil
	}
	var raw [stepBytes]byte
	if err := h.file.Read(i>>stepChunkBits, func(b []byte) { copy(raw[:], b[(i&(stepChunkLen-1))*stepBytes:]) }); err != nil {
		return step{}, fmt.Errorf("the history file: %w", err)
	}
	return readStep(raw[:])
}

// search returns the first i whose step's time makes after true (false
// for every step before it, true from it on), or len() when none.
func (h *history) search(after func(at int64) bool) (int64, error) {
	c := int64(sort.Search(len(h.firsts), func(i int) bool { return after(h.firsts[i]) }))
	if c > 0 { // after the first step of chunk c-1: maybe within it
		var k int
		err := h.file.Read(c-1, func(b []byte) {
			k = sort.Search(stepChunkLen, func(j int) bool {
				return after(int64(binary.LittleEndian.Uint64(b[j*stepBytes:])))
			})
		})
		if err != nil {
			return 0, fmt.Errorf("the history file: %w", err)
		}
		if k < stepChunkLen {
			return (c-1)*stepChunkLen + int64(k), nil
		}
	}
	if c < h.filed() {
		return c * stepChunkLen, nil
	}
	return h.filed()*stepChunkLen + int64(sort.Search(len(h.tail), func(j int) bool { return after(h.tail[j].at) })), nil
}

// historyImage is a history frozen at one length: its file named by a
// mark, the first time of each whole chunk there, and the steps after.
type historyImage struct {
	filed  chunkfile.Mark
	firsts []int64
	tail   []step
}

func (h *history) image() historyImage {
	m := historyImage{firsts: slices.Clip(h.firsts), tail: slices.Clip(h.tail)}
	if h.file != nil {
		m.filed = h.file.Mark()
	}
	return m
}

func (m historyImage) appendBinary(b []byte) []byte {
	b, _ = m.filed.AppendBinary(b)
	for _, at := range m.firsts {
		b = binary.LittleEndian.AppendUint64(b, uint64(at))
	}
	b = binary.AppendUvarint(b, uint64(len(m.tail)))
	for _, s := range m.tail {
		b = appendStep(b, s)
	}
	return b
}

// readHistory reads a history that historyImage.appendBinary wrote, its
// whole chunks in the file at path (none without a path).
func readHistory(r *binread.Reader, path string) (history, error) {
	mark := chunkfile.ReadMark(r)
	var h history
	if mark.Chunks > 0 && r.Need(uint64(mark.Chunks), 8) {
		h.firsts = make([]int64, mark.Chunks)
		for i := range h.firsts {
			h.firsts[i] = int64(binary.LittleEndian.Uint64(r.Take(8)))
		}
	}
	n := r.Uvarint()
	if r.Need(n, stepBytes) {
		h.tail = make([]step, n)
		for i := range h.tail {
			s, err := readStep(r.Take(stepBytes))
			if err != nil && r.Err == nil {
				r.Err = fmt.Errorf("step %d: %v", i, err)
			}
			h.tail[i] = s
		}
	}
	if r.Err != nil {
		return history{}, r.Err
	}
	var err error
	switch {
	case mark.Chunks > 0 && path == "":
		return history{}, fmt.Errorf("a history of %d chunks in a file, and there is none", mark.Chunks)
	case mark.Chunks > 0:
		h.file, err = chunkfile.Open(path, stepChunkBytes, mark)
	case path != "":
		h.file, err = chunkfile.Create(path, stepChunkBytes)
	}
	if err != nil {
		return history{}, err
	}
	if n := len(h.tail); n > 0 {
		h.last = h.tail[n-1].at
	} else if h.filed() > 0 {
		s, err := h.step(h.len() - 1)
		if err != nil {
			h.file.Close()
			return history{}, err
		}
		h.last = s.at
	}
	if h.file != nil && len(h.tail) >= stepChunkLen {
		// A history that had no file: its steps go to the new one.
		tail := h.tail
		h.tail = nil
		for _, s := range tail {
			h.push(s)
		}
	}
	return h, nil
}
