package projections_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// FuzzDecodeEventData decodes an event of an arbitrary type with arbitrary
// data: Decode must never panic; an unknown type decodes to no data and an
// error naming it (eventlog.ErrUnreadable); a known one to data of that type, or an error naming the event.
func FuzzDecodeEventData(f *testing.F) {
	for _, s := range []struct{ typ, data string }{
		{roadmap.TypeObjectiveDefined, `{"title":"t","description":"","kpi":"k","target":"x","product":"web"}`},
		{roadmap.TypeObjectiveRetired, `{"rationale":"met"}`},
		{roadmap.TypeItemProposed, `{"title":"t","description":"","kind":"idea","parent_id":"01a205a0-463e-7e01-b8e2-3bd3b120fdf3","product":"web","objective_ids":["01a205a0-462e-77b6-8242-e960bb45a0a4"]}`},
		{roadmap.TypeItemPrioritised, `{"horizon":"now","rank":1,"score":{"framework":"rice","version":1,"reach":1200,"impact":2,"confidence":0.8,"effort":3,"value":640},"objective_ids":[],"rationale":"r","evidence":["e"]}`},
		{roadmap.TypeItemReprioritised, `{"horizon":"later","rank":null,"score":null,"objective_ids":null,"rationale":"r","evidence":null}`},
		{roadmap.TypeItemRemoved, `{"rationale":"r","evidence":[]}`},
		{roadmap.TypeReviewOpened, `{"period":"2026-11","title":"November board"}`},
		{roadmap.TypeReviewClosed, `{"notes":"n","sequence":42,"heads":{"aggregates":3,"digest":"ab"}}`},
		{roadmap.TypeItemPrioritised, `{"rank":1e400}`},
		{roadmap.TypeItemPrioritised, `{"rank":-9223372036854775809}`},
		{roadmap.TypeItemPrioritised, `{"score":{"reach":"NaN"}}`},
		{roadmap.TypeReviewClosed, `{"sequence":-1}`},
		{roadmap.TypeReviewClosed, `{"sequence":18446744073709551616}`},
		{roadmap.TypeItemProposed, `{"objective_ids":"x"}`},
		{roadmap.TypeItemProposed, `[]`},
		{roadmap.TypeItemProposed, `null`},
		{roadmap.TypeItemProposed, ``},
		{roadmap.TypeItemProposed, `{"title":`},
		{roadmap.TypeItemProposed, "{\"title\":\"\xff\"}"},
		{roadmap.TypeItemProposed, strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)},
		{"item.archived", `{"anything":true}`},
		{"", ``},
		{"ITEM.PROPOSED", `{}`},
		{"item.proposed\x00", `{}`},
	} {
		f.Add(s.typ, []byte(s.data))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		rec := eventlog.Record{Sequence: 7, Envelope: eventlog.Envelope{
			Type: typ, SchemaVersion: 1, AggregateType: "item", AggregateID: "01a205a0-464d-7caf-ae2b-69c5709021e3",
			Time: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Data: json.RawMessage(data),
		}}
		ev, err := projections.Decode(rec)
		_, known := roadmap.NewEvent(typ)
		switch {
		case !known && (!errors.Is(err, eventlog.ErrUnreadable) || ev.Data != nil || !strings.Contains(err.Error(), "sequence 7")):
			t.Fatalf("unknown type %q: data %v, error %v; want no data and ErrUnreadable naming the sequence", typ, ev.Data, err)
		case !known:
		case known && err != nil:
			if ev.Data != nil {
				t.Fatalf("%q %q: error %v with data %v", typ, data, err, ev.Data)
			}
			if !strings.Contains(err.Error(), "sequence 7") {
				t.Fatalf("%q %q: error %q does not name the event", typ, data, err)
			}
		case known && ev.Data == nil:
			t.Fatalf("%q %q: no data and no error", typ, data)
		case known && ev.Data.EventType() != typ:
			t.Fatalf("%q %q: decoded as %q", typ, data, ev.Data.EventType())
		}
		if ev.Sequence != rec.Sequence || ev.Envelope.Type != typ {
			t.Fatalf("%q: the record is not kept: %+v", typ, ev.Record)
		}
	})
}
