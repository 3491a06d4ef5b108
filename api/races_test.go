package api_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// race sends n requests at once, released together, and returns their
// answers in the order of send's index.
func race(n int, send func(i int) response) []response {
	out := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// checkedLog reads and checks the whole log (logcheck.Check).
func checkedLog(t *testing.T, l *testLedger) *logcheck.Ledger {
	t.Helper()
	ledger, err := logcheck.Check(context.Background(), l.App.Log)
	if err != nil {
		t.Errorf("the log does not verify:\n%v", err)
	}
	return ledger
}

// TestApproversRaceOnOneChange has four approvers approve each of a dozen
// changes at once. For every change the log holds one change.approved and
// one decision on the item carrying it, nothing doubled; every answer is 200
// (the change, approved and applied) or 409; and the approver whose
// approval is recorded is never the one told 409.
func TestApproversRaceOnOneChange(t *testing.T) {
	const changes, approvers = 12, 4
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor})
	_, e := newToken(l, "editor@example.com", "editor")
	editor := bearer(e)
	var secrets [approvers][]string
	for i := range approvers {
		_, s := newToken(l, fmt.Sprintf("approver%d@example.com", i), "approver")
		secrets[i] = bearer(s)
	}

	answers := map[string][]response{} // change id → answer of approver i
	for n := range changes {
		item := l.must(201, "POST", "/v1/items", map[string]any{"title": fmt.Sprintf("Raced %d", n), "kind": "idea"}, editor...)["id"].(string)
		id := l.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "major"}, editor...)["id"].(string)
		answers[id] = race(approvers, func(i int) response {
			return l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": fmt.Sprintf("approver %d agrees", i)}, secrets[i]...)
		})
	}

	ledger := checkedLog(t, l)
	approvedBy := map[string][]string{} // change → actors of its change.approved
	appliedAt := map[string][]uint64{}  // change → sequences of the decisions carrying it
	for _, ev := range ledger.Events {
		if ev.Envelope.Type == roadmap.TypeChangeApproved {
			approvedBy[ev.Envelope.AggregateID] = append(approvedBy[ev.Envelope.AggregateID], ev.Envelope.Actor)
		}
		if d, ok := ev.Data.(roadmap.ItemDecision); ok && d.Approved() != nil {
			appliedAt[d.Approved().ChangeID] = append(appliedAt[d.Approved().ChangeID], ev.Sequence)
		}
	}
	statuses := map[int]int{}
	for id, res := range answers {
		if len(approvedBy[id]) != 1 || len(appliedAt[id]) != 1 {
			t.Errorf("change %s: approved %d times (by %v), its decision recorded %d times; want once each", id, len(approvedBy[id]), approvedBy[id], len(appliedAt[id]))
			continue
		}
		winner, applied := approvedBy[id][0], appliedAt[id][0]
		for i, r := range res {
			statuses[r.Status]++
			who := fmt.Sprintf("approver%d@example.com", i)
			switch r.Status {
			case http.StatusOK:
				c := decode(t, r.Body)
				if c["status"] != "approved" || c["decided_by"] != winner || c["applied_sequence"] != float64(applied) {
					t.Errorf("change %s, %s: answer %s; want approved by %s, applied at %d", id, who, r.Body, winner, applied)
				}
			case http.StatusConflict:
				checkProblem(t, r, http.StatusConflict)
				if who == winner {
					t.Errorf("change %s: %s's approval is the one recorded, and was answered 409: %s", id, who, r.Body)
				}
			default:
				t.Errorf("change %s, %s: status %d, want 200 or 409: %s", id, who, r.Status, r.Body)
			}
		}
	}
	t.Logf("%d changes, %d approvers each: statuses %v", changes, approvers, statuses)
}

// TestReviewClosersRace has four approvers close each of a dozen reviews at
// once: each review is closed once in the log, one close is answered 200
// with the review at that event, and the others 409.
func TestReviewClosersRace(t *testing.T) {
	const reviews, closers = 12, 4
	// A ledger takes reviews of its first month to the next one: the clock
	// moves on a month before each review.
	clock := newFakeClock()
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	var secrets [closers][]string
	for i := range closers {
		_, s := newToken(l, fmt.Sprintf("closer%d@example.com", i), "approver")
		secrets[i] = bearer(s)
	}
	answers := map[string][]response{}
	for n := range reviews {
		if n > 0 {
			clock.Advance(31 * 24 * time.Hour)
		}
		id := l.must(201, "POST", "/v1/reviews", map[string]any{"period": clock.Now().UTC().Format("2006-01")})["id"].(string)
		answers[id] = race(closers, func(i int) response {
			return l.do("POST", "/v1/reviews/"+id+"/close", map[string]any{"notes": fmt.Sprintf("closed by %d", i)}, secrets[i]...)
		})
	}

	ledger := checkedLog(t, l)
	closedAt := map[string][]uint64{}
	closedBy := map[string]string{}
	for _, ev := range ledger.Events {
		if ev.Envelope.Type == roadmap.TypeReviewClosed {
			closedAt[ev.Envelope.AggregateID] = append(closedAt[ev.Envelope.AggregateID], ev.Sequence)
			closedBy[ev.Envelope.AggregateID] = ev.Envelope.Actor
		}
	}
	statuses := map[int]int{}
	for id, res := range answers {
		if len(closedAt[id]) != 1 {
			t.Errorf("review %s closed %d times in the log, want once", id, len(closedAt[id]))
			continue
		}
		ok := 0
		for i, r := range res {
			statuses[r.Status]++
			who := fmt.Sprintf("closer%d@example.com", i)
			switch r.Status {
			case http.StatusOK:
				ok++
				body := decode(t, r.Body)
				checkVersioned(t, r, body)
				if body["status"] != "closed" || body["version"] != float64(closedAt[id][0]) || who != closedBy[id] {
					t.Errorf("review %s, %s: answer %s; want it closed at %d, by %s", id, who, clipBody(r.Body), closedAt[id][0], closedBy[id])
				}
			case http.StatusConflict:
				checkProblem(t, r, http.StatusConflict)
			default:
				t.Errorf("review %s, %s: status %d, want 200 or 409: %s", id, who, r.Status, r.Body)
			}
		}
		if ok != 1 {
			t.Errorf("review %s: %d closes answered 200, want 1", id, ok)
		}
	}
	t.Logf("%d reviews, %d closers each: statuses %v", reviews, closers, statuses)
}

// TestATokenRevokedWhileItsRequestIsInFlight holds a request between its
// authorisation and its decision, by sending its body in two parts: the
// headers and the first part pass the token check (the server notes the
// token's use), then the token is revoked and the revocation answered, and
// only then the rest of the body is sent. The guarantee: a request whose
// token is revoked before its decision is read is refused, 401, and
// records nothing; so is every request with the token after its revocation
// is answered. (A request whose decision was read, or appended, before the
// revocation may complete: internal/ledger's
// TestADecisionAppendedBeforeItsTokensRevocationCompletes.)
func TestATokenRevokedWhileItsRequestIsInFlight(t *testing.T) {
	l := startLedger(t)
	id, secret := newToken(l, "leaving@example.com", "editor")
	body := `{"title":"Proposed by a token revoked meanwhile","kind":"idea"}`
	half := len(body) / 2

	u, err := url.Parse(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /v1/items HTTP/1.1\r\nHost: ledger\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		secret, len(body), body[:half]); err != nil {
		t.Fatal(err)
	}
	// The server has checked the token once it notes its use.
	deadline := time.Now().Add(20 * time.Second)
	for l.must(200, "GET", "/v1/tokens/"+id, nil)["last_used_at"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the server did not check the token of the request within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := l.messages()
	l.must(200, "DELETE", "/v1/tokens/"+id, map[string]any{"reason": "left the company"})

	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := response{Status: res.StatusCode, Header: res.Header, Body: data}
	p := checkProblem(t, got, http.StatusUnauthorized)
	if detail, _ := p["detail"].(string); !strings.Contains(detail, "revoked") {
		t.Errorf("the refusal does not say the token was revoked: %v", p)
	}
	if n := l.messages(); n != before+1 {
		t.Errorf("the log went from %d to %d events; want only the revocation", before, n)
	}

	// After the revocation, every request with the token is refused.
	checkProblem(t, l.do("POST", "/v1/items", body, bearer(secret)...), http.StatusUnauthorized)
	checkProblem(t, l.do("GET", "/v1/roadmap", nil, bearer(secret)...), http.StatusUnauthorized)
	if n := l.messages(); n != before+1 {
		t.Errorf("the log went from %d to %d events; want only the revocation", before, n)
	}
}
