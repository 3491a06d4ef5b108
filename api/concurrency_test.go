package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// The concurrency suite (docs/logcheck.md): many clients reprioritise the
// same few items at once, and no answered update may be lost or doubled.
const (
	raceClients  = 64 // concurrent clients
	raceItems    = 8  // items on "now" of one product, all reprioritised at once
	raceAttempts = 32 // reprioritisations each client sends
	raceProduct  = "race"
)

// TestConcurrentReprioritiseWithIfMatch: every client reads an item, then
// reprioritises it to a random rank with If-Match of the ETag it read.
// Every answer is 2xx, 409 (the move changes nothing) or 412 (another
// decision landed since the read); every 2xx answer's version is an event
// of the item, exactly once, right after the version its If-Match named; the
// item events are the proposals, the prioritisations and the 2xx answers,
// no more; and the horizon's ranks are 1..n, no gaps, no duplicates.
func TestConcurrentReprioritiseWithIfMatch(t *testing.T) {
	testConcurrentReprioritise(t, true)
}

// TestConcurrentReprioritiseWithoutIfMatch: the same race with blind
// writes. The ledger still refuses the loser of every race on one version
// (409), so the same invariants hold.
func TestConcurrentReprioritiseWithoutIfMatch(t *testing.T) {
	testConcurrentReprioritise(t, false)
}

// raceAnswer is one reprioritisation and its answer.
type raceAnswer struct {
	tag     string // the rationale, unique: traces the request to its event
	actor   string // the name of the client's token
	item    string
	rank    int
	ifMatch uint64 // 0 without If-Match
	status  int
	version uint64 // of a 2xx answer, from its ETag
	body    []byte
	err     error
}

func testConcurrentReprioritise(t *testing.T, withIfMatch bool) {
	seed := raceSeed(t)
	t.Logf("seed %d (rerun with ROADMAP_RACE_SEED=%d)", seed, seed)
	l := startLedger(t)
	ids := make([]string, raceItems)
	for i := range ids {
		it := l.must(201, "POST", "/v1/items", map[string]any{"title": fmt.Sprintf("Item %d", i+1), "kind": "idea", "product": raceProduct})
		ids[i] = it["id"].(string)
		l.must(200, "POST", "/v1/items/"+ids[i]+"/prioritise", map[string]any{"horizon": "now", "rationale": "setup"})
	}
	proposals, prioritisations := raceItems, raceItems
	// Every client decides with a token of its own, as an editor: the
	// least role that reads and reprioritises.
	secrets := make([]string, raceClients)
	for c := range secrets {
		secrets[c] = l.token(raceActor(c), "editor")
	}

	// One pooled client for all, still checking every exchange against
	// the spec.
	client := &http.Client{Timeout: 60 * time.Second, Transport: newSpecCheckingTransport(t,
		&http.Transport{MaxIdleConnsPerHost: raceClients, DisableCompression: true})}
	defer client.CloseIdleConnections()
	answers := make([][]raceAnswer, raceClients)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range raceClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(c)))
			<-start
			for a := range raceAttempts {
				ans := raceAnswer{tag: fmt.Sprintf("client %d attempt %d", c, a), actor: raceActor(c), item: ids[rng.IntN(raceItems)], rank: 1 + rng.IntN(raceItems)}
				auth := map[string]string{"Authorization": "Bearer " + secrets[c]}
				headers := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + secrets[c]}
				if withIfMatch {
					status, header, body, err := raceDo(client, "GET", l.URL+"/v1/items/"+ans.item, "", auth)
					v, ok := logcheck.ParseETag(header.Get("ETag"))
					if err != nil || status != http.StatusOK || !ok {
						t.Errorf("client %d: GET /v1/items/%s: %d %v %s", c, ans.item, status, err, body)
						return
					}
					ans.ifMatch = v
					headers["If-Match"] = header.Get("ETag")
				}
				body := fmt.Sprintf(`{"rank":%d,"rationale":%q}`, ans.rank, ans.tag)
				var header http.Header
				ans.status, header, ans.body, ans.err = raceDo(client, "POST", l.URL+"/v1/items/"+ans.item+"/reprioritise", body, headers)
				if ans.status/100 == 2 {
					ans.version, _ = logcheck.ParseETag(header.Get("ETag"))
				}
				answers[c] = append(answers[c], ans)
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)

	allowed := []int{http.StatusOK, http.StatusConflict}
	if withIfMatch {
		allowed = append(allowed, http.StatusPreconditionFailed)
	}
	ledger, err := logcheck.Check(context.Background(), l.App.Log)
	if err != nil {
		t.Errorf("the log does not verify:\n%v", err)
	}
	tags := ledger.Tags()
	counts := map[int]int{}
	okPerItem := map[string]int{}
	versions := map[uint64]string{}
	for _, byClient := range answers {
		for _, ans := range byClient {
			counts[ans.status]++
			what := fmt.Sprintf("reprioritise %s to rank %d (%q, If-Match %d)", ans.item, ans.rank, ans.tag, ans.ifMatch)
			switch {
			case ans.err != nil:
				t.Errorf("%s: %v", what, ans.err)
				continue
			case !slices.Contains(allowed, ans.status):
				t.Errorf("%s: answered %d, want one of %v: %s", what, ans.status, allowed, ans.body)
				continue
			case ans.status != http.StatusOK:
				if seqs := tags[ans.tag]; len(seqs) > 0 {
					t.Errorf("%s: answered %d, yet the log holds it at %v", what, ans.status, seqs)
				}
				continue
			}
			okPerItem[ans.item]++
			var answered struct{ Version uint64 }
			if json.Unmarshal(ans.body, &answered) != nil || ans.version == 0 || answered.Version != ans.version {
				t.Errorf("%s: answered 200 with ETag %d and body %s", what, ans.version, ans.body)
			}
			if other, dup := versions[ans.version]; dup {
				t.Errorf("%s: answered version %d, as was %q", what, ans.version, other)
			}
			versions[ans.version] = ans.tag
			seqs := tags[ans.tag]
			switch {
			case len(seqs) == 0:
				t.Errorf("%s: answered 200 at version %d, but the log does not hold it: an update lost", what, ans.version)
				continue
			case len(seqs) > 1:
				t.Errorf("%s: answered 200 at version %d, and the log holds it %d times (%v)", what, ans.version, len(seqs), seqs)
			case seqs[0] != ans.version:
				ev, _ := ledger.Event(ans.version)
				t.Errorf("%s: answered 200 with version (and ETag) %d, but its event is at %d; %d is the item's next event, %q: the answer shows another request's decision",
					what, ans.version, seqs[0], ans.version, logcheck.Tag(ev))
			}
			seq := seqs[0]
			ev, _ := ledger.Event(seq)
			re, ok := ev.Data.(*roadmap.ItemReprioritised)
			if !ok || ev.Envelope.AggregateID != ans.item || re.Rank == nil || *re.Rank != ans.rank {
				t.Errorf("%s: the event at %d is %s on %s (%+v)", what, seq, ev.Envelope.Type, ev.Envelope.AggregateID, ev.Data)
			}
			if ev.Envelope.Actor != ans.actor {
				t.Errorf("%s: the event at %d is recorded as %q's, want the client's token, %q", what, seq, ev.Envelope.Actor, ans.actor)
			}
			if prev, _ := ledger.Previous(seq); withIfMatch && prev != ans.ifMatch {
				t.Errorf("%s: its event at %d follows the item's event at %d, not the version its If-Match named", what, seq, prev)
			}
		}
	}
	ok := counts[http.StatusOK]
	t.Logf("%d clients × %d reprioritisations of %d items in %s: %d answered 200, %d 409, %d 412; %d events",
		raceClients, raceAttempts, raceItems, took.Round(time.Millisecond), ok, counts[http.StatusConflict], counts[http.StatusPreconditionFailed], ledger.Last)
	if ok == 0 {
		t.Errorf("no reprioritisation was answered 200")
	}

	// The items' events are the proposals, the prioritisations and the 200
	// answers: no more, no fewer.
	itemEvents := 0
	for _, id := range ids {
		seqs := ledger.Aggregates["item/"+id]
		itemEvents += len(seqs)
		if len(seqs) != 2+okPerItem[id] {
			t.Errorf("item %s has %d events, want 2 + %d reprioritisations answered 200", id, len(seqs), okPerItem[id])
		}
		got := l.must(200, "GET", "/v1/items/"+id, nil)
		if v := uint64(got["version"].(float64)); len(seqs) > 0 && v != seqs[len(seqs)-1] {
			t.Errorf("item %s is served at version %d, but its last event is at %d", id, v, seqs[len(seqs)-1])
		}
	}
	if want := proposals + prioritisations + ok; itemEvents != want {
		t.Errorf("the items have %d events, want %d proposals + %d prioritisations + %d reprioritisations answered 200", itemEvents, proposals, prioritisations, ok)
	}

	// The horizon is a permutation: ranks 1..n, every item once.
	var rm struct {
		Horizons map[string][]struct {
			ID   string `json:"id"`
			Rank int    `json:"rank"`
		} `json:"horizons"`
	}
	if err := json.Unmarshal(l.do("GET", "/v1/roadmap?product="+raceProduct, nil).Body, &rm); err != nil {
		t.Fatal(err)
	}
	var onNow []string
	for i, e := range rm.Horizons["now"] {
		if e.Rank != i+1 {
			t.Errorf("now #%d has rank %d", i+1, e.Rank)
		}
		onNow = append(onNow, e.ID)
	}
	slices.Sort(onNow)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(onNow, want) || len(rm.Horizons["next"])+len(rm.Horizons["later"]) != 0 {
		t.Errorf("the roadmap of %s is %+v, want the %d items on now, each once", raceProduct, rm.Horizons, raceItems)
	}

	// And what the ledger serves is what the log rebuilds from scratch.
	horizons, err := api.RoadmapAnswer(ledger.State.Roadmap(""))
	if err != nil {
		t.Fatal(err)
	}
	objectives, err := api.ObjectivesAnswer(ledger.State.ByObjective(""))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.do("GET", "/v1/roadmap", nil).Body; string(got) != string(horizons) {
		t.Errorf("GET /v1/roadmap:\n%s\nrebuilt from scratch:\n%s", got, horizons)
	}
	if got := l.do("GET", "/v1/roadmap?view=objectives", nil).Body; string(got) != string(objectives) {
		t.Errorf("GET /v1/roadmap?view=objectives:\n%s\nrebuilt from scratch:\n%s", got, objectives)
	}
}

// raceActor is the name of client c's token.
func raceActor(c int) string { return fmt.Sprintf("client-%d", c) }

func raceSeed(t *testing.T) uint64 {
	t.Helper()
	if v := os.Getenv("ROADMAP_RACE_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ROADMAP_RACE_SEED=%q: want a whole number", v)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// raceDo sends one request; unlike the harness's do, it returns errors
// instead of failing the test, so it can run on any goroutine.
func raceDo(client *http.Client, method, url, body string, headers map[string]string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, data, err
}
