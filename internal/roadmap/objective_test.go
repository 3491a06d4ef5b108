package roadmap_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestDecideDefineObjective(t *testing.T) {
	valid := roadmap.DefineObjective{Title: "Grow activation", Description: "More trials convert", KPI: "Activation rate", Target: "40% by Q4"}
	with := func(edit func(*roadmap.DefineObjective)) roadmap.DefineObjective {
		cmd := valid
		edit(&cmd)
		return cmd
	}
	tests := []struct {
		name    string
		cmd     roadmap.DefineObjective
		want    *roadmap.ObjectiveDefined
		wantErr wantError
	}{
		{
			name: "an objective without a product belongs to the default product",
			cmd:  valid,
			want: &roadmap.ObjectiveDefined{Title: "Grow activation", Description: "More trials convert", KPI: "Activation rate", Target: "40% by Q4", Product: "default"},
		},
		{
			name: "an objective keeps the product it names",
			cmd:  with(func(c *roadmap.DefineObjective) { c.Product = "mobile-app" }),
			want: &roadmap.ObjectiveDefined{Title: "Grow activation", Description: "More trials convert", KPI: "Activation rate", Target: "40% by Q4", Product: "mobile-app"},
		},
		{
			name: "surrounding whitespace is trimmed from every text",
			cmd:  roadmap.DefineObjective{Title: "  Grow activation\n", Description: "\tdesc ", KPI: " rate ", Target: " 40% "},
			want: &roadmap.ObjectiveDefined{Title: "Grow activation", Description: "desc", KPI: "rate", Target: "40%", Product: "default"},
		},
		{
			name: "the description is optional",
			cmd:  with(func(c *roadmap.DefineObjective) { c.Description = "" }),
			want: &roadmap.ObjectiveDefined{Title: "Grow activation", KPI: "Activation rate", Target: "40% by Q4", Product: "default"},
		},
		{name: "a missing title is refused", cmd: with(func(c *roadmap.DefineObjective) { c.Title = "" }), wantErr: invalid("title")},
		{name: "a whitespace-only title is refused", cmd: with(func(c *roadmap.DefineObjective) { c.Title = " \t\n " }), wantErr: invalid("title")},
		{name: "a missing kpi is refused", cmd: with(func(c *roadmap.DefineObjective) { c.KPI = " " }), wantErr: invalid("kpi")},
		{name: "a missing target is refused", cmd: with(func(c *roadmap.DefineObjective) { c.Target = "" }), wantErr: invalid("target")},
		{name: "a product that is not a slug is refused", cmd: with(func(c *roadmap.DefineObjective) { c.Product = "Mobile App" }), wantErr: invalid("product")},
		{
			name:    "every bad field is listed at once",
			cmd:     roadmap.DefineObjective{Description: "bad\x00", Product: "-x"},
			wantErr: invalid("title", "description", "kpi", "target", "product"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := roadmap.DecideDefineObjective(tt.cmd)
			checkDecision(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestDecideRetireObjective(t *testing.T) {
	active := roadmap.Objective{ID: objA, Title: "Grow activation", Status: roadmap.StatusActive}
	retired := roadmap.Objective{ID: objRetired, Title: "Launch in Mars", Status: roadmap.StatusRetired}
	checkDecisions(t, roadmap.DecideRetireObjective, []decisionCase[roadmap.Objective, roadmap.RetireObjective, roadmap.ObjectiveRetired]{
		{
			name: "an active objective retires with its rationale trimmed",
			on:   active,
			cmd:  roadmap.RetireObjective{Rationale: "  Reached the target in Q3. "},
			want: &roadmap.ObjectiveRetired{Rationale: "Reached the target in Q3."},
		},
		{
			name:    "a retirement without a rationale is refused",
			on:      active,
			cmd:     roadmap.RetireObjective{},
			wantErr: invalid("rationale"),
		},
		{
			name:    "a whitespace-only rationale is blank",
			on:      active,
			cmd:     roadmap.RetireObjective{Rationale: " \n\t "},
			wantErr: invalid("rationale"),
		},
		{
			name:    "retiring a retired objective is a conflict",
			on:      retired,
			cmd:     roadmap.RetireObjective{Rationale: "Again"},
			wantErr: conflict(objRetired),
		},
		{
			name:    "a blank rationale is reported before the state conflict",
			on:      retired,
			cmd:     roadmap.RetireObjective{Rationale: " "},
			wantErr: invalid("rationale"),
		},
	})
}

func TestEvolveObjective(t *testing.T) {
	defined := &roadmap.ObjectiveDefined{Title: "Grow activation", Description: "d", KPI: "rate", Target: "40%", Product: "mobile"}
	active := roadmap.Objective{ID: objA, Title: "Grow activation", Description: "d", KPI: "rate", Target: "40%", Product: "mobile", Status: roadmap.StatusActive}
	retired := active
	retired.Status = roadmap.StatusRetired
	testEvolve(t, roadmap.EvolveObjective, objA, []evolveCase[roadmap.Objective]{
		{
			name:   "a defined objective is active with the values of the event",
			events: []roadmap.Event{defined},
			want:   active,
		},
		{
			name:   "a retired objective keeps its values and is retired",
			events: []roadmap.Event{defined, &roadmap.ObjectiveRetired{Rationale: "done"}},
			want:   retired,
		},
		{
			name:   "events of items are ignored",
			events: []roadmap.Event{defined, &roadmap.ItemRemoved{Rationale: "x"}, &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: roadmap.Now}}},
			want:   active,
		},
	})
}

func TestObjectiveDecisionsEvolveToTheIntendedState(t *testing.T) {
	defined, err := roadmap.DecideDefineObjective(roadmap.DefineObjective{Title: "Grow activation", KPI: "rate", Target: "40%"})
	if err != nil {
		t.Fatal(err)
	}
	o := roadmap.EvolveObjective(roadmap.Objective{}, objA, defined)
	if got, want := o.Status, roadmap.StatusActive; got != want {
		t.Fatalf("status after define = %q, want %q", got, want)
	}
	retiredEvent, err := roadmap.DecideRetireObjective(o, roadmap.RetireObjective{Rationale: "done"})
	if err != nil {
		t.Fatal(err)
	}
	o = roadmap.EvolveObjective(o, objA, retiredEvent)
	if got, want := o.Status, roadmap.StatusRetired; got != want {
		t.Fatalf("status after retire = %q, want %q", got, want)
	}
	_, err = roadmap.DecideRetireObjective(o, roadmap.RetireObjective{Rationale: "again"})
	conflict("already retired").check(t, err)
	if got, want := o.ID+" "+o.Title, objA+" Grow activation"; got != want {
		t.Errorf("objective = %q, want %q", got, want)
	}
}
