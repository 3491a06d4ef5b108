package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// The ledger in testdata/ledger-v1 was written through the HTTP API by
// roadmap serve built from the commit that added it;
// testdata/ledger-v1/make.sh is how (the tests never run it). Whatever
// changes inside later, a ledger written by that release must keep verifying
// and replaying to the same answers, so the fixture is never remade: a later
// release that writes differently adds a fixture of its own beside it. It
// holds:
//
//   - datadir/: the data directory exactly as the stopped server left it, the
//     signing key and the embedded JetStream's file store (stream ROADMAP).
//     It is the ledger itself, not an export of it: the raw log
//     (GET /v1/events) carries the events' bodies only, while an
//     idempotent write is remembered through the Roadmap-Idempotency-Key and
//     Roadmap-Request-Hash headers of its message, which only the store
//     keeps. The store is small (one message block of about 80 KB, nothing
//     preallocated) and byte-exact, and loading it is what an operator who
//     upgrades does: start the new release on the old directory.
//   - golden/: what that release answered to the GETs in
//     golden/answers.tsv, byte for byte, with their Content-Type and ETag.
//   - idempotent/: writes the bootstrap admin sent with an Idempotency-Key,
//     the bytes sent and the answer. JetStream's own duplicate window
//     (Nats-Msg-Id, ten minutes) is long past for these, so a retry is
//     answered by the ledger's idempotency index, rebuilt from the headers.
//   - events.count: how many events the log holds.
//
// The signing key was made for the fixture and signs nothing else.

// compatAdmin is the secret of the fixture's bootstrap admin token, given to
// serve with --bootstrap-token when the fixture was made. The log holds its
// unkeyed SHA-256 (token.created version 1), and every request of the test
// is sent with it: a token recorded that way still opens the ledger. This
// release refuses it as a bootstrap secret (it is mostly words), so the
// ledger is opened without one: it has tokens, so it makes none.
const compatAdmin = "compat-ledger-v1-bootstrap-admin-secret-0123456789"

const compatFixture = "testdata/ledger-v1"

// compatLedger is the fixture's ledger, opened by this release in a
// temporary directory, behind a real HTTP server on 127.0.0.1.
type compatLedger struct {
	app *app.App
	url string
}

// TestCompatLedgerV1StillVerifiesAndAnswersTheSame opens the ledger written
// by the earlier release and checks that it rebuilds to the answers that
// release gave, that it verifies against its own signed checkpoints, and that
// its idempotent writes still replay.
func TestCompatLedgerV1StillVerifiesAndAnswersTheSame(t *testing.T) {
	ctx := context.Background()
	events := compatEventCount(t)
	l := openCompatLedger(t)

	t.Run("opening the ledger appends nothing to it", func(t *testing.T) {
		// The ledger has tokens already, so a new start records nothing:
		// every answer below is about the log as it was written.
		if got := compatLastSequence(t, l); got != events {
			t.Fatalf("the log holds %d events after opening, want the %d it was written with", got, events)
		}
		if got := l.app.Current.Sequence(); got != events {
			t.Fatalf("the projections applied %d events, want %d", got, events)
		}
	})

	t.Run("every recorded answer is the same, byte for byte", func(t *testing.T) {
		answers := compatAnswers(t)
		if len(answers) < 50 {
			t.Fatalf("golden/answers.tsv lists %d answers; the fixture is not complete", len(answers))
		}
		for _, a := range answers {
			want := compatRead(t, "golden", a.file)
			res := compatGet(t, l, a.path, a.accept)
			if res.status != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200: %s", a.path, res.status, clipBytes(res.body))
				continue
			}
			got := withoutLaterKeys(t, a.path, res.body)
			if strings.HasSuffix(a.path, "/pack") {
				got = withoutLaterSection(t, a.path, got)
			}
			if strings.HasPrefix(a.path, "/v1/tokens") {
				want, got = compatLastUse(t, a.path, want), compatLastUse(t, a.path, got)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("GET %s (golden/%s) answers differently from the release that wrote the ledger: %s", a.path, a.file, firstDifference(want, got))
			}
			if ct := res.header.Get("Content-Type"); ct != a.contentType {
				t.Errorf("GET %s: Content-Type %q, want %q", a.path, ct, a.contentType)
			}
			if et := res.header.Get("ETag"); et != a.etag {
				t.Errorf("GET %s: ETag %q, want %q", a.path, et, a.etag)
			}
		}
	})

	// The key an auditor pinned from the release that wrote the ledger.
	pinned := strings.TrimSpace(string(compatRead(t, "golden", "public-key.txt")))
	latest := compatCheckpoint(t, pinned, "checkpoints-latest.json")
	november := compatCheckpoint(t, pinned, "checkpoint-of-november-review.json")

	t.Run("the log verifies against its latest checkpoint with the pinned key", func(t *testing.T) {
		if l.app.VerifierKey != pinned {
			t.Fatalf("the ledger signs with %q, want the recorded key %q", l.app.VerifierKey, pinned)
		}
		if latest.Size <= november.Size || latest.Size >= int64(events) {
			t.Fatalf("the recorded checkpoints are of sizes %d and %d in a log of %d events: the fixture should have a later one, and events after it", november.Size, latest.Size, events)
		}
		r := &verify.Remote{Server: l.url, Token: compatAdmin}
		// Since: the checkpoint of the November review, kept by an auditor
		// then; the latest must extend it (a consistency proof).
		res, err := r.Verify(ctx, verify.Options{VerifierKey: pinned, KeyKind: "pinned", Since: &november})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if !res.Checkpoint.Equal(latest) {
			t.Errorf("verified against checkpoint %d %v, want the recorded latest %d %v", res.Checkpoint.Size, res.Checkpoint.Root, latest.Size, latest.Root)
		}
		if res.Events != int64(events) {
			t.Errorf("verified %d events, want %d", res.Events, events)
		}
		if want := compatAggregates(t); res.Aggregates != want {
			t.Errorf("verified the chains of %d aggregates, want the %d of the recorded log", res.Aggregates, want)
		}
	})

	t.Run("the same verification fails on the recorded log with one byte changed", func(t *testing.T) {
		// So the check above is not vacuous: the recorded raw log passes
		// the checker as it is, and fails it with one letter changed.
		raw := compatRead(t, "golden", "events.ndjson")
		checker := verify.NewChecker(latest)
		if err := checker.CheckStream(bytes.NewReader(raw), nil); err != nil {
			t.Fatalf("the recorded raw log: %v", err)
		}
		if err := checker.Finish(); err != nil {
			t.Fatalf("the recorded raw log: %v", err)
		}
		i := bytes.Index(raw, []byte("Guided setup"))
		if i < 0 {
			t.Fatal("the recorded raw log has no item called Guided setup")
		}
		changed := bytes.Clone(raw)
		changed[i] = 'g'
		checker = verify.NewChecker(latest)
		err := checker.CheckStream(bytes.NewReader(changed), nil)
		if err == nil {
			err = checker.Finish()
		}
		var failure *verify.Failure
		if !errors.As(err, &failure) {
			t.Fatalf("a changed byte at offset %d passed verification (error %v)", i, err)
		}
	})

	t.Run("retrying a recorded idempotent write gets its first answer and appends nothing", func(t *testing.T) {
		writes := compatWrites(t)
		if len(writes) == 0 {
			t.Fatal("idempotent/requests.tsv lists no writes")
		}
		before := compatLastSequence(t, l)
		for _, w := range writes {
			body := compatRead(t, "idempotent", w.name+".body")
			want := compatRead(t, "idempotent", w.name+".answer")
			res := compatDo(t, l, w.method, w.path, body, "Content-Type", "application/json", "Idempotency-Key", w.key)
			if res.status != w.status {
				t.Errorf("%s %s with key %s: status %d, want %d: %s", w.method, w.path, w.key, res.status, w.status, clipBytes(res.body))
				continue
			}
			if got := withoutLaterKeys(t, w.path, res.body); !bytes.Equal(got, want) {
				t.Errorf("%s %s with key %s answers differently from the first time: %s", w.method, w.path, w.key, firstDifference(want, got))
			}
			for _, h := range []struct{ name, want string }{
				{"Idempotent-Replayed", "true"},
				{"Content-Type", w.contentType},
				{"ETag", w.etag},
				{"Location", w.location},
			} {
				if got := res.header.Get(h.name); got != h.want {
					t.Errorf("%s %s with key %s: %s %q, want %q", w.method, w.path, w.key, h.name, got, h.want)
				}
			}
		}
		if after := compatLastSequence(t, l); after != before || after != events {
			t.Errorf("the log holds %d events after the retries, %d before; want %d", after, before, events)
		}
		// The same key with another body is another request: refused, and
		// nothing is appended either.
		w := writes[0]
		body := append(compatRead(t, "idempotent", w.name+".body"), ' ')
		if res := compatDo(t, l, w.method, w.path, body, "Content-Type", "application/json", "Idempotency-Key", w.key); res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s %s with key %s and another body: status %d, want 422: %s", w.method, w.path, w.key, res.status, clipBytes(res.body))
		}
		if after := compatLastSequence(t, l); after != events {
			t.Errorf("the log holds %d events after a reused key, want %d", after, events)
		}
	})

	t.Run("a checkpoint signed now extends the recorded ones and the log verifies against it", func(t *testing.T) {
		res := compatDo(t, l, http.MethodPost, "/v1/checkpoints", []byte(`{}`), "Content-Type", "application/json")
		if res.status != http.StatusCreated {
			t.Fatalf("POST /v1/checkpoints: status %d, want 201: %s", res.status, clipBytes(res.body))
		}
		r := &verify.Remote{Server: l.url, Token: compatAdmin}
		got, err := r.Verify(ctx, verify.Options{VerifierKey: pinned, KeyKind: "pinned", Since: &latest})
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if got.Checkpoint.Size != int64(events) || got.Events != int64(events)+1 {
			t.Errorf("verified %d events against a checkpoint of size %d, want %d against one of size %d", got.Events, got.Checkpoint.Size, events+1, events)
		}
	})
}

// openCompatLedger copies the fixture's data directory into a temporary one
// and opens it as serve does, with the bootstrap token it was made with.
func openCompatLedger(t testing.TB) *compatLedger {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(compatFixture, "datadir")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		// 0600: a checkout may give the files any mode, and the ledger
		// refuses a signing key that others can read.
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatalf("copy the fixture: %v", err)
	}
	ctx := context.Background()
	// serve's defaults when the fixture was made: approvals major.
	a, err := app.Open(ctx, app.Config{DataDir: dir, Approvals: roadmap.ApprovalsMajor})
	if err != nil {
		t.Fatalf("open the fixture's ledger: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close the ledger: %v", err)
		}
	})
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := a.WaitReady(waitCtx); err != nil {
		t.Fatalf("the fixture's ledger is not ready: %v", err)
	}
	srv := httptest.NewServer(a.Handler) // 127.0.0.1
	t.Cleanup(srv.Close)
	return &compatLedger{app: a, url: srv.URL}
}

// compatResponse is one whole HTTP answer.
type compatResponse struct {
	status int
	header http.Header
	body   []byte
}

// compatDo sends a request as the bootstrap admin; headers are name, value
// pairs.
func compatDo(t testing.TB, l *compatLedger, method, path string, body []byte, headers ...string) compatResponse {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+compatAdmin)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return compatResponse{status: res.StatusCode, header: res.Header, body: b}
}

// compatGet GETs path with the recorded Accept; with none recorded, with
// Accept: */*, which is what the recording client (curl) sent.
func compatGet(t testing.TB, l *compatLedger, path, accept string) compatResponse {
	t.Helper()
	if accept == "" {
		accept = "*/*"
	}
	return compatDo(t, l, http.MethodGet, path, nil, "Accept", accept)
}

func compatLastSequence(t testing.TB, l *compatLedger) uint64 {
	t.Helper()
	seq, err := l.app.Log.LastSequence(context.Background())
	if err != nil {
		t.Fatalf("the log's last sequence: %v", err)
	}
	return seq
}

func compatRead(t testing.TB, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{compatFixture}, parts...)...))
	if err != nil {
		t.Fatalf("the fixture: %v", err)
	}
	return b
}

func compatEventCount(t testing.TB) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(string(compatRead(t, "events.count"))), 10, 64)
	if err != nil || n == 0 {
		t.Fatalf("events.count: %q is not a number of events", compatRead(t, "events.count"))
	}
	return n
}

// compatTSV reads a tab-separated file of the fixture, each line with n
// fields.
func compatTSV(t testing.TB, n int, parts ...string) [][]string {
	t.Helper()
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(compatRead(t, parts...)))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != n {
			t.Fatalf("%s: line %q has %d fields, want %d", filepath.Join(parts...), sc.Text(), len(fields), n)
		}
		rows = append(rows, fields)
	}
	return rows
}

// compatAnswer is one recorded GET.
type compatAnswer struct {
	file, path, accept, contentType, etag string
}

func compatAnswers(t testing.TB) []compatAnswer {
	t.Helper()
	var out []compatAnswer
	for _, f := range compatTSV(t, 5, "golden", "answers.tsv") {
		out = append(out, compatAnswer{file: f[0], path: f[1], accept: f[2], contentType: f[3], etag: f[4]})
	}
	return out
}

// compatWrite is one recorded write with an Idempotency-Key.
type compatWrite struct {
	name, method, path, key     string
	status                      int
	contentType, etag, location string
}

func compatWrites(t testing.TB) []compatWrite {
	t.Helper()
	var out []compatWrite
	for _, f := range compatTSV(t, 8, "idempotent", "requests.tsv") {
		status, err := strconv.Atoi(f[4])
		if err != nil {
			t.Fatalf("idempotent/requests.tsv: status %q", f[4])
		}
		out = append(out, compatWrite{name: f[0], method: f[1], path: f[2], key: f[3], status: status, contentType: f[5], etag: f[6], location: f[7]})
	}
	return out
}

// compatCheckpoint opens the signed note of a recorded checkpoint answer
// with the pinned key.
func compatCheckpoint(t testing.TB, pinned, file string) proof.Checkpoint {
	t.Helper()
	var answer struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(compatRead(t, "golden", file), &answer); err != nil {
		t.Fatalf("golden/%s: %v", file, err)
	}
	cp, err := proof.OpenCheckpoint([]byte(answer.Note), pinned)
	if err != nil {
		t.Fatalf("golden/%s: the note does not open with the pinned key: %v", file, err)
	}
	return cp
}

// compatAggregates counts the aggregates of the recorded raw log.
func compatAggregates(t testing.TB) int {
	t.Helper()
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(compatRead(t, "golden", "events.ndjson")))
	sc.Buffer(nil, verify.MaxLine)
	for sc.Scan() {
		var line struct {
			Event struct {
				Type string `json:"aggregate_type"`
				ID   string `json:"aggregate_id"`
			} `json:"event"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Event.ID == "" {
			t.Fatalf("golden/events.ndjson: line %q: %v", clipBytes(sc.Bytes()), err)
		}
		seen[line.Event.Type+"/"+line.Event.ID] = true
	}
	return len(seen)
}

var lastUsedAt = regexp.MustCompile(`"last_used_at":(null|"[^"]*")`)

// compatLastUse blanks the last_used_at of every token in a token answer.
// It is the one value of the recorded answers that the log does not hold:
// when this server process last authenticated the token, kept in memory
// since it started (docs/api.md, Tokens and roles). The fixture's was the
// recording's; a new process has its own. Each value must still be null or
// a time, and nothing else in the answer is touched.
func compatLastUse(t testing.TB, path string, answer []byte) []byte {
	t.Helper()
	n := 0
	out := lastUsedAt.ReplaceAllFunc(answer, func(m []byte) []byte {
		n++
		v := bytes.TrimPrefix(m, []byte(`"last_used_at":`))
		if !bytes.Equal(v, []byte("null")) {
			if _, err := time.Parse(time.RFC3339Nano, string(bytes.Trim(v, `"`))); err != nil {
				t.Errorf("GET %s: last_used_at %s is neither null nor a time", path, v)
			}
		}
		return []byte(`"last_used_at":"(varies)"`)
	})
	if want := bytes.Count(answer, []byte(`"name":`)); n != want || n == 0 {
		t.Errorf("GET %s: %d last_used_at for %d tokens", path, n, want)
	}
	return out
}

// A review pack is a document a later release may add a section to, never
// change what was there: the figures against the previous review
// (pack.Numbers) came after the release that wrote the fixture, as the
// last section. withoutLaterSection takes exactly that section out of a
// pack answer (Markdown: from its "## 9. ..." heading to the next "## "
// heading or the end of the document; HTML: its <section id="numbers">
// element), failing when it is not there exactly once; what is left must be the golden answer byte for byte.
// Only the pack answers go through it; every other answer stays byte-exact.
var laterSection = struct{ markdown, html, htmlEnd string }{
	markdown: "\n## 9. Figures against the previous review\n",
	html:     "\n<section id=\"numbers\">",
	htmlEnd:  "</section>",
}

func withoutLaterSection(t testing.TB, path string, answer []byte) []byte {
	t.Helper()
	if n := bytes.Count(answer, []byte(laterSection.markdown)); n == 1 {
		i := bytes.Index(answer, []byte(laterSection.markdown))
		rest := answer[i+1:]
		end := len(answer)
		if j := bytes.Index(rest, []byte("\n## ")); j >= 0 {
			end = i + 1 + j
		}
		return slices.Concat(answer[:i], answer[end:])
	}
	if n := bytes.Count(answer, []byte(laterSection.html)); n == 1 {
		i := bytes.Index(answer, []byte(laterSection.html))
		j := bytes.Index(answer[i:], []byte(laterSection.htmlEnd))
		if j < 0 {
			t.Errorf("GET %s: the section numbers never ends", path)
			return answer
		}
		return slices.Concat(answer[:i], answer[i+j+len(laterSection.htmlEnd):])
	}
	t.Errorf("GET %s: the pack has no section of the figures against the previous review, or more than one", path)
	return answer
}

// laterKeys are the keys and CSV columns answers gained after the release
// that wrote the fixture: an item's provenance (of an import) and the
// changes of an edit, in the audit trail and in a change held for
// approval. That release recorded no import and no edit, so they are null
// (an empty cell) in every answer about its ledger.
var laterKeys = []string{"provenance", "changes"}

// withoutLaterKeys takes the laterKeys out of an answer, where they are
// null, so the rest can be compared byte for byte with what the release
// answered; a later key with a value stays, and fails the comparison.
func withoutLaterKeys(t testing.TB, path string, answer []byte) []byte {
	t.Helper()
	if bytes.HasPrefix(answer, []byte("seq,")) { // the audit trail's CSV export
		return withoutLaterColumns(t, path, answer)
	}
	for _, k := range laterKeys {
		answer = bytes.ReplaceAll(answer, []byte(`,"`+k+`":null`), nil)
	}
	return answer
}

// withoutLaterColumns takes the laterKeys' columns out of a CSV export,
// where every cell of theirs is empty.
func withoutLaterColumns(t testing.TB, path string, answer []byte) []byte {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(answer)).ReadAll()
	if err != nil || len(records) == 0 {
		t.Errorf("GET %s: not CSV: %v", path, err)
		return answer
	}
	var later []int
	for i, name := range records[0] {
		if slices.Contains(laterKeys, name) && slices.IndexFunc(records[1:], func(r []string) bool { return r[i] != "" }) < 0 {
			later = append(later, i)
		}
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	for _, r := range records {
		kept := slices.Clone(r)
		for j := len(later) - 1; j >= 0; j-- {
			kept = slices.Delete(kept, later[j], later[j]+1)
		}
		if err := w.Write(kept); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return out.Bytes()
}

// firstDifference says where two answers part, with some context.
func firstDifference(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(i-60, 0)
	return fmt.Sprintf("they part at byte %d of %d (want %d bytes):\n  want …%s…\n   got …%s…",
		i, len(got), len(want), want[from:min(i+60, len(want))], got[from:min(i+60, len(got))])
}

func clipBytes(b []byte) []byte {
	if len(b) > 300 {
		return append(b[:300:300], "…"...)
	}
	return b
}
