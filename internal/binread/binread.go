// Package binread reads the project's small binary encodings: uvarints,
// varints, length-prefixed bytes and fixed-size parts, as the read models'
// image (projections/image.go), the keyframes of time travel
// (projections/keyframe.go) and the snapshot file (internal/snapshot) write
// them with encoding/binary's Append functions.
//
// A Reader's first error sticks: every later read returns zero values (or
// zeroed bytes of the size asked), so a decoder reads a whole structure and
// checks Err once at the end. A length read from the input is checked
// against what is left before anything of that size is allocated, so a
// damaged file cannot make a decoder allocate more than the file holds.
package binread

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Reader reads B from the front. Err is the first error met.
type Reader struct {
	B   []byte
	Err error
}

// Fail records err unless an error is recorded already.
func (r *Reader) Fail(err error) {
	if r.Err == nil {
		r.Err = err
	}
}

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.B)
	if n <= 0 {
		r.Err = errors.New("a number is cut short")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Varint reads a signed varint.
func (r *Reader) Varint() int64 {
	if r.Err != nil {
		return 0
	}
	v, n := binary.Varint(r.B)
	if n <= 0 {
		r.Err = errors.New("a number is cut short")
		return 0
	}
	r.B = r.B[n:]
	return v
}

// Need reports whether n things of size bytes each are left to read, and
// records an error if not.
func (r *Reader) Need(n uint64, size int) bool {
	if r.Err == nil && n > uint64(len(r.B))/uint64(size) {
		r.Err = fmt.Errorf("%d items of %d bytes are cut short", n, size)
	}
	return r.Err == nil
}

// Take reads the next n bytes; they share B's memory.
func (r *Reader) Take(n int) []byte {
	if r.Err != nil || n > len(r.B) {
		if r.Err == nil {
			r.Err = fmt.Errorf("%d bytes are cut short", n)
		}
		return make([]byte, n)
	}
	p := r.B[:n]
	r.B = r.B[n:]
	return p
}

// Byte reads one byte.
func (r *Reader) Byte() byte { return r.Take(1)[0] }

// Bytes reads a uvarint length and that many bytes; they share B's memory.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if !r.Need(n, 1) {
		return nil
	}
	return r.Take(int(n))
}
