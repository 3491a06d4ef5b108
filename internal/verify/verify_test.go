package verify_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// bodies returns n sealed events over three aggregates, with their chains.
func bodies(t *testing.T, n int) [][]byte {
	t.Helper()
	heads := map[string]string{}
	out := make([][]byte, n)
	for i := range n {
		agg := fmt.Sprintf("a%d", i%3)
		e := eventlog.Envelope{
			ID: fmt.Sprintf("e%d", i+1), Type: "item.proposed", SchemaVersion: 1,
			AggregateType: "item", AggregateID: agg, Time: time.Date(2026, 11, 1, 9, 0, i, 0, time.UTC),
			Actor: "a@example.com", Data: []byte(`{"title":"x"}`),
		}
		body, err := e.Seal(heads[agg])
		if err != nil {
			t.Fatal(err)
		}
		heads[agg] = e.Hash
		out[i] = body
	}
	return out
}

func checkpointOf(bs [][]byte, size int) proof.Checkpoint {
	var c proof.Compact
	for _, b := range bs[:size] {
		c.AppendRecord(b)
	}
	return proof.Checkpoint{Origin: "o", Size: int64(size), Root: c.Root(), Time: time.Now()}
}

func check(cp proof.Checkpoint, bs [][]byte, seqs ...int64) error {
	ck := verify.NewChecker(cp)
	if seqs == nil {
		for i := range bs {
			seqs = append(seqs, int64(i+1))
		}
	}
	for i, b := range bs {
		if err := ck.Add(seqs[i], b); err != nil {
			return err
		}
	}
	return ck.Finish()
}

func TestCheckerPassesAndFails(t *testing.T) {
	bs := bodies(t, 40)
	cp := checkpointOf(bs, 37)
	if err := check(cp, bs); err != nil {
		t.Fatalf("untouched: %v", err)
	}
	if err := check(checkpointOf(bs, 0), bs); err != nil {
		t.Fatalf("empty checkpoint: %v", err)
	}

	wrongPrev := func() [][]byte {
		out := append([][]byte(nil), bs...)
		e, _ := eventlog.Decode(bs[9])
		body, _ := e.Seal(strings.Repeat("0", 64)) // a valid hash over a wrong chain
		out[9] = body
		return out
	}()
	cases := []struct {
		name    string
		bs      [][]byte
		seqs    []int64
		wantSeq int64
		want    string
	}{
		{"changed bytes", replace(bs, 4, bytes.Replace(bs[4], []byte(`"x"`), []byte(`"y"`), 1)), nil, 5, "event bytes do not verify"},
		{"broken chain", wrongPrev, nil, 10, "chain of item a0 is broken"},
		{"dropped", append(append([][]byte(nil), bs[:7]...), bs[8:]...), seqsWithout(40, 8), 8, "missing: got 9"},
		{"cut tail", bs[:30], nil, 31, "the log ends at 30 but the checkpoint covers 37"},
		{"swapped", swap(bs, 0, 3), nil, 1, "an earlier one is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := check(cp, tc.bs, tc.seqs...)
			var f *verify.Failure
			if !errors.As(err, &f) || f.Seq != tc.wantSeq || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check = %v, want a failure at sequence %d: %q", err, tc.wantSeq, tc.want)
			}
		})
	}

	t.Run("other root", func(t *testing.T) {
		other := cp
		other.Root = proof.EmptyRoot
		err := check(other, bs)
		var f *verify.Failure
		if !errors.As(err, &f) || f.Seq != 37 || !errors.Is(err, proof.ErrProof) {
			t.Fatalf("check = %v, want the root refused at 37", err)
		}
	})
}

func replace(bs [][]byte, i int, b []byte) [][]byte {
	out := append([][]byte(nil), bs...)
	out[i] = b
	return out
}

func swap(bs [][]byte, i, j int) [][]byte {
	out := append([][]byte(nil), bs...)
	out[i], out[j] = out[j], out[i]
	return out
}

func seqsWithout(n, drop int64) []int64 {
	var out []int64
	for s := int64(1); s <= n; s++ {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func TestReadLines(t *testing.T) {
	long := `{"id":"` + strings.Repeat("z", 3<<20) + `"}`
	in := "{\"seq\":1,\"event\":{\"a\":1}}\n\n{ \"event\" : {\"b\": 2}, \"seq\": 2 }\n{\"seq\":3,\"event\":" + long + "}\n"
	var got []string
	err := verify.ReadLines(strings.NewReader(in), func(seq int64, body []byte) error {
		got = append(got, fmt.Sprintf("%d:%d", seq, len(body)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1:7", "2:8", fmt.Sprintf("3:%d", len(long))}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lines %v, want %v", got, want)
	}

	err = verify.ReadLines(strings.NewReader("{\"seq\":1,\"event\":{}}\n{\"seq\":2,\"ev"), func(int64, []byte) error { return nil })
	if !errors.Is(err, eventlog.ErrRawLine) {
		t.Errorf("a cut line: %v, want eventlog.ErrRawLine", err)
	}
	err = verify.ReadLines(strings.NewReader("not json\n"), func(int64, []byte) error { return nil })
	if !errors.Is(err, eventlog.ErrRawLine) {
		t.Errorf("a malformed line: %v, want eventlog.ErrRawLine", err)
	}
}
