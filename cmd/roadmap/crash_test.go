//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TestCrashRecovery is the crash suite (docs/logcheck.md): it builds the
// real binary, runs "roadmap serve" on one data directory, drives decisions
// from concurrent clients and kills the process with SIGKILL at a random
// moment, again and again. After every kill it restarts the server, reads
// the roadmap through the API, stops it cleanly, opens the data directory
// and checks the whole log against what the clients were told:
//
//   - every acknowledged (2xx) decision is in the log exactly once, at the
//     version its answer gave, on its aggregate, of its type, by its actor,
//     and after the version its If-Match named;
//   - a refused request (409, 412) recorded nothing, and a request cut by
//     the kill recorded it at most once, however often it was retried with
//     its Idempotency-Key;
//   - every stored event verifies, every chain verifies, no event id or
//     idempotency key is stored twice, and every event is one the clients
//     sent;
//   - the roadmap the restarted server serves equals the one rebuilt from
//     scratch, byte for byte.
//
// ROADMAP_CRASH_KILLS (20 by default), ROADMAP_CRASH_CLIENTS (8) and
// ROADMAP_CRASH_SEED (random, logged) change the run.
func TestCrashRecovery(t *testing.T) {
	cfg := crashSettings(t)
	t.Logf("crash: seed %d, %d kills, %d clients (rerun with ROADMAP_CRASH_SEED=%d ROADMAP_CRASH_KILLS=%d)", cfg.seed, cfg.kills, cfg.clients, cfg.seed, cfg.kills)
	started := time.Now()
	bin := buildRoadmap(t)
	t.Logf("crash: built the binary in %s (race detector: %v)", time.Since(started).Round(time.Millisecond), logcheck.RaceEnabled)

	c := &crashRun{t: t, bin: bin, dir: filepath.Join(t.TempDir(), "data"), cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.seed, 0)), objectives: map[string][]string{}}
	for i := range cfg.clients {
		c.clients = append(c.clients, &crashClient{run: c, id: i, actor: fmt.Sprintf("client-%d@crash.test", i)})
	}
	began := time.Now()
	for round := 1; round <= cfg.kills && !t.Failed(); round++ {
		c.round(round)
	}
	s := c.stats()
	t.Logf("crash: %d kills (%d during start-up), %d clients, %s in all (%s building)", c.kills, c.startKills, cfg.clients,
		time.Since(started).Round(time.Millisecond), began.Sub(started).Round(time.Millisecond))
	t.Logf("crash: %d writes sent: %d acknowledged, %d refused (409/412), %d cut by a kill (%d of them stored, %d not); "+
		"%d retries of cut keyed requests (%d answered as replays), %d replays of acknowledged keyed requests; "+
		"%d events in the log, %d items", s.sent, s.acked, s.refused, s.unknown, s.landed, s.unknown-s.landed,
		s.retries, s.retryReplayed, s.replays, c.events, c.itemCount())
}

type crashConfig struct {
	kills, clients   int
	seed             uint64
	minLoad, maxLoad time.Duration // the window in which the kill falls, from the start of the load
	startKillEvery   int           // one round in this many also kills the server while it starts
}

func crashSettings(t *testing.T) crashConfig {
	t.Helper()
	cfg := crashConfig{kills: 20, clients: 8, seed: uint64(time.Now().UnixNano()),
		minLoad: 20 * time.Millisecond, maxLoad: 400 * time.Millisecond, startKillEvery: 4}
	for name, dst := range map[string]*int{"ROADMAP_CRASH_KILLS": &cfg.kills, "ROADMAP_CRASH_CLIENTS": &cfg.clients} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a whole number from 1", name, v)
			}
			*dst = n
		}
	}
	if v := os.Getenv("ROADMAP_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ROADMAP_CRASH_SEED=%q: want a whole number", v)
		}
		cfg.seed = n
	}
	return cfg
}

// buildRoadmap builds the command into a temp directory, with the race
// detector when the test has it, and returns the binary's path.
func buildRoadmap(t *testing.T) string {
	t.Helper()
	root := "../.."
	if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
		if mod := strings.TrimSpace(string(out)); mod != "" && mod != os.DevNull {
			root = filepath.Dir(mod)
		}
	}
	bin := filepath.Join(t.TempDir(), "roadmap")
	args := []string{"build", "-o", bin}
	if logcheck.RaceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/roadmap")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashRun is the state of one crash suite: the data directory, the
// clients, and every request they sent.
type crashRun struct {
	t       *testing.T
	bin     string
	dir     string
	cfg     crashConfig
	rng     *rand.Rand // the kill moments
	clients []*crashClient

	mu         sync.Mutex
	ops        []*crashOp
	items      []string            // acknowledged items, the ones clients decide on
	objectives map[string][]string // product → objective ids

	kills, startKills int
	events            uint64
	tags              map[string][]uint64 // the tags of the log at the last check
	tokens            []string            // the names of the tokens setup made
}

var crashProducts = []string{"web", "mobile"}

// crashHotItems is how many of the latest items get half the decisions.
const crashHotItems = 12

// round runs one cycle: start the server (killing it once while it starts,
// now and then), load it from every client, kill it at a random moment,
// then restart it and check everything.
func (c *crashRun) round(round int) {
	t := c.t
	if c.rng.IntN(c.cfg.startKillEvery) == 0 {
		after := time.Duration(c.rng.Int64N(int64(150 * time.Millisecond)))
		p := c.launch()
		time.Sleep(after)
		p.kill()
		c.startKills++
		t.Logf("round %d: killed the server %s after its start", round, after.Round(time.Microsecond))
	}
	p, client, base := c.start()
	if p == nil {
		return
	}
	defer client.CloseIdleConnections()
	if round == 1 {
		c.setup(client, base)
	}

	load := c.cfg.minLoad + time.Duration(c.rng.Int64N(int64(c.cfg.maxLoad-c.cfg.minLoad)))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, cl := range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.load(round, client, base, &stop)
		}()
	}
	time.Sleep(load)
	p.kill()
	stop.Store(true)
	c.kills++
	if !waitGroup(&wg, 60*time.Second) {
		t.Fatalf("round %d: clients did not stop within 60s of the kill", round)
	}
	sent := c.sentIn(round)
	t.Logf("round %d: killed the server after %s of load; %d writes sent in the round", round, load.Round(time.Microsecond), sent)
	c.verify(round)
}

// crashAdmin is the secret of the bootstrap admin token every start of the
// server is given.
const crashAdmin = "9grrZkvhRSIiiJjwgKDTomvHYFG39fJ2N03-Xt-c"

// crashSetupActor defines the objectives.
const crashSetupActor = "setup@crash.test"

// setup makes an editor's token for the setup and for every client, each
// named after its actor, and defines two objectives per product.
func (c *crashRun) setup(client *http.Client, base string) {
	setupSecret := c.token(client, base, crashSetupActor)
	for _, cl := range c.clients {
		cl.secret = c.token(client, base, cl.actor)
	}
	for _, product := range crashProducts {
		for i := 1; i <= 2; i++ {
			tag := fmt.Sprintf("crash objective %s %d", product, i)
			body, _ := json.Marshal(map[string]string{"title": tag, "kpi": "kpi of " + tag, "target": "+10%", "product": product})
			op := &crashOp{tag: tag, kind: roadmap.TypeObjectiveDefined, client: -1, actor: crashSetupActor, secret: setupSecret, method: "POST", path: "/v1/objectives", body: body}
			a := op.send(client, base)
			c.record(op)
			if a.status != http.StatusCreated {
				c.t.Fatalf("setup: define objective: status %d: %s", a.status, a.body)
			}
			c.mu.Lock()
			c.objectives[product] = append(c.objectives[product], op.aggID)
			c.mu.Unlock()
		}
	}
}

// token makes an editor's token named name with the admin's and returns its
// secret.
func (c *crashRun) token(client *http.Client, base, name string) string {
	body, _ := json.Marshal(map[string]string{"name": name, "role": "editor"})
	req, err := http.NewRequest("POST", base+"/v1/tokens", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+crashAdmin)
	res, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("setup: make the token of %s: %v", name, err)
	}
	defer res.Body.Close()
	var tok struct{ Secret string }
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != http.StatusCreated || tok.Secret == "" {
		c.t.Fatalf("setup: make the token of %s: status %d, %v", name, res.StatusCode, err)
	}
	c.mu.Lock()
	c.tokens = append(c.tokens, name)
	c.mu.Unlock()
	return tok.Secret
}

// verify restarts the server after a kill, reads the roadmap and the items
// acknowledged in the round through the API, stops it cleanly, and checks
// the data directory against every request sent so far.
func (c *crashRun) verify(round int) {
	t := c.t
	began := time.Now()
	p, client, base := c.start()
	if p == nil {
		return
	}
	defer client.CloseIdleConnections()
	ready := time.Now()
	served := map[string][]byte{}
	for _, q := range []string{"", "?view=objectives"} {
		status, _, body, err := get(client, base+"/v1/roadmap"+q)
		if err != nil || status != http.StatusOK {
			t.Errorf("round %d: after the restart, GET /v1/roadmap%s: %d %v %s", round, q, status, err, body)
		}
		served[q] = body
	}
	c.checkItemsServed(round, client, base)
	read := time.Now()
	if !p.stop() {
		return
	}
	stopped := time.Now()

	ledger, err := logcheck.Open(context.Background(), c.dir)
	if err != nil {
		t.Errorf("round %d: the log does not verify after the restart:\n%v", round, err)
	}
	if ledger == nil {
		return
	}
	c.events = ledger.Last
	c.tags = ledger.Tags()
	horizons, objectives, err := ledger.Views()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served[""], horizons) {
		t.Errorf("round %d: GET /v1/roadmap after the restart differs from the roadmap rebuilt from scratch\nserved:  %s\nrebuilt: %s", round, served[""], horizons)
	}
	if !bytes.Equal(served["?view=objectives"], objectives) {
		t.Errorf("round %d: GET /v1/roadmap?view=objectives after the restart differs from the one rebuilt from scratch\nserved:  %s\nrebuilt: %s", round, served["?view=objectives"], objectives)
	}
	c.checkOps(round, ledger)
	t.Logf("round %d: restarted and ready in %s, read back in %s, stopped in %s, %d events checked in %s", round,
		ready.Sub(began).Round(time.Millisecond), read.Sub(ready).Round(time.Millisecond), stopped.Sub(read).Round(time.Millisecond),
		ledger.Last, time.Since(stopped).Round(time.Millisecond))
}

// checkItemsServed reads every item a request of the round acknowledged, and
// the history of a few, through the restarted server: each is there, at
// least at the acknowledged version, and the history holds the decision.
func (c *crashRun) checkItemsServed(round int, client *http.Client, base string) {
	t := c.t
	c.mu.Lock()
	var acked []*crashOp
	for _, op := range c.ops {
		if op.round == round && op.kind != roadmap.TypeObjectiveDefined && op.ackedVersion() > 0 {
			acked = append(acked, op)
		}
	}
	c.mu.Unlock()
	for i, op := range acked {
		status, header, body, err := get(client, base+"/v1/items/"+op.aggID)
		if err != nil || status != http.StatusOK {
			t.Errorf("round %d: after the restart, GET /v1/items/%s (acknowledged %q): %d %v %s", round, op.aggID, op.tag, status, err, body)
			continue
		}
		if v, ok := logcheck.ParseETag(header.Get("ETag")); !ok || v < op.ackedVersion() {
			t.Errorf("round %d: after the restart, item %s is at version %s, before the acknowledged %d of %q", round, op.aggID, header.Get("ETag"), op.ackedVersion(), op.tag)
		}
		if i%10 != 0 {
			continue
		}
		status, _, body, err = get(client, base+"/v1/items/"+op.aggID+"/history")
		var h struct {
			History []struct {
				Seq  uint64 `json:"seq"`
				Type string `json:"type"`
			} `json:"history"`
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &h) != nil {
			t.Errorf("round %d: after the restart, history of %s: %d %v %s", round, op.aggID, status, err, body)
			continue
		}
		if !slices.ContainsFunc(h.History, func(e struct {
			Seq  uint64 `json:"seq"`
			Type string `json:"type"`
		}) bool {
			return e.Seq == op.ackedVersion() && e.Type == op.kind
		}) {
			t.Errorf("round %d: after the restart, the history of %s has no %s at %d (acknowledged %q): %s", round, op.aggID, op.kind, op.ackedVersion(), op.tag, body)
		}
	}
}

// checkOps checks every request sent so far against the log.
func (c *crashRun) checkOps(round int, ledger *logcheck.Ledger) {
	t := c.t
	c.mu.Lock()
	defer c.mu.Unlock()
	tags := c.tags
	byTag := map[string]*crashOp{}
	for _, op := range c.ops {
		byTag[op.tag] = op
	}
	reported := 0
	fail := func(format string, args ...any) {
		if reported++; reported <= 30 {
			t.Errorf("round %d: "+format, append([]any{round}, args...)...)
		}
	}
	c.checkTokens(ledger, tags[""], fail)
	for tag, seqs := range tags {
		if tag == "" {
			continue // the tokens, just checked
		}
		if byTag[tag] == nil {
			fail("the log holds events no client sent: %q at %v", tag, seqs)
		}
	}
	for _, op := range c.ops {
		seqs := tags[op.tag]
		acked, refused := op.outcome()
		switch {
		case len(acked) > 0:
			if len(seqs) != 1 {
				fail("%s was acknowledged at %d, and is in the log %d times (%v)", op, acked[0].version, len(seqs), seqs)
				continue
			}
			seq := seqs[0]
			for _, a := range acked {
				if a.version != seq {
					fail("%s was acknowledged at version %d, but its event is at %d", op, a.version, seq)
				}
			}
			ev, _ := ledger.Event(seq)
			env := ev.Envelope
			if env.Type != op.kind || env.AggregateID != op.aggID || env.Actor != op.actor {
				fail("%s: the event at %d is %s on %s by %s, want %s on %s by %s", op, seq, env.Type, env.AggregateID, env.Actor, op.kind, op.aggID, op.actor)
			}
			if (ev.IdempotencyKey != "") != (op.key != "") {
				fail("%s: the event at %d has idempotency key %q, sent with %q", op, seq, ev.IdempotencyKey, op.key)
			}
			if op.ifMatch != 0 {
				if prev, _ := ledger.Previous(seq); prev != op.ifMatch {
					fail("%s sent If-Match %d, but its event at %d follows the aggregate's event at %d", op, op.ifMatch, seq, prev)
				}
			}
		case refused > 0:
			if len(seqs) != 0 {
				fail("%s was refused, but the log holds it at %v", op, seqs)
			}
		default:
			if len(seqs) > 1 {
				fail("%s was cut by a kill, and the log holds it %d times (%v)", op, len(seqs), seqs)
			}
		}
	}
}

// checkTokens checks the events without a tag, seqs: they are the
// creations of the bootstrap token and of the tokens setup made, each once.
func (c *crashRun) checkTokens(ledger *logcheck.Ledger, seqs []uint64, fail func(string, ...any)) {
	want := map[string]int{"bootstrap": 1}
	for _, name := range c.tokens {
		want[name]++
	}
	got := map[string]int{}
	for _, seq := range seqs {
		ev, _ := ledger.Event(seq)
		created, ok := ev.Data.(*roadmap.TokenCreated)
		if !ok {
			fail("the event at %d is a %s that no client sent", seq, ev.Envelope.Type)
			continue
		}
		got[created.Name]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		fail("the log holds the tokens %v, want %v: the bootstrap token and setup's, each once", got, want)
	}
}

// crashStats are the figures of a run.
type crashStats struct {
	sent, acked, refused, unknown, landed, retries, retryReplayed, replays int
}

func (c *crashRun) stats() crashStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s crashStats
	for _, op := range c.ops {
		s.sent++
		acked, refused := op.outcome()
		switch {
		case len(acked) > 0:
			s.acked++
		case refused > 0:
			s.refused++
		default:
			s.unknown++
			if len(c.tags[op.tag]) > 0 {
				s.landed++
			}
		}
		s.replays += op.replays
		s.retries += op.retries
		s.retryReplayed += op.retryReplayed
	}
	return s
}

func (c *crashRun) record(op *crashOp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = append(c.ops, op)
}

// acknowledged notes a proposal's first acknowledgement: its item is one
// clients decide on from now on.
func (c *crashRun) acknowledged(op *crashOp) {
	if op.kind != roadmap.TypeItemProposed {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = append(c.items, op.aggID)
}

func (c *crashRun) sentIn(round int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, op := range c.ops {
		if op.round == round {
			n++
		}
	}
	return n
}

func (c *crashRun) itemCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

// crashClient is one client: it proposes items and decides on the items any
// client proposed, and retries its requests with an Idempotency-Key that a
// kill cut.
type crashClient struct {
	run    *crashRun
	id     int
	actor  string
	secret string // of the client's token, named after its actor
	n      int

	pending []*crashOp // keyed requests with no answer yet
	keyed   []*crashOp // acknowledged keyed requests, replayed now and then
}

// load sends requests until stop is set: first the retries of the keyed
// requests the last kill cut, then decisions.
func (cl *crashClient) load(round int, client *http.Client, base string, stop *atomic.Bool) {
	c := cl.run
	rng := rand.New(rand.NewPCG(c.cfg.seed, uint64(round)<<16|uint64(cl.id)))
	pending := cl.pending
	cl.pending = nil
	for i, op := range pending {
		if stop.Load() {
			cl.pending = append(cl.pending, pending[i:]...)
			return
		}
		cl.sendAndCheck(op, client, base)
		cl.settle(op)
	}
	for !stop.Load() {
		switch r := rng.IntN(100); {
		case r < 20:
			cl.propose(round, rng, client, base)
		case r < 25 && len(cl.keyed) > 0:
			cl.replay(cl.keyed[rng.IntN(len(cl.keyed))], client, base)
		default:
			cl.decide(round, rng, client, base)
		}
	}
}

// settle files an answered or cut keyed request: retried while cut,
// replayed now and then once acknowledged.
func (cl *crashClient) settle(op *crashOp) {
	if op.key == "" {
		return
	}
	last := op.attempts[len(op.attempts)-1]
	switch {
	case last.status == 0:
		cl.pending = append(cl.pending, op)
	case last.status/100 == 2:
		cl.keyed = append(cl.keyed, op)
	}
}

func (cl *crashClient) newOp(round int, rng *rand.Rand, kind, path string, body map[string]any) *crashOp {
	cl.n++
	tag := fmt.Sprintf("crash r%d c%d n%d %s", round, cl.id, cl.n, kind)
	if kind == roadmap.TypeItemProposed {
		body["title"] = tag
	} else {
		body["rationale"] = tag
	}
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	op := &crashOp{tag: tag, kind: kind, client: cl.id, round: round, actor: cl.actor, secret: cl.secret, method: "POST", path: path, body: raw}
	if rng.IntN(10) < 3 {
		op.key = fmt.Sprintf("crash-%d-r%d-c%d-n%d", cl.run.cfg.seed, round, cl.id, cl.n)
	}
	return op
}

func (cl *crashClient) propose(round int, rng *rand.Rand, client *http.Client, base string) {
	c := cl.run
	product := crashProducts[rng.IntN(len(crashProducts))]
	c.mu.Lock()
	objectives := []string{}
	for _, id := range c.objectives[product] {
		if rng.IntN(2) == 0 {
			objectives = append(objectives, id)
		}
	}
	c.mu.Unlock()
	kind := "idea"
	if rng.IntN(4) == 0 {
		kind = "initiative"
	}
	op := cl.newOp(round, rng, roadmap.TypeItemProposed, "/v1/items",
		map[string]any{"kind": kind, "product": product, "objective_ids": objectives})
	cl.sendAndCheck(op, client, base)
	cl.settle(op)
}

// decide takes a decision on an item: mostly one that fits the item as just
// read, half of them with If-Match; now and then a blind one, which is often
// refused.
func (cl *crashClient) decide(round int, rng *rand.Rand, client *http.Client, base string) {
	c := cl.run
	c.mu.Lock()
	if len(c.items) == 0 {
		c.mu.Unlock()
		cl.propose(round, rng, client, base)
		return
	}
	pool := c.items
	if rng.IntN(2) == 0 {
		// Half the decisions go to the latest items, so clients race on
		// the same ones.
		pool = pool[max(0, len(pool)-crashHotItems):]
	}
	id := pool[rng.IntN(len(pool))]
	c.mu.Unlock()

	kinds := []string{roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved}
	kind := kinds[rng.IntN(len(kinds))]
	var ifMatch uint64
	if rng.IntN(10) > 0 {
		status, header, body, err := get(client, base+"/v1/items/"+id)
		if err != nil {
			return // cut by the kill
		}
		var it struct{ Status string }
		if status != http.StatusOK || json.Unmarshal(body, &it) != nil {
			c.t.Errorf("GET /v1/items/%s: %d %s", id, status, body)
			return
		}
		switch {
		case it.Status != "on_roadmap":
			kind = roadmap.TypeItemPrioritised
		case rng.IntN(4) == 0:
			kind = roadmap.TypeItemRemoved
		default:
			kind = roadmap.TypeItemReprioritised
		}
		if rng.IntN(2) == 0 {
			ifMatch, _ = logcheck.ParseETag(header.Get("ETag"))
		}
	}
	horizons := []string{"now", "next", "later"}
	body := map[string]any{}
	path := "/v1/items/" + id
	switch kind {
	case roadmap.TypeItemPrioritised:
		path += "/prioritise"
		body["horizon"] = horizons[rng.IntN(3)]
		if rng.IntN(3) > 0 {
			body["rank"] = 1 + rng.IntN(6)
		}
		if rng.IntN(3) == 0 {
			body["score"] = map[string]any{"framework": "moscow", "category": []string{"must", "should", "could", "wont"}[rng.IntN(4)]}
		}
	case roadmap.TypeItemReprioritised:
		path += "/reprioritise"
		if rng.IntN(3) == 0 {
			body["horizon"] = horizons[rng.IntN(3)]
		}
		body["rank"] = 1 + rng.IntN(8)
	case roadmap.TypeItemRemoved:
		path += "/remove"
	}
	op := cl.newOp(round, rng, kind, path, body)
	op.aggID, op.ifMatch = id, ifMatch
	cl.sendAndCheck(op, client, base)
	cl.settle(op)
}

// replay sends an acknowledged keyed request again: the answer must be the
// first one, marked as replayed, and nothing may be appended (checkOps).
func (cl *crashClient) replay(op *crashOp, client *http.Client, base string) {
	first := op.attempts[slices.IndexFunc(op.attempts, func(a crashAttempt) bool { return a.status/100 == 2 })]
	a := op.send(client, base)
	if a.status == 0 {
		return
	}
	op.replays++
	if a.status != first.status || !a.replayed || a.version != first.version || !bytes.Equal(a.body, first.body) {
		cl.run.t.Errorf("%s: a replay answered %d (replayed %v, version %d): %s; the first answer was %d (version %d): %s",
			op, a.status, a.replayed, a.version, a.body, first.status, first.version, first.body)
	}
}

// sendAndCheck sends op once, records it, and reports an answer that is
// neither 2xx, 409 nor 412.
func (cl *crashClient) sendAndCheck(op *crashOp, client *http.Client, base string) {
	retry := len(op.attempts) > 0
	a := op.send(client, base)
	if !retry {
		cl.run.record(op)
	} else {
		op.retries++
		if a.replayed {
			op.retryReplayed++
		}
	}
	if a.status/100 == 2 && op.aggID != "" {
		cl.run.acknowledged(op)
	}
	switch {
	case a.status == 0, a.status/100 == 2, a.status == http.StatusConflict, a.status == http.StatusPreconditionFailed && op.ifMatch != 0:
	default:
		cl.run.t.Errorf("%s: answered %d: %s", op, a.status, a.body)
	}
	if a.status/100 == 2 && a.version == 0 {
		cl.run.t.Errorf("%s: answered %d without a valid ETag", op, a.status)
	}
	// A retry of a request the kill cut is replayed when the first attempt
	// was stored, else decided now; checkOps checks which.
	if a.replayed && !retry {
		cl.run.t.Errorf("%s: a first attempt was answered as a replay", op)
	}
}

// crashOp is one write request and every answer it got.
type crashOp struct {
	tag, kind     string
	client, round int
	actor, key    string
	secret        string // of the actor's token
	method, path  string
	body          []byte
	ifMatch       uint64
	aggID         string // the aggregate: from the path, or the answer for a new one
	attempts      []crashAttempt
	replays       int // replays of the acknowledged request
	retries       int // retries after a kill cut it
	retryReplayed int // retries answered as replays
}

type crashAttempt struct {
	status   int    // 0: no answer, the request was cut by a kill
	version  uint64 // from the ETag of a 2xx answer
	replayed bool
	body     []byte
	err      error
}

func (op *crashOp) String() string {
	s := fmt.Sprintf("%s %s (%q by %s", op.method, op.path, op.tag, op.actor)
	if op.key != "" {
		s += ", Idempotency-Key " + op.key
	}
	if op.ifMatch != 0 {
		s += fmt.Sprintf(", If-Match %d", op.ifMatch)
	}
	statuses := make([]string, len(op.attempts))
	for i, a := range op.attempts {
		statuses[i] = strconv.Itoa(a.status)
	}
	return s + ", answers " + strings.Join(statuses, ",") + ")"
}

// send sends op once and records the attempt.
func (op *crashOp) send(client *http.Client, base string) crashAttempt {
	req, err := http.NewRequest(op.method, base+op.path, bytes.NewReader(op.body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+op.secret)
	if op.key != "" {
		req.Header.Set("Idempotency-Key", op.key)
	}
	if op.ifMatch != 0 {
		req.Header.Set("If-Match", fmt.Sprintf(`"%d"`, op.ifMatch))
	}
	var a crashAttempt
	res, err := client.Do(req)
	if err != nil {
		a.err = err
	} else {
		a.status = res.StatusCode
		a.replayed = res.Header.Get("Idempotent-Replayed") == "true"
		a.body, a.err = io.ReadAll(res.Body)
		res.Body.Close()
		if a.status/100 == 2 {
			// The event is stored once the status is sent: the ETag
			// says where, even if the kill cut the body.
			a.version, _ = logcheck.ParseETag(res.Header.Get("ETag"))
			if op.aggID == "" {
				op.aggID = strings.TrimPrefix(strings.TrimPrefix(res.Header.Get("Location"), "/v1/items/"), "/v1/objectives/")
			}
		}
	}
	op.attempts = append(op.attempts, a)
	return a
}

// outcome returns the acknowledged attempts of op and how many were refused.
func (op *crashOp) outcome() (acked []crashAttempt, refused int) {
	for _, a := range op.attempts {
		switch {
		case a.status/100 == 2:
			acked = append(acked, a)
		case a.status != 0:
			refused++
		}
	}
	return acked, refused
}

// ackedVersion returns the version op was acknowledged at, 0 if it was not.
func (op *crashOp) ackedVersion() uint64 {
	acked, _ := op.outcome()
	if len(acked) == 0 {
		return 0
	}
	return acked[0].version
}

// serveProc is one "roadmap serve" process.
type serveProc struct {
	t         *testing.T
	cmd       *exec.Cmd
	listening chan string // the base URL, once it says where it listens
	exited    chan struct{}
	waitErr   error
	stdout    *lockedBuffer
	stderr    *lockedBuffer
	killed    bool
}

// launch starts the server on the run's data directory and a free port.
func (c *crashRun) launch() *serveProc {
	t := c.t
	t.Helper()
	// Approvals are off: the suite is about what a kill does to decisions,
	// and every decision it sends is to be recorded at once.
	cmd := exec.Command(c.bin, "serve", "--data", c.dir, "--addr", "127.0.0.1:0", "--nats-url", "", "--approvals", "off")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROADMAP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ROADMAP_BOOTSTRAP_TOKEN="+crashAdmin)
	p := &serveProc{t: t, cmd: cmd, listening: make(chan string, 1), exited: make(chan struct{}), stdout: newLockedBuffer(), stderr: newLockedBuffer()}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", c.bin, err)
	}
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.kill()
		}
	})
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			line := lines.Text()
			p.stdout.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "roadmap: listening on "); ok {
				base, _, _ := strings.Cut(rest, " ")
				p.listening <- base
			}
		}
		io.Copy(io.Discard, out)
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p
}

// start launches the server and waits until it is ready, and returns it, a
// client for it and its base URL; or, after reporting why it never got
// there, a nil process.
func (c *crashRun) start() (*serveProc, *http.Client, string) {
	c.t.Helper()
	p := c.launch()
	base := p.waitListening()
	if base == "" {
		return nil, nil, ""
	}
	client := crashHTTPClient()
	if !waitReady(c.t, client, base) {
		p.kill()
		client.CloseIdleConnections()
		return nil, nil, ""
	}
	return p, client, base
}

// waitListening returns the server's base URL, or "" after reporting why
// there is none.
func (p *serveProc) waitListening() string {
	p.t.Helper()
	select {
	case base := <-p.listening:
		return base
	case <-p.exited:
		p.t.Errorf("the server exited before it listened: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, p.stdout, p.stderr)
	case <-time.After(60 * time.Second):
		p.kill()
		p.t.Errorf("the server did not listen within 60s\nstderr:\n%s", p.stderr)
	}
	return ""
}

// kill sends SIGKILL to the process and waits for it to be gone.
func (p *serveProc) kill() {
	p.t.Helper()
	p.killed = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("process %d did not exit within 30s of SIGKILL", p.cmd.Process.Pid)
	}
	p.checkRaces()
}

// stop sends SIGTERM and checks the server shut down cleanly.
func (p *serveProc) stop() bool {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		p.kill()
		p.t.Errorf("the server did not stop within 60s of SIGTERM\nstderr:\n%s", p.stderr)
		return false
	}
	p.checkRaces()
	if p.waitErr != nil || !strings.Contains(p.stdout.String(), "roadmap: stopped") {
		p.t.Errorf("the server did not stop cleanly: %v\nstdout:\n%s\nstderr:\n%s", p.waitErr, p.stdout, p.stderr)
		return false
	}
	if strings.Contains(p.stderr.String(), "level=ERROR") {
		p.t.Errorf("the server logged errors:\n%s", p.stderr)
	}
	return true
}

func (p *serveProc) checkRaces() {
	if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
		p.t.Errorf("the race detector found a data race in the server:\n%s", p.stderr)
	}
}

// lockedBuffer keeps the first MiB written to it, safe for concurrent use:
// a lockedWriter over a cappedBuffer it can also read.
type lockedBuffer struct {
	lockedWriter
	buf cappedBuffer
}

func newLockedBuffer() *lockedBuffer {
	b := &lockedBuffer{}
	b.w = &b.buf
	return b
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cappedBuffer is a bytes.Buffer that drops what is written past its first
// MiB.
type cappedBuffer struct{ bytes.Buffer }

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len() < 1<<20 {
		b.Buffer.Write(p)
	}
	return len(p), nil
}

func crashHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	}
}

// waitReady polls /readyz until it answers 200, for at most 60s.
func waitReady(t *testing.T, client *http.Client, base string) bool {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, _, body, err := get(client, base+"/readyz")
		if err == nil && status == http.StatusOK {
			return true
		}
		if time.Now().After(deadline) {
			t.Errorf("the server was not ready within 60s: %d %v %s", status, err, body)
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends a GET with the admin's token.
func get(client *http.Client, url string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+crashAdmin)
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body, err
}

func waitGroup(wg *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}
