package spectest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// TestHandlerCatchesDrift serves answers the spec does and does not allow
// behind Handler, sends requests as a command-line tool would (a plain
// client), and checks what the handler reported.
func TestHandlerCatchesDrift(t *testing.T) {
	const id = "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70"
	goodItem := `{"id":"` + id + `","title":"t","description":"","kind":"idea","parent_id":null,"product":"default",` +
		`"status":"proposed","horizon":null,"rank":null,"score":null,"objective_ids":[],"effort":null,"depends_on":[],"risks":[],"provenance":null,"flags":[],"version":3}`
	cases := []struct {
		name       string
		method     string
		path, body string
		status     int
		headers    map[string]string
		answer     string
		wantReport bool
	}{
		{"a conforming item", "GET", "/v1/items/" + id, "", 200, map[string]string{"ETag": `"3"`}, goodItem, false},
		{"an item missing fields", "GET", "/v1/items/" + id, "", 200, map[string]string{"ETag": `"3"`}, `{"id":"` + id + `"}`, true},
		{"a status the operation does not declare", "GET", "/v1/items/" + id, "", 418, nil, `{}`, true},
		{"a route the spec does not have, served", "GET", "/v1/dashboards", "", 200, nil, `{}`, true},
		{"an accepted request the spec refuses", "POST", "/v1/items", `{"title":"t","owner":"me"}`, 201,
			map[string]string{"ETag": `"3"`, "Location": "/v1/items/" + id}, goodItem, true},
		{"a raw log line that is not an event", "GET", "/v1/events", "", 200, nil, `{"seq":1,"event":{}}` + "\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var reports spectest.Collector
			srv := httptest.NewServer(spectest.Handler(&reports, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				ct := "application/json"
				if strings.HasPrefix(r.URL.Path, "/v1/events") {
					ct = "application/x-ndjson"
				} else if tc.status >= 400 {
					ct = "application/problem+json"
				}
				w.Header().Set("Content-Type", ct)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			})))
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			srv.Close() // every handler has returned, so every check is done
			if string(got) != tc.answer {
				t.Errorf("the client read %q, want the handler's %q", got, tc.answer)
			}
			switch r := reports.Reports(); {
			case tc.wantReport && len(r) == 0:
				t.Error("the handler let it through")
			case !tc.wantReport && len(r) > 0:
				t.Errorf("the handler reported a conforming exchange: %s", strings.Join(r, "\n"))
			default:
				for _, s := range r {
					t.Logf("caught: %s", s)
				}
			}
		})
	}
}
