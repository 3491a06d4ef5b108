package eventlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// sealed returns the stored bytes of an envelope sealed onto prevHash.
func sealed(tb testing.TB, e eventlog.Envelope, prevHash string) []byte {
	tb.Helper()
	body, err := e.Seal(prevHash)
	if err != nil {
		tb.Fatalf("seal: %v", err)
	}
	return body
}

// seedEnvelopes are envelopes as the ledger stores them, and some it could
// store: odd but valid text, times with offsets and fractions, HTML
// characters (which the encoder escapes), data of every JSON kind.
func seedEnvelopes() []eventlog.Envelope {
	at := time.Date(2026, 11, 1, 9, 30, 0, 123456789, time.UTC)
	return []eventlog.Envelope{
		{ID: "01a205a0-38db-7709-b8d4-f4d69e80948a", Type: "objective.defined", SchemaVersion: 1, AggregateType: "objective",
			AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a", Time: at, Actor: "ceo@example.com",
			Data: json.RawMessage(`{"title":"Reduce onboarding time","description":"","kpi":"median minutes","target":"-30%","product":"web"}`)},
		{ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", Type: "item.prioritised", SchemaVersion: 1, AggregateType: "item",
			AggregateID: "01a205a0-464d-7caf-ae2b-69c5709021e3", Time: at.Add(time.Hour), Actor: "pm@example.com",
			Data: json.RawMessage(`{"horizon":"now","rank":1,"score":{"framework":"moscow","version":1,"category":"must","value":4},"objective_ids":[],"rationale":"r","evidence":["https://example.com/a?b=c&d=<e>"]}`)},
		{ID: "x", Type: "unknown.type", SchemaVersion: 99, AggregateType: "other", AggregateID: "é\u2028<&>",
			Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 5*3600+30*60)), Actor: "anonymous", Data: json.RawMessage(`null`)},
		{Type: "review.closed", Data: json.RawMessage(`[1,"two",{"three":3.5e-7},true,null]`)},
	}
}

// FuzzDecodeEvent decodes arbitrary bytes as a stored event: Decode must
// never panic, must refuse with ErrTampered, and may accept only the exact
// canonical bytes of a correctly hashed envelope.
func FuzzDecodeEvent(f *testing.F) {
	prev := ""
	for _, e := range seedEnvelopes() {
		body := sealed(f, e, prev)
		prev = e.Hash
		f.Add(body)
		// Tampered: one byte changed, spacing added, keys reordered or
		// dropped, the hash cut, the body cut.
		flipped := bytes.Clone(body)
		flipped[len(flipped)/2] ^= 1
		f.Add(flipped)
		f.Add(bytes.Replace(body, []byte(`,"`), []byte(`, "`), 1))
		f.Add(append(bytes.Clone(body), '\n'))
		var m map[string]any
		if err := json.Unmarshal(body, &m); err == nil {
			reordered, _ := json.Marshal(m) // keys in sorted order
			f.Add(reordered)
			delete(m, "hash")
			noHash, _ := json.Marshal(m)
			f.Add(noHash)
		}
		f.Add(body[:len(body)-1])
		f.Add(bytes.Replace(body, []byte(`"hash":"`), []byte(`"hash":"0`), 1))
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"id":1}`, `{"time":"not a time"}`, `{"data":}`,
		`{"id":"a","type":"t","schema_version":1,"aggregate_type":"item","aggregate_id":"b","time":"0001-01-01T00:00:00Z","actor":"","data":null,"prev_hash":""}`,
		"{\"id\":\"\xff\"}", `{"id":"\u003c"}`, `{"schema_version":1e400}`, `{"time":"2026-11-01T09:00:00+24:00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := eventlog.Decode(body)
		if err != nil {
			if !errors.Is(err, eventlog.ErrTampered) {
				t.Fatalf("%q: error %v is not ErrTampered", body, err)
			}
			return
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("%q: accepted, but it does not encode again: %v", body, err)
		}
		if !bytes.Equal(again, body) {
			t.Fatalf("accepted %q, which encodes as %q", body, again)
		}
		hash, err := e.ComputeHash()
		if err != nil || hash != e.Hash {
			t.Fatalf("%q: accepted with hash %q, computed %q (%v)", body, e.Hash, hash, err)
		}
		if len(e.Hash) != 64 || strings.Trim(e.Hash, "0123456789abcdef") != "" {
			t.Fatalf("%q: accepted hash %q, which is not a hex SHA-256", body, e.Hash)
		}
		// Sealing it again onto its own previous hash gives the same bytes.
		resealed, err := e.Seal(e.PrevHash)
		if err != nil || !bytes.Equal(resealed, body) {
			t.Fatalf("%q: sealed again, it is %q (%v)", body, resealed, err)
		}
		if err := eventlog.VerifyChain([]eventlog.Envelope{e}); e.PrevHash == "" && err != nil {
			t.Fatalf("%q: a first event that decodes does not verify as a chain: %v", body, err)
		}
	})
}
