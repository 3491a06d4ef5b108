package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// exportManifest reads GET /v1/export/manifest and checks it against the
// raw log and the pinned key: the file line matches the bytes of
// GET /v1/events for the range, the checkpoint line the note, and the prefix
// and the events rebuild the checkpoint's root.
func (l *testLedger) exportManifest(t *testing.T, query string, wantFrom, wantTo int64) {
	t.Helper()
	m := l.must(200, "GET", "/v1/export/manifest"+query, nil)
	from, to := int64(m["from"].(float64)), int64(m["to"].(float64))
	if from != wantFrom || to != wantTo {
		t.Fatalf("range %d..%d, want %d..%d", from, to, wantFrom, wantTo)
	}
	note := m["checkpoint"].(string)
	cp, err := proof.OpenCheckpoint([]byte(note), l.publicKey())
	if err != nil || cp.Size != to {
		t.Fatalf("checkpoint of size %d (%v), want %d", cp.Size, err, to)
	}
	raw := l.do("GET", fmt.Sprintf("/v1/events?after=%d&limit=%d", from-1, to-from+1), nil).Body
	rawSum, noteSum := sha256.Sum256(raw), sha256.Sum256([]byte(note))
	text, _, err := proof.OpenNote([]byte(m["manifest"].(string)), l.publicKey())
	if err != nil {
		t.Fatalf("the manifest does not open with the served key: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("manifest has %d lines, want 6:\n%s", len(lines), m["manifest"])
	}
	want := []string{
		"roadmap-export v1",
		"origin " + cp.Origin,
		fmt.Sprintf("range %d %d", from, to),
		fmt.Sprintf("checkpoint checkpoint.txt %d %s", len(note), hex.EncodeToString(noteSum[:])),
		"",
		fmt.Sprintf("file events.jsonl %d %s", len(raw), hex.EncodeToString(rawSum[:])),
	}
	for i, w := range want {
		if i != 4 && lines[i] != w {
			t.Fatalf("manifest line %d is %q, want %q", i+1, lines[i], w)
		}
	}
	fields := strings.Fields(lines[4])
	if fields[0] != "prefix" {
		t.Fatalf("line 5 is not the prefix: %q", lines[4])
	}
	var prefix []tlog.Hash
	for _, f := range fields[1:] {
		h, err := tlog.ParseHash(f)
		if err != nil {
			t.Fatalf("prefix hash %q: %v", f, err)
		}
		prefix = append(prefix, h)
	}
	c, err := proof.NewCompact(from-1, prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range l.rawEvents(fmt.Sprintf("?after=%d&limit=%d", from-1, to-from+1)) {
		c.AppendRecord(ev.Body)
	}
	if c.Size() != to || c.Root() != cp.Root {
		t.Fatalf("prefix and events give the root %v of %d events, want the checkpoint's %v", c.Root(), c.Size(), cp.Root)
	}
}

func TestExportManifest(t *testing.T) {
	l := startLedger(t)
	checkProblem(t, l.do("GET", "/v1/export/manifest", nil), 404)

	// The numbers count the test's own events, after the setup tokens.
	n := int64(setupEvents)
	someDecisions(l, 5)                         // 1..5
	l.must(201, "POST", "/v1/checkpoints", nil) // 6, of size 5
	time.Sleep(20 * time.Millisecond)
	mid := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	someDecisions(l, 3)                         // 7..9
	l.must(201, "POST", "/v1/checkpoints", nil) // 10, of size 9
	someDecisions(l, 2)                         // 11..12

	l.exportManifest(t, "", 1, n+9)
	l.exportManifest(t, "?since="+url.QueryEscape(mid.Format(time.RFC3339Nano)), n+7, n+9)
	l.exportManifest(t, "?until="+url.QueryEscape(mid.Format(time.RFC3339Nano)), 1, n+5)
	later := time.Now().Add(time.Hour).Format(time.RFC3339Nano)
	l.exportManifest(t, "?since="+url.QueryEscape(time.Unix(0, 0).UTC().Format(time.RFC3339))+"&until="+url.QueryEscape(later), 1, n+9)

	// A range with no checkpoint at its end: the events after the last one.
	checkProblem(t, l.do("GET", "/v1/export/manifest?since="+url.QueryEscape(later), nil), 404)
	if got := l.messages(); got != uint64(n+12) {
		t.Fatalf("the log holds %d events after the exports, want %d: a manifest appends nothing", got, n+12)
	}
}

func TestBadExportQueriesAreRefused(t *testing.T) {
	l := startLedger(t)
	someDecisions(l, 2)
	l.must(201, "POST", "/v1/checkpoints", nil)
	for _, q := range []string{
		"?since=yesterday",
		"?until=2026-13-01T00:00:00Z",
		"?since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z",
		"?since=2026-11-01T00:00:00Z&since=2026-11-02T00:00:00Z",
		"?after=0",
		"?limit=" + strconv.Itoa(10),
	} {
		if p := checkProblem(t, l.do("GET", "/v1/export/manifest"+q, nil), 400); p["type"] == nil {
			t.Fatalf("%s: no problem type", q)
		}
	}
}
