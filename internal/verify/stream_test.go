package verify_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// rawLog writes bodies as the raw log's lines, with the given sequences
// (1, 2, ... when nil).
func rawLog(bs [][]byte, seqs []int64) []byte {
	var b bytes.Buffer
	for i, body := range bs {
		seq := int64(i + 1)
		if seqs != nil {
			seq = seqs[i]
		}
		fmt.Fprintf(&b, `{"seq":%d,"event":%s}`+"\n", seq, body)
	}
	return b.Bytes()
}

// sequential checks the log one line at a time, with ReadLines and Add.
func sequential(cp proof.Checkpoint, log []byte) (int64, error) {
	ck := verify.NewChecker(cp)
	err := verify.ReadLines(bytes.NewReader(log), ck.Add)
	if err == nil {
		err = ck.Finish()
	}
	return ck.Checked(), err
}

// streamed checks the log with CheckStream.
func streamed(cp proof.Checkpoint, log []byte) (int64, []int64, error) {
	ck := verify.NewChecker(cp)
	var seen []int64
	err := ck.CheckStream(bytes.NewReader(log), func(seq int64) { seen = append(seen, seq) })
	if err == nil {
		err = ck.Finish()
	}
	return ck.Checked(), seen, err
}

// TestCheckStreamGivesTheSequentialVerdict checks logs of several batches,
// whole and broken in many ways, both ways: CheckStream must name the same
// first failure as checking one line at a time, and report progress for
// exactly the events that checked.
func TestCheckStreamGivesTheSequentialVerdict(t *testing.T) {
	const n = 1500 // several batches
	bs := bodies(t, n)
	cp := checkpointOf(bs, n-3)
	whole := rawLog(bs, nil)
	lines := bytes.SplitAfter(whole, []byte("\n"))
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	edit := func(i int, fn func([]byte) []byte) []byte {
		out := append([][]byte(nil), lines...)
		out[i] = fn(bytes.Clone(out[i]))
		return join(out)
	}
	without := func(i int) []byte { return join(append(append([][]byte(nil), lines[:i]...), lines[i+1:]...)) }
	tamper := func(b []byte) []byte { return bytes.Replace(b, []byte(`"x"`), []byte(`"y"`), 1) }
	cases := map[string][]byte{
		"whole":                      whole,
		"a changed event in batch 1": edit(3, tamper),
		"a changed event in batch 4": edit(900, tamper),
		"the last event changed":     edit(n-1, tamper),
		"an event dropped":           without(700),
		"a malformed line":           edit(1000, func([]byte) []byte { return []byte("not json\n") }),
		"a change before a bad line": join(append(bytes.SplitAfter(edit(300, tamper), []byte("\n"))[:1000], []byte("not json\n"))),
		"the tail cut inside a line": whole[:len(whole)-40],
		"the tail cut at a line":     join(lines[:n-10]),
		"nothing":                    nil,
		"blank lines":                join(append([][]byte{[]byte("\n")}, lines...)),
		"sequences from 2":           rawLog(bs, seqsFrom(2, n)),
	}
	// A bad line, then a changed event after it: the line wins.
	bad := append([][]byte(nil), bytes.SplitAfter(edit(1200, tamper), []byte("\n"))...)
	bad[500] = []byte("{\"seq\":\n")
	cases["a bad line before a change"] = join(bad)

	for name, log := range cases {
		t.Run(name, func(t *testing.T) {
			wantLast, wantErr := sequential(cp, log)
			gotLast, seen, gotErr := streamed(cp, log)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Fatalf("CheckStream: %v\nsequential: %v", gotErr, wantErr)
			}
			var wf, gf *verify.Failure
			if errors.As(wantErr, &wf) != errors.As(gotErr, &gf) || (wf != nil && wf.Seq != gf.Seq) {
				t.Fatalf("CheckStream failure %+v, sequential %+v", gf, wf)
			}
			if gotLast != wantLast || int64(len(seen)) != gotLast {
				t.Fatalf("CheckStream checked up to %d with %d progress calls; sequential up to %d", gotLast, len(seen), wantLast)
			}
			for i, s := range seen {
				if s != int64(i+1) {
					t.Fatalf("progress %d is sequence %d, want %d", i, s, i+1)
				}
			}
		})
	}
	if _, err := sequential(cp, whole); err != nil {
		t.Fatalf("the whole log does not verify: %v", err)
	}
}

func seqsFrom(first, n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out
}

// endless is a raw log that never ends: sequence 1 changed, then valid
// lines of sequence 2 for ever.
type endless struct {
	first, rest []byte
	off         int
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		src := e.rest
		if e.first != nil {
			src = e.first
		}
		k := copy(p[n:], src[e.off:])
		n, e.off = n+k, e.off+k
		if e.off == len(src) {
			e.first, e.off = nil, 0
		}
	}
	return n, nil
}

// TestCheckStreamStopsAtTheFirstFailure checks that a failure ends the
// check at once, without reading the rest of the log.
func TestCheckStreamStopsAtTheFirstFailure(t *testing.T) {
	bs := bodies(t, 2)
	cp := checkpointOf(bs, 2)
	first := []byte(`{"seq":1,"event":` + strings.Replace(string(bs[0]), `"x"`, `"y"`, 1) + "}\n")
	rest := []byte(`{"seq":2,"event":` + string(bs[1]) + "}\n")
	done := make(chan error, 1)
	go func() { done <- verify.NewChecker(cp).CheckStream(&endless{first: first, rest: rest}, nil) }()
	select {
	case err := <-done:
		var f *verify.Failure
		if !errors.As(err, &f) || f.Seq != 1 {
			t.Fatalf("CheckStream = %v, want a failure at sequence 1", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("CheckStream did not stop at the first failure")
	}
}
