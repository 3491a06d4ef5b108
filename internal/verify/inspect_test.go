package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
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
		if i%2 == 0 {
			// Data json.Marshal writes as it is: the common case.
			e.Data = []byte(`{"rank":2,"rationale":"Three \"key\" renewals, see the notes","evidence":["https://crm.example.com/deals/41"],"text":"` + "caf\u00e9" + `"}`)
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
	// The plain ones are read and written again without the decoders.
	plain := 0
	for _, body := range bodies {
		if e, ok := parsePlain(body); ok {
			if again, ok := appendPlain(nil, &e, false); ok && bytes.Equal(again, body) {
				plain++
			}
		}
	}
	if plain != 2 {
		t.Errorf("%d sealed events read and written again as plain, want 2 (pm@example.com and Zoë's, with plain data)", plain)
	}
}

// TestAppendPlainIsJSONMarshal checks appendPlain against json.Marshal on
// envelopes at the edges of what it takes: where it writes an envelope, it
// must write exactly json.Marshal's bytes; and it must take the plain ones.
func TestAppendPlainIsJSONMarshal(t *testing.T) {
	strs := []string{"", "pm@example.com", "a b", "\x7f", "é", "東京", "🚀", "\ufffd", "\u2028", "\u2029", "\xff", "a\xc3", "<", ">", "&", `"`, `\`, "\t", "\x00", "x\u00a0y"}
	datas := []string{`{"a":1}`, `{"t":"a b"}`, `{"t":"\"q\" \\ \u003c"}`, `{"t":"<"}`, `{"t":"&"}`, `{ "a":1}`, `{"a":[1, 2]}`, "{\"a\":\n1}", `[1,2,{"b":null}]`, `null`, `"s"`, `{"t":"` + "\u2028" + `"}`, `{"a":1`, `{"t":"é"}`, `{"a":1,"a":2}`, `{"t":"` + "\xff" + `"}`, `12.50`, `{"x":1e3}`}
	times := []time.Time{
		time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 5, 9, 0, 0, 120000000, time.UTC),
		time.Date(2026, 10, 5, 9, 0, 0, 123456789, time.FixedZone("", 2*3600)),
		time.Date(2026, 10, 5, 9, 0, 0, 0, time.FixedZone("", 3600+30)),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	wrote, kept := 0, 0
	check := func(e eventlog.Envelope) {
		want, werr := json.Marshal(e)
		got, ok := appendPlain(nil, &e, false)
		if !ok {
			kept++
			return
		}
		wrote++
		if werr != nil || !bytes.Equal(got, want) {
			t.Errorf("appendPlain(%+v)\n= %s\njson.Marshal = %s (%v)", e, got, want, werr)
		}
	}
	base := eventlog.Envelope{ID: "0194f2b0-0000-7000-8000-000000000001", Type: "item.prioritised", SchemaVersion: 1,
		AggregateType: "item", AggregateID: "0194f2b0-0000-7000-8000-000000000abc", Time: times[0], Actor: "pm@example.com",
		Data: []byte(`{"rank":1}`), PrevHash: "", Hash: strings.Repeat("ab", 32)}
	for _, s := range strs {
		for _, field := range []func(*eventlog.Envelope, string){
			func(e *eventlog.Envelope, s string) { e.ID = s },
			func(e *eventlog.Envelope, s string) { e.Type = s },
			func(e *eventlog.Envelope, s string) { e.AggregateType = s },
			func(e *eventlog.Envelope, s string) { e.AggregateID = s },
			func(e *eventlog.Envelope, s string) { e.Actor = s },
			func(e *eventlog.Envelope, s string) { e.PrevHash = s },
			func(e *eventlog.Envelope, s string) { e.Hash = s },
		} {
			e := base
			field(&e, s)
			check(e)
		}
	}
	for _, d := range datas {
		e := base
		e.Data = []byte(d)
		check(e)
	}
	for _, tm := range times {
		e := base
		e.Time = tm
		check(e)
	}
	for _, v := range []int{0, -1, 7, 1 << 40} {
		e := base
		e.SchemaVersion = v
		check(e)
	}
	e := base
	e.Data = nil
	check(e)
	if _, ok := appendPlain(nil, &base, false); !ok {
		t.Error("appendPlain does not take a plain envelope")
	}
	// Random texts over characters at the edges, in every string field.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "~", "\x7f", "\x1f", "é", "\u2028", "\u2029", "\ufffd", "\xff", "\xe2\x80", "<", "&", `"`, `\`, "東", "🚀", "\x00"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		e := base
		switch rng.IntN(3) {
		case 0:
			e.Actor = b.String()
		case 1:
			e.ID = b.String()
		default:
			e.Data = []byte(`{"t":"` + b.String() + `"}`)
		}
		check(e)
	}
	if wrote < 500 || kept < 500 {
		t.Errorf("appendPlain wrote %d envelopes and left %d to json.Marshal; want both kinds", wrote, kept)
	}
}
