//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// TestSoak runs the real binary (started as the crash suite starts it, with
// the bootstrap admin's token, which every request carries) under a fixed
// rate of mixed reads and writes from several clients for a bounded time, and reports p99 latency and the
// server's RSS at the start and at the end. Every request must succeed. CI
// runs a few seconds of it; ROADMAP_SOAK=5m runs the soak proper, which also
// checks that latency and memory do not grow beyond noise.
//
//	ROADMAP_SOAK=5m go test -run TestSoak -timeout 30m -v ./cmd/roadmap/
func TestSoak(t *testing.T) {
	duration := 4 * time.Second
	if v := os.Getenv("ROADMAP_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("ROADMAP_SOAK=%q: %v", v, err)
		}
		duration = d
	}
	rate := 200 // requests per second, all clients together
	if v := os.Getenv("ROADMAP_SOAK_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("ROADMAP_SOAK_RATE=%q: want a positive number", v)
		}
		rate = n
	}
	const clients = 8

	// Approvals are off: every reprioritisation is to be recorded at once.
	run := &crashRun{t: t, bin: buildRoadmap(t), dir: t.TempDir(), approvals: roadmap.ApprovalsOff}
	p := run.launch()
	base := p.waitListening()
	if base == "" {
		t.FailNow()
	}
	defer p.stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: spectest.Transport(t, &http.Transport{MaxIdleConnsPerHost: clients})}

	// Each client owns its items, so its decisions never race another's and
	// every one of them must succeed.
	objective := soakPost(t, client, base+"/v1/objectives", `{"title":"Retention","kpi":"monthly churn","target":"-2 points"}`)["id"].(string)
	items := make([][]string, clients)
	for c := range items {
		for i := range 6 {
			id := soakPost(t, client, base+"/v1/items", fmt.Sprintf(`{"title":"Soak %d-%d","kind":"idea","objective_ids":[%q]}`, c, i, objective))["id"].(string)
			soakPost(t, client, base+"/v1/items/"+id+"/prioritise", `{"horizon":"now","rationale":"soak"}`)
			items[c] = append(items[c], id)
		}
	}

	type sample struct {
		at      time.Duration
		latency time.Duration
	}
	var (
		mu      sync.Mutex
		samples []sample
		failed  []string
		wg      sync.WaitGroup
	)
	start := time.Now()
	rssStart := 0
	horizons := []string{"next", "later", "now"}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second * clients / time.Duration(rate))
			defer tick.Stop()
			moves := map[string]int{} // each decision takes an item to the next horizon
			for n := 0; time.Since(start) < duration; n++ {
				<-tick.C
				var method, url, body string
				switch n % 10 {
				case 0, 1, 2: // a decision on one of its own items, always a change
					id := items[c][n%len(items[c])]
					method, url = "POST", fmt.Sprintf("%s/v1/items/%s/reprioritise", base, id)
					body = fmt.Sprintf(`{"horizon":%q,"rationale":"soak round %d"}`, horizons[moves[id]%3], n)
					moves[id]++
				case 3:
					method, url, body = "POST", base+"/v1/items", fmt.Sprintf(`{"title":"Soak idea %d-%d","kind":"idea"}`, c, n)
				case 4, 5, 6:
					method, url = "GET", base+"/v1/roadmap"
				case 7:
					method, url = "GET", base+"/v1/roadmap?view=objectives"
				case 8:
					method, url = "GET", base+"/v1/items/"+items[c][0]
				default:
					method, url = "GET", base+"/v1/audit?limit=20"
				}
				began := time.Now()
				status, err := soakDo(client, method, url, body)
				took := time.Since(began)
				mu.Lock()
				samples = append(samples, sample{at: began.Sub(start), latency: took})
				if err != nil || status >= 300 {
					failed = append(failed, fmt.Sprintf("%s %s: %d %v", method, url, status, err))
				}
				mu.Unlock()
			}
		}()
	}
	warmUp := min(duration/10, 10*time.Second)
	time.Sleep(warmUp)
	rssStart = rss(t, p.cmd.Process.Pid)
	wg.Wait()
	rssEnd := rss(t, p.cmd.Process.Pid)

	if len(failed) > 0 {
		t.Errorf("%d of %d requests failed; first: %s", len(failed), len(samples), failed[0])
	}
	window := min(duration/5, time.Minute)
	p99 := func(from, to time.Duration) (time.Duration, int) {
		var ls []time.Duration
		for _, s := range samples {
			if s.at >= from && s.at < to {
				ls = append(ls, s.latency)
			}
		}
		if len(ls) == 0 {
			return 0, 0
		}
		slices.Sort(ls)
		return ls[len(ls)*99/100], len(ls)
	}
	firstP99, firstN := p99(warmUp, warmUp+window)
	lastP99, lastN := p99(duration-window, duration)
	t.Logf("soak: %s at %d req/s from %d clients: %d requests, %d failed", duration, rate, clients, len(samples), len(failed))
	t.Logf("soak: p99 %s over the %s after warm-up (%d requests), %s over the last %s (%d)", firstP99, window, firstN, lastP99, window, lastN)
	t.Logf("soak: server RSS %d MiB after warm-up, %d MiB at the end", rssStart>>20, rssEnd>>20)
	if duration >= 2*time.Minute {
		if lastP99 > 2*firstP99+10*time.Millisecond {
			t.Errorf("p99 grew from %s to %s", firstP99, lastP99)
		}
		if rssEnd > rssStart+rssStart/2+64<<20 {
			t.Errorf("RSS grew from %d to %d MiB", rssStart>>20, rssEnd>>20)
		}
	}
}

func soakDo(client *http.Client, method, url, body string) (int, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+crashAdmin)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(res.Body)
	return res.StatusCode, err
}

func soakPost(t *testing.T, client *http.Client, url, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+crashAdmin)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %v", url, res.StatusCode, err)
	}
	return out
}

// rss returns the resident set size of a process, in bytes.
func rss(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Logf("no RSS reading: %v", err)
		return 0
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb << 10
		}
	}
	return 0
}
