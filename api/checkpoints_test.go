package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// rawEvent is one line of GET /v1/events: a sequence and the stored bytes.
type rawEvent struct {
	Seq  int64
	Body []byte
}

// rawEvents reads GET /v1/events with the given query and checks that every
// line is exactly {"seq":N,"event":BODY}.
func (l *testLedger) rawEvents(query string) []rawEvent {
	l.t.Helper()
	res := l.do("GET", "/v1/events"+query, nil)
	if res.Status != 200 || res.Header.Get("Content-Type") != "application/x-ndjson" {
		l.t.Fatalf("GET /v1/events%s: %d %s: %s", query, res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	var out []rawEvent
	if len(res.Body) == 0 {
		return out
	}
	if !bytes.HasSuffix(res.Body, []byte("\n")) {
		l.t.Fatalf("GET /v1/events%s: the last line does not end in a line feed", query)
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(res.Body, []byte("\n")), []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(`{"seq":`))
		seqText, body, ok2 := bytes.Cut(rest, []byte(`,"event":`))
		body, ok3 := bytes.CutSuffix(body, []byte("}"))
		seq, err := strconv.ParseInt(string(seqText), 10, 64)
		if !ok || !ok2 || !ok3 || err != nil {
			l.t.Fatalf("line %d is not {\"seq\":N,\"event\":BODY}: %s", i+1, line)
		}
		var decoded struct {
			Seq   int64           `json:"seq"`
			Event json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(line, &decoded); err != nil || decoded.Seq != seq || !bytes.Equal(decoded.Event, body) {
			l.t.Fatalf("line %d does not decode to its own sequence and bytes (%v): %s", i+1, err, line)
		}
		out = append(out, rawEvent{Seq: seq, Body: body})
	}
	return out
}

// storedBodies reads the stream directly: every event's stored body by
// sequence, to hold the API's raw log against.
func (l *testLedger) storedBodies() map[int64][]byte {
	l.t.Helper()
	return apptest.StoredBodies(l.t, l.App)
}

// publicKey reads the verifier key the ledger serves.
func (l *testLedger) publicKey() string {
	l.t.Helper()
	res := l.do("GET", "/v1/checkpoints/public-key", nil)
	if res.Status != 200 || res.Header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		l.t.Fatalf("public key: %d %q: %s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	return string(res.Body)
}

// openCheckpoint checks an answer's checkpoint: its note opens with the
// pinned key, and its size, root and time are the note's.
func openCheckpoint(t *testing.T, cp map[string]any, pinned string) proof.Checkpoint {
	t.Helper()
	text, _ := cp["note"].(string)
	c, err := proof.OpenCheckpoint([]byte(text), pinned)
	if err != nil {
		t.Fatalf("the checkpoint's note does not open with the pinned key: %v\n%s", err, text)
	}
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(cp["time"]))
	if err != nil || !at.Equal(c.Time) || cp["size"] != float64(c.Size) || cp["root"] != c.Root.String() {
		t.Errorf("checkpoint %v does not say what its note says: size %d, root %s, time %s", cp, c.Size, c.Root, c.Time)
	}
	return c
}

// rootOf computes the root of the first size events from the raw log, as a
// verifier would: a compact range over the exact bytes.
func rootOf(t *testing.T, events []rawEvent, size int64) tlog.Hash {
	t.Helper()
	var c proof.Compact
	for _, e := range events {
		if e.Seq > size {
			break
		}
		if e.Seq != c.Size()+1 {
			t.Fatalf("the raw log skips from %d to %d", c.Size(), e.Seq)
		}
		c.AppendRecord(e.Body)
	}
	if c.Size() != size {
		t.Fatalf("the raw log has %d events, the checkpoint covers %d", c.Size(), size)
	}
	return c.Root()
}

func hashes(t *testing.T, v any) []tlog.Hash {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("proof %v is not a list", v)
	}
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(fmt.Sprint(s))
		if err != nil {
			t.Fatalf("proof hash %d: %v", i, err)
		}
		out[i] = h
	}
	return out
}

// someDecisions records a few decisions, each one event.
func someDecisions(l *testLedger, n int) {
	l.t.Helper()
	obj := l.objective(fmt.Sprintf("Objective %d", l.messages()))
	for i := 0; i < n-1; i++ {
		l.item(fmt.Sprintf("Idea %d-%d", l.messages(), i), obj)
	}
}

func TestThePublicKeyIsANoteVerifierKey(t *testing.T) {
	l := startLedger(t)
	key := l.publicKey()
	if !strings.HasSuffix(key, "\n") || strings.Count(key, "\n") != 1 {
		t.Errorf("public key %q: want one line", key)
	}
	v, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		t.Fatalf("the public key is not a note verifier key: %v", err)
	}
	if v.Name() != "roadmap-ledger/ROADMAP" || strings.TrimSpace(key) != l.App.VerifierKey {
		t.Errorf("key %q named %q, want the app's key named roadmap-ledger/ROADMAP", key, v.Name())
	}
}

// TestCheckpointsProveTheLog signs checkpoints on demand and checks them as
// an auditor would, with the pinned key and the raw log alone: the notes
// open, their roots are the roots of the raw bytes, inclusion proofs hold
// for the stored bytes and fail for changed ones, and the consistency proof
// ties the older checkpoint to the newer.
func TestCheckpointsProveTheLog(t *testing.T) {
	l := startLedger(t)
	pinned := l.publicKey()

	checkProblem(t, l.do("GET", "/v1/checkpoints/latest", nil), 404)
	if list := l.must(200, "GET", "/v1/checkpoints", nil); len(list["checkpoints"].([]any)) != 0 {
		t.Errorf("checkpoints of an empty ledger: %v", list)
	}
	// A new ledger holds its setup tokens and nothing else.
	if events := l.rawEvents(""); uint64(len(events)) != setupEvents {
		t.Errorf("raw log of a new ledger has %d events, want the %d setup tokens", len(events), setupEvents)
	} else {
		for i, e := range events {
			var env struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(e.Body, &env); err != nil || e.Seq != int64(i+1) || env.Type != "token.created" {
				t.Errorf("raw event %d of a new ledger: seq %d, %s; want a token.created (%v)", i+1, e.Seq, e.Body, err)
			}
		}
	}

	someDecisions(l, 9)
	before := l.messages()
	res := l.do("POST", "/v1/checkpoints", nil, as, "auditor@example.com")
	if res.Status != 201 {
		t.Fatalf("sign: %d %s", res.Status, res.Body)
	}
	first := decode(t, res.Body)
	checkVersioned(t, res, first)
	if loc := res.Header.Get("Location"); loc != "/v1/checkpoints/"+first["id"].(string) {
		t.Errorf("Location %q", loc)
	}
	if first["size"] != float64(before) || first["sequence"] != float64(before+1) || l.messages() != before+1 || first["review_id"] != nil {
		t.Errorf("checkpoint %v: want size %d, recorded at %d, alone", first, before, before+1)
	}
	cp1 := openCheckpoint(t, first, pinned)

	events := l.rawEvents("")
	if int64(len(events)) != int64(before+1) {
		t.Fatalf("raw log has %d events, want %d", len(events), before+1)
	}
	if root := rootOf(t, events, cp1.Size); root != cp1.Root {
		t.Fatalf("the checkpoint's root %s is not the root of the raw log %s", cp1.Root, root)
	}
	// The raw log is the stored bytes, byte for byte.
	stored := l.storedBodies()
	for _, e := range events {
		if !bytes.Equal(stored[e.Seq], e.Body) {
			t.Fatalf("event %d: the raw log sent %s, the stream holds %s", e.Seq, e.Body, stored[e.Seq])
		}
	}
	// The checkpoint's own event records it, at its time.
	last, err := eventlog.Decode(events[len(events)-1].Body)
	if err != nil {
		t.Fatal(err)
	}
	var data roadmap.CheckpointSigned
	if err := json.Unmarshal(last.Data, &data); err != nil {
		t.Fatal(err)
	}
	if last.Type != "checkpoint.signed" || last.AggregateType != "checkpoint" || last.AggregateID != first["id"] ||
		data.Note != first["note"] || data.Size != cp1.Size || data.Root != cp1.Root.String() ||
		!data.Time.Equal(cp1.Time) || !last.Time.Equal(cp1.Time) {
		t.Errorf("the checkpoint's event %s does not record it", events[len(events)-1].Body)
	}

	someDecisions(l, 6)
	second := l.must(201, "POST", "/v1/checkpoints", `{}`)
	cp2 := openCheckpoint(t, second, pinned)
	events = l.rawEvents("")
	if root := rootOf(t, events, cp2.Size); root != cp2.Root {
		t.Fatalf("the second checkpoint's root is not the root of the raw log")
	}

	list := l.must(200, "GET", "/v1/checkpoints", nil)["checkpoints"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != second["id"] || list[1].(map[string]any)["id"] != first["id"] {
		t.Errorf("list %v, want the second then the first", list)
	}
	if latest := l.must(200, "GET", "/v1/checkpoints/latest", nil); latest["id"] != second["id"] || latest["note"] != second["note"] {
		t.Errorf("latest %v, want the second", latest)
	}
	if got := l.must(200, "GET", "/v1/checkpoints/"+first["id"].(string), nil); got["note"] != first["note"] || got["version"] != first["version"] {
		t.Errorf("GET the first: %v, want %v", got, first)
	}

	// Inclusion proofs of several events in both trees.
	for _, cp := range []proof.Checkpoint{cp1, cp2} {
		for _, seq := range []int64{1, 2, cp1.Size / 2, cp1.Size, cp.Size} {
			p := l.must(200, "GET", fmt.Sprintf("/v1/events/%d/proof?checkpoint=%d", seq, cp.Size), nil)
			body := events[seq-1].Body
			if p["seq"] != float64(seq) || p["checkpoint"] != float64(cp.Size) || p["leaf_hash"] != tlog.RecordHash(body).String() {
				t.Errorf("proof of %d in %d: %v", seq, cp.Size, p)
			}
			rp := tlog.RecordProof(hashes(t, p["proof"]))
			if err := proof.VerifyInclusion(cp, seq, body, rp); err != nil {
				t.Errorf("event %d in the checkpoint of %d: %v", seq, cp.Size, err)
			}
			changed := bytes.Replace(body, []byte(`"actor":"`), []byte(`"actor":"x`), 1)
			if err := proof.VerifyInclusion(cp, seq, changed, rp); !errors.Is(err, proof.ErrProof) {
				t.Errorf("event %d with changed bytes: %v, want ErrProof", seq, err)
			}
		}
	}

	// Consistency between the two, and from a checkpoint to itself.
	cons := l.must(200, "GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", cp1.Size, cp2.Size), nil)
	if cons["from"] != float64(cp1.Size) || cons["to"] != float64(cp2.Size) {
		t.Errorf("consistency %v", cons)
	}
	tp := tlog.TreeProof(hashes(t, cons["proof"]))
	if err := proof.VerifyConsistency(cp1, cp2, tp); err != nil {
		t.Errorf("consistency from %d to %d: %v", cp1.Size, cp2.Size, err)
	}
	forged := cp1
	forged.Root = tlog.RecordHash([]byte("another history"))
	if err := proof.VerifyConsistency(forged, cp2, tp); !errors.Is(err, proof.ErrProof) {
		t.Errorf("consistency from another history: %v, want ErrProof", err)
	}
	same := l.must(200, "GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", cp2.Size, cp2.Size), nil)
	if err := proof.VerifyConsistency(cp2, cp2, tlog.TreeProof(hashes(t, same["proof"]))); err != nil {
		t.Errorf("consistency of a checkpoint with itself: %v", err)
	}

	// The raw log pages with after and limit.
	page := l.rawEvents("?after=3&limit=2")
	if len(page) != 2 || page[0].Seq != 4 || page[1].Seq != 5 || !bytes.Equal(page[0].Body, events[3].Body) {
		t.Errorf("after=3&limit=2: %v", page)
	}
	if tail := l.rawEvents(fmt.Sprintf("?after=%d", len(events)-1)); len(tail) != 1 || tail[0].Seq != int64(len(events)) {
		t.Errorf("the last event: %v", tail)
	}
	if none := l.rawEvents(fmt.Sprintf("?after=%d", len(events)+5)); len(none) != 0 {
		t.Errorf("after the end: %v", none)
	}
	// Checkpoints are in the audit trail like any event.
	audit := l.must(200, "GET", "/v1/audit?type=checkpoint.signed", nil)["events"].([]any)
	if len(audit) != 2 || audit[0].(map[string]any)["aggregate_type"] != "checkpoint" {
		t.Errorf("audit of checkpoints: %v", audit)
	}
}

func TestSigningACheckpointIsIdempotent(t *testing.T) {
	l := startLedger(t)
	someDecisions(l, 3)
	first := l.do("POST", "/v1/checkpoints", nil, "Idempotency-Key", "cp-1")
	count := l.messages()
	again := l.do("POST", "/v1/checkpoints", nil, "Idempotency-Key", "cp-1")
	if first.Status != 201 || again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" ||
		!bytes.Equal(first.Body, again.Body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Errorf("retry: %d %s then %d %s (replayed %q)", first.Status, first.Body, again.Status, again.Body, again.Header.Get("Idempotent-Replayed"))
	}
	if l.messages() != count {
		t.Errorf("the retry appended")
	}
	// An empty object is the same request as no body.
	if res := l.do("POST", "/v1/checkpoints", `{}`, "Idempotency-Key", "cp-1"); res.Status != 201 || !bytes.Equal(res.Body, first.Body) {
		t.Errorf("the same key with {}: %d %s", res.Status, res.Body)
	}
}

// TestReviewCloseSignsACheckpoint closes a review and checks the checkpoint
// it carries: at the review's own sequence, in the review.closed event and
// the snapshot, opening with the pinned key over the raw log up to there.
func TestReviewCloseSignsACheckpoint(t *testing.T) {
	l := startLedger(t)
	pinned := l.publicKey()
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})
	id := review["id"].(string)
	if review["checkpoint"] != nil {
		t.Errorf("an open review has a checkpoint: %v", review)
	}
	if snap := l.must(200, "GET", "/v1/reviews/"+id, nil); snap["checkpoint"] != nil {
		t.Errorf("an open review's snapshot has a checkpoint: %v", snap["checkpoint"])
	}
	someDecisions(l, 5)
	before := l.messages()
	closed := l.must(200, "POST", "/v1/reviews/"+id+"/close", map[string]any{"notes": "fine"})
	if l.messages() != before+1 {
		t.Errorf("closing appended %d events, want the close alone", l.messages()-before)
	}
	text, _ := closed["checkpoint"].(string)
	cp, err := proof.OpenCheckpoint([]byte(text), pinned)
	if err != nil {
		t.Fatalf("the close's checkpoint does not open: %v\n%v", err, closed)
	}
	if closed["sequence"] != float64(before) || cp.Size != int64(before) {
		t.Errorf("the review freezes %v, its checkpoint covers %d; want both %d", closed["sequence"], cp.Size, before)
	}
	closedAt, _ := time.Parse(time.RFC3339Nano, closed["closed_at"].(string))
	if !cp.Time.Equal(closedAt) {
		t.Errorf("checkpoint time %s, closed at %s", cp.Time, closedAt)
	}
	snap := l.must(200, "GET", "/v1/reviews/"+id, nil)
	if snap["checkpoint"] != text {
		t.Errorf("snapshot checkpoint %v, want the close's", snap["checkpoint"])
	}
	events := l.rawEvents("")
	if root := rootOf(t, events, cp.Size); root != cp.Root {
		t.Fatalf("the review's checkpoint root is not the root of the raw log")
	}
	var closeEvent struct {
		Type string `json:"type"`
		Data struct {
			Sequence   uint64 `json:"sequence"`
			Checkpoint struct {
				Size int64  `json:"size"`
				Root string `json:"root"`
				Note string `json:"note"`
			} `json:"checkpoint"`
		} `json:"data"`
	}
	if err := json.Unmarshal(events[len(events)-1].Body, &closeEvent); err != nil {
		t.Fatal(err)
	}
	if closeEvent.Type != "review.closed" || closeEvent.Data.Checkpoint.Note != text || closeEvent.Data.Checkpoint.Size != cp.Size ||
		closeEvent.Data.Checkpoint.Root != cp.Root.String() {
		t.Errorf("review.closed does not carry the checkpoint: %s", events[len(events)-1].Body)
	}

	// The review's checkpoint is a checkpoint like the others.
	got := l.must(200, "GET", "/v1/checkpoints/"+id, nil)
	if got["review_id"] != id || got["note"] != text || got["sequence"] != float64(before+1) {
		t.Errorf("GET /v1/checkpoints/{review}: %v", got)
	}
	openCheckpoint(t, got, pinned)
	if latest := l.must(200, "GET", "/v1/checkpoints/latest", nil); latest["id"] != id {
		t.Errorf("latest %v, want the review's", latest)
	}
	p := l.must(200, "GET", fmt.Sprintf("/v1/events/2/proof?checkpoint=%d", cp.Size), nil)
	if err := proof.VerifyInclusion(cp, 2, events[1].Body, tlog.RecordProof(hashes(t, p["proof"]))); err != nil {
		t.Errorf("inclusion in the review's checkpoint: %v", err)
	}
	later := openCheckpoint(t, l.must(201, "POST", "/v1/checkpoints", nil), pinned)
	cons := l.must(200, "GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", cp.Size, later.Size), nil)
	if err := proof.VerifyConsistency(cp, later, tlog.TreeProof(hashes(t, cons["proof"]))); err != nil {
		t.Errorf("consistency from the review's checkpoint: %v", err)
	}
	if list := l.must(200, "GET", "/v1/reviews", nil)["reviews"].([]any); list[0].(map[string]any)["checkpoint"] != text {
		t.Errorf("the list of reviews does not carry the checkpoint: %v", list[0])
	}
}

// TestCheckpointsSurviveARestart restarts the ledger on its directory: the
// key is the same, the checkpoints are rebuilt from the log, and the old
// checkpoints still prove against the rebuilt tree.
func TestCheckpointsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	pinned := l.publicKey()
	someDecisions(l, 4)
	first := l.must(201, "POST", "/v1/checkpoints", nil)
	cp1 := openCheckpoint(t, first, pinned)
	list := l.do("GET", "/v1/checkpoints", nil).Body
	l.stop()

	l = startLedgerIn(t, dir)
	if key := l.publicKey(); key != pinned {
		t.Fatalf("the key changed across a restart: %q, then %q", pinned, key)
	}
	if again := l.do("GET", "/v1/checkpoints", nil).Body; !bytes.Equal(again, list) {
		t.Errorf("checkpoints after a restart:\n%s\nbefore:\n%s", again, list)
	}
	someDecisions(l, 3)
	cp2 := openCheckpoint(t, l.must(201, "POST", "/v1/checkpoints", nil), pinned)
	cons := l.must(200, "GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", cp1.Size, cp2.Size), nil)
	if err := proof.VerifyConsistency(cp1, cp2, tlog.TreeProof(hashes(t, cons["proof"]))); err != nil {
		t.Errorf("consistency across a restart: %v", err)
	}
	events := l.rawEvents("")
	p := l.must(200, "GET", fmt.Sprintf("/v1/events/%d/proof?checkpoint=%d", cp1.Size, cp1.Size), nil)
	if err := proof.VerifyInclusion(cp1, cp1.Size, events[cp1.Size-1].Body, tlog.RecordProof(hashes(t, p["proof"]))); err != nil {
		t.Errorf("inclusion in the old checkpoint after a restart: %v", err)
	}
}

// TestBadProofRequestsAreRefused sends malformed and impossible requests:
// each is a 4xx problem, and none appends anything.
func TestBadProofRequestsAreRefused(t *testing.T) {
	l := startLedger(t)
	someDecisions(l, 5)
	cp := l.must(201, "POST", "/v1/checkpoints", nil)
	size := int64(cp["size"].(float64))
	count := l.messages()
	unknown := "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70"
	for _, tc := range []struct {
		method, path string
		body         any
		headers      []string
		status       int
	}{
		{"GET", "/v1/events/1/proof", nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=", nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=abc", nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=-1", nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=%2B5", nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/events/1/proof?checkpoint=%d&checkpoint=%d", size, size), nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/events/1/proof?checkpoint=%d&seq=1", size), nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=%zz", nil, nil, 400},
		{"GET", "/v1/events/1/proof?checkpoint=99999999999999999999", nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/events/1/proof?checkpoint=%d", size-1), nil, nil, 404},
		{"GET", fmt.Sprintf("/v1/events/0/proof?checkpoint=%d", size), nil, nil, 404},
		{"GET", fmt.Sprintf("/v1/events/abc/proof?checkpoint=%d", size), nil, nil, 404},
		{"GET", fmt.Sprintf("/v1/events/01/proof?checkpoint=%d", size), nil, nil, 404},
		{"GET", fmt.Sprintf("/v1/events/%d/proof?checkpoint=%d", size+1, size), nil, nil, 404},
		{"GET", "/v1/checkpoints/consistency", nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d", size), nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=1", size), nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=-1&to=%d", size), nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=1&to=%d&extra=1", size), nil, nil, 400},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=1&to=%d", size), nil, nil, 404},
		{"GET", fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", size, size+1), nil, nil, 404},
		{"GET", "/v1/events?after=-1", nil, nil, 400},
		{"GET", "/v1/events?after=x", nil, nil, 400},
		{"GET", "/v1/events?after=1&after=2", nil, nil, 400},
		{"GET", "/v1/events?limit=0", nil, nil, 400},
		{"GET", "/v1/events?limit=1000001", nil, nil, 400},
		{"GET", "/v1/events?type=item.proposed", nil, nil, 400},
		{"GET", "/v1/events?%zz", nil, nil, 400},
		{"GET", "/v1/checkpoints?limit=1", nil, nil, 400},
		{"GET", "/v1/checkpoints/latest?x=1", nil, nil, 400},
		{"GET", "/v1/checkpoints/public-key?format=pem", nil, nil, 400},
		{"GET", "/v1/checkpoints/" + unknown, nil, nil, 404},
		{"GET", "/v1/checkpoints/" + cp["id"].(string) + "?x=1", nil, nil, 400},
		{"POST", "/v1/checkpoints", `{"size":3}`, nil, 400},
		{"POST", "/v1/checkpoints", `[]`, nil, 400},
		{"POST", "/v1/checkpoints", `{}{}`, nil, 400},
		{"POST", "/v1/checkpoints", `size=3`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"POST", "/v1/checkpoints", nil, []string{"If-Match", `"1"`}, 412},
		{"POST", "/v1/checkpoints", nil, []string{"X-Actor", "auditor@example.com"}, 400},
		{"DELETE", "/v1/checkpoints/" + cp["id"].(string), nil, nil, 405},
		{"POST", "/v1/checkpoints/latest", `{}`, nil, 405},
	} {
		checkProblem(t, l.do(tc.method, tc.path, tc.body, tc.headers...), tc.status)
	}
	if l.messages() != count {
		t.Errorf("bad requests appended %d events", l.messages()-count)
	}
	// The same key with other bytes is another request, refused.
	l.must(201, "POST", "/v1/checkpoints", nil, "Idempotency-Key", "k")
	count = l.messages()
	checkProblem(t, l.do("POST", "/v1/checkpoints", `{ }`, "Idempotency-Key", "k"), 422)
	if l.messages() != count {
		t.Errorf("a reused key appended")
	}
}

// TestABrokenTreeIsNotReady breaks the proof tree as a gap in the stream
// would: the ledger says it is not ready, and neither signs nor proves.
func TestABrokenTreeIsNotReady(t *testing.T) {
	l := startLedger(t)
	someDecisions(l, 3)
	cp := l.must(201, "POST", "/v1/checkpoints", nil)
	if err := l.App.Tree.Append(l.messages()+2, []byte(`{"id":"x"}`)); !errors.Is(err, proof.ErrBroken) {
		t.Fatalf("append after a gap: %v", err)
	}
	count := l.messages()
	checkProblem(t, l.do("GET", "/readyz", nil), 503)
	checkProblem(t, l.do("POST", "/v1/checkpoints", nil), 503)
	checkProblem(t, l.do("GET", fmt.Sprintf("/v1/events/1/proof?checkpoint=%v", cp["size"]), nil), 503)
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)
	count++
	checkProblem(t, l.do("POST", "/v1/reviews/"+review+"/close", map[string]any{}), 503)
	if l.messages() != count {
		t.Errorf("a broken tree let %d events through", l.messages()-count)
	}
}
