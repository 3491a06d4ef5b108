//go:build unix

package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// hookReceiver takes webhook deliveries on 127.0.0.1, slowly enough that
// a kill often lands while one is in flight, and keeps the sequence of
// every event it took, in order of arrival.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	seqs   []uint64
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
	mac.Write(body)
	if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		h.t.Errorf("a delivery with a bad signature: %s", r.Header.Get("webhook-signature"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ce struct {
		Data struct {
			Seq uint64 `json:"seq"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		h.t.Errorf("a delivery that is not a CloudEvent: %v", err)
	}
	h.seqs = append(h.seqs, ce.Data.Seq)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) received() []uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]uint64(nil), h.seqs...)
}

// TestWebhookDeliveryLosesNothingAcrossKills runs the real binary, with a
// webhook on a receiver of its own, and kills it with SIGKILL while
// clients write and deliveries are in flight, again and again. After the
// last restart the receiver must have every objective the log holds after
// the subscription, first received in ledger order; a repeat may only be
// of the event last received (the one in flight at a kill).
func TestWebhookDeliveryLosesNothingAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	recv := &hookReceiver{t: t}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	c := &crashRun{t: t, bin: buildRoadmap(t), dir: filepath.Join(t.TempDir(), "data"), approvals: roadmap.ApprovalsOff,
		args: []string{"--webhooks-allow-private"}}

	post := func(client *http.Client, base, path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+crashAdmin)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}

	var acked sync.Map // objective id → true
	const kills = 6
	for round := 0; round <= kills; round++ {
		p, client, base := c.start()
		if p == nil {
			t.FailNow()
		}
		if round == 0 {
			status, w := post(client, base, "/v1/webhooks", map[string]any{"url": srv.URL + "/hook", "types": []string{"objective.defined"}})
			if status != http.StatusCreated {
				t.Fatalf("subscribe: %d %v", status, w)
			}
			recv.mu.Lock()
			recv.secret = w["secret"].(string)
			recv.mu.Unlock()
		}
		if round == kills {
			// The last start: no kill; every event must arrive.
			p.stop()
			break
		}
		var stop atomic.Bool
		var wg sync.WaitGroup
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !stop.Load(); i++ {
					status, o := post(client, base, "/v1/objectives", map[string]any{"title": fmt.Sprintf("round %d writer %d #%d", round, w, i), "kpi": "k", "target": "t"})
					if status == http.StatusCreated {
						acked.Store(o["id"], true)
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		p.kill()
		stop.Store(true)
		waitGroup(&wg, 30*time.Second)
		client.CloseIdleConnections()
	}

	// The whole log, after a clean restart: every objective in it must
	// have reached the receiver.
	p, client, base := c.start()
	if p == nil {
		t.FailNow()
	}
	defer p.stop()
	var logged []uint64
	ids := map[string]bool{}
	for after := uint64(0); ; {
		_, _, body, err := get(client, fmt.Sprintf("%s/v1/audit?type=objective.defined&limit=1000&after=%d", base, after))
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []struct {
				Seq         uint64 `json:"seq"`
				AggregateID string `json:"aggregate_id"`
			} `json:"events"`
			Next *string `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("audit: %v: %s", err, body)
		}
		for _, e := range page.Events {
			logged = append(logged, e.Seq)
			ids[e.AggregateID] = true
			after = e.Seq
		}
		if page.Next == nil {
			break
		}
	}
	acked.Range(func(id, _ any) bool {
		if !ids[id.(string)] {
			t.Errorf("acknowledged objective %s is not in the log", id)
		}
		return true
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[uint64]bool{}
		for _, s := range recv.received() {
			got[s] = true
		}
		missing := 0
		for _, s := range logged {
			if !got[s] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the %d objectives in the log never reached the receiver", missing, len(logged))
		}
		time.Sleep(20 * time.Millisecond)
	}
	seqs, repeats := recv.received(), 0
	last := uint64(0)
	for i, s := range seqs {
		switch {
		case s == last:
			repeats++ // the delivery in flight at a kill, sent again
		case s < last:
			t.Fatalf("delivery %d is of event %d after event %d: out of ledger order (%v)", i, s, last, seqs)
		}
		last = max(last, s)
	}
	if repeats > kills {
		t.Errorf("%d repeats across %d kills: more than the one in flight at each", repeats, kills)
	}
	t.Logf("webhook crash: %d kills, %d objectives in the log (%d acknowledged), %d deliveries taken, %d repeats",
		kills, len(logged), func() (n int) { acked.Range(func(_, _ any) bool { n++; return true }); return }(), len(seqs), repeats)
}
