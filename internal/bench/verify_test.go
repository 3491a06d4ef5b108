package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
)

// TestVerifyRunsAndReports runs the verify benchmark end to end on a tiny
// ledger, through Run as the command does, and checks the report is whole:
// both sides read every event in both rounds, the verifier checked the
// whole log against a checkpoint of its size, and nothing is left behind.
func TestVerifyRunsAndReports(t *testing.T) {
	var rep VerifyReport
	runJSON(t, &rep, "verify", "-events", "3000", "-items", "100", "-products", "3", "-rounds", "2")
	if rep.Benchmark != "verify" || rep.Rounds != 2 || rep.Batch != 4096 || rep.Ledger.Events != 3000 || rep.OpenSeconds <= 0 {
		t.Errorf("report header: %+v", rep)
	}
	if rep.Checkpoint != 3000 {
		t.Errorf("verified against a checkpoint of size %d, want the whole log, 3000", rep.Checkpoint)
	}
	// Every line is {"seq":N,"event":BODY} and a line feed: at least the
	// bodies and 20 bytes each.
	if min := int64(3000 * (rep.Ledger.BodyBytes + 20)); rep.LogBytes < min {
		t.Errorf("%d bytes of raw log, want at least %d", rep.LogBytes, min)
	}
	checkReadSides(t, rep.Raw, rep.Verify, rep.Ratio, rep.Target, rep.MeetsTarget, len(rep.PerRound))
	if m := rep.Memory; m.HeapBefore == 0 || (m.PeakRSS > 0 && m.RSSBefore == 0) {
		t.Errorf("memory %+v", m)
	}
	checkTable(t, &rep, "(a) raw JetStream read", "(b) verify over HTTP", "events/s", "CPU µs/event", "ratio (b)/(a):", "round", "memory of (b)")
}

// TestLedgerFront checks what stands before the served ledger: without the
// benchmark's token a request is refused and never reaches the ledger (so
// the run above proves the verifier sends it); with it, the latest
// checkpoint is the note signed for the run and every other request reaches
// the ledger.
func TestLedgerFront(t *testing.T) {
	reached := 0
	ledger := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		http.Error(w, "ledger", http.StatusTeapot)
	})
	srv := httptest.NewServer(ledgerFront(ledger, []byte("note\n\n— sig\n")))
	defer srv.Close()
	get := func(path, token string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, body, _ := apptest.Do(t, req)
		return res.StatusCode, body
	}
	for _, token := range []string{"", "other"} {
		if status, _ := get("/v1/checkpoints/latest", token); status != http.StatusUnauthorized {
			t.Errorf("GET /v1/checkpoints/latest with token %q: %d, want 401", token, status)
		}
	}
	// Everything else is the ledger's to answer, its token checks included.
	if status, _ := get("/v1/events?after=0", ""); status != http.StatusTeapot || reached != 1 {
		t.Fatalf("GET /v1/events: %d, reached the ledger %d times; want the ledger's answer", status, reached)
	}
	status, body := get("/v1/checkpoints/latest", benchToken)
	var latest struct{ Note string }
	if err := json.Unmarshal(body, &latest); status != http.StatusOK || err != nil || latest.Note != "note\n\n— sig\n" {
		t.Fatalf("latest checkpoint: %d %s (%v), want the signed note", status, body, err)
	}
	if status, _ := get("/v1/events?after=0", benchToken); status != http.StatusTeapot || reached != 2 {
		t.Fatalf("GET /v1/events answered %d after %d requests reached the ledger, want the ledger's answer", status, reached)
	}
}

func TestVerifyBenchRefusesBadFlags(t *testing.T) {
	checkRefuses(t, parseVerifyBench, []string{"-events", "10"}, []string{"-rounds", "0"}, []string{"-batch", "0"},
		[]string{"-timeout", "0s"}, []string{"extra"})
}
