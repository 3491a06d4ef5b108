package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// boardLedger is a real ledger with a scripted September and October of
// decisions, each month's review, and a clock the test moves.
type boardLedger struct {
	t   *testing.T
	URL string
	mu  sync.Mutex
	now time.Time
	// tokens are the secrets of the actors' tokens, by name.
	tokens map[string]string
}

// boardAdmin is the secret of the board ledger's bootstrap admin token,
// which replay is given.
const boardAdmin = "6bCBs07-dbdzIgp6x8xHNV8zLDUu1oNFcUJHinCD"

func (b *boardLedger) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(90 * time.Minute)
	return b.now
}

func (b *boardLedger) setDate(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = t
}

// post sends a write as actor, with a token of the actor's name made on
// first use, and returns the answer's id.
func (b *boardLedger) post(actor, path string, body any) string {
	b.t.Helper()
	secret, ok := b.tokens[actor]
	if !ok {
		secret = b.send(boardAdmin, "/v1/tokens", map[string]any{"name": actor, "role": "approver"})["secret"].(string)
		b.tokens[actor] = secret
	}
	return b.send(secret, path, body)["id"].(string)
}

// send posts body with the token secret and returns the answer.
func (b *boardLedger) send(secret, path string, body any) map[string]any {
	b.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, b.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		b.t.Fatalf("POST %s: %s: %s", path, res.Status, out)
	}
	var answer map[string]any
	if err := json.Unmarshal(out, &answer); err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return answer
}

func newBoardLedger(t *testing.T) (*boardLedger, map[string]string) {
	t.Helper()
	b := &boardLedger{t: t, now: time.Date(2026, 9, 7, 8, 0, 0, 0, time.UTC), tokens: map[string]string{}}
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), Now: b.clock, BootstrapToken: boardAdmin})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(spectest.Handler(t, a.Handler))
	t.Cleanup(func() { srv.Close(); a.Close() })
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.URL = srv.URL
	ids := map[string]string{}

	// September: an objective, three ideas, one placed; the review closes.
	ids["objective"] = b.post("head.of.product@example.com", "/v1/objectives", map[string]any{"title": "Cut churn", "kpi": "monthly churn", "target": "-2 points", "product": "web-app"})
	for _, title := range []string{"Dark mode", "Bulk export", "Saved filters"} {
		ids[title] = b.post("pm@example.com", "/v1/items", map[string]any{"title": title, "kind": "idea", "product": "web-app", "objective_ids": []string{ids["objective"]}})
	}
	b.post("pm@example.com", "/v1/items/"+ids["Dark mode"]+"/prioritise", map[string]any{"horizon": "now", "rationale": "Most asked for in September"})
	ids["september"] = b.post("cpo@example.com", "/v1/reviews", map[string]any{"period": "2026-09", "title": "September board"})
	b.post("cpo@example.com", "/v1/reviews/"+ids["september"]+"/close", map[string]any{"notes": "Agreed"})

	// October: four decisions, then the review opens.
	b.setDate(time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC))
	b.post("pm@example.com", "/v1/items/"+ids["Bulk export"]+"/prioritise", map[string]any{
		"horizon": "next", "rationale": "Three renewals depend on it",
		"score":    map[string]any{"framework": "rice", "reach": 1200, "impact": 2, "confidence": 0.8, "effort": 4},
		"evidence": []string{"https://crm.example.com/deals/41", "https://support.example.com/tickets/7"},
	})
	b.post("cto@example.com", "/v1/items/"+ids["Dark mode"]+"/reprioritise", map[string]any{
		"horizon": "later", "rationale": "The design system lands first",
		"score": map[string]any{"framework": "moscow", "category": "could"},
	})
	b.post("pm@example.com", "/v1/items/"+ids["Saved filters"]+"/prioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "Unblocks the analytics launch"})
	b.post("cpo@example.com", "/v1/items/"+ids["Bulk export"]+"/remove", map[string]any{"rationale": "Superseded by the partner integration", "evidence": []string{}})
	ids["october"] = b.post("cpo@example.com", "/v1/reviews", map[string]any{"period": "2026-10", "title": "October board"})
	return b, ids
}

func runReview(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := func(name string) string {
		if name == "ROADMAP_TOKEN" {
			return boardAdmin
		}
		return ""
	}
	err := run(ctx, append([]string{"review", "replay"}, args...), env, &stdout, &stderr)
	return stdout.String(), err
}

// blocks splits the text output into its header and one block per decision.
func blocks(t *testing.T, out string) (string, []string) {
	t.Helper()
	parts := strings.Split(strings.TrimSuffix(out, "\n"), "\n\n")
	return parts[0], parts[1:]
}

var blockHead = regexp.MustCompile(`^(\d+)\. seq (\d+)  (\S+ \S+ UTC)  (\S+)\n`)

func TestReviewReplayStepsThroughTheDecisionsInOrder(t *testing.T) {
	b, ids := newBoardLedger(t)

	out, err := runReview(t, "--server", b.URL, "--period", "2026-10")
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	header, bs := blocks(t, out)
	if !strings.Contains(header, `Review 2026-10, "October board" (open`) || !strings.Contains(header, "4 decision(s)") {
		t.Errorf("header %q", header)
	}
	// Every decision of the script was on 5 October. Each block after its
	// first line is compared whole; {id} stands for the item's id.
	const day = "2026-10-05 "
	want := []struct {
		actor, title, body string
	}{
		{"pm@example.com", "Bulk export", `
   item.prioritised  item "Bulk export" ({id}, web-app)
   place:     off the roadmap -> next #1
   score:     rice 480 (reach 1200, impact 2, confidence 0.8, effort 4)
   rationale: Three renewals depend on it
   evidence:  https://crm.example.com/deals/41
              https://support.example.com/tickets/7`},
		{"cto@example.com", "Dark mode", `
   item.reprioritised  item "Dark mode" ({id}, web-app)
   place:     now #1 -> later #1
   score:     moscow 2 (category could)
   rationale: The design system lands first
   evidence:  (none)`},
		{"pm@example.com", "Saved filters", `
   item.prioritised  item "Saved filters" ({id}, web-app)
   place:     off the roadmap -> now #1
   rationale: Unblocks the analytics launch
   evidence:  (none)`},
		{"cpo@example.com", "Bulk export", `
   item.removed  item "Bulk export" ({id}, web-app)
   place:     next #1 -> off the roadmap
   rationale: Superseded by the partner integration
   evidence:  (none)`},
	}
	if len(bs) != len(want) {
		t.Fatalf("%d blocks, want %d:\n%s", len(bs), len(want), out)
	}
	var lastSeq int
	for i, blk := range bs {
		m := blockHead.FindStringSubmatch(blk)
		if m == nil {
			t.Fatalf("block %d does not start with its number, sequence, time and actor:\n%s", i+1, blk)
		}
		if m[1] != strconv.Itoa(i+1) || !strings.HasPrefix(m[3], day) || m[4] != want[i].actor {
			t.Errorf("block %d: number %s, time %s, actor %s; want %d, on %s, %s", i+1, m[1], m[3], m[4], i+1, day, want[i].actor)
		}
		seq, _ := strconv.Atoi(m[2])
		if seq <= lastSeq {
			t.Errorf("block %d: sequence %d after %d, want ledger order", i+1, seq, lastSeq)
		}
		lastSeq = seq
		wantBody := strings.ReplaceAll(strings.TrimPrefix(want[i].body, "\n"), "{id}", ids[want[i].title])
		if body := strings.TrimPrefix(blk, m[0]); body != wantBody {
			t.Errorf("block %d:\n%s\nwant after its first line:\n%s", i+1, blk, wantBody)
		}
	}
	if strings.Contains(bs[2], "score:") {
		t.Errorf("block 3 shows a score, but its decision set none:\n%s", bs[2])
	}

	// The same, as JSON lines.
	out, err = runReview(t, "--server", b.URL, "--period", "2026-10", "--format", "json")
	if err != nil {
		t.Fatalf("replay --format json: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d JSON lines, want 4:\n%s", len(lines), out)
	}
	wantTypes := []string{"item.prioritised", "item.reprioritised", "item.prioritised", "item.removed"}
	lastSeq = 0
	for i, l := range lines {
		var d struct {
			N         int
			Seq       int
			Type      string
			Actor     string
			Title     string
			Rationale string
			Evidence  []string
			From, To  struct {
				Horizon *string
				Rank    *int
			}
			Score *struct {
				Framework string
				Value     float64
			}
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, l)
		}
		if d.N != i+1 || d.Seq <= lastSeq || d.Type != wantTypes[i] || d.Actor != want[i].actor || d.Rationale == "" {
			t.Errorf("line %d: %s", i+1, l)
		}
		lastSeq = d.Seq
		if i == 0 && (d.Title != "Bulk export" || d.Score == nil || d.Score.Framework != "rice" || d.Score.Value != 480 ||
			len(d.Evidence) != 2 || d.From.Horizon != nil || d.To.Horizon == nil || *d.To.Horizon != "next" || *d.To.Rank != 1) {
			t.Errorf("line 1: %s", l)
		}
		if i == 2 && d.Score != nil {
			t.Errorf("line 3 has a score, but its decision set none: %s", l)
		}
	}

	// September: the objective defined and the first placement, closed.
	out, err = runReview(t, "--server", b.URL, "--period", "2026-09")
	if err != nil {
		t.Fatalf("replay 2026-09: %v", err)
	}
	header, bs = blocks(t, out)
	if !strings.Contains(header, "closed 2026-09-") || len(bs) != 2 ||
		!strings.Contains(bs[0], `objective.defined  objective "Cut churn"`) || strings.Contains(bs[0], "place:") ||
		!strings.Contains(bs[1], "place:     off the roadmap -> now #1") {
		t.Errorf("September:\n%s", out)
	}

	// Closed, October is frozen: a November decision is not in it.
	b.post("cpo@example.com", "/v1/reviews/"+ids["october"]+"/close", map[string]any{"notes": "Bulk export goes to the partners"})
	b.setDate(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	b.post("pm@example.com", "/v1/items/"+ids["Saved filters"]+"/reprioritise", map[string]any{"horizon": "next", "rationale": "November"})
	out, err = runReview(t, "--server", b.URL, "--period", "2026-10")
	if err != nil {
		t.Fatalf("replay of the closed review: %v", err)
	}
	header, bs = blocks(t, out)
	if !strings.Contains(header, "(closed 2026-10-") || len(bs) != 4 || strings.Contains(out, "November") {
		t.Errorf("the closed October review:\n%s", out)
	}
}

func TestReviewReplayWithoutThatPeriod(t *testing.T) {
	b, _ := newBoardLedger(t)
	out, err := runReview(t, "--server", b.URL, "--period", "2026-12")
	if err == nil || !strings.Contains(err.Error(), "no review has the period 2026-12") || !strings.Contains(err.Error(), "2026-09, 2026-10") {
		t.Fatalf("replay of a period without a review: %v", err)
	}
	if out != "" {
		t.Errorf("stdout %q, want nothing", out)
	}
}

func TestReviewReplayFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--server", "http://127.0.0.1:1"},
		{"--server", "http://127.0.0.1:1", "--period", "2026-13"},
		{"--server", "http://127.0.0.1:1", "--period", "October"},
		{"--server", "http://127.0.0.1:1", "--period", "2026-10", "--format", "yaml"},
		{"--server", "ftp://example.com", "--period", "2026-10"},
		{"--server", "http://127.0.0.1:1", "--period", "2026-10", "extra"},
	} {
		if _, err := runReview(t, args...); err == nil {
			t.Errorf("review replay %q: no error", args)
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"review", "nosuch"}, func(string) string { return "" }, io.Discard, &stderr); err == nil {
		t.Error("review nosuch: no error")
	}
}

func TestReviewReplaySendsTheTokenAndNamesAuthProblems(t *testing.T) {
	b, _ := newBoardLedger(t)
	p := newRecordingProxy(t, b.URL)
	viewer := b.send(boardAdmin, "/v1/tokens", map[string]any{"name": "board member", "role": "viewer"})["secret"].(string)
	if _, err := runReview(t, "--server", p.URL, "--period", "2026-10", "--token", viewer); err != nil {
		t.Fatalf("replay: %v", err)
	}
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Errorf("%d requests, want the list and the review", len(reqs))
	}
	for _, r := range reqs {
		if r.auth != "Bearer "+viewer {
			t.Errorf("GET %s: Authorization %q", r.path, r.auth)
		}
	}
	_, err := runReview(t, "--server", authServer(t), "--period", "2026-10", "--token", "viewer")
	var se *verify.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden || !strings.Contains(err.Error(), "role") {
		t.Fatalf("replay with a role that may not read: %v", err)
	}
}

// TestReviewReplayEscapesWhatUsersWrote gives a decision a rationale that
// draws a forged approval on lines of its own and evidence with a
// right-to-left mark: the replay prints them escaped, on the decision's
// own lines, so the board sees one decision and the text as stored.
func TestReviewReplayEscapesWhatUsersWrote(t *testing.T) {
	b, _ := newBoardLedger(t)
	b.setDate(time.Date(2026, 10, 6, 9, 0, 0, 0, time.UTC))
	item := b.post("pm@example.com", "/v1/items", map[string]any{"title": "Forge\nry", "kind": "idea", "product": "web-app"})
	forged := "Small\n\n6. seq 99  2026-10-06 09:00:00 UTC  cpo@example.com\n   change.approved  approved by the board"
	b.post("pm@example.com", "/v1/items/"+item+"/prioritise", map[string]any{
		"horizon": "later", "rationale": forged, "evidence": []string{"https://example.com/\u200ffdp.exe", "tab\there"},
	})
	out, err := runReview(t, "--server", b.URL, "--period", "2026-10")
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	_, bs := blocks(t, out)
	if len(bs) != 5 {
		t.Fatalf("the replay shows %d decisions; want the 4 of the script and the new one\n%s", len(bs), out)
	}
	last := bs[4]
	for _, want := range []string{
		`item "Forge\nry"`,
		`rationale: Small\n\n6. seq 99  2026-10-06 09:00:00 UTC  cpo@example.com\n   change.approved  approved by the board`,
		`evidence:  https://example.com/\u200ffdp.exe`,
		`tab\there`,
	} {
		if !strings.Contains(last, want) {
			t.Errorf("the decision's block does not show %q:\n%s", want, last)
		}
	}
	if strings.ContainsAny(out, "\u200f\t\r") || strings.Count(out, "\n6. seq") > 0 {
		t.Errorf("the replay printed user text raw:\n%s", out)
	}
}
