package verify

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// sealedBodies returns sealed events whose texts need JSON escaping of every
// kind the encoder does: quotes, backslashes, HTML characters, control
// characters, non-ASCII, and a data object with nesting.
func sealedBodies(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	prev := ""
	for i, actor := range []string{"pm@example.com", `"quoted" \ back`, "<b>&amp;</b>", "tab\tnew\nline\u0001", "Zoë — 東京 🚀", "\u2028\u2029"} {
		e := eventlog.Envelope{
			ID: fmt.Sprintf("0194f2b0-0000-7000-8000-%012d", i), Type: "item.reprioritised", SchemaVersion: 1,
			AggregateType: "item", AggregateID: "0194f2b0-0000-7000-8000-000000000abc",
			Time:  time.Date(2026, 10, 1, 9, 30, i, 123456000, time.UTC),
			Actor: actor, Data: []byte(`{"rank":2,"score":{"framework":"rice","reach":1.5e3},"evidence":["<x>","a&b"],"text":"` + "caf\u00e9" + `"}`),
		}
		body, err := e.Seal(prev)
		if err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
		out = append(out, body)
	}
	return out
}

// sameVerdict checks that in.inspect and eventlog.Decode agree on body: both
// accept it with the same aggregate and hashes, or both refuse it with the
// same error.
func sameVerdict(t *testing.T, in *inspector, what string, body []byte) {
	t.Helper()
	got := in.inspect(7, body)
	e, err := eventlog.Decode(body)
	switch {
	case err != nil && got.err == nil:
		t.Errorf("%s: inspect accepts what Decode refuses (%v):\n%s", what, err, body)
	case err == nil && got.err != nil:
		t.Errorf("%s: inspect refuses what Decode accepts: %v\n%s", what, got.err, body)
	case err != nil && got.err.Error() != err.Error():
		t.Errorf("%s: inspect says %q, Decode %q", what, got.err, err)
	case err == nil && (got.key != aggregate{e.AggregateType, e.AggregateID} || got.prevHash != e.PrevHash || got.hash != e.Hash):
		t.Errorf("%s: inspect found %q %q %q, Decode %+v", what, got.key, got.prevHash, got.hash, e)
	}
	if got.seq != 7 {
		t.Errorf("%s: sequence %d, want 7", what, got.seq)
	}
}

func TestInspectAgreesWithDecode(t *testing.T) {
	bodies := sealedBodies(t)
	var in inspector // one for every body, as a worker of CheckStream has
	accepted := 0
	for i, body := range bodies {
		sameVerdict(t, &in, fmt.Sprintf("body %d", i), body)
		if inspect(1, body).err == nil {
			accepted++
		}
		// Every byte changed, one at a time, to a few other bytes.
		for k := range body {
			for _, b := range []byte{' ', '"', '0', 'a', 'A', '}', '\\', 0x80} {
				if body[k] == b {
					continue
				}
				changed := bytes.Clone(body)
				changed[k] = b
				sameVerdict(t, &in, fmt.Sprintf("body %d, byte %d to %q", i, k, b), changed)
			}
		}
		// Whitespace, a field moved, a duplicate field, the hash dropped,
		// emptied or in capitals, a trailing line feed.
		hashAt := bytes.LastIndex(body, []byte(`,"hash":"`))
		for name, changed := range map[string][]byte{
			"space after the first brace": append([]byte("{ "), body[1:]...),
			"trailing line feed":          append(bytes.Clone(body), '\n'),
			"duplicate id":                append([]byte(`{"id":"x",`), body[1:]...),
			"hash dropped":                append(bytes.Clone(body[:hashAt]), '}'),
			"hash emptied":                append(bytes.Clone(body[:hashAt]), `,"hash":""}`...),
			"hash in capitals":            append(bytes.Clone(body[:hashAt]), bytes.ToUpper(body[hashAt:])...),
			"hash first":                  append(append([]byte(`{"hash":"`+string(body[hashAt+9:len(body)-2])+`",`), body[1:hashAt]...), '}'),
		} {
			sameVerdict(t, &in, fmt.Sprintf("body %d, %s", i, name), changed)
		}
	}
	if accepted != len(bodies) {
		t.Fatalf("inspect accepted %d of %d sealed events", accepted, len(bodies))
	}
}
