package governance_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/governance"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// clock is the ledger's clock in these tests: from the start of October
// 2026, an hour passes with every reading, and Advance jumps whole hours
// ahead.
type clock struct{ hours atomic.Int64 }

func (c *clock) Now() time.Time {
	return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.hours.Add(1)) * time.Hour)
}

func (c *clock) Advance(d time.Duration) { c.hours.Add(int64(d / time.Hour)) }

// board is a running ledger, written through its use cases and read back
// through the packs.
type board struct {
	t     testing.TB
	ctx   context.Context
	app   *app.App
	clock *clock
	packs *governance.Packs
}

// openBoard starts a ledger on an embedded JetStream in a temporary
// directory, with the approval policy given.
func openBoard(t testing.TB, approvals roadmap.ApprovalPolicy) *board {
	t.Helper()
	c := &clock{}
	a, ctx := apptest.Open(t, app.Config{Now: c.Now, Approvals: approvals})
	return &board{t: t, ctx: ctx, app: a, clock: c, packs: governance.NewPacks(a.Current)}
}

func as(actor string) ledger.Request { return ledger.Request{Actor: actor} }

var pm = as("pm@example.com")

// answer returns what a use case made, failing the test on an error.
func answer[T any](tb testing.TB, res ledger.Result[T], err error) T {
	tb.Helper()
	if err != nil {
		tb.Fatalf("write: %v", err)
	}
	return res.Answer
}

func (b *board) objective(title string) string {
	b.t.Helper()
	res, err := b.app.Ledger.DefineObjective(b.ctx, pm, roadmap.DefineObjective{Title: title, KPI: "kpi of " + title, Target: "+10%"})
	return answer(b.t, res, err).ID
}

func (b *board) item(cmd roadmap.ProposeItem) string {
	b.t.Helper()
	if cmd.Kind == "" {
		cmd.Kind = roadmap.KindIdea
	}
	res, err := b.app.Ledger.ProposeItem(b.ctx, pm, cmd)
	return answer(b.t, res, err).Item.ID
}

// decided returns the sequence of an item decision, or of the change held
// for approval instead.
func (b *board) decided(res ledger.Result[ledger.ItemOutcome], err error) uint64 {
	b.t.Helper()
	o := answer(b.t, res, err)
	if o.Held != nil {
		return o.Held.Version
	}
	return o.Item.Version
}

func (b *board) prioritise(id string, cmd roadmap.Prioritise) uint64 {
	b.t.Helper()
	return b.decided(b.app.Ledger.Prioritise(b.ctx, pm, id, cmd))
}

func (b *board) reprioritise(req ledger.Request, id string, cmd roadmap.Reprioritise) uint64 {
	b.t.Helper()
	return b.decided(b.app.Ledger.Reprioritise(b.ctx, req, id, cmd))
}

// review opens the review of period and, unless notes is nil, closes it.
// It returns the review's id and the ledger position it shows.
func (b *board) review(period, title string, notes *string) (string, uint64) {
	b.t.Helper()
	res, err := b.app.Ledger.OpenReview(b.ctx, pm, roadmap.OpenReview{Period: period, Title: title})
	r := answer(b.t, res, err)
	if notes == nil {
		return r.ID, 0
	}
	closed, err := b.app.Ledger.CloseReview(b.ctx, as("chair@example.com"), r.ID, roadmap.CloseReview{Notes: *notes})
	r = answer(b.t, closed, err)
	return r.ID, r.Sequence
}

func (b *board) pack(id string, now time.Time) pack.Pack {
	b.t.Helper()
	p, err := b.packs.Pack(b.ctx, id, now)
	if err != nil {
		b.t.Fatalf("the pack of %s: %v", id, err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// month is a ledger with a closed review of October and a quarter of
// decisions after it, closed into the review of January.
type month struct {
	*board
	october, january       string
	octoberSeq, januarySeq uint64
	ids                    map[string]string // items by title
	seq                    map[string]uint64 // decisions by name
}

// scriptMonth writes the quarter: objectives (one retired that an item
// still serves, one nothing serves), items placed before October, then 95
// days later a raise without evidence, an item moved thrice, a removal, a
// delivery, a rescore, and the January review.
func scriptMonth(t *testing.T) *month {
	t.Helper()
	m := &month{board: openBoard(t, roadmap.ApprovalsOff), ids: map[string]string{}, seq: map[string]uint64{}}
	activation := m.objective("Activation")
	m.objective("Expansion")
	legacy := m.objective("Legacy")
	for _, it := range []struct {
		title, objective, horizon string
		score                     *roadmap.Score
		evidence                  []string
	}{
		{"Guided setup", activation, "now", &roadmap.Score{Framework: "moscow", Category: "should"}, []string{"https://example.com/a"}},
		{"Bulk import", activation, "later", nil, []string{"https://example.com/c"}},
		{"Dark mode", activation, "later", nil, nil},
		{"Churn dashboard", activation, "next", nil, []string{"https://example.com/e0"}},
		{"Queue upgrade", "", "later", nil, nil},
		{"Old flow", legacy, "next", nil, nil},
		{"Sales ask", "", "next", nil, nil},
		{"Export", activation, "next", nil, nil},
	} {
		cmd := roadmap.ProposeItem{Title: it.title}
		if it.objective != "" {
			cmd.ObjectiveIDs = []string{it.objective}
		}
		id := m.item(cmd)
		m.ids[it.title] = id
		m.seq[it.title+" placed"] = m.prioritise(id, roadmap.Prioritise{
			Horizon: roadmap.Horizon(it.horizon), Score: it.score, Rationale: "placed", Evidence: it.evidence,
		})
	}
	if _, err := m.app.Ledger.RetireObjective(m.ctx, pm, legacy, roadmap.RetireObjective{Rationale: "replaced"}); err != nil {
		t.Fatal(err)
	}
	m.october, m.octoberSeq = m.review("2026-10", "October board", ptr("fine"))

	m.clock.Advance(95 * 24 * time.Hour)
	id := m.ids
	m.seq["bulk raised"] = m.reprioritise(pm, id["Bulk import"], roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "customers keep asking"})
	e1 := []string{"https://example.com/e1"}
	m.seq["churn up"] = m.reprioritise(pm, id["Churn dashboard"], roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "new data", Evidence: e1})
	m.seq["churn down"] = m.reprioritise(pm, id["Churn dashboard"], roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "blocked", Evidence: e1})
	m.seq["churn back"] = m.reprioritise(pm, id["Churn dashboard"], roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "unblocked", Evidence: e1})
	m.seq["sales removed"] = m.decided(m.app.Ledger.Remove(m.ctx, pm, id["Sales ask"], roadmap.Remove{Rationale: "lost the deal"}))
	m.seq["export delivered"] = m.decided(m.app.Ledger.Deliver(m.ctx, pm, id["Export"], roadmap.Deliver{
		Rationale: "released in 4.2", Evidence: []string{"https://example.com/4.2"},
	}))
	m.seq["guide rescored"] = m.reprioritise(as("cpo@example.com"), id["Guided setup"], roadmap.Reprioritise{
		Rationale: "board call", Score: &roadmap.Score{Framework: "moscow", Category: "must"},
	})
	m.january, m.januarySeq = m.review("2027-01", "January board", ptr("Ask for evidence"))
	return m
}

func at(h string, rank int) pack.Place { return pack.Place{Horizon: h, Rank: rank} }

// goalLines reads goals as "Title: item at place, ...", retired ones marked.
func goalLines(goals []pack.Goal) []string {
	var out []string
	for _, g := range goals {
		line := g.Title
		if g.Retired {
			line += " (retired)"
		}
		line += ":" + itemList(g.Items)
		out = append(out, line)
	}
	return out
}

func itemList(items []pack.GoalItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, " %s at %s;", it.Title, it.Place)
	}
	return b.String()
}

func TestAClosedReviewsPackIsTheLedgerAsItClosed(t *testing.T) {
	m := scriptMonth(t)
	id, s := m.ids, m.seq
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := m.pack(m.january, later)
	snap, err := m.app.Current.Snapshot(m.ctx, m.january, later)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the header is the review's", func(t *testing.T) {
		if p.ReviewID != m.january || p.Period != "2027-01" || p.Title != "January board" || p.Status != "closed" || p.Notes != "Ask for evidence" {
			t.Errorf("review %s %s %q %s %q", p.ReviewID, p.Period, p.Title, p.Status, p.Notes)
		}
		if p.SinceSequence != m.octoberSeq || p.Sequence != m.januarySeq || p.OpenedAt != snap.OpenedAt || *p.AsOf != *snap.Roadmap.AsOf {
			t.Errorf("positions %d to %d opened %s as of %s; want %d to %d", p.SinceSequence, p.Sequence, p.OpenedAt, p.AsOf, m.octoberSeq, m.januarySeq)
		}
		if p.ClosedAt == nil || !p.ClosedAt.Equal(*snap.ClosedAt) || !p.MeasuredAt.Equal(*snap.ClosedAt) {
			t.Errorf("closed at %v, measured at %s; want both %s, not the moment asked", p.ClosedAt, p.MeasuredAt, snap.ClosedAt)
		}
		if p.ChainDigest == "" || p.ChainDigest != snap.ChainHeads.Digest {
			t.Errorf("chain digest %q, want the snapshot's %q", p.ChainDigest, snap.ChainHeads.Digest)
		}
	})

	t.Run("goals group the roadmap under the objectives", func(t *testing.T) {
		want := []string{
			"Activation: Guided setup at now #1; Bulk import at next #2; Churn dashboard at next #3; Dark mode at later #1;",
			"Expansion:",
			"Legacy (retired): Old flow at next #1;",
		}
		if got := goalLines(p.Goals); !reflect.DeepEqual(got, want) {
			t.Errorf("goals\n%q,\nwant\n%q", got, want)
		}
		if g := p.Goals[0]; g.KPI != "kpi of Activation" || g.Target != "+10%" || g.Product != "default" || g.Items[0].ItemID != id["Guided setup"] {
			t.Errorf("goal %+v", g)
		}
		if got := itemList(p.Unaligned); got != " Queue upgrade at later #2;" {
			t.Errorf("unaligned%s", got)
		}
	})

	t.Run("progress is what the period delivered", func(t *testing.T) {
		want := []pack.ProgressRow{{
			ItemID: id["Export"], Title: "Export", Product: "default", Sequence: s["export delivered"], At: p.Progress[0].At,
			Actor: "pm@example.com", Rationale: "released in 4.2", Evidence: []string{"https://example.com/4.2"},
		}}
		if !reflect.DeepEqual(p.Progress, want) || p.Progress[0].At.IsZero() {
			t.Errorf("progress %+v,\nwant %+v", p.Progress, want)
		}
	})

	t.Run("decisions are the snapshot's, with moves and scores", func(t *testing.T) {
		if len(p.Decisions) != len(snap.Decisions) || len(p.Decisions) != 7 {
			t.Fatalf("%d decisions, want the snapshot's 7", len(p.Decisions))
		}
		for i, d := range p.Decisions {
			a := snap.Decisions[i]
			if d.Sequence != a.Sequence || !d.At.Equal(a.At) || d.Actor != a.Actor || d.Type != a.Type || d.Kind != "item" || d.ID != a.AggregateID {
				t.Errorf("decision %d: %+v, the snapshot has %+v", i, d, a)
			}
		}
		bySeq := map[uint64]pack.DecisionRow{}
		for _, d := range p.Decisions {
			bySeq[d.Sequence] = d
		}
		for _, w := range []struct {
			seq                             uint64
			subject, move, score, rationale string
		}{
			{s["bulk raised"], "Bulk import", "later #1 → next #5", "", "customers keep asking"},
			{s["churn back"], "Churn dashboard", "later #3 → next #5", "", "unblocked"},
			{s["sales removed"], "Sales ask", "next #2 → off the roadmap", "", "lost the deal"},
			{s["guide rescored"], "Guided setup", "now #1 → now #1", "moscow must", "board call"},
		} {
			d := bySeq[w.seq]
			if d.Subject != w.subject || d.Move() != w.move || d.Score != w.score || d.Rationale != w.rationale {
				t.Errorf("decision %d: %q %q %q %q, want %q %q %q %q", w.seq, d.Subject, d.Move(), d.Score, d.Rationale, w.subject, w.move, w.score, w.rationale)
			}
		}
		if d := bySeq[s["churn back"]]; !reflect.DeepEqual(d.Evidence, []string{"https://example.com/e1"}) {
			t.Errorf("evidence %q", d.Evidence)
		}
	})

	t.Run("health signals are measured when the review closed", func(t *testing.T) {
		h := p.Health
		if want := []pack.HealthItem{{ItemID: id["Queue upgrade"], Title: "Queue upgrade", Product: "default", Place: at("later", 2)}}; !reflect.DeepEqual(h.Orphans, want) {
			t.Errorf("orphans %+v", h.Orphans)
		}
		if len(h.OrphanedObjectives) != 1 || h.OrphanedObjectives[0].Title != "Expansion" || h.OrphanedObjectives[0].KPI != "kpi of Expansion" {
			t.Errorf("orphaned objectives %+v, want Expansion alone", h.OrphanedObjectives)
		}
		var stale []string
		for _, st := range h.Stale {
			stale = append(stale, fmt.Sprintf("%s at %s", st.Title, st.Place))
			if st.DaysSince < 95 || st.DaysSince > 100 {
				t.Errorf("%s stale for %d days at the close, want about 95", st.Title, st.DaysSince)
			}
		}
		if want := []string{"Old flow at next #1", "Dark mode at later #1", "Queue upgrade at later #2"}; !reflect.DeepEqual(stale, want) {
			t.Errorf("stale %q, want %q", stale, want)
		}
		want := []pack.ChurnRow{{ItemID: id["Churn dashboard"], Title: "Churn dashboard", Moves: 3, Sequences: []uint64{s["churn up"], s["churn down"], s["churn back"]}}}
		if !reflect.DeepEqual(h.Churn, want) {
			t.Errorf("churn %+v", h.Churn)
		}
		var gravity []string
		for _, g := range h.Gravity {
			gravity = append(gravity, fmt.Sprintf("%s %s #%d since:%v %q", g.Title, g.Reason, g.Sequence, g.Since != nil, g.Move))
		}
		wantGravity := []string{
			fmt.Sprintf("Dark mode long-in-later #%d since:true \"\"", s["Dark mode placed"]),
			fmt.Sprintf("Queue upgrade long-in-later #%d since:true \"\"", s["Queue upgrade placed"]),
			fmt.Sprintf("Bulk import raised-without-evidence #%d since:false \"later #1 → next #5\"", s["bulk raised"]),
			fmt.Sprintf("Churn dashboard raised-without-evidence #%d since:false \"later #3 → next #5\"", s["churn back"]),
		}
		if !reflect.DeepEqual(gravity, wantGravity) {
			t.Errorf("gravity\n%q,\nwant (the churn dashboard's first raise had new evidence)\n%q", gravity, wantGravity)
		}
	})

	t.Run("the diff is against October", func(t *testing.T) {
		d := p.Diff
		if d == nil || d.AgainstID != m.october || d.AgainstPeriod != "2026-10" || d.AgainstSequence != m.octoberSeq {
			t.Fatalf("diff %+v, want against October at %d", d, m.octoberSeq)
		}
		rows := func(rs []pack.DiffRow) []string {
			out := []string{}
			for _, r := range rs {
				out = append(out, fmt.Sprintf("%s %s → %s %q → %q %v", r.Title, r.From, r.To, r.FromScore, r.ToScore, r.Decisions))
			}
			return out
		}
		for _, c := range []struct {
			name      string
			got, want []string
		}{
			{"added", rows(d.Added), []string{}},
			{"removed", rows(d.Removed), []string{
				fmt.Sprintf(`Sales ask next #3 → off the roadmap "" → "" [%d]`, s["sales removed"]),
				fmt.Sprintf(`Export next #4 → off the roadmap "" → "" [%d]`, s["export delivered"]),
			}},
			{"moved", rows(d.Moved), []string{
				fmt.Sprintf(`Bulk import later #1 → next #2 "" → "" [%d]`, s["bulk raised"]),
				fmt.Sprintf(`Churn dashboard next #1 → next #3 "" → "" [%d %d %d]`, s["churn up"], s["churn down"], s["churn back"]),
			}},
			{"rescored", rows(d.Rescored), []string{
				fmt.Sprintf(`Guided setup now #1 → now #1 "moscow should" → "moscow must" [%d]`, s["guide rescored"]),
			}},
		} {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s\n%q,\nwant\n%q", c.name, c.got, c.want)
			}
		}
	})

	t.Run("nothing was set against capacity, at risk or pending", func(t *testing.T) {
		if p.Capacity != nil || p.Risks != nil || p.Dependencies != nil || p.Pending != nil {
			t.Errorf("capacity %+v, risks %+v, dependencies %+v, pending %+v", p.Capacity, p.Risks, p.Dependencies, p.Pending)
		}
	})
}

func TestAClosedReviewsPackNeverChanges(t *testing.T) {
	m := scriptMonth(t)
	first := m.pack(m.january, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC))

	// The ledger goes on: a decision, a review of an earlier period closed
	// after January, an open one.
	m.reprioritise(pm, m.ids["Guided setup"], roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "later"})
	december, decemberSeq := m.review("2026-12", "", ptr(""))
	february, _ := m.review("2027-02", "", nil)

	if again := m.pack(m.january, time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)); !reflect.DeepEqual(again, first) {
		t.Errorf("January's pack changed as the ledger went on:\nbefore %+v\nafter  %+v", first, again)
	}
	if october := m.pack(m.october, time.Now()); october.Diff != nil {
		t.Errorf("the first review's pack compares with %+v", october.Diff)
	}

	// An open review shows the ledger now, measured at the moment asked,
	// and compares with the closed review of the latest earlier period:
	// January, though December closed after it.
	now := time.Date(2027, 2, 15, 12, 0, 0, 0, time.UTC)
	open := m.pack(february, now)
	if open.Status != "open" || open.ClosedAt != nil || open.ChainDigest != "" || !open.MeasuredAt.Equal(now) {
		t.Errorf("open review: %s, closed %v, digest %q, measured at %s; want open, measured at %s", open.Status, open.ClosedAt, open.ChainDigest, open.MeasuredAt, now)
	}
	if open.SinceSequence != decemberSeq || open.Sequence != m.app.Current.Sequence() {
		t.Errorf("open review from %d to %d, want from December's close %d to the ledger's end %d", open.SinceSequence, open.Sequence, decemberSeq, m.app.Current.Sequence())
	}
	if open.Diff == nil || open.Diff.AgainstID != m.january || open.Diff.AgainstID == december {
		t.Fatalf("the open review compares with %+v, want January", open.Diff)
	}
	if len(open.Diff.Moved) != 1 || open.Diff.Moved[0].Title != "Guided setup" || open.Diff.Moved[0].To != at("later", 3) {
		t.Errorf("moved since January: %+v, want the guided setup to later #3", open.Diff.Moved)
	}
}

func TestAPackShowsTheCommitmentsOfItsPosition(t *testing.T) {
	b := openBoard(t, roadmap.ApprovalsMajor)
	// approve approves the change pending on item id.
	approve := func(id string) {
		t.Helper()
		for _, c := range b.app.Current.Changes(roadmap.ChangeStatusPending) {
			if c.ItemID != id {
				continue
			}
			if _, err := b.app.Ledger.ApproveChange(b.ctx, as("chair@example.com"), c.ID, roadmap.DecideChange{Rationale: "agreed"}); err != nil {
				t.Fatalf("approve the change of %s: %v", id, err)
			}
			return
		}
		t.Fatalf("no change pending on %s", id)
	}
	if _, err := b.app.Ledger.SetCapacity(b.ctx, pm, "web", roadmap.Capacity{Now: ptr(5)}); err != nil {
		t.Fatal(err)
	}
	platform := b.item(roadmap.ProposeItem{Title: "Platform", Kind: roadmap.KindInitiative, Product: "web", Effort: ptr(3)})
	someday := b.item(roadmap.ProposeItem{Title: "Someday", Product: "web", Effort: ptr(1)})
	feature := b.item(roadmap.ProposeItem{Title: "Feature", Product: "web", Effort: ptr(4),
		DependsOn: []string{platform, someday}, Risks: []string{"Vendor API | beta"}})
	b.prioritise(platform, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "base"})
	approve(platform)
	b.prioritise(feature, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "on top"})
	approve(feature)
	b.prioritise(someday, roadmap.Prioritise{Horizon: roadmap.Later, Rationale: "someday"})
	// Out of now needs approval; it stays pending over the close.
	b.reprioritise(pm, platform, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "budget cut"})
	review, _ := b.review("2026-11", "", ptr(""))
	// A change proposed after the close is not the review's.
	b.reprioritise(pm, feature, roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "too late"})

	p := b.pack(review, time.Now())
	wantCapacity := []pack.CapacityRow{
		{Product: "web", Horizon: "now", Capacity: ptr(5), Committed: 7, Over: true},
		{Product: "web", Horizon: "next", Committed: 0},
		{Product: "web", Horizon: "later", Committed: 1},
	}
	if !reflect.DeepEqual(p.Capacity, wantCapacity) {
		t.Errorf("capacity %+v,\nwant %+v", p.Capacity, wantCapacity)
	}
	if want := []pack.RiskRow{{ItemID: feature, Title: "Feature", Risks: []string{"Vendor API | beta"}}}; !reflect.DeepEqual(p.Risks, want) {
		t.Errorf("risks %+v, want %+v", p.Risks, want)
	}
	wantDeps := []pack.DependencyRow{{ItemID: feature, Title: "Feature", DependsOn: []string{platform, someday},
		Flag: "Someday is in later, behind this item in now"}}
	if !reflect.DeepEqual(p.Dependencies, wantDeps) {
		t.Errorf("dependencies %+v,\nwant %+v", p.Dependencies, wantDeps)
	}
	if len(p.Pending) != 1 {
		t.Fatalf("pending %+v, want the platform's move alone", p.Pending)
	}
	pending := p.Pending[0]
	if pending.ItemID != platform || pending.Title != "Platform" || pending.Change != "a reprioritisation out of now (to later)" ||
		pending.ProposedBy != "pm@example.com" || pending.Rationale != "budget cut" || pending.ID == "" || pending.ProposedAt.IsZero() {
		t.Errorf("pending %+v", pending)
	}
}

func TestThePackOfAnUnknownReviewIsNotFound(t *testing.T) {
	b := openBoard(t, roadmap.ApprovalsOff)
	if _, err := b.packs.Pack(b.ctx, "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", time.Now()); !errors.Is(err, roadmap.ErrNotFound) {
		t.Errorf("the pack of an unknown review: %v, want ErrNotFound", err)
	}
}

func TestAPackShowsTheEditsOfItsPeriodAndTheEditsHeldForApproval(t *testing.T) {
	b := openBoard(t, roadmap.ApprovalsMajor)
	goal := b.objective("Activation")
	id := b.item(roadmap.ProposeItem{Title: "Import", Product: "web"})
	other := b.item(roadmap.ProposeItem{Title: "Export", Product: "web"})
	b.prioritise(other, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "asked for"})
	edit := b.decided(b.app.Ledger.EditItem(b.ctx, pm, id, roadmap.EditItem{
		Title: ptr("Bulk import"), ObjectiveIDs: &[]string{goal}, Effort: ptr(5), Rationale: "scoped", Evidence: []string{"spec"},
	}))
	objective, err := b.app.Ledger.EditObjective(b.ctx, pm, goal, roadmap.EditObjective{Target: ptr("+20%"), Rationale: "the board asked"})
	if err != nil {
		t.Fatal(err)
	}
	// Moving the product of a now item waits for approval.
	b.prioritise(id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "now"})
	for _, c := range b.app.Current.Changes(roadmap.ChangeStatusPending) {
		if _, err := b.app.Ledger.ApproveChange(b.ctx, as("chair@example.com"), c.ID, roadmap.DecideChange{Rationale: "agreed"}); err != nil {
			t.Fatal(err)
		}
	}
	b.decided(b.app.Ledger.EditItem(b.ctx, pm, id, roadmap.EditItem{Product: ptr("mobile"), Rationale: "the app team owns it"}))
	review, _ := b.review("2026-11", "", ptr(""))

	p := b.pack(review, time.Now())
	rows := map[uint64]pack.DecisionRow{}
	for _, d := range p.Decisions {
		rows[d.Sequence] = d
	}
	d, ok := rows[edit]
	if !ok || d.Type != roadmap.TypeItemEdited || d.Actor != "pm@example.com" || d.Rationale != "scoped" || !reflect.DeepEqual(d.Evidence, []string{"spec"}) {
		t.Fatalf("the item's edit in the pack: %+v (found %v)", d, ok)
	}
	if want := "title: Import → Bulk import; objective_ids: none → " + goal + "; effort: none → 5"; d.Change() != want {
		t.Errorf("the item's edit reads %q, want %q", d.Change(), want)
	}
	o := rows[objective.Sequence]
	if o.Type != roadmap.TypeObjectiveEdited || o.Change() != "target: +10% → +20%" || o.Rationale != "the board asked" {
		t.Errorf("the objective's edit in the pack: %+v", o)
	}
	if len(p.Pending) != 1 || p.Pending[0].Change != "a move of a now item to another product (to mobile)" || p.Pending[0].Rationale != "the app team owns it" {
		t.Errorf("pending %+v, want the move to mobile", p.Pending)
	}
}

func TestACancelledReviewIsNeverThePreviousOne(t *testing.T) {
	m := scriptMonth(t)
	// February's review, opened by mistake and cancelled, lies between
	// January's and March's.
	res, err := m.app.Ledger.OpenReview(m.ctx, pm, roadmap.OpenReview{Period: "2027-02"})
	february := answer(t, res, err).ID
	if _, err := m.app.Ledger.CancelReview(m.ctx, as("admin@example.com"), february, roadmap.CancelReview{Rationale: "Opened by mistake"}); err != nil {
		t.Fatal(err)
	}
	m.clock.Advance(31 * 24 * time.Hour)
	march, _ := m.review("2027-03", "", nil)

	measured := time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)
	if p := m.pack(march, measured); p.Diff == nil || p.Diff.AgainstID != m.january || p.SinceSequence != m.januarySeq {
		t.Errorf("March compares with %+v from %d, want January's review and close %d", p.Diff, p.SinceSequence, m.januarySeq)
	}
	if p := m.pack(february, measured); p.Status != "cancelled" || p.Diff == nil || p.Diff.AgainstID != m.january {
		t.Errorf("the cancelled review's pack is %s against %+v, want cancelled against January", p.Status, p.Diff)
	}
}
