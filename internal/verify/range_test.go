package verify_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// prefixOf returns the compact range of the first n bodies.
func prefixOf(bs [][]byte, n int) *proof.Compact {
	var c proof.Compact
	for _, b := range bs[:n] {
		c.AppendRecord(b)
	}
	return &c
}

// checkRange checks the events from..from+len(bs)-1 with a range checker
// from the compact range of before.
func checkRange(cp proof.Checkpoint, from int64, before *proof.Compact, bs [][]byte) (*verify.Checker, error) {
	ck, err := verify.NewRangeChecker(cp, from, before.Hashes())
	if err != nil {
		return nil, err
	}
	for i, b := range bs {
		if err := ck.Add(from+int64(i), b); err != nil {
			return ck, err
		}
	}
	return ck, ck.Finish()
}

func TestRangeCheckerPassesAndFails(t *testing.T) {
	bs := bodies(t, 40)
	cp := checkpointOf(bs, 37)
	const from = 11 // each of the three aggregates has events before it

	ck, err := checkRange(cp, from, prefixOf(bs, from-1), bs[from-1:37])
	if err != nil {
		t.Fatalf("untouched range: %v", err)
	}
	if ck.Checked() != 37 || ck.Aggregates() != 3 || ck.OpenChains() != 3 {
		t.Fatalf("checked %d, %d aggregates, %d open chains; want 37, 3, 3", ck.Checked(), ck.Aggregates(), ck.OpenChains())
	}
	// From 1 it is the whole log's check, up to the checkpoint.
	ck, err = checkRange(cp, 1, prefixOf(bs, 0), bs[:37])
	if err != nil || ck.OpenChains() != 0 || ck.Aggregates() != 3 {
		t.Fatalf("the range from 1: %v, %d open chains", err, ck.OpenChains())
	}
	// An empty range at the checkpoint: the prefix is the whole tree.
	if _, err := checkRange(cp, 38, prefixOf(bs, 37), nil); err != nil {
		t.Fatalf("an empty range: %v", err)
	}

	range_ := func() [][]byte { return append([][]byte(nil), bs[from-1:37]...) }
	resealed := func(i int, prev string) []byte {
		e, err := eventlog.Decode(bs[i])
		if err != nil {
			t.Fatal(err)
		}
		body, err := e.Seal(prev)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	otherPrefix := prefixOf(bs, from-1)
	otherPrefix.Append(proof.EmptyRoot)
	hashes := otherPrefix.Hashes()
	badPrefix, _ := proof.NewCompact(from-1, hashes[len(hashes)-2:]) // the right count, the wrong hashes

	cases := []struct {
		name    string
		from    int64
		before  *proof.Compact
		bs      [][]byte
		wantSeq int64
		want    string
		wantErr error
	}{
		{"changed bytes", from, prefixOf(bs, from-1), replace(range_(), 4, bytes.Replace(bs[from+3], []byte(`"x"`), []byte(`"y"`), 1)), from + 4, "event bytes do not verify", eventlog.ErrTampered},
		{"broken chain in the range", from, prefixOf(bs, from-1), replace(range_(), 5, resealed(from+4, strings.Repeat("0", 64))), from + 5, "is broken", eventlog.ErrTampered},
		// Its chain goes on in the range: the next event's prev_hash tells.
		{"first event of an aggregate resealed onto another chain", from, prefixOf(bs, from-1), replace(range_(), 0, resealed(from-1, strings.Repeat("0", 64))), from + 3, "is broken", eventlog.ErrTampered},
		// Its only event in the range: only the root can tell.
		{"only event of an aggregate resealed onto another chain", 36, prefixOf(bs, 35), [][]byte{resealed(35, strings.Repeat("0", 64)), bs[36]}, 37, "the root of the prefix and sequences 36 to 37", proof.ErrProof},
		{"a wrong prefix", from, badPrefix, range_(), 37, "a prefix hash was changed", proof.ErrProof},
		{"cut tail", from, prefixOf(bs, from-1), range_()[:20], from + 20, "the range ends at 30 but the checkpoint covers 37", nil},
		{"beyond the checkpoint", from, prefixOf(bs, from-1), append(range_(), bs[37]), 38, "beyond the checkpoint of size 37", nil},
		{"beyond the checkpoint from 1", 1, prefixOf(bs, 0), bs[:38], 38, "beyond the checkpoint of size 37", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkRange(cp, tc.from, tc.before, tc.bs)
			var f *verify.Failure
			if !errors.As(err, &f) || f.Seq != tc.wantSeq || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check = %v, want a failure at sequence %d: %q", err, tc.wantSeq, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("check = %v, want it to wrap %v", err, tc.wantErr)
			}
		})
	}

	// An event dropped, one out of order.
	ck, _ = verify.NewRangeChecker(cp, from, prefixOf(bs, from-1).Hashes())
	if err := ck.Add(from, bs[from-1]); err != nil {
		t.Fatal(err)
	}
	var f *verify.Failure
	if err := ck.Add(from+2, bs[from+1]); !errors.As(err, &f) || f.Seq != from+1 || !strings.Contains(err.Error(), "missing: got 13") {
		t.Errorf("an event dropped: %v", err)
	}
	ck, _ = verify.NewRangeChecker(cp, from, prefixOf(bs, from-1).Hashes())
	if err := ck.Add(from-1, bs[from-2]); !errors.As(err, &f) || f.Seq != from-1 || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("an event before the range: %v", err)
	}

	// A prefix of the wrong size, a range past the checkpoint.
	if _, err := verify.NewRangeChecker(cp, from, prefixOf(bs, from).Hashes()); err == nil {
		t.Error("a prefix of 11 events taken for a range from 11")
	}
	if _, err := verify.NewRangeChecker(cp, 39, prefixOf(bs, 38).Hashes()); err == nil {
		t.Error("a range from 39 taken for a checkpoint of size 37")
	}
}

// TestRangeCheckerStreams checks a range with CheckStream: the same verdict
// as one event at a time.
func TestRangeCheckerStreams(t *testing.T) {
	const n, from = 1500, 700
	bs := bodies(t, n)
	cp := checkpointOf(bs, n)
	whole := rawLog(bs[from-1:], seqsFrom(from, n-from+1))
	lines := bytes.SplitAfter(whole, []byte("\n"))
	tampered := append([][]byte(nil), lines...)
	tampered[300] = bytes.Replace(tampered[300], []byte(`"x"`), []byte(`"y"`), 1)
	for name, log := range map[string][]byte{"whole": whole, "tampered": bytes.Join(tampered, nil)} {
		seq, err := verify.NewRangeChecker(cp, from, prefixOf(bs, from-1).Hashes())
		if err != nil {
			t.Fatal(err)
		}
		wantErr := verify.ReadLines(bytes.NewReader(log), seq.Add)
		if wantErr == nil {
			wantErr = seq.Finish()
		}
		str, _ := verify.NewRangeChecker(cp, from, prefixOf(bs, from-1).Hashes())
		gotErr := str.CheckStream(bytes.NewReader(log), nil)
		if gotErr == nil {
			gotErr = str.Finish()
		}
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) || seq.Checked() != str.Checked() {
			t.Fatalf("%s: CheckStream %v at %d, one at a time %v at %d", name, gotErr, str.Checked(), wantErr, seq.Checked())
		}
		if name == "whole" && (gotErr != nil || str.OpenChains() != 3) {
			t.Fatalf("%s: %v, %d open chains", name, gotErr, str.OpenChains())
		}
	}
}
