package verify

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// TestInspectGivesTheEventLogsVerdict checks that inspect takes its verdict
// on an event's bytes from the event log (eventlog.Decode's check: whether
// they verify, their aggregate and hashes, or the error) and adds the leaf
// hash of the bytes as they are.
func TestInspectGivesTheEventLogsVerdict(t *testing.T) {
	var in inspector
	prev := ""
	for i, actor := range []string{"pm@example.com", `"quoted" <b>&amp;</b>`, "Zoë — 東京 🚀"} {
		e := eventlog.Envelope{
			ID: fmt.Sprintf("0194f2b0-0000-7000-8000-%012d", i), Type: "item.reprioritised", SchemaVersion: 1,
			AggregateType: "item", AggregateID: "0194f2b0-0000-7000-8000-000000000abc",
			Time: time.Date(2026, 10, 1, 9, 30, i, 123456000, time.UTC), Actor: actor, Data: []byte(`{"rank":2,"text":"<x>"}`),
		}
		body, err := e.Seal(prev)
		if err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
		for k := -1; k < len(body); k += 7 {
			changed := bytes.Clone(body)
			if k >= 0 {
				changed[k] ^= 0x01
			}
			got := in.inspect(int64(k+2), changed)
			want, err := eventlog.Decode(changed)
			if got.seq != int64(k+2) || got.leaf != tlog.RecordHash(changed) {
				t.Fatalf("body %d, byte %d: sequence %d, leaf %v", i, k, got.seq, got.leaf)
			}
			switch {
			case (err == nil) != (got.err == nil):
				t.Fatalf("body %d, byte %d: inspect says %v, Decode %v", i, k, got.err, err)
			case err != nil && err.Error() != got.err.Error():
				t.Fatalf("body %d, byte %d: inspect says %q, Decode %q", i, k, got.err, err)
			case err == nil && (got.key != aggregate{want.AggregateType, want.AggregateID} || got.prevHash != want.PrevHash || got.hash != want.Hash):
				t.Fatalf("body %d, byte %d: inspect found %v %q %q, Decode %+v", i, k, got.key, got.prevHash, got.hash, want)
			}
			if k < 0 && got.err != nil {
				t.Fatalf("body %d: a sealed event does not verify: %v", i, got.err)
			}
		}
	}
}
