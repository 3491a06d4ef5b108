package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// domainEvents are domain events of every type in the catalogue, empty and
// filled, with text the encoder escapes.
func domainEvents(t testing.TB) []roadmap.Event {
	t.Helper()
	var out []roadmap.Event
	for eventType := range roadmap.SchemaVersions {
		ev, ok := roadmap.NewEvent(eventType)
		if !ok {
			t.Fatalf("%s has a schema version but no type (roadmap.NewEvent)", eventType)
		}
		out = append(out, ev)
	}
	rank, effort := 2, 5
	reach := 1200.0
	placement := roadmap.Placement{
		Horizon: roadmap.Now, Rank: &rank,
		Score:        &roadmap.Score{Framework: "rice", Version: 1, Reach: &reach, Value: 640.5},
		ObjectiveIDs: []string{"01a205a0-38db-7709-b8d4-f4d69e80948a"}, Rationale: `Cheapest fix for <the> "top" churn & more` + "\u2028é",
		Evidence: []string{"https://example.com/a?b=c&d=<e>"}, Effort: &effort,
		Approval: &roadmap.Approval{ChangeID: "c", ProposedBy: "pm@example.com"},
	}
	out = append(out,
		roadmap.ObjectiveDefined{Title: "Reduce <onboarding> time", KPI: "median & mean", Target: "-30%", Product: "web"},
		&roadmap.ItemPrioritised{Placement: placement},
		roadmap.ItemReprioritised{Placement: placement},
		&roadmap.ChangeProposed{ItemID: "i", ItemVersion: 41, Decision: roadmap.TypeItemPrioritised, Placement: &placement, Reason: "a prioritisation into now"},
		&roadmap.ReviewClosed{Notes: "tab\tnew\nline", Sequence: 1234, Heads: roadmap.ChainHeads{Aggregates: 3, Digest: "ab"},
			Checkpoint: &roadmap.CheckpointSigned{Size: 1234, Root: "re0D+/=", Time: time.Date(2026, 11, 30, 17, 2, 11, 482113000, time.UTC), Note: "o\n1234\n"}},
	)
	return out
}

// TestNewEnvelopeIsTheLedgersEncoding checks that NewEnvelope gives, for
// every type of the catalogue, the envelope the ledger has always built:
// the type, its schema version, the metadata as given, and the data as
// json.Marshal encodes it; sealed, the same stored bytes.
func TestNewEnvelopeIsTheLedgersEncoding(t *testing.T) {
	m := Meta{
		ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", AggregateType: "item", AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a",
		Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC), Actor: "pm@example.com",
	}
	for _, ev := range domainEvents(t) {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		want := &Envelope{
			ID: m.ID, Type: ev.EventType(), SchemaVersion: roadmap.SchemaVersions[ev.EventType()],
			AggregateType: m.AggregateType, AggregateID: m.AggregateID, Time: m.Time, Actor: m.Actor, Data: data,
		}
		got, err := NewEnvelope(ev, m)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventType(), err)
		}
		gotBody, err1 := got.Seal("prev")
		wantBody, err2 := want.Seal("prev")
		if err1 != nil || err2 != nil || !bytes.Equal(gotBody, wantBody) || got.Hash != want.Hash {
			t.Fatalf("%s: stored\n%s (%v)\nwant\n%s (%v)", ev.EventType(), gotBody, err1, wantBody, err2)
		}
		if _, err := Decode(gotBody); err != nil {
			t.Fatalf("%s: the sealed envelope does not verify: %v", ev.EventType(), err)
		}
	}
}

// TestNewEnvelopeStoredBytes pins the stored bytes and hash of one event:
// the format and the hash definition never change, or every existing ledger
// would stop verifying.
func TestNewEnvelopeStoredBytes(t *testing.T) {
	_, body := sealed(t, roadmap.ObjectiveDefined{Title: "Reduce <onboarding> time", Description: "Zoë's \"plan\"", KPI: "median minutes", Target: "-30% & more", Product: "web"},
		Meta{ID: "01a205a0-38db-7709-b8d4-f4d69e80948a", AggregateType: "objective", AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a",
			Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC), Actor: "ceo@example.com"}, "")
	const want = `{"id":"01a205a0-38db-7709-b8d4-f4d69e80948a","type":"objective.defined","schema_version":1,"aggregate_type":"objective","aggregate_id":"01a205a0-38db-7709-b8d4-f4d69e80948a","time":"2026-11-01T09:30:00.123456Z","actor":"ceo@example.com","data":{"title":"Reduce \u003conboarding\u003e time","description":"Zoë's \"plan\"","kpi":"median minutes","target":"-30% \u0026 more","product":"web"},"prev_hash":"","hash":"` + storedHash + `"}`
	if string(body) != want {
		t.Fatalf("stored\n%s\nwant\n%s", body, want)
	}
}

// storedHash is the hash of the event of TestNewEnvelopeStoredBytes.
const storedHash = "5ff3e6a702e77f648d9092f672254e1e2f95e23a68b9c54abb8c59518ccd1a7d"

func TestNewEnvelopeRefuses(t *testing.T) {
	nan := math.NaN()
	for name, ev := range map[string]roadmap.Event{
		"no event":     nil,
		"unknown type": unknownEvent{},
	} {
		if _, err := NewEnvelope(ev, Meta{}); !errors.Is(err, ErrUnknownType) {
			t.Errorf("%s: %v, want ErrUnknownType", name, err)
		}
	}
	_, err := NewEnvelope(roadmap.ItemPrioritised{Placement: roadmap.Placement{Score: &roadmap.Score{Value: nan}}}, Meta{})
	if err == nil || errors.Is(err, ErrUnknownType) {
		t.Errorf("a NaN score: %v, want the encoder's error", err)
	}
}

type unknownEvent struct{}

func (unknownEvent) EventType() string { return "item.archived" }

// domainBodies are stored bodies of domain events: every type of the
// catalogue, the placements of placementSeeds, and bodies off the
// canonical shape or with data that does not decode.
func domainBodies(tb testing.TB) [][]byte {
	tb.Helper()
	at := time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC)
	var out [][]byte
	prev := ""
	seal := func(eventType string, data []byte) {
		e := Envelope{ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", Type: eventType, SchemaVersion: 1, AggregateType: "item",
			AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a", Time: at, Actor: "pm@example.com", Data: data}
		body, err := e.Seal(prev)
		if err != nil {
			tb.Fatal(err)
		}
		prev = e.Hash
		out = append(out, body)
	}
	for _, ev := range domainEvents(tb) {
		data, err := json.Marshal(ev)
		if err != nil {
			tb.Fatal(err)
		}
		seal(ev.EventType(), data)
	}
	for _, data := range placementSeeds {
		if json.Valid([]byte(data)) {
			seal(roadmap.TypeItemPrioritised, []byte(data))
			seal(roadmap.TypeItemReprioritised, []byte(data))
		}
	}
	for _, d := range []struct{ typ, data string }{
		{roadmap.TypeItemProposed, `{"objective_ids":"x"}`},
		{roadmap.TypeReviewClosed, `{"sequence":-1}`},
		{roadmap.TypeItemPrioritised, `{"rank":1e400}`},
		{roadmap.TypeItemRemoved, `[]`},
		{"item.archived", `{"anything":true}`},
	} {
		seal(d.typ, []byte(d.data))
	}
	n := len(out)
	for _, body := range out[:n] {
		out = append(out,
			bytes.Replace(body, []byte(`,"data":`), []byte(`, "data": `), 1),
			bytes.Replace(body, []byte(`"type":"item.`), []byte(`"type":"item.x`), 1))
	}
	return out
}

// checkDomainParse reads body as the replay does (the parser with
// DomainData) and as the general decoders do (the envelope, then
// Record.Event on a record read without decoding its data), and fails
// unless both give the same envelope and the same event, or both refuse:
// the same error for the event.
func checkDomainParse(t *testing.T, p *parser, body []byte) {
	t.Helper()
	rec := Record{Sequence: 7}
	want, ok := parseAsGeneral(t, p, body, &rec)
	if !ok {
		return
	}
	if rec.Decoded != nil {
		if _, ok := rec.Decoded.(roadmap.Event); !ok {
			t.Fatalf("%s: decoded into %T, not a domain event", body, rec.Decoded)
		}
	}
	got, gotErr := rec.Event()
	wantEv, wantEvErr := Record{Sequence: 7, Envelope: want}.Event()
	if (gotErr == nil) != (wantEvErr == nil) || (gotErr != nil && gotErr.Error() != wantEvErr.Error()) {
		t.Fatalf("%s: event error %v, general decoder %v", body, gotErr, wantEvErr)
	}
	if !reflect.DeepEqual(got, wantEv) {
		t.Fatalf("%s: event\n%#v\nwant\n%#v", body, got, wantEv)
	}
}

// TestDomainDataDecodesAsTheGeneralDecoder checks that the replay's
// reading of stored events (DomainData, the placements' own decoder
// included) gives every event as the general decoder does, and that the
// events the ledger stores take the fast path.
func TestDomainDataDecodesAsTheGeneralDecoder(t *testing.T) {
	p := newParser(DomainData)
	bodies := domainBodies(t)
	for _, body := range bodies {
		checkDomainParse(t, p, body)
	}
	for _, ev := range domainEvents(t) {
		env, body := sealed(t, ev, Meta{ID: "a", AggregateType: "item", AggregateID: "b", Time: time.Unix(1, 0).UTC(), Actor: "pm"}, "")
		var rec Record
		err := p.fast(body, &rec)
		if placed := bytes.Contains(env.Data, []byte(`"horizon"`)); placed && (bytes.Contains(env.Data, []byte(`"effort"`)) || bytes.Contains(env.Data, []byte(`"approval"`))) {
			// The placements' decoder leaves the optional fields to the
			// general decoder.
			continue
		}
		if err != nil {
			t.Fatalf("%s: a stored event does not take the fast path: %v", body, err)
		}
		got, ok := rec.Decoded.(roadmap.Event)
		if !ok || got.EventType() != ev.EventType() {
			t.Fatalf("%s: decoded %#v as it was read", body, rec.Decoded)
		}
	}
	// A record of an unknown type, or of a version newer than the
	// catalogue's, is unreadable, named by its sequence, type and version;
	// one whose data does not decode names its sequence.
	for _, unreadable := range []struct {
		env  Envelope
		says string
	}{
		{Envelope{Type: "item.archived", SchemaVersion: 1, Data: json.RawMessage(`{}`)}, `sequence 9 is an event of type "item.archived" version 1, which this release does not know`},
		{Envelope{Type: roadmap.TypeTokenCreated, SchemaVersion: 3, Data: json.RawMessage(`{}`)}, "sequence 9 is token.created version 3, but this release reads versions 1 to 2"},
		{Envelope{Type: roadmap.TypeItemProposed, SchemaVersion: 0, Data: json.RawMessage(`{}`)}, "sequence 9 is item.proposed version 0"},
	} {
		ev, err := (Record{Sequence: 9, Envelope: unreadable.env}).Event()
		if ev != nil || !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), unreadable.says) {
			t.Errorf("%s version %d: %v, %v; want ErrUnreadable saying %q", unreadable.env.Type, unreadable.env.SchemaVersion, ev, err, unreadable.says)
		}
	}
	if ev, err := (Record{Sequence: 9, Envelope: Envelope{Type: roadmap.TypeTokenCreated, SchemaVersion: 1, Data: json.RawMessage(`{"name":"old","role":"admin","secret_sha256":"ab","expires_at":null}`)}}).Event(); err != nil || ev.(*roadmap.TokenCreated).SecretSHA256 != "ab" {
		t.Errorf("token.created version 1: %v, %v; want it read into today's type", ev, err)
	}
	if _, err := (Record{Sequence: 9, Envelope: Envelope{Type: roadmap.TypeItemProposed, SchemaVersion: 1, Data: json.RawMessage(`[]`)}}).Event(); err == nil || !strings.Contains(err.Error(), "sequence 9: decode item.proposed") {
		t.Errorf("data that does not decode: %v", err)
	}
}

func FuzzDomainParse(f *testing.F) {
	for _, body := range domainBodies(f) {
		f.Add(body)
	}
	p := newParser(DomainData)
	f.Fuzz(func(t *testing.T, body []byte) { checkDomainParse(t, p, body) })
}
