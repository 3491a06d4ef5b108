package eventlog

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

var placementSeeds = []string{
	`{"horizon":"now","rank":1,"score":{"framework":"rice","version":1,"reach":1200,"impact":2,"confidence":0.8,"effort":3,"value":640},"objective_ids":[],"rationale":"r","evidence":["e"]}`,
	`{"horizon":"next","rank":3,"score":{"framework":"wsjf","version":1,"business_value":3,"time_criticality":20,"risk_reduction":1,"job_size":5,"value":4.8},"objective_ids":["a","b"],"rationale":"Because \u003cthis\u003e \"matters\"","evidence":[]}`,
	`{"horizon":"later","rank":null,"score":{"framework":"moscow","version":1,"category":"must","value":4},"objective_ids":null,"rationale":"","evidence":null}`,
	`{"horizon":"later","rank":null,"score":null,"objective_ids":null,"rationale":"r","evidence":null}`,
	`{"horizon":"now","score":{"framework":"value_effort","version":1,"customer_value":5,"business_value":4,"effort":2,"risk":1,"value":5}}`,
	`{}`,
	`{"horizon":"now","rank":1.0}`,
	`{"horizon":"now","rank":-0}`,
	`{"horizon":"now","rank":1e2}`,
	`{"rank":-9223372036854775809}`,
	`{"score":{"reach":1e400}}`,
	`{"score":{"reach":null}}`,
	`{"score":{"reach":1,"impact":2,"confidence":3,"effort":4,"risk":5}}`,
	`{"score":{"version":1,"version":2}}`,
	`{"horizon":"now","horizon":"next"}`,
	`{"Horizon":"now"}`,
	`{"h\u006frizon":"now"}`,
	`{"horizon":"now","unknown":[1,2,{"x":null}]}`,
	`{"horizon": "now"}`,
	`{"horizon":1}`,
	`{"evidence":[1]}`,
	`{"evidence":["a",null]}`,
	`{"score":[]}`,
	`{"horizon":"\ud83d\ude00"}`,
	"{\"horizon\":\"\x01\"}",
	"{\"rationale\":\"\xff\"}",
	"{\"rationale\":\"\\u0041\x01\"}",
	`{"rationale":"\ud800"}`,
	`{"rank":01}`,
	`{"score":{"value":1.}}`,
	`{"score":{"value":.5}}`,
	`{"score":{"value":+1}}`,
	`{"score":{"value":-}}`,
	`{"score":{"value":1e}}`,
	`{"rank":1,"rank":2}`,
	`{"evidence":["a"],"evidence":[]}`,
	`null`,
	`[]`,
	`"now"`,
	`{"horizon":"now"`,
}

// checkPlacement decodes data as the replay does and as the
// general decoder does, into both event types that carry a placement: what
// the replay's decoder takes, it must decode as the general decoder does.
func checkPlacement(t *testing.T, data string) {
	t.Helper()
	for _, typ := range []string{roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised} {
		want, _ := roadmap.NewEvent(typ)
		wantErr := jsonv2.Unmarshal([]byte(data), want)
		target := DomainData(typ)
		pd, ok := target.(*placementData)
		if !ok {
			t.Fatalf("%s: decoded by %T", typ, target)
		}
		n, ok := pd.DecodeData([]byte(data))
		if !ok {
			continue // left to the general decoder
		}
		// What follows the value is the rest of the stored body, read by
		// the event log: the value itself must decode as it did.
		want, _ = roadmap.NewEvent(typ)
		if n <= 0 || n > len(data) || jsonv2.Unmarshal([]byte(data[:n]), want) != nil {
			t.Fatalf("%s %s: decoded %d bytes, which the general decoder refuses", typ, data, n)
		}
		if wantErr == nil && n != len(strings.TrimRight(data, " \t\r\n")) {
			t.Fatalf("%s %s: decoded %d bytes of a valid value", typ, data, n)
		}
		got := pd.ev
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %s: decoded\n%#v\nwant\n%#v", typ, data, got, want)
		}
		// As the replay reads it, with the strings that repeat shared
		// through the parser's table: twice, so that the second reads
		// them from the table.
		shared := interner{}
		for range 2 {
			pd := DomainData(typ).(*placementData)
			if n2, ok := pd.decode([]byte(data), shared); !ok || n2 != n || !reflect.DeepEqual(pd.ev, want) {
				t.Fatalf("%s %s: with shared strings decoded %d bytes (ok %v)\n%#v\nwant\n%#v", typ, data, n2, ok, pd.ev, want)
			}
		}
	}
}

// TestParserSharesTheStringsThatRepeat reads two placements as the replay
// does: their horizon, framework, category and objective ids are one copy
// each, not one per event; rationales and evidence are not shared.
func TestParserSharesTheStringsThatRepeat(t *testing.T) {
	p := newParser(DomainData)
	const data = `{"horizon":"now","rank":1,"score":{"framework":"moscow","version":1,"category":"must","value":4},"objective_ids":["01a205a0-38db-7709-b8d4-f4d69e80948a"],"rationale":"why","evidence":["https://example.com/e"]}`
	var placements []*roadmap.Placement
	for i := range 2 {
		_, body := sealed(t, mustPlacement(t, data), Meta{ID: "a", AggregateType: "item", AggregateID: "b", Time: time.Unix(int64(i), 0).UTC(), Actor: "pm"}, "")
		var rec Record
		if err := p.parse(body, &rec); err != nil {
			t.Fatal(err)
		}
		ev, ok := rec.Decoded.(*roadmap.ItemReprioritised)
		if !ok {
			t.Fatalf("decoded %T", rec.Decoded)
		}
		placements = append(placements, &ev.Placement)
	}
	a, b := placements[0], placements[1]
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	if !same(string(a.Horizon), string(b.Horizon)) || !same(a.Score.Framework, b.Score.Framework) ||
		!same(a.Score.Category, b.Score.Category) || !same(a.ObjectiveIDs[0], b.ObjectiveIDs[0]) {
		t.Errorf("the strings that repeat are copied for each event")
	}
	if same(a.Rationale, b.Rationale) || same(a.Evidence[0], b.Evidence[0]) {
		t.Errorf("a rationale or evidence, unique to its event, is kept in the parser's table")
	}
}

func mustPlacement(t *testing.T, data string) *roadmap.ItemReprioritised {
	t.Helper()
	ev := new(roadmap.ItemReprioritised)
	if err := jsonv2.Unmarshal([]byte(data), ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestPlacementDecodesAsTheGeneralDecoder(t *testing.T) {
	for _, data := range placementSeeds {
		checkPlacement(t, data)
	}
	// The shape the ledger writes takes the fast path.
	for _, data := range placementSeeds[:5] {
		if _, ok := DomainData(roadmap.TypeItemReprioritised).(dataDecoder).DecodeData([]byte(data)); !ok {
			t.Fatalf("%s: a stored placement is left to the general decoder", data)
		}
	}
}

func FuzzPlacement(f *testing.F) {
	for _, s := range placementSeeds {
		f.Add(s)
	}
	f.Fuzz(checkPlacement)
}
