package eventlog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// domainEvents are domain events of every type in the catalogue, empty and
// filled, with text the encoder escapes.
func domainEvents(t *testing.T) []roadmap.Event {
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
	m := eventlog.Meta{
		ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", AggregateType: "item", AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a",
		Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC), Actor: "pm@example.com",
	}
	for _, ev := range domainEvents(t) {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		want := &eventlog.Envelope{
			ID: m.ID, Type: ev.EventType(), SchemaVersion: roadmap.SchemaVersions[ev.EventType()],
			AggregateType: m.AggregateType, AggregateID: m.AggregateID, Time: m.Time, Actor: m.Actor, Data: data,
		}
		got, err := eventlog.NewEnvelope(ev, m)
		if err != nil {
			t.Fatalf("%s: %v", ev.EventType(), err)
		}
		gotBody, err1 := got.Seal("prev")
		wantBody, err2 := want.Seal("prev")
		if err1 != nil || err2 != nil || !bytes.Equal(gotBody, wantBody) || got.Hash != want.Hash {
			t.Fatalf("%s: stored\n%s (%v)\nwant\n%s (%v)", ev.EventType(), gotBody, err1, wantBody, err2)
		}
		if _, err := eventlog.Decode(gotBody); err != nil {
			t.Fatalf("%s: the sealed envelope does not verify: %v", ev.EventType(), err)
		}
	}
}

// TestNewEnvelopeStoredBytes pins the stored bytes and hash of one event:
// the format and the hash definition never change, or every existing ledger
// would stop verifying.
func TestNewEnvelopeStoredBytes(t *testing.T) {
	env, err := eventlog.NewEnvelope(roadmap.ObjectiveDefined{Title: "Reduce <onboarding> time", Description: "Zoë's \"plan\"", KPI: "median minutes", Target: "-30% & more", Product: "web"},
		eventlog.Meta{ID: "01a205a0-38db-7709-b8d4-f4d69e80948a", AggregateType: "objective", AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a",
			Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC), Actor: "ceo@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := env.Seal("")
	if err != nil {
		t.Fatal(err)
	}
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
		if _, err := eventlog.NewEnvelope(ev, eventlog.Meta{}); !errors.Is(err, eventlog.ErrUnknownType) {
			t.Errorf("%s: %v, want ErrUnknownType", name, err)
		}
	}
	_, err := eventlog.NewEnvelope(roadmap.ItemPrioritised{Placement: roadmap.Placement{Score: &roadmap.Score{Value: nan}}}, eventlog.Meta{})
	if err == nil || errors.Is(err, eventlog.ErrUnknownType) {
		t.Errorf("a NaN score: %v, want the encoder's error", err)
	}
}

type unknownEvent struct{}

func (unknownEvent) EventType() string { return "item.archived" }
