package roadmap_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Ids of the fixture. Every aggregate id is a lower-case UUID.
const (
	objA        = "0a000000-0000-4000-8000-00000000000a" // active
	objB        = "0b000000-0000-4000-8000-00000000000b" // active
	objRetired  = "0c000000-0000-4000-8000-00000000000c" // retired
	objUnknown  = "0d000000-0000-4000-8000-00000000000d" // not in the ledger
	initiative  = "1a000000-0000-4000-8000-00000000001a" // an initiative
	idea        = "1b000000-0000-4000-8000-00000000001b" // an idea
	itemUnknown = "1c000000-0000-4000-8000-00000000001c" // not in the ledger
	itemID      = "2a000000-0000-4000-8000-00000000002a" // the item decided on
)

// fakeRefs is what the decisions on one item see of the rest of the ledger.
type fakeRefs struct {
	objectives map[string]roadmap.Objective
	items      map[string]roadmap.Item
	positions  map[string][2]int // item id → rank, size of its horizon
}

func (f fakeRefs) Objective(id string) (roadmap.Objective, bool) {
	o, ok := f.objectives[id]
	return o, ok
}

func (f fakeRefs) Item(id string) (roadmap.Item, bool) {
	it, ok := f.items[id]
	return it, ok
}

func (f fakeRefs) Position(itemID string) (rank, size int) {
	p := f.positions[itemID]
	return p[0], p[1]
}

var _ roadmap.References = fakeRefs{}

// newRefs returns the fixture: two active objectives and a retired one, an
// initiative and an idea, and itemID second of three in its horizon.
func newRefs() fakeRefs {
	return fakeRefs{
		objectives: map[string]roadmap.Objective{
			objA:       {ID: objA, Title: "Grow activation", Status: roadmap.StatusActive},
			objB:       {ID: objB, Title: "Cut churn", Status: roadmap.StatusActive},
			objRetired: {ID: objRetired, Title: "Launch in Mars", Status: roadmap.StatusRetired},
		},
		items: map[string]roadmap.Item{
			initiative: {ID: initiative, ItemBrief: roadmap.ItemBrief{Title: "Checkout", Kind: roadmap.KindInitiative}, Status: roadmap.StatusProposed},
			idea:       {ID: idea, ItemBrief: roadmap.ItemBrief{Title: "One-click pay", Kind: roadmap.KindIdea, ParentID: initiative}, Status: roadmap.StatusProposed},
		},
		positions: map[string][2]int{itemID: {2, 3}},
	}
}

// at returns a copy of f where itemID is at rank of size.
func (f fakeRefs) at(rank, size int) fakeRefs {
	positions := map[string][2]int{}
	for k, v := range f.positions {
		positions[k] = v
	}
	positions[itemID] = [2]int{rank, size}
	f.positions = positions
	return f
}

// manyObjectives returns refs knowing n active objectives, and their ids.
func manyObjectives(n int) (fakeRefs, []string) {
	refs := newRefs()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		refs.objectives[ids[i]] = roadmap.Objective{ID: ids[i], Status: roadmap.StatusActive}
	}
	return refs, ids
}

func ptr[T any](v T) *T { return &v }

// computed returns s with its value set, failing the test if s is invalid.
func computed(t testing.TB, s roadmap.Score) *roadmap.Score {
	t.Helper()
	c, err := s.Computed("score")
	if err != nil {
		t.Fatalf("score %+v: %v", s, err)
	}
	return &c
}

func rice(reach, impact, confidence, effort float64) roadmap.Score {
	return roadmap.Score{Framework: roadmap.FrameworkRICE, Reach: &reach, Impact: &impact, Confidence: &confidence, Effort: &effort}
}

func moscow(category string) roadmap.Score {
	return roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Category: category}
}

func wsjf(businessValue, timeCriticality, riskReduction, jobSize float64) roadmap.Score {
	return roadmap.Score{
		Framework: roadmap.FrameworkWSJF, BusinessValue: &businessValue,
		TimeCriticality: &timeCriticality, RiskReduction: &riskReduction, JobSize: &jobSize,
	}
}

func valueEffort(customerValue, businessValue, effort, risk float64) roadmap.Score {
	return roadmap.Score{
		Framework: roadmap.FrameworkValueEffort, CustomerValue: &customerValue,
		BusinessValue: &businessValue, Effort: &effort, Risk: &risk,
	}
}

// wantError is the error a table case expects; the zero value expects none.
type wantError struct {
	is      error    // roadmap.ErrInvalid or roadmap.ErrConflict
	fields  []string // for ErrInvalid: every field named, in any order
	mention string   // for ErrConflict, or ErrInvalid with no field to blame: part of the message
}

func invalid(fields ...string) wantError { return wantError{is: roadmap.ErrInvalid, fields: fields} }

func conflict(mention string) wantError { return wantError{is: roadmap.ErrConflict, mention: mention} }

// check fails t unless err is the expected error. It reports whether err is
// nil, so the caller knows whether to look at the result.
func (w wantError) check(t testing.TB, err error) bool {
	t.Helper()
	switch w.is {
	case nil:
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return true
	case roadmap.ErrInvalid:
		if !errors.Is(err, roadmap.ErrInvalid) || errors.Is(err, roadmap.ErrConflict) {
			t.Fatalf("err = %v, want ErrInvalid naming %v", err, w.fields)
		}
		if w.mention != "" {
			var ve *roadmap.ValidationError
			if errors.As(err, &ve) || !strings.Contains(err.Error(), w.mention) {
				t.Fatalf("err = %v, want ErrInvalid, naming no field, that mentions %q", err, w.mention)
			}
			return false
		}
		if got, want := fieldNames(t, err), sorted(w.fields); !slices.Equal(got, want) {
			t.Fatalf("fields = %v, want %v (err: %v)", got, want, err)
		}
	case roadmap.ErrConflict:
		if !errors.Is(err, roadmap.ErrConflict) || errors.Is(err, roadmap.ErrInvalid) {
			t.Fatalf("err = %v, want ErrConflict", err)
		}
		if !strings.Contains(err.Error(), w.mention) {
			t.Fatalf("err = %q, want it to mention %q", err, w.mention)
		}
	default:
		t.Fatalf("unexpected wantError.is %v", w.is)
	}
	return false
}

// checkDecision fails t unless a decision answered the error wantErr
// expects or, when it expects none, the event want.
func checkDecision[E any](t testing.TB, got *E, err error, want *E, wantErr wantError) {
	t.Helper()
	if wantErr.check(t, err) && !reflect.DeepEqual(got, want) {
		t.Errorf("event = %s, want %s", jsonString(got), jsonString(want))
	}
}

// decisionCase is a row of a table of decisions: a command on a state
// that records an event, or fails with the error wantErr expects.
type decisionCase[S, C, E any] struct {
	name    string
	on      S
	cmd     C
	want    *E
	wantErr wantError
}

// checkDecisions runs every row of a table through decide.
func checkDecisions[S, C, E any](t *testing.T, decide func(S, C) (*E, error), tests []decisionCase[S, C, E]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decide(tt.on, tt.cmd)
			checkDecision(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// evolveCase is a list of events and the state they fold into from the
// zero state.
type evolveCase[S any] struct {
	name   string
	events []roadmap.Event
	want   S
}

// testEvolve checks each case: its events, applied in order by evolve to
// the aggregate id, make its state.
func testEvolve[S any](t *testing.T, evolve func(S, string, roadmap.Event) S, id string, tests []evolveCase[S]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got S
			for _, e := range tt.events {
				got = evolve(got, id, e)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("state = %s, want %s", jsonString(got), jsonString(tt.want))
			}
		})
	}
}

// jsonString renders v as its JSON (pointers followed, an empty list told
// from a null one), for failure messages.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// fieldNames returns the sorted fields of the *ValidationError in err.
func fieldNames(t testing.TB, err error) []string {
	t.Helper()
	var ve *roadmap.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want a *roadmap.ValidationError", err, err)
	}
	names := make([]string, len(ve.Fields))
	for i, f := range ve.Fields {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
		names[i] = f.Field
	}
	return sorted(names)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}
