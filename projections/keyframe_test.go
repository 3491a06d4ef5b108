package projections

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// fill sets every exported field reachable from v to a value of its own,
// not the zero value: pointers point, lists hold two elements.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6000*(*n), time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n))
	case reflect.Uint64, reflect.Uint32:
		v.SetUint(uint64(*n))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	default:
		panic("fill: " + v.Type().String())
	}
}

// keyframeOf returns a state of the given item views, in handle order.
func keyframeOf(views ...*ItemView) *State {
	s := NewState()
	s.Sequence, s.At, s.began = 7, time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
	for i, v := range views {
		v.handle = uint32(i)
		s.ids = append(s.ids, v.ID)
		s.items[v.ID] = v
	}
	return s
}

func TestAKeyframeKeepsEveryFieldOfItsItemViews(t *testing.T) {
	n := 0
	full := &ItemView{}
	fill(reflect.ValueOf(full).Elem(), &n)
	full.evidence = []string{"e1", "e2"}
	shared := &ItemView{Item: roadmap.Item{ID: "shared", ItemBrief: roadmap.ItemBrief{ObjectiveIDs: []string{}}}}
	shared.LastDecision = &Decision{Sequence: 3, Type: "item.prioritised", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	shared.Placed, shared.Published = shared.LastDecision, shared.LastDecision
	shared.evidence = []string{}
	bare := &ItemView{Item: roadmap.Item{ID: "bare"}}
	s := keyframeOf(full, shared, bare)
	data, err := AppendKeyframe(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeKeyframe(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("decoded:\n got %+v\nwant %+v", got.items, s.items)
	}
	if v := got.items["shared"]; v.Placed != v.LastDecision || v.Published != v.LastDecision {
		t.Error("a decision the item's last decision was shared with is decoded as a copy")
	}
	// A decoded keyframe keeps nothing of the bytes it came from: the
	// keyframe files' reader uses its buffer again for the next file.
	for i := range data {
		data[i] = 0xa5
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("a decoded keyframe changed with the bytes it was decoded from:\n got %+v\nwant %+v", got.items, s.items)
	}
	if data, err = AppendKeyframe(nil, s); err != nil {
		t.Fatal(err)
	}
	for cut := range len(data) {
		if _, err := DecodeKeyframe(data[:cut]); !errors.Is(err, ErrImage) {
			t.Fatalf("cut to %d of %d bytes: %v, want ErrImage", cut, len(data), err)
		}
	}
}

// TestTheKeyframeCodecKnowsEveryFieldOfAnItemView fails when an item view
// or what it holds gains a field: appendItemViews and decodeItemViews must
// then write and read it too (and this list name it), or time travel from
// a keyframe file would lose it. TestAKeyframeKeepsEveryFieldOfItsItemViews
// checks that the codec keeps what it is told.
func TestTheKeyframeCodecKnowsEveryFieldOfAnItemView(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[ItemView]():            {"Item", "Rank", "Version", "Head", "LastDecision", "Placed", "Published", "evidence", "handle"},
		reflect.TypeFor[roadmap.Item]():        {"ID", "ItemBrief", "Status", "Horizon", "Score", "Plan", "Provenance", "Public"},
		reflect.TypeFor[roadmap.ItemBrief]():   {"Title", "Description", "Kind", "ParentID", "Product", "ObjectiveIDs"},
		reflect.TypeFor[roadmap.Score]():       {"Framework", "Version", "Reach", "Impact", "Confidence", "Category", "BusinessValue", "TimeCriticality", "RiskReduction", "JobSize", "CustomerValue", "Risk", "Effort", "Value"},
		reflect.TypeFor[roadmap.Plan]():        {"Effort", "DependsOn", "Risks"},
		reflect.TypeFor[roadmap.Provenance]():  {"Source", "ExternalID", "ImportID"},
		reflect.TypeFor[roadmap.Publication](): {"Summary"},
		reflect.TypeFor[Decision]():            {"Sequence", "Type", "Rationale", "Actor", "At"},
	}
	for typ, fields := range known {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !reflect.DeepEqual(got, fields) {
			t.Errorf("%s has the fields %v; the keyframe codec knows %v: teach appendItemViews and decodeItemViews the new ones", typ, got, fields)
		}
	}
}

// BenchmarkDecodeKeyframe decodes a keyframe of 3,000 item views shaped
// like the generated ledger's.
func BenchmarkDecodeKeyframe(b *testing.B) {
	views := make([]*ItemView, 3000)
	for i := range views {
		reach, impact, conf, effort := float64(1000+i), 2.0, 0.5, 0.5
		d := &Decision{Sequence: uint64(100 + i), Type: "item.reprioritised", Rationale: "Raised: usage data shows few teams reach this screen.",
			Actor: fmt.Sprintf("person%d@example.com", i%20), At: time.Date(2025, 3, 4, 21, 5, 11, i*1000, time.UTC)}
		views[i] = &ItemView{Item: roadmap.Item{ID: fmt.Sprintf("0185768d-c2ca-78ac-a0dd-%012d", i),
			ItemBrief: roadmap.ItemBrief{Title: fmt.Sprintf("Better onboarding of support tickets %d", i%400), Description: "The top reason for tickets in this area last quarter.",
				Kind: roadmap.KindIdea, Product: fmt.Sprintf("product%d", i%8), ObjectiveIDs: []string{fmt.Sprintf("objective%d", i%40)}},
			Status: roadmap.StatusOnRoadmap, Horizon: roadmap.Later,
			Score: &roadmap.Score{Framework: "rice", Version: 1, Reach: &reach, Impact: &impact, Confidence: &conf, Effort: &effort, Value: reach * 2}},
			Version: uint64(100 + i), Head: fmt.Sprintf("%064x", i), LastDecision: d, Placed: d, evidence: []string{}}
	}
	data, err := AppendKeyframe(nil, keyframeOf(views...))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeKeyframe(data); err != nil {
			b.Fatal(err)
		}
	}
}
