package eventlog

import (
	"reflect"
	"strings"
	"testing"

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
	}
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
