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

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
)

// TestCrashRecovery is the crash suite (docs/reliability.md): it builds the
// real binary, runs "roadmap serve" on one data directory, drives decisions
// from concurrent clients (item proposals and decisions, some held for
// approval and approved or rejected by another client, reviews opened and
// closed, tokens made and revoked) and kills the process with SIGKILL at a
// random moment, again and again. After every kill it restarts the server, reads
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
//     scratch, byte for byte;
//   - every round acknowledged writes and had requests in flight at the
//     kill, and a run of 10 kills or more acknowledged every kind of write,
//     cut some, and retried some of those (replayed, for one stored); such a
//     run goes on, up to twice its kills, until it has.
//
// ROADMAP_CRASH_KILLS (20 by default), ROADMAP_CRASH_CLIENTS (8) and
// ROADMAP_CRASH_SEED (random, logged) change the run.
func TestCrashRecovery(t *testing.T) {
	crashSuite(t, crashSettings(t, 20))
}

// TestCrashRecoveryWithGroupCommit is the crash suite against a server that
// gathers decisions into atomic batches (serve --group-commit): a kill
// falls between a batch's messages as often as between batches, and every
// acknowledged decision must still be in the log, once, on an exact chain.
// ROADMAP_CRASH_KILLS defaults to 10 here.
func TestCrashRecoveryWithGroupCommit(t *testing.T) {
	c := crashSuite(t, crashSettings(t, 10), "--group-commit")
	if t.Failed() {
		return
	}
	// The suite checked the log; here, that batches made it.
	batched := storedInBatches(t, c.dir)
	t.Logf("crash: %d of %d events stored in atomic batches", batched, c.events)
	if batched == 0 {
		t.Error("crash: no event was stored in an atomic batch: the suite did not exercise group commit")
	}
}

// storedInBatches counts the messages of the ledger in dir that JetStream
// stored as part of an atomic batch (they keep the batch's id header).
func storedInBatches(t *testing.T, dir string) int {
	t.Helper()
	ctx := context.Background()
	l, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stream, err := l.JetStream().Stream(ctx, l.Stream())
	if err != nil {
		t.Fatal(err)
	}
	last, err := l.LastSequence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for seq := uint64(1); seq <= last; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("sequence %d: %v", seq, err)
		}
		if msg.Header.Get("Nats-Batch-Id") != "" {
			n++
		}
	}
	return n
}

// crashSuite runs the crash suite with cfg against "roadmap serve" with
// args.
func crashSuite(t *testing.T, cfg crashConfig, args ...string) *crashRun {
	t.Logf("crash: seed %d, %d kills, %d clients, serve %v (rerun with ROADMAP_CRASH_SEED=%d ROADMAP_CRASH_KILLS=%d)", cfg.seed, cfg.kills, cfg.clients, args, cfg.seed, cfg.kills)
	started := time.Now()
	bin := buildRoadmap(t)
	t.Logf("crash: built the binary in %s (race detector: %v)", time.Since(started).Round(time.Millisecond), logcheck.RaceEnabled)

	c := &crashRun{t: t, bin: bin, dir: filepath.Join(t.TempDir(), "data"), cfg: cfg, approvals: roadmap.ApprovalsMajor, args: args,
		rng: rand.New(rand.NewPCG(cfg.seed, 0)), objectives: map[string][]string{}}
	for i := range cfg.clients {
		c.clients = append(c.clients, &crashClient{run: c, id: i, actor: fmt.Sprintf("client-%d@crash.test", i)})
	}
	began := time.Now()
	// A run of 10 kills or more goes on past its count, up to twice it,
	// while some minimum is unmet: a random mix may leave out a rare kind
	// (a rejection is one decision in four on a held change) in ten rounds,
	// and an unlucky seed is not a defect.
	for round := 1; !t.Failed(); round++ {
		if round > cfg.kills && (cfg.kills < 10 || round > 2*cfg.kills || len(c.unmet(c.stats())) == 0) {
			break
		}
		c.round(round)
	}
	s := c.stats()
	t.Logf("crash: %d kills (%d during start-up), %d clients, %s in all (%s building)", c.kills, c.startKills, cfg.clients,
		time.Since(started).Round(time.Millisecond), began.Sub(started).Round(time.Millisecond))
	t.Logf("crash: %d writes sent: %d acknowledged, %d refused (409/412), %d cut by a kill (%d of them stored, %d not); "+
		"%d retries of cut keyed requests (%d answered as replays), %d replays of acknowledged keyed requests; "+
		"%d events in the log, %d items", s.sent, s.acked, s.refused, s.unknown, s.landed, s.unknown-s.landed,
		s.retries, s.retryReplayed, s.replays, c.events, c.itemCount())
	t.Logf("crash: acknowledged by kind: %v", s.ackedKinds)
	if c.kills >= 10 && !t.Failed() {
		for _, m := range c.unmet(s) {
			t.Errorf("crash: %s in %d kills", m, c.kills)
		}
	}
	return c
}

// crashKinds are the kinds of write the clients send, as the events they
// record; crashHeld is a decision held for approval.
var crashKinds = []string{
	roadmap.TypeItemProposed, roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved, crashHeld,
	roadmap.TypeChangeApproved, roadmap.TypeChangeRejected,
	roadmap.TypeTokenCreated, roadmap.TypeTokenRevoked,
}

// Reviews are written too, but a run opens two at most (a ledger takes
// reviews of its first month to the next one only), so a kill may cut them
// all: they are checked when they happen, not required.

const crashHeld = roadmap.TypeChangeProposed

// unmet says which minimums a run has not met yet: writes of every kind
// acknowledged, writes cut by a kill, stored or not, and cut keyed requests
// retried, one at least answered as a replay. A run of 10 kills or more
// fails on any of them: it did not exercise what the suite is for.
func (c *crashRun) unmet(s crashStats) []string {
	var unmet []string
	for _, kind := range crashKinds {
		if s.ackedKinds[kind] == 0 {
			unmet = append(unmet, fmt.Sprintf("no %s was acknowledged", kind))
		}
	}
	if s.landed == 0 || s.unknown == s.landed {
		unmet = append(unmet, fmt.Sprintf("of %d writes cut by a kill, %d were stored: want some of each", s.unknown, s.landed))
	}
	if s.retries == 0 || s.retryReplayed == 0 {
		unmet = append(unmet, fmt.Sprintf("%d retries of cut keyed requests, %d answered as replays: want some of each", s.retries, s.retryReplayed))
	}
	return unmet
}

type crashConfig struct {
	kills, clients   int
	seed             uint64
	minLoad, maxLoad time.Duration // the window in which the kill falls, from the start of the load
	startKillEvery   int           // one round in this many also kills the server while it starts
}

func crashSettings(t *testing.T, kills int) crashConfig {
	t.Helper()
	cfg := crashConfig{kills: kills, clients: 8, seed: uint64(time.Now().UnixNano()),
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
	t   *testing.T
	bin string
	dir string
	// approvals is the server's --approvals: on (major) in the crash
	// suite, where a decision that puts an item into now or takes it out
	// is held for another client's approval.
	approvals roadmap.ApprovalPolicy
	// args are more flags for serve.
	args    []string
	cfg     crashConfig
	rng     *rand.Rand // the kill moments
	clients []*crashClient

	mu         sync.Mutex
	ops        []*crashOp
	items      []string            // acknowledged items, the ones clients decide on
	objectives map[string][]string // product → objective ids
	changes    []*crashOp          // acknowledged held decisions no client has approved or rejected yet
	reviews    []string            // acknowledged open reviews no client has closed yet
	tokenIDs   []string            // acknowledged tokens of the clients' own making, not revoked yet
	periods    int                 // the reviews opened so far: each opens its own month

	// answers counts the 2xx answers of the round; inflight the requests
	// sent and not yet answered.
	answers, inflight atomic.Int64

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

	// The load runs from the round's first acknowledged write, so every
	// round has one at least, even when the server is slow to answer.
	load := c.cfg.minLoad + time.Duration(c.rng.Int64N(int64(c.cfg.maxLoad-c.cfg.minLoad)))
	c.answers.Store(0)
	client.Transport = inflightTransport{client.Transport, &c.inflight}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, cl := range c.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.load(round, client, base, &stop)
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); c.answers.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(load)
	inflight := c.inflight.Load()
	p.kill()
	stop.Store(true)
	c.kills++
	if !waitGroup(&wg, 60*time.Second) {
		t.Fatalf("round %d: clients did not stop within 60s of the kill", round)
	}
	sent, answers := c.sentIn(round), c.answers.Load()
	t.Logf("round %d: killed the server after %s of load, %d requests in flight; %d writes sent in the round, %d answered 2xx", round, load.Round(time.Microsecond), inflight, sent, answers)
	if answers == 0 {
		t.Errorf("round %d: no write was acknowledged within 30s of the load's start", round)
	}
	if inflight == 0 {
		t.Errorf("round %d: no request was in flight at the kill", round)
	}
	c.verify(round)
}

// inflightTransport counts the requests sent and not yet answered.
type inflightTransport struct {
	http.RoundTripper
	n *atomic.Int64
}

func (t inflightTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.n.Add(1)
	defer t.n.Add(-1)
	return t.RoundTripper.RoundTrip(req)
}

// crashAdmin is the secret of the bootstrap admin token every start of the
// server is given.
const crashAdmin = "9grrZkvhRSIiiJjwgKDTomvHYFG39fJ2N03-Xt-c"

// crashSetupActor defines the objectives.
const crashSetupActor = "setup@crash.test"

// setup makes an editor's token for the setup and an admin's for every
// client (clients also approve, close reviews and make tokens), each named
// after its actor, and defines two objectives per product.
func (c *crashRun) setup(client *http.Client, base string) {
	setupSecret := c.token(client, base, crashSetupActor, "editor")
	for _, cl := range c.clients {
		cl.secret = c.token(client, base, cl.actor, "admin")
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

// token makes a token named name with role with the admin's and returns its
// secret.
func (c *crashRun) token(client *http.Client, base, name, role string) string {
	body, _ := json.Marshal(map[string]string{"name": name, "role": role})
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

// checkItemsServed reads what every request of the round acknowledged (the
// item, the change held for approval, the review or the token), and the
// history of a few items, through the restarted server: each is there, at
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
		kind, id := op.stored()
		resource := crashResources[strings.Split(kind, ".")[0]] + id
		status, header, body, err := get(client, base+resource)
		if err != nil || status != http.StatusOK {
			t.Errorf("round %d: after the restart, GET %s (acknowledged %q): %d %v %s", round, resource, op.tag, status, err, body)
			continue
		}
		if v, ok := logcheck.ParseETag(header.Get("ETag")); !ok || v < op.ackedVersion() {
			t.Errorf("round %d: after the restart, %s is at version %s, before the acknowledged %d of %q", round, resource, header.Get("ETag"), op.ackedVersion(), op.tag)
		}
		if i%10 != 0 || !strings.HasPrefix(kind, "item.") {
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
	approvals := map[*crashOp][]*crashOp{} // a held decision → the requests that approved it
	for _, op := range c.ops {
		byTag[op.tag] = op
		if op.kind == roadmap.TypeChangeApproved {
			approvals[op.decides] = append(approvals[op.decides], op)
		}
	}
	reported := 0
	fail := func(format string, args ...any) {
		if reported++; reported <= 30 {
			t.Errorf("round %d: "+format, append([]any{round}, args...)...)
		}
	}
	setup := c.checkTokens(tags, fail)
	for tag, seqs := range tags {
		if byTag[tag] == nil && !setup[tag] {
			fail("the log holds events no client sent: %q at %v", tag, seqs)
		}
	}
	// stored says whether an approval of op recorded its change.approved.
	approvalStored := func(op *crashOp) bool {
		return slices.ContainsFunc(approvals[op], func(a *crashOp) bool { return len(tags[a.tag]) > 0 })
	}
	for _, op := range c.ops {
		seqs := tags[op.tag]
		// A held decision's tag is also on the decision its approval
		// records on the item, after the proposal: that event is checked
		// here, and set aside for the checks of the request itself.
		if op.held() && len(seqs) == 2 {
			ev, _ := ledger.Event(seqs[1])
			if env := ev.Envelope; env.Type != op.kind || env.AggregateID != op.aggID {
				fail("%s: the event at %d is %s on %s, want the approved %s on %s", op, seqs[1], env.Type, env.AggregateID, op.kind, op.aggID)
			}
			if !approvalStored(op) {
				fail("%s: its decision is on the item at %d, but no approval of it is in the log", op, seqs[1])
			}
			seqs = seqs[:1]
		}
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
			if kind, id := op.stored(); env.Type != kind || env.AggregateID != id || env.Actor != op.actor {
				fail("%s: the event at %d is %s on %s by %s, want %s on %s by %s", op, seq, env.Type, env.AggregateID, env.Actor, kind, id, op.actor)
			}
			if (ev.IdempotencyKey != "") != (op.key != "") {
				fail("%s: the event at %d has idempotency key %q, sent with %q", op, seq, ev.IdempotencyKey, op.key)
			}
			if op.ifMatch != 0 {
				prev, _ := ledger.Previous(seq)
				if proposed, ok := ev.Data.(*roadmap.ChangeProposed); ok {
					prev = proposed.ItemVersion // held: If-Match named the item
				}
				if prev != op.ifMatch {
					fail("%s sent If-Match %d, but its event at %d follows the aggregate's event at %d", op, op.ifMatch, seq, prev)
				}
			}
			if op.kind == roadmap.TypeChangeApproved {
				if n := len(tags[op.decides.tag]); n != 2 || tags[op.decides.tag][1] < seq {
					fail("%s was acknowledged at %d, but the decision it approved is not on the item after it (%v)", op, seq, tags[op.decides.tag])
				}
			}
		case refused > 0:
			// An approval is refused after its change.approved is stored
			// when the item moved on between the two: the decision is then
			// never recorded.
			approvedOnly := op.kind == roadmap.TypeChangeApproved && len(seqs) == 1 && len(tags[op.decides.tag]) == 1
			if len(seqs) != 0 && !approvedOnly {
				fail("%s was refused, but the log holds it at %v", op, seqs)
			}
		default:
			if len(seqs) > 1 {
				fail("%s was cut by a kill, and the log holds it %d times (%v)", op, len(seqs), seqs)
			}
		}
	}
}

// checkTokens checks the tokens made before the clients' load, the
// bootstrap token and setup's: each is in the log once. No other event may
// be without a tag. It returns their names.
func (c *crashRun) checkTokens(tags map[string][]uint64, fail func(string, ...any)) map[string]bool {
	setup := map[string]bool{"bootstrap": true}
	for _, name := range c.tokens {
		setup[name] = true
	}
	for name := range setup {
		if n := len(tags[name]); n != 1 {
			fail("the token %s made before the load is in the log %d times, want once", name, n)
		}
	}
	if seqs := tags[""]; len(seqs) > 0 {
		fail("the log holds events that no client sent, without a tag, at %v", seqs)
	}
	return setup
}

// crashStats are the figures of a run.
type crashStats struct {
	sent, acked, refused, unknown, landed, retries, retryReplayed, replays int
	// ackedKinds counts the acknowledged writes by the event they stored
	// (crashHeld for a decision held for approval).
	ackedKinds map[string]int
}

func (c *crashRun) stats() crashStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := crashStats{ackedKinds: map[string]int{}}
	for _, op := range c.ops {
		s.sent++
		acked, refused := op.outcome()
		switch {
		case len(acked) > 0:
			s.acked++
			kind, _ := op.stored()
			s.ackedKinds[kind]++
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

// acknowledged notes a write's first acknowledgement: a proposal's item is
// one clients decide on from now on, a held decision one to approve or
// reject, an opened review one to close, a token one to revoke.
func (c *crashRun) acknowledged(op *crashOp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case op.held():
		c.changes = append(c.changes, op)
	case op.kind == roadmap.TypeItemProposed:
		c.items = append(c.items, op.aggID)
	case op.kind == roadmap.TypeReviewOpened:
		c.reviews = append(c.reviews, op.aggID)
	case op.kind == roadmap.TypeTokenCreated:
		c.tokenIDs = append(c.tokenIDs, op.aggID)
	}
}

// take removes and returns an element of list that ok accepts, picked with
// rng, if there is one: no two requests act on it.
func take[T any](c *crashRun, rng *rand.Rand, list *[]T, ok func(T) bool) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var fits []int
	for i, v := range *list {
		if ok(v) {
			fits = append(fits, i)
		}
	}
	var v T
	if len(fits) == 0 {
		return v, false
	}
	i := fits[rng.IntN(len(fits))]
	v = (*list)[i]
	*list = slices.Delete(*list, i, i+1)
	return v, true
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
// client proposed, approves or rejects the changes another client proposed,
// opens and closes reviews, makes and revokes tokens, and retries its
// requests with an Idempotency-Key that a kill cut.
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
		// A held change this client is to decide on is decided soon,
		// before its item moves on.
		if rng.IntN(2) == 0 && cl.approve(round, rng, client, base) {
			continue
		}
		switch r := rng.IntN(100); {
		case r < 20:
			cl.propose(round, rng, client, base)
		case r < 25 && len(cl.keyed) > 0:
			cl.replay(cl.keyed[rng.IntN(len(cl.keyed))], client, base)
		case r < 29 && cl.openReview(round, rng, client, base):
		case r < 33 && cl.closeReview(round, rng, client, base):
		case r < 37 && cl.makeToken(round, rng, client, base):
		case r < 40 && cl.revokeToken(round, rng, client, base):
		default:
			cl.decide(round, rng, client, base)
		}
	}
}

// approve approves, or one time in four rejects, a change held for
// approval that this client is the one to decide on: the next client after
// the one that proposed it. It returns false when there is none.
func (cl *crashClient) approve(round int, rng *rand.Rand, client *http.Client, base string) bool {
	c := cl.run
	held, ok := take(c, rng, &c.changes, func(op *crashOp) bool {
		return (op.client+1)%len(c.clients) == cl.id && op.client != cl.id
	})
	if !ok {
		return false
	}
	kind, verb := roadmap.TypeChangeApproved, "approve"
	if rng.IntN(4) == 0 {
		kind, verb = roadmap.TypeChangeRejected, "reject"
	}
	op := cl.newOp(round, rng, kind, "POST", "/v1/changes/"+held.change+"/"+verb, map[string]any{})
	op.aggID, op.decides = held.change, held
	cl.send(op, client, base)
	return true
}

// openReview opens the review of a month no review has yet. A ledger takes
// reviews only of the months from its first to the next one: a run opens
// at most two, this month's and the next; false once both are asked for.
func (cl *crashClient) openReview(round int, rng *rand.Rand, client *http.Client, base string) bool {
	c := cl.run
	c.mu.Lock()
	n := c.periods
	if n >= 2 {
		c.mu.Unlock()
		return false
	}
	c.periods++
	c.mu.Unlock()
	period := time.Now().UTC().AddDate(0, n, 1-time.Now().UTC().Day()).Format("2006-01")
	cl.send(cl.newOp(round, rng, roadmap.TypeReviewOpened, "POST", "/v1/reviews", map[string]any{"period": period}), client, base)
	return true
}

// closeReview closes an open review; false when there is none.
func (cl *crashClient) closeReview(round int, rng *rand.Rand, client *http.Client, base string) bool {
	c := cl.run
	id, ok := take(c, rng, &c.reviews, func(string) bool { return true })
	if !ok {
		return false
	}
	op := cl.newOp(round, rng, roadmap.TypeReviewClosed, "POST", "/v1/reviews/"+id+"/close", map[string]any{})
	op.aggID = id
	cl.send(op, client, base)
	return true
}

// makeToken makes a viewer's token.
func (cl *crashClient) makeToken(round int, rng *rand.Rand, client *http.Client, base string) bool {
	cl.send(cl.newOp(round, rng, roadmap.TypeTokenCreated, "POST", "/v1/tokens", map[string]any{"role": "viewer"}), client, base)
	return true
}

// revokeToken revokes a token a client made; false when there is none.
func (cl *crashClient) revokeToken(round int, rng *rand.Rand, client *http.Client, base string) bool {
	c := cl.run
	id, ok := take(c, rng, &c.tokenIDs, func(string) bool { return true })
	if !ok {
		return false
	}
	op := cl.newOp(round, rng, roadmap.TypeTokenRevoked, "DELETE", "/v1/tokens/"+id, map[string]any{})
	op.aggID = id
	cl.send(op, client, base)
	return true
}

// settle files an answered or cut keyed request: retried while cut,
// replayed now and then once acknowledged. A token's answers are not
// replayed byte for byte (the secret is given once, the last use changes),
// so they are only retried.
func (cl *crashClient) settle(op *crashOp) {
	if op.key == "" {
		return
	}
	last := op.attempts[len(op.attempts)-1]
	switch {
	case last.status == 0:
		cl.pending = append(cl.pending, op)
	case last.status/100 == 2 && !strings.HasPrefix(op.kind, "token."):
		cl.keyed = append(cl.keyed, op)
	}
}

// send sends a new op, then files it (settle).
func (cl *crashClient) send(op *crashOp, client *http.Client, base string) {
	cl.sendAndCheck(op, client, base)
	cl.settle(op)
}

// crashTagFields name the field of a request's body its tag goes in: the
// text its event keeps (logcheck.Tag).
var crashTagFields = map[string]string{
	roadmap.TypeItemProposed: "title", roadmap.TypeReviewOpened: "title", roadmap.TypeReviewClosed: "notes",
	roadmap.TypeTokenCreated: "name", roadmap.TypeTokenRevoked: "reason",
}

// crashResources are where the API serves each kind of aggregate.
var crashResources = map[string]string{
	"item": "/v1/items/", "change": "/v1/changes/", "review": "/v1/reviews/", "token": "/v1/tokens/",
}

func (cl *crashClient) newOp(round int, rng *rand.Rand, kind, method, path string, body map[string]any) *crashOp {
	cl.n++
	tag := fmt.Sprintf("crash r%d c%d n%d %s", round, cl.id, cl.n, kind)
	field := crashTagFields[kind]
	if field == "" {
		field = "rationale"
	}
	body[field] = tag
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	op := &crashOp{tag: tag, kind: kind, client: cl.id, round: round, actor: cl.actor, secret: cl.secret, method: method, path: path, body: raw}
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
	cl.send(cl.newOp(round, rng, roadmap.TypeItemProposed, "POST", "/v1/items",
		map[string]any{"kind": kind, "product": product, "objective_ids": objectives}), client, base)
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
	op := cl.newOp(round, rng, kind, "POST", path, body)
	op.aggID, op.ifMatch = id, ifMatch
	cl.send(op, client, base)
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
	if a.status/100 == 2 {
		cl.run.answers.Add(1)
		if len(op.acknowledgements()) == 1 {
			cl.run.acknowledged(op)
		}
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
	aggID         string   // the aggregate: from the path, or the answer for a new one
	change        string   // the change a decision was held as, from its 202 answer
	decides       *crashOp // the held decision an approval or rejection decides on
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
			// says where, even if the kill cut the body; the Location
			// of a new aggregate (or of the change holding a decision,
			// with 202) says which.
			a.version, _ = logcheck.ParseETag(res.Header.Get("ETag"))
			if loc := res.Header.Get("Location"); loc != "" {
				id := loc[strings.LastIndex(loc, "/")+1:]
				if a.status == http.StatusAccepted {
					op.change = id
				} else if op.aggID == "" {
					op.aggID = id
				}
			}
		}
	}
	op.attempts = append(op.attempts, a)
	return a
}

// held reports whether op is a decision held for approval (202).
func (op *crashOp) held() bool { return op.change != "" }

// stored returns the type of the event op's acknowledgement stands for and
// the aggregate it is on: for a held decision, the change proposed.
func (op *crashOp) stored() (kind, aggID string) {
	if op.held() {
		return crashHeld, op.change
	}
	return op.kind, op.aggID
}

// acknowledgements returns op's 2xx answers.
func (op *crashOp) acknowledgements() []crashAttempt {
	acked, _ := op.outcome()
	return acked
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
	cmd := exec.Command(c.bin, append([]string{"serve", "--data", c.dir, "--addr", "127.0.0.1:0", "--nats-url", "", "--approvals", string(c.approvals)}, c.args...)...)
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
	client := crashHTTPClient(c.t)
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

// crashHTTPClient is the suites' client: every request it sends, and its
// answer, is checked against the OpenAPI spec.
func crashHTTPClient(t testing.TB) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: spectest.Transport(t, &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}),
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
