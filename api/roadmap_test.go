package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/projections"
)

// fakeClock gives each event its own hour.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// newFakeClock returns a clock that moves on by an hour each time it is
// read. It starts setupEvents hours before 1 October 2026, so that once a
// test ledger has recorded its setup tokens, a test's first event is at
// 01:00 on 1 October.
func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(setupEvents) * time.Hour)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Hour)
	return c.now
}

// Advance moves the clock on by d, as if that much time passed between two
// decisions.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// horizonTitles reads a roadmap answer as horizon → titles in rank order.
func horizonTitles(t testing.TB, body map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	hz := body["horizons"].(map[string]any)
	for _, name := range []string{"now", "next", "later"} {
		out[name] = []string{}
		for i, e := range hz[name].([]any) {
			entry := e.(map[string]any)
			out[name] = append(out[name], entry["title"].(string))
			if entry["rank"] != float64(i+1) && body["product"] != nil {
				t.Errorf("%s entry %d has rank %v", name, i, entry["rank"])
			}
		}
	}
	return out
}

func TestRoadmapTimeTravel(t *testing.T) {
	// Checkpoints every 3 events, so travel goes through checkpoints and
	// replays between them.
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: newFakeClock().Now, KeyframeEvery: 3})
	okr := l.objective("Activation")                                                                                  // seq 1, 01:00
	a := l.item("A", okr)                                                                                             // 2
	b := l.item("B")                                                                                                  // 3
	c := l.item("C", okr)                                                                                             // 4
	l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})             // 5, 05:00
	l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})             // 6
	l.must(200, "POST", "/v1/items/"+c+"/prioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "r"})  // 7: C A B
	l.must(200, "POST", "/v1/items/"+a+"/reprioritise", map[string]any{"horizon": "next", "rationale": "r"})          // 8: C B | A
	l.must(200, "POST", "/v1/items/"+b+"/remove", map[string]any{"rationale": "r"})                                   // 9: C | A
	l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "now", "rank": 99, "rationale": "r"}) // 10: C B | A

	// want is keyed by the numbers above, which count the test's own
	// events; the log has the setup tokens before them, so event k is at
	// sequence setupEvents+k, and 0 is the ledger with its tokens alone.
	want := map[uint64]map[string][]string{
		0:  {"now": {}, "next": {}, "later": {}},
		4:  {"now": {}, "next": {}, "later": {}},
		5:  {"now": {"A"}, "next": {}, "later": {}},
		6:  {"now": {"A", "B"}, "next": {}, "later": {}},
		7:  {"now": {"C", "A", "B"}, "next": {}, "later": {}},
		8:  {"now": {"C", "B"}, "next": {"A"}, "later": {}},
		9:  {"now": {"C"}, "next": {"A"}, "later": {}},
		10: {"now": {"C", "B"}, "next": {"A"}, "later": {}},
	}
	for k, w := range want {
		seq := setupEvents + k
		body := l.must(200, "GET", fmt.Sprintf("/v1/roadmap?product=default&at_seq=%d", seq), nil)
		if got := horizonTitles(t, body); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("at_seq=%d: %v, want %v", seq, got, w)
		}
		if body["sequence"] != float64(seq) {
			t.Errorf("at_seq=%d: resolved sequence %v", seq, body["sequence"])
		}
		// The same moment asked by time: event k was decided at k:00, the
		// last setup token at 00:00.
		at := time.Date(2026, 10, 1, int(k), 30, 0, 0, time.UTC).Format(time.RFC3339)
		byTime := l.must(200, "GET", "/v1/roadmap?product=default&as_of="+at, nil)
		if byTime["sequence"] != float64(seq) || fmt.Sprint(horizonTitles(t, byTime)) != fmt.Sprint(w) {
			t.Errorf("as_of=%s: sequence %v, %v; want %d, %v", at, byTime["sequence"], horizonTitles(t, byTime), seq, w)
		}
	}
	if body := l.must(200, "GET", "/v1/roadmap?product=default&at_seq=0", nil); body["sequence"] != 0.0 || fmt.Sprint(horizonTitles(t, body)) != fmt.Sprint(want[0]) {
		t.Errorf("at_seq=0: sequence %v, %v; want 0 and an empty roadmap", body["sequence"], horizonTitles(t, body))
	}
	if got := l.must(200, "GET", "/v1/roadmap?as_of=2026-09-29", nil)["sequence"]; got != 0.0 {
		t.Errorf("as_of before the first event resolved to %v, want 0", got)
	}
	if got := l.must(200, "GET", "/v1/roadmap?as_of=2026-10-01", nil)["sequence"]; got != float64(setupEvents+10) {
		t.Errorf("as_of the day of the history resolved to %v, want %d (the end of that day)", got, setupEvents+10)
	}
	checkProblem(t, l.do("GET", fmt.Sprintf("/v1/roadmap?at_seq=%d", setupEvents+11), nil), 422)

	// An entry carries what an integration needs.
	now := l.must(200, "GET", "/v1/roadmap", nil)["horizons"].(map[string]any)["now"].([]any)
	top := now[0].(map[string]any)
	if top["title"] != "C" || top["product"] != "default" || top["kind"] != "idea" {
		t.Errorf("top entry %v", top)
	}
	if objs := top["objectives"].([]any); len(objs) != 1 || objs[0].(map[string]any)["title"] != "Activation" {
		t.Errorf("top entry objectives %v, want Activation", top["objectives"])
	}
	if d := top["last_decision"].(map[string]any); d["type"] != "item.prioritised" || d["rationale"] != "r" || d["actor"] != "bootstrap" || d["at"] != "2026-10-01T07:00:00Z" {
		t.Errorf("top entry last decision %v", d)
	}

	// The theme view groups the same entries under objectives.
	byObj := l.must(200, "GET", "/v1/roadmap?view=objectives", nil)
	groups := byObj["objectives"].([]any)
	if len(groups) != 1 {
		t.Fatalf("objective groups %v, want one", groups)
	}
	g := groups[0].(map[string]any)
	if got := horizonTitles(t, g); fmt.Sprint(got) != fmt.Sprint(map[string][]string{"now": {"C"}, "next": {"A"}, "later": {}}) {
		t.Errorf("under Activation: %v", got)
	}
	if got := horizonTitles(t, map[string]any{"horizons": byObj["unaligned"]}); fmt.Sprint(got["now"]) != "[B]" {
		t.Errorf("unaligned: %v, want B in now", got)
	}
}

func TestRoadmapQueryIsCheckedBeforeAnythingIsRead(t *testing.T) {
	l := startLedger(t)
	for _, q := range []string{
		"as_of=yesterday", "at_seq=-1", "at_seq=1&as_of=2026-11-01", "view=gantt", "product=Web%20App",
		"asof=2026-11-01", "at_seq=1&at_seq=2", "at_seq=99999999999999999999999",
	} {
		t.Run(q, func(t *testing.T) { checkProblem(t, l.do("GET", "/v1/roadmap?"+q, nil), 400) })
	}
}

func TestRebuiltProjectionEqualsTheLiveOne(t *testing.T) {
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), KeyframeEvery: 4})
	okrs := []string{l.objective("Retention"), l.objective("Expansion")}
	for i := range 12 {
		id := l.item(fmt.Sprintf("Item %d", i), okrs[i%2])
		horizon := []string{"now", "next", "later"}[i%3]
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": horizon, "rank": 1 + i%2, "rationale": "r"})
		if i%4 == 0 {
			elsewhere := []string{"later", "later", "now"}[i%3]
			l.must(200, "POST", "/v1/items/"+id+"/reprioritise", map[string]any{"horizon": elsewhere, "rank": 1, "rationale": "r"})
		}
		if i%5 == 0 {
			l.must(200, "POST", "/v1/items/"+id+"/remove", map[string]any{"rationale": "r"})
		}
	}

	rebuilt := rebuild(t, l, nil)
	for _, view := range []string{"", "?view=objectives"} {
		live := l.do("GET", "/v1/roadmap"+view, nil)
		want, err := api.RoadmapAnswer(rebuilt.Roadmap(""))
		if view != "" {
			want, err = api.ObjectivesAnswer(rebuilt.ByObjective(""))
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(live.Body) != string(want) {
			t.Errorf("GET /v1/roadmap%s live:\n%s\nrebuilt from scratch:\n%s", view, live.Body, want)
		}
	}
}

// A roadmap in the past is encoded into a buffer that later answers use
// again, and kept from the second time it is asked for. Each point, asked
// for three times between the others (encoded, then kept, then served as
// kept), answers the bytes of the same roadmap rebuilt from the log.
func TestAPastRoadmapIsTheSameEncodedOrKept(t *testing.T) {
	l := startLedger(t)
	first := l.messages()
	for i := range 6 {
		id := l.item(fmt.Sprintf("Item %d <&>", i))
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": []string{"now", "next", "later"}[i%3], "rank": 1, "rationale": strings.Repeat("why ", i+1)})
	}
	last := l.messages()
	want := map[uint64][]string{} // both views at each sequence
	rebuild(t, l, func(seq uint64, rebuilt *projections.State) error {
		if seq < first {
			return nil
		}
		horizons, err := api.RoadmapAnswer(rebuilt.Roadmap(""))
		if err != nil {
			return err
		}
		objectives, err := api.ObjectivesAnswer(rebuilt.ByObjective(""))
		if err != nil {
			return err
		}
		want[seq] = []string{string(horizons), string(objectives)}
		return nil
	})
	for round := range 3 {
		for seq := first; seq < last; seq++ {
			for v, view := range []string{"", "&view=objectives"} {
				got := l.do("GET", fmt.Sprintf("/v1/roadmap?at_seq=%d%s", seq, view), nil)
				if got.Status != 200 || string(got.Body) != want[seq][v] {
					t.Fatalf("round %d, at_seq=%d%s: %d\n%s\nwant\n%s", round+1, seq, view, got.Status, got.Body, want[seq][v])
				}
			}
		}
	}
}

// rebuild replays the ledger's log, from its first event to the last it
// holds now, into a state of its own, calling each (when given) with the
// state after every event, and returns the state.
func rebuild(t *testing.T, l *testLedger, each func(seq uint64, rebuilt *projections.State) error) *projections.State {
	t.Helper()
	rebuilt := projections.NewState()
	last := l.messages()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := fmt.Errorf("done")
	err := l.App.Log.Follow(ctx, 1, func(rec eventlog.Record) error {
		ev, err := projections.Decode(rec)
		if err != nil {
			return err
		}
		rebuilt.Apply(ev)
		if each != nil {
			if err := each(rec.Sequence, rebuilt); err != nil {
				return err
			}
		}
		if rec.Sequence == last {
			return done
		}
		return nil
	})
	if err != done {
		t.Fatal(err)
	}
	return rebuilt
}
