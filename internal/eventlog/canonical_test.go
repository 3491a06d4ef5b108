package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// sealedBodies returns sealed events whose texts need JSON escaping of every
// kind the encoder does: quotes, backslashes, HTML characters, control
// characters, non-ASCII, and a data object with nesting.
func sealedBodies(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	prev := ""
	for i, actor := range []string{"pm@example.com", `"quoted" \ back`, "<b>&amp;</b>", "tab\tnew\nline\u0001", "Zoë — 東京 🚀", "\u2028\u2029"} {
		e := Envelope{
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

// sameVerdict checks that a Verifier (v, used for many bodies in turn, as
// each worker of an auditor's verify uses its own) and, unless only
// verifying, Decode give on body the verdict of decodeCanonical, the
// definition: both accept it with the same envelope, or both refuse it
// with the same error. (The two share their check: Decode makes it with a
// Verifier of its own.)
func sameVerdict(t *testing.T, v *Verifier, what string, body []byte, onlyVerify bool) {
	t.Helper()
	want, wantErr := decodeCanonical(body)
	got, err := want, wantErr
	if !onlyVerify {
		got, err = Decode(body)
	}
	if agreesWithDefinition(t, what, "Decode", body, err, wantErr) && !sameEnvelope(got, want) {
		t.Errorf("%s: Decode gives\n%+v\nthe definition\n%+v", what, got, want)
	}
	link, err := v.Verify(body)
	if agreesWithDefinition(t, what, "Verify", body, err, wantErr) && link != (Link{want.AggregateType, want.AggregateID, want.PrevHash, want.Hash}) {
		t.Errorf("%s: Verify found %+v, the definition %+v", what, link, want)
	}
}

// agreesWithDefinition reports an error unless step (Decode or Verify) accepted or
// refused body as the definition does, with the same error. It returns
// whether both accepted it, so the caller can compare what step gave.
func agreesWithDefinition(t *testing.T, what, step string, body []byte, err, wantErr error) (accepted bool) {
	t.Helper()
	switch {
	case wantErr != nil && err == nil:
		t.Errorf("%s: %s accepts what the definition refuses (%v):\n%s", what, step, wantErr, body)
	case wantErr == nil && err != nil:
		t.Errorf("%s: %s refuses what the definition accepts: %v\n%s", what, step, err, body)
	case wantErr != nil && err.Error() != wantErr.Error():
		t.Errorf("%s: %s says %q, the definition %q", what, step, err, wantErr)
	}
	return wantErr == nil && err == nil
}

// TestDecodeAgreesWithCanonical holds Decode's and Verify's fast ways to
// the definition's verdict (decodeCanonical) on sealed events and on every
// one-byte change of them, and on other changes at the edges.
func TestDecodeAgreesWithCanonical(t *testing.T) {
	bodies := sealedBodies(t)
	var v Verifier // one for every body, as each worker of an auditor's verify has
	accepted := 0
	for i, body := range bodies {
		sameVerdict(t, &v, fmt.Sprintf("body %d", i), body, false)
		if _, err := Decode(body); err == nil {
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
				sameVerdict(t, &v, fmt.Sprintf("body %d, byte %d to %q", i, k, b), changed, true)
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
			sameVerdict(t, &v, fmt.Sprintf("body %d, %s", i, name), changed, false)
		}
	}
	if accepted != len(bodies) {
		t.Fatalf("Decode accepted %d of %d sealed events", accepted, len(bodies))
	}
	// The decoders' way accepts every sealed event on its own.
	for i, body := range bodies {
		if _, ok := v.decodeGeneral(body); !ok {
			t.Errorf("body %d: the decoders' way refuses a sealed event:\n%s", i, body)
		}
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
	check := func(e Envelope) {
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
	base := Envelope{ID: "0194f2b0-0000-7000-8000-000000000001", Type: "item.prioritised", SchemaVersion: 1,
		AggregateType: "item", AggregateID: "0194f2b0-0000-7000-8000-000000000abc", Time: times[0], Actor: "pm@example.com",
		Data: []byte(`{"rank":1}`), PrevHash: "", Hash: strings.Repeat("ab", 32)}
	for _, s := range strs {
		for _, field := range []func(*Envelope, string){
			func(e *Envelope, s string) { e.ID = s },
			func(e *Envelope, s string) { e.Type = s },
			func(e *Envelope, s string) { e.AggregateType = s },
			func(e *Envelope, s string) { e.AggregateID = s },
			func(e *Envelope, s string) { e.Actor = s },
			func(e *Envelope, s string) { e.PrevHash = s },
			func(e *Envelope, s string) { e.Hash = s },
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

// FuzzDecodeAgreesWithCanonical holds Decode and Verify to the definition
// (decodeCanonical) on arbitrary bytes: the same verdict, the same envelope
// or the same error.
func FuzzDecodeAgreesWithCanonical(f *testing.F) {
	for _, body := range append(sealedBodies(f), domainBodies(f)...) {
		f.Add(body)
		hashAt := bytes.LastIndex(body, []byte(`,"hash":"`))
		f.Add(append(bytes.Clone(body[:hashAt]), '}'))
		f.Add(append([]byte("{ "), body[1:]...))
		changed := bytes.Clone(body)
		changed[len(changed)/3] ^= 1
		f.Add(changed)
	}
	var v Verifier
	f.Fuzz(func(t *testing.T, body []byte) { sameVerdict(t, &v, "fuzzed", body, false) })
}
