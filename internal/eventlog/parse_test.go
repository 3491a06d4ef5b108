package eventlog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// placement is a data type for the parser tests, shaped like the ledger's
// decisions: pointers, slices, a nested object.
type placement struct {
	Horizon string   `json:"horizon"`
	Rank    *int     `json:"rank"`
	IDs     []string `json:"objective_ids"`
	Score   *struct {
		Framework string   `json:"framework"`
		Reach     *float64 `json:"reach,omitempty"`
		Value     float64  `json:"value"`
	} `json:"score"`
}

func testData(eventType string) any {
	if eventType == "item.prioritised" {
		return new(placement)
	}
	return nil
}

// parseBodies are stored bodies as the ledger writes them and others it
// might meet: each must parse exactly as the general decoder parses it.
func parseBodies(tb testing.TB) [][]byte {
	at := time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC)
	envs := []Envelope{
		{ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", Type: "item.prioritised", SchemaVersion: 1, AggregateType: "item",
			AggregateID: "01a205a0-464d-7caf-ae2b-69c5709021e3", Time: at, Actor: "pm@example.com",
			Data: json.RawMessage(`{"horizon":"now","rank":1,"objective_ids":[],"score":{"framework":"rice","reach":2.5,"value":4}}`)},
		{ID: "b", Type: "item.prioritised", SchemaVersion: 1, AggregateType: "item", AggregateID: "c", Time: at.Truncate(time.Second),
			Actor: "<&>\u2028é", Data: json.RawMessage(`{"horizon":"later","rank":null,"objective_ids":null,"score":null}`)},
		{ID: "d", Type: "other.type", AggregateType: "item", AggregateID: "e", Time: at, Data: json.RawMessage(`{"x":[1,{"y":null}]}`)},
		{ID: "f", Type: "item.prioritised", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 5*3600)), Data: json.RawMessage(`{}`)},
		{ID: "g", Type: "item.prioritised", Time: at, Data: json.RawMessage(`null`)},
		{ID: "h", Type: "item.prioritised", Time: at, Data: json.RawMessage(`{"horizon":1}`)},
		{ID: "i", Type: "item.prioritised", Time: at, Data: json.RawMessage(`[1,2]`)},
	}
	var bodies [][]byte
	prev := ""
	for _, e := range envs {
		body, err := e.Seal(prev)
		if err != nil {
			tb.Fatal(err)
		}
		prev = e.Hash
		bodies = append(bodies, body,
			bytes.Replace(body, []byte(`,"data":`), []byte(` , "data" :  `), 1),
			bytes.Replace(body, []byte(`"type"`), []byte(`"t\u0079pe"`), 1),
			bytes.Replace(body, []byte(`"actor"`), []byte(`"Actor"`), 1),
			bytes.Replace(body, []byte(`"id"`), []byte(`"extra":{},"id"`), 1),
			bytes.Replace(body, []byte(`"schema_version":1`), []byte(`"schema_version":1.0`), 1),
			bytes.Replace(body, []byte(`"prev_hash":""`), []byte(`"prev_hash":null`), 1),
			bytes.Replace(body, []byte(`Z"`), []byte(`+00:00"`), 1),
			bytes.Replace(body, []byte(`.123456Z"`), []byte(`,123456Z"`), 1),
			bytes.Replace(body, []byte(`"id":"`), []byte(`"id":"x","id":"`), 1),
			bytes.Replace(body, []byte(`"schema_version":1`), []byte(`"schema_version":01`), 1),
			bytes.Replace(body, []byte(`"actor":"`), []byte("\"actor\":\"\x01"), 1),
			bytes.Replace(body, []byte(`"actor":"`), []byte("\"actor\":\"\xff"), 1),
			bytes.Replace(body, []byte(`"id":"`), []byte(`"id":"\ud800`), 1),
			bytes.Replace(body, []byte(`"hash"`), []byte(`"hash":"","hash"`), 1),
			append(bytes.Clone(body), ` {}`...),
			body[:len(body)-1])
	}
	// The data before its type: read, but not decoded on the way.
	bodies = append(bodies, []byte(`{"data":{"horizon":"now"},"type":"item.prioritised","id":"z"}`),
		[]byte(`{"time":"2026-02-30T00:00:00Z"}`), []byte(`{"time":"2026-11-01T9:30:00Z"}`), []byte(`{}`), []byte(`[]`))
	return bodies
}

// parseAsGeneral parses body into rec with p and fails the test unless p
// accepts it exactly when the general decoder does, with the same envelope.
// It returns that envelope, and whether both accepted body.
func parseAsGeneral(t *testing.T, p *parser, body []byte, rec *Record) (Envelope, bool) {
	t.Helper()
	var want Envelope
	wantErr := jsonv2.Unmarshal(body, &want)
	err := p.parse(body, rec)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%s: parse error %v, general decoder %v", body, err, wantErr)
	}
	if err != nil {
		return want, false
	}
	if !sameEnvelope(rec.Envelope, want) {
		t.Fatalf("%s: parsed\n%+v\nwant\n%+v", body, rec.Envelope, want)
	}
	return want, true
}

// sealed is the envelope of ev with meta, and its stored bytes sealed after
// prev; it fails the test when either cannot be made.
func sealed(tb testing.TB, ev roadmap.Event, meta Meta, prev string) (*Envelope, []byte) {
	tb.Helper()
	env, err := NewEnvelope(ev, meta)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := env.Seal(prev)
	if err != nil {
		tb.Fatal(err)
	}
	return env, body
}

// checkParse parses body with a parser and with the general decoder, and
// fails unless both give the same envelope, or both refuse it; the data
// decoded on the way must be what the general decoder makes of Data.
func checkParse(t *testing.T, p *parser, body []byte) {
	t.Helper()
	var rec Record
	want, ok := parseAsGeneral(t, p, body, &rec)
	if !ok {
		return
	}
	proto := testData(want.Type)
	if proto == nil {
		if rec.Decoded != nil {
			t.Fatalf("%s: decoded %v for a type without data", body, rec.Decoded)
		}
		return
	}
	if jsonv2.Unmarshal(want.Data, proto) != nil {
		if rec.Decoded != nil {
			t.Fatalf("%s: decoded %+v, which the general decoder refuses", body, rec.Decoded)
		}
		return
	}
	if rec.Decoded != nil && !reflect.DeepEqual(rec.Decoded, proto) {
		t.Fatalf("%s: decoded %+v, want %+v", body, rec.Decoded, proto)
	}
}

// sameEnvelope reports whether two envelopes are the same. Times compare
// by instant and zone: each parse of an offset that is not whole hours
// makes a zone of its own.
func sameEnvelope(got, want Envelope) bool {
	gotZone, gotOffset := got.Time.Zone()
	wantZone, wantOffset := want.Time.Zone()
	sameTime := got.Time.Equal(want.Time) && gotZone == wantZone && gotOffset == wantOffset &&
		(got.Time.Location() == time.UTC) == (want.Time.Location() == time.UTC)
	got.Time, want.Time = time.Time{}, time.Time{}
	return sameTime && reflect.DeepEqual(got, want)
}

func TestParseMatchesGeneralDecoder(t *testing.T) {
	p := newParser(testData)
	fast := 0
	for _, body := range parseBodies(t) {
		checkParse(t, p, body)
		var rec Record
		if p.fast(body, &rec) == nil {
			fast++
		}
	}
	// The bodies the ledger writes take the fast path.
	if fast < 5 {
		t.Fatalf("only %d bodies took the fast path", fast)
	}
	body, err := (&Envelope{ID: "a", Type: "item.prioritised", Time: time.Unix(1, 0).UTC(),
		Data: json.RawMessage(`{"horizon":"now","rank":3}`)}).Seal("")
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := p.fast(body, &rec); err != nil {
		t.Fatalf("a sealed envelope does not take the fast path: %v", err)
	}
	if pl, ok := rec.Decoded.(*placement); !ok || pl.Horizon != "now" || pl.Rank == nil || *pl.Rank != 3 {
		t.Fatalf("decoded %#v", rec.Decoded)
	}
	if string(rec.Envelope.Data) != `{"horizon":"now","rank":3}` {
		t.Fatalf("data %s", rec.Envelope.Data)
	}
}

func FuzzParse(f *testing.F) {
	for _, body := range parseBodies(f) {
		f.Add(body)
	}
	p := newParser(testData)
	f.Fuzz(func(t *testing.T, body []byte) { checkParse(t, p, body) })
}

func TestStreamSequenceReadsTheReplySubject(t *testing.T) {
	for reply, want := range map[string]uint64{
		"$JS.ACK.ROADMAP.c1.1.42.7.1700000000000000000.0":                  42,
		"$JS.ACK._.ACCHASH.ROADMAP.c1.1.1000000.7.1700000000000000000.0.x": 1000000,
		"$JS.ACK.hub.ACCHASH.ROADMAP.c1.1.9.7.1700000000000000000.0":       9,
	} {
		if got, ok := streamSequence(reply); !ok || got != want {
			t.Errorf("%s: %d, %v; want %d", reply, got, ok, want)
		}
	}
	for _, reply := range []string{"", "_INBOX.x", "$JS.ACK.a.b.c", "$JS.ACK.ROADMAP.c1.1.x2.7.1.0", "$JS.ACK.a.b.c.d.e.f.g.h.i.j"} {
		if _, ok := streamSequence(reply); ok {
			t.Errorf("%s: read as a sequence", reply)
		}
	}
}

// rawData is a dataDecoder that keeps the bytes it is given.
type rawData struct{ got []byte }

func (d *rawData) DecodeData(data []byte) (int, bool) {
	v, err := jsontext.NewDecoder(bytes.NewReader(data)).ReadValue()
	if err != nil {
		return 0, false
	}
	d.got = bytes.Clone(v)
	return len(v), true
}

func TestParseGivesADataDecoderTheDataBytes(t *testing.T) {
	p := newParser(func(string) any { return new(rawData) })
	data := `{"a":[1,"}\"]",{"b":null}],"c":"\u00e9"}`
	body, err := (&Envelope{ID: "a", Type: "t", Time: time.Unix(1, 0).UTC(), Data: json.RawMessage(data)}).Seal("")
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	if err := p.fast(body, &rec); err != nil {
		t.Fatalf("a sealed envelope does not take the fast path: %v", err)
	}
	if d, ok := rec.Decoded.(*rawData); !ok || string(d.got) != data || string(rec.Envelope.Data) != data {
		t.Fatalf("decoded %#v, data %s", rec.Decoded, rec.Envelope.Data)
	}
}
