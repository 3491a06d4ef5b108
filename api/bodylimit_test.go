package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// padJSON returns body, a JSON object, padded with spaces before its closing
// brace to exactly size bytes: the same request, only longer.
func padJSON(t *testing.T, body any, size int) []byte {
	t.Helper()
	var compact []byte
	switch b := body.(type) {
	case nil:
		compact = []byte("{}")
	default:
		var err error
		if compact, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	if len(compact) > size || compact[len(compact)-1] != '}' {
		t.Fatalf("cannot pad %s to %d bytes", compact, size)
	}
	out := make([]byte, 0, size)
	out = append(out, compact[:len(compact)-1]...)
	out = append(out, bytes.Repeat([]byte(" "), size-len(compact))...)
	return append(out, '}')
}

// padCSV returns a CSV file padded with empty lines, which an import skips,
// to exactly size bytes.
func padCSV(t *testing.T, file string, size int) []byte {
	t.Helper()
	if len(file) > size {
		t.Fatalf("cannot pad %d bytes to %d", len(file), size)
	}
	return append([]byte(file), bytes.Repeat([]byte("\n"), size-len(file))...)
}

// sendFramed sends body with its length declared (Content-Length) or, when
// chunked, in chunks of a length the server learns only by reading them.
func (l *testLedger) sendFramed(method, path, contentType string, body []byte, chunked bool) response {
	l.t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		// A reader of unknown length: the client sends it chunked.
		rd = io.MultiReader(rd)
	}
	req, err := http.NewRequest(method, l.URL+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	if chunked && req.ContentLength != 0 {
		l.t.Fatalf("the request declares its length %d; it must be sent chunked", req.ContentLength)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	res, err := l.client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		l.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// TestBodiesAtTheLimitAndOneByteOver sends every write route a valid request
// padded to exactly its body limit (1 MiB, 10 MiB for an import), then to
// one byte more, with a declared length and chunked. At the limit the
// request is read whole and succeeds as it would small; one byte over it is
// refused with 413 and appends nothing. The limit is applied where the API
// reads a body (readRequest, emptyBodyIsObject and the import), so the
// walk covers every route that reads one.
func TestBodiesAtTheLimitAndOneByteOver(t *testing.T) {
	if api.MaxBodyBytes != 1<<20 || api.MaxImportBytes != 10<<20 {
		t.Fatalf("the limits are %d and %d bytes; openapi.yaml and docs/api.md say 1 MiB and 10 MiB", api.MaxBodyBytes, api.MaxImportBytes)
	}
	clock := newFakeClock()
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor, Now: clock.Now})
	server := l.App.Handler.(*api.Server)
	cases := routeCases(l, clock)

	writes := 0
	for _, r := range server.Permissions() {
		if r.Method == http.MethodGet {
			continue
		}
		writes++
		name := r.Method + " " + r.Path
		build, ok := cases[name]
		if !ok {
			t.Errorf("%s: no case in routeCases; add one", name)
			continue
		}
		for _, chunked := range []bool{false, true} {
			framing := "Content-Length"
			if chunked {
				framing = "chunked"
			}
			t.Run(name+" "+framing, func(t *testing.T) {
				pad := func(body any, size int) ([]byte, string) {
					if csv, ok := body.(csvBody); ok {
						return padCSV(t, string(csv), size), "text/csv"
					}
					return padJSON(t, body, size), "application/json"
				}
				limit := api.MaxBodyBytes
				if name == "POST /v1/imports" {
					limit = api.MaxImportBytes
				}

				path, body, _ := build(l)
				over, contentType := pad(body, limit+1)
				before := l.messages()
				res := l.sendFramed(r.Method, path, contentType, over, chunked)
				p := checkProblem(t, res, http.StatusRequestEntityTooLarge)
				if detail, _ := p["detail"].(string); !strings.Contains(detail, fmt.Sprint(limit)) {
					t.Errorf("one byte over: the problem does not name the limit of %d bytes: %v", limit, p)
				}
				if got := l.messages(); got != before {
					t.Errorf("one byte over: the log went from %d to %d events", before, got)
				}

				path, body, status := build(l)
				exact, contentType := pad(body, limit)
				if len(exact) != limit || len(over) != limit+1 {
					t.Fatalf("bodies of %d and %d bytes, want %d and %d", len(exact), len(over), limit, limit+1)
				}
				res = l.sendFramed(r.Method, path, contentType, exact, chunked)
				if res.Status != status {
					t.Errorf("exactly %d bytes: status %d, want %d as for the same request unpadded: %s", limit, res.Status, status, clipBody(res.Body))
				}
			})
		}
	}
	if writes < 15 {
		t.Errorf("only %d write routes walked", writes)
	}

	// A field that makes a body of exactly 1 MiB is refused for what it
	// says (a title is at most a few hundred characters), not for its size.
	prefix, suffix := `{"kind":"idea","title":"`, `"}`
	title := strings.Repeat("t", api.MaxBodyBytes-len(prefix)-len(suffix))
	before := l.messages()
	res := l.sendFramed("POST", "/v1/items", "application/json", []byte(prefix+title+suffix), false)
	checkProblem(t, res, http.StatusUnprocessableEntity)
	if got := l.messages(); got != before {
		t.Errorf("a refused title: the log went from %d to %d events", before, got)
	}
}

func clipBody(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
