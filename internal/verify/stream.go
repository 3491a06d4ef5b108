package verify

import (
	"errors"
	"io"
	"runtime"
	"slices"
)

// Batches of the stream: lines are read in one goroutine, inspected on every
// core, and checked in log order in the caller's.
const (
	batchEvents = 256
	batchBytes  = 256 << 10
)

// batch is consecutive lines of the raw log: their bodies, copied out of the
// reader's buffer, and what inspect found of each.
type batch struct {
	buf   []byte
	seqs  []int64
	ends  []int // the end of each body in buf
	found []inspected
	// err ends the stream after these lines: the read or a line failed.
	err  error
	done chan struct{} // closed once found is complete
}

func (b *batch) body(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.buf[start:b.ends[i]]
}

var errStopped = errors.New("verify: stopped")

// CheckStream reads the raw log from r, as ReadLines does, and checks every
// event with c, as Add does, with the same verdict: the first failure in
// log order, or the first line that cannot be read. The checks of each
// event on its own (its bytes, its hash, its leaf hash) run on every core,
// ahead of the checks in log order; at most a few megabytes of the log are
// held at a time. progress, when not nil, is called after each event that
// checks.
func (c *Checker) CheckStream(r io.Reader, progress func(seq int64)) error {
	workers := max(runtime.GOMAXPROCS(0), 1)
	inFlight := 2*workers + 2
	free := make(chan *batch, inFlight)
	for range inFlight {
		free <- &batch{buf: make([]byte, 0, batchBytes+64<<10), done: make(chan struct{})}
	}
	work := make(chan *batch, inFlight)
	order := make(chan *batch, inFlight)
	stop := make(chan struct{})
	defer close(stop)

	for range workers {
		go func() {
			var in inspector
			for b := range work {
				for i, seq := range b.seqs {
					b.found[i] = in.inspect(seq, b.body(i))
				}
				close(b.done)
			}
		}()
	}

	go func() {
		defer close(order)
		defer close(work)
		var cur *batch
		take := func() bool {
			select {
			case cur = <-free:
				cur.buf, cur.seqs, cur.ends, cur.found, cur.err = cur.buf[:0], cur.seqs[:0], cur.ends[:0], cur.found[:0], nil
				cur.done = make(chan struct{})
				return true
			case <-stop:
				return false
			}
		}
		send := func() bool {
			cur.found = slices.Grow(cur.found[:0], len(cur.seqs))[:len(cur.seqs)]
			select {
			case order <- cur:
			case <-stop:
				return false
			}
			work <- cur // never blocks: no more batches are out than work holds
			cur = nil
			return true
		}
		if !take() {
			return
		}
		err := ReadLines(r, func(seq int64, body []byte) error {
			cur.buf = append(cur.buf, body...)
			cur.seqs = append(cur.seqs, seq)
			cur.ends = append(cur.ends, len(cur.buf))
			if len(cur.seqs) >= batchEvents || len(cur.buf) >= batchBytes {
				if !send() || !take() {
					return errStopped
				}
			}
			return nil
		})
		if errors.Is(err, errStopped) {
			return
		}
		cur.err = err
		send()
	}()

	for b := range order {
		<-b.done
		for i := range b.seqs {
			if err := c.add(b.found[i]); err != nil {
				return err
			}
			if progress != nil {
				progress(b.seqs[i])
			}
		}
		if b.err != nil {
			return b.err
		}
		free <- b
	}
	return nil
}
