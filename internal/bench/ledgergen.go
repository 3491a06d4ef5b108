package bench

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ledgerSpec says what ledger to generate. The same spec gives the same
// ledger, byte for byte: ids, times and texts all come from Seed.
type ledgerSpec struct {
	// Events is how many events the ledger holds.
	Events int `json:"events"`
	// Items is how many items are proposed, spread over Products.
	Items    int `json:"items"`
	Products int `json:"products"`
	// ObjectivesPerProduct are defined first; a few are retired later.
	ObjectivesPerProduct int `json:"objectives_per_product"`
	// Reviews is how many governance reviews are opened and closed, evenly
	// spread over the ledger.
	Reviews int `json:"reviews"`
	// Keyed is the share of decisions that came with an Idempotency-Key.
	Keyed float64 `json:"keyed"`
	// Unprioritised is the share of items that are only ever proposed.
	Unprioritised float64 `json:"unprioritised"`
	// Removals is the share of decisions on roadmap items that remove one.
	Removals float64 `json:"removals"`
	// Span is the time the ledger covers, from its first event to its last.
	Span time.Duration `json:"span"`
	Seed uint64        `json:"seed"`
}

// ledgerGenerator is the version of the generator: a cached ledger made by
// another version is not reused.
const ledgerGenerator = 4

// benchToken is the secret of the bootstrap admin token a generated ledger
// starts with, as every ledger does: the benchmarks start the ledger with
// it as its bootstrap token, so nothing is appended, and send it.
const benchToken = "sSyyWszxbSOh6FGFFaSHJ6dm9iTMBTvmppUgHIYr"

// genSetup is how many events come before the objectives: the bootstrap
// token.
const genSetup = 1

// genStart is the time of a generated ledger's first event.
var genStart = time.Date(2023, 1, 2, 8, 0, 0, 0, time.UTC)

// defaultLedgerSpec is a ledger of n events shaped like a busy real one:
// eight products, five objectives each, a few thousand items, three
// decisions in ten keyed, a review a quarter over three years.
func defaultLedgerSpec(n int) ledgerSpec {
	return ledgerSpec{
		Events: n, Items: min(3000, max(n/20, 1)), Products: 8, ObjectivesPerProduct: 5,
		Reviews: min(12, n/200), Keyed: 0.3, Unprioritised: 0.15, Removals: 0.005,
		Span: 3 * 365 * 24 * time.Hour, Seed: 1,
	}
}

func (s ledgerSpec) validate() error {
	objectives := s.Products * s.ObjectivesPerProduct
	// Room for the bootstrap token, the objectives, every item's proposal
	// and prioritisation, the reviews, and as much again for the decisions
	// in between.
	need := genSetup + objectives + 2*s.Items + 2*s.Reviews
	switch {
	case s.Items < 1 || s.Products < 1 || s.ObjectivesPerProduct < 0 || s.Reviews < 0:
		return fmt.Errorf("ledger: %d items over %d products with %d objectives each and %d reviews: want at least one item and one product", s.Items, s.Products, s.ObjectivesPerProduct, s.Reviews)
	case s.Products > len(productNames):
		return fmt.Errorf("ledger: at most %d products, got %d", len(productNames), s.Products)
	case s.Events < 2*need:
		return fmt.Errorf("ledger: %d events are too few for %d items, %d objectives and %d reviews: give at least %d", s.Events, s.Items, objectives, s.Reviews, 2*need)
	case s.Keyed < 0 || s.Keyed > 1 || s.Unprioritised < 0 || s.Unprioritised >= 1 || s.Removals < 0 || s.Removals >= 0.5:
		return errors.New("ledger: shares out of range")
	case s.Span <= 0:
		return errors.New("ledger: the span must be positive")
	}
	return nil
}

// LedgerInfo describes the ledger a benchmark ran on, and how it was made.
type LedgerInfo struct {
	Events     int `json:"events"`
	Items      int `json:"items"`
	Products   int `json:"products"`
	Objectives int `json:"objectives"`
	Reviews    int `json:"reviews"`
	// OnRoadmap is how many items are on the roadmap at the end.
	OnRoadmap int `json:"on_roadmap"`
	// ByType counts the events of each type.
	ByType map[string]int `json:"by_type"`
	// Keyed counts the events that carry an idempotency key.
	Keyed int `json:"keyed"`
	// BodyBytes is the mean size of an event's body (the envelope), and
	// StoredBytes the stream's stored bytes per message: body, subject,
	// headers and JetStream's own per-message overhead.
	BodyBytes   float64   `json:"mean_body_bytes"`
	StoredBytes float64   `json:"stored_bytes_per_message"`
	First       time.Time `json:"first_event_at"`
	Last        time.Time `json:"last_event_at"`
	// GenerateSeconds is how long generating took, 0 when a cached ledger
	// was reused (Cached).
	GenerateSeconds float64 `json:"generate_seconds"`
	GenerateRate    float64 `json:"generate_events_per_second"`
	Cached          bool    `json:"cached"`
}

// ledgerMarker is the file a cached ledger directory keeps beside its data.
const ledgerMarker = "roadmap-bench-ledger.json"

type ledgerCache struct {
	Generator int        `json:"generator"`
	Spec      ledgerSpec `json:"spec"`
	Complete  bool       `json:"complete"`
	Info      LedgerInfo `json:"info"`
}

// preparedLedger is a generated ledger on disk.
type preparedLedger struct {
	// DataDir is what eventlog.Open and app.Open take.
	DataDir string
	Info    LedgerInfo
	cleanup func()
}

func (p *preparedLedger) Close() {
	if p.cleanup != nil {
		p.cleanup()
	}
}

// prepareLedger returns a ledger generated from spec. With cacheDir it
// reuses the ledger generated there by an earlier run with the same spec,
// or generates it there and keeps it; without, it generates it in a
// temporary directory under tempDir that Close removes.
func prepareLedger(ctx context.Context, spec ledgerSpec, cacheDir, tempDir string, progress io.Writer) (*preparedLedger, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if cacheDir == "" {
		dir, err := os.MkdirTemp(tempDir, "roadmap-bench-ledger-*")
		if err != nil {
			return nil, err
		}
		p := &preparedLedger{DataDir: dir, cleanup: func() { os.RemoveAll(dir) }}
		if p.Info, err = generateLedger(ctx, dir, spec, progress); err != nil {
			p.Close()
			return nil, err
		}
		return p, nil
	}

	dataDir := filepath.Join(cacheDir, "data")
	marker := filepath.Join(cacheDir, ledgerMarker)
	var cached ledgerCache
	b, err := os.ReadFile(marker)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &cached); err != nil {
			return nil, fmt.Errorf("ledger cache %s: %w", marker, err)
		}
		if cached.Complete && cached.Generator == ledgerGenerator && cached.Spec == spec {
			fmt.Fprintf(progress, "ledger: reusing the %d-event ledger cached in %s\n", spec.Events, cacheDir)
			cached.Info.Cached, cached.Info.GenerateSeconds, cached.Info.GenerateRate = true, 0, 0
			return &preparedLedger{DataDir: dataDir, Info: cached.Info}, nil
		}
		// Ours, but of another spec or unfinished: make it again.
		fmt.Fprintf(progress, "ledger: the ledger cached in %s was made for another spec or is incomplete; generating it again\n", cacheDir)
		if err := os.RemoveAll(dataDir); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		entries, err := os.ReadDir(cacheDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("ledger cache %s is not empty and holds no %s: give an empty or new directory", cacheDir, ledgerMarker)
		}
	default:
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	writeMarker := func(c ledgerCache) error {
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return err
		}
		return safefile.WriteBytes(marker, 0, append(b, '\n'))
	}
	if err := writeMarker(ledgerCache{Generator: ledgerGenerator, Spec: spec}); err != nil {
		return nil, err
	}
	info, err := generateLedger(ctx, dataDir, spec, progress)
	if err != nil {
		return nil, err
	}
	if err := writeMarker(ledgerCache{Generator: ledgerGenerator, Spec: spec, Complete: true, Info: info}); err != nil {
		return nil, err
	}
	return &preparedLedger{DataDir: dataDir, Info: info}, nil
}

// generateLedger writes the ledger of spec into a fresh stream under dir and
// returns what it holds. It publishes asynchronously and without fsync
// (the embedded server's UnsafeNoFsync): generating is not what is
// measured. The stream is left with JetStream's shortest duplicates window,
// so the next open does not read every message again to rebuild it (see
// shortDuplicateWindow).
func generateLedger(ctx context.Context, dir string, spec ledgerSpec, progress io.Writer) (LedgerInfo, error) {
	fmt.Fprintf(progress, "ledger: generating %d events (%d items, %d products), asynchronous publishes without fsync\n", spec.Events, spec.Items, spec.Products)
	start := time.Now()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir, UnsafeNoFsync: true, DuplicateWindow: shortDuplicateWindow})
	if err != nil {
		return LedgerInfo{}, err
	}
	defer log.Close()

	var mu sync.Mutex
	var pubErr error
	js, err := jetstream.New(log.Conn(),
		jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			mu.Lock()
			defer mu.Unlock()
			if pubErr == nil {
				pubErr = fmt.Errorf("publish to %s: %w", m.Subject, err)
			}
		}))
	if err != nil {
		return LedgerInfo{}, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The ledger's signing key, in its data directory as on a first
	// start, keys its bootstrap token's secret.
	signer, _, err := benchSigner(dir)
	if err != nil {
		return LedgerInfo{}, err
	}
	g := newGenerator(spec, app.TokenKey(signer))
	msgs := make(chan *nats.Msg, 4096)
	var genErr error
	go func() {
		defer close(msgs)
		for seq := 1; seq <= spec.Events; seq++ {
			m, err := g.next(uint64(seq))
			if err != nil {
				genErr = err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	report := time.Now()
	n := 0
	for m := range msgs {
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(time.Minute)); err != nil {
			cancel()
			for range msgs {
			}
			return LedgerInfo{}, fmt.Errorf("publish event %d: %w", n+1, err)
		}
		n++
		if n%100_000 == 0 && time.Since(report) > 5*time.Second {
			report = time.Now()
			fmt.Fprintf(progress, "ledger: %d of %d events, %.0fs\n", n, spec.Events, time.Since(start).Seconds())
		}
	}
	if genErr != nil {
		return LedgerInfo{}, genErr
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return LedgerInfo{}, ctx.Err()
	case <-time.After(2 * time.Minute):
		return LedgerInfo{}, errors.New("ledger: publishes still unacknowledged after 2m")
	}
	mu.Lock()
	err = pubErr
	mu.Unlock()
	if err != nil {
		return LedgerInfo{}, err
	}
	elapsed := time.Since(start)
	last, err := log.LastSequence(ctx)
	if err != nil {
		return LedgerInfo{}, err
	}
	if last != uint64(spec.Events) {
		return LedgerInfo{}, fmt.Errorf("ledger: the stream holds %d events, want %d", last, spec.Events)
	}
	info := g.info()
	info.GenerateSeconds = round(elapsed.Seconds(), 2)
	info.GenerateRate = round(float64(spec.Events)/elapsed.Seconds(), 0)
	stored, err := averageStored(ctx, log.JetStream(), log.Stream())
	if err != nil {
		return LedgerInfo{}, err
	}
	info.StoredBytes = round(stored, 1)
	fmt.Fprintf(progress, "ledger: generated %d events in %.1fs (%.0f events/s), %.0f bytes per event body, %.0f stored\n",
		spec.Events, elapsed.Seconds(), info.GenerateRate, info.BodyBytes, info.StoredBytes)
	return info, nil
}

// shortDuplicateWindow is JetStream's shortest duplicates window. A server
// that starts rebuilds its window by reading every message stored within it:
// for a ledger written seconds ago with the ledger's 10 minutes, that is the
// whole stream, which a real ledger restarted after a pause never pays. The
// generator and the raw side store this window; the ledger's own open puts
// its 10 minutes back, as every start does.
const shortDuplicateWindow = 100 * time.Millisecond

// Texts the generator draws from.
var (
	productNames = []string{"web-app", "mobile", "billing", "analytics", "integrations", "admin-console", "search", "api-platform",
		"notifications", "identity", "reporting", "marketplace", "onboarding", "data-pipeline", "payments", "support-desk"}
	people = []string{"amira.haddad", "jonas.berg", "li.wei", "priya.raman", "tom.okafor", "sofia.marquez", "yuki.tanaka",
		"noah.schmidt", "fatima.zahra", "lucas.moreau", "ines.costa", "david.cohen", "mei.lin", "oliver.nash", "sara.lindqvist", "raj.patel"}
	verbs     = []string{"Bulk export of", "Faster search over", "Self-serve setup of", "Audit log for", "Granular permissions on", "Offline access to", "Scheduled reports on", "Inline editing of", "Smart defaults for", "Usage alerts on", "Single sign-on for", "Dark mode for", "Webhooks for", "Approval flow for", "Better onboarding of"}
	things    = []string{"invoices", "customer records", "dashboards", "team workspaces", "API keys", "usage data", "saved filters", "payment methods", "support tickets", "product catalogues", "user roles", "activity feeds", "data imports", "email templates"}
	audiences = []string{"finance admins", "new teams", "enterprise accounts", "support agents", "partners", "self-serve customers", "field sales", "developers", "workspace owners", "analysts"}
	problems  = []string{"Customers lose about an hour a week doing this by hand.", "The top reason for tickets in this area last quarter.", "Blocks two enterprise deals in the pipeline.", "Competitors ship this already; it comes up in most lost-deal reviews.", "Requested by the customer advisory board.", "Reduces the load on the support team during month-end.", "Needed before the EU data residency launch."}
	openings  = []string{"Moved up:", "Pushed back:", "Re-ranked:", "Kept, re-scored:", "Raised:", "Lowered:", "Moved to a new horizon:", "Re-scored after review:"}
	causes    = []string{"three enterprise renewals depend on it", "support tickets on this doubled in six weeks", "the platform team lands the auth migration first", "usage data shows few teams reach this screen", "effort re-estimated after the spike", "it unblocks the partner integration", "churn interviews rank it second", "legal asked for it before the audit", "the design review found a simpler path", "sales lost two deals over it this quarter", "a cheaper workaround covers most cases", "the quarterly plan freed capacity in the team"}
	closings  = []string{"", "", "", "", "", "", "", "", " Revisit at the next review.", " Agreed with the tech lead.", " See the linked notes.", " Owner stays the same."}
	evidences = []string{"https://research.example.com/interviews/%d", "https://support.example.com/tickets/%d", "https://analytics.example.com/dashboards/%d", "https://docs.example.com/decisions/%d", "https://crm.example.com/deals/%d"}
	notes     = []string{"Roadmap reviewed with product leads; no escalations.", "Two items need fresh evidence before the next review.", "Capacity is tight in the platform team; watch the Now column.", "Objectives still cover most of the roadmap."}
)

// genItem is what the generator keeps of an item to draw the decisions on
// it; the item itself, as the domain sees it, is in the generator's state.
type genItem struct {
	id         string
	product    int  // index into productNames
	prioritise bool // will be prioritised once proposed
	onIndex    int  // position in generator.onRoadmap, -1 when off it
}

type genObjective struct {
	id      string
	product int
}

// generator makes the events of a ledger one at a time, in log order. Each
// event is the domain's decision (roadmap.Decide...) on a command the
// generator draws, taken against the ledger's state as the projections fold
// it, which the generator keeps as the ledger keeps its own: the decisions
// ask it what they must know of the rest of the ledger, as they ask the
// ledger's projections. So the generator writes only events the ledger
// would have written, and a refusal stops it.
type generator struct {
	spec ledgerSpec
	rng  *rand.Rand
	now  time.Time
	gap  float64 // mean time between events, in seconds
	// tokenKey is the ledger's key for token secrets.
	tokenKey roadmap.TokenKey

	// state is the ledger up to the last event made: every aggregate, its
	// version and chain head, the horizon lists.
	state *projections.State

	objectives  []genObjective
	byProduct   [][]int // objective indices by product
	items       []genItem
	initiatives [][]int   // item indices of initiatives, by product
	sizes       [][3]int  // product → horizon → items in it
	onRoadmap   []int32   // items on the roadmap, in no order
	pending     []int32   // proposed items waiting for their prioritisation
	removed     []int32   // items taken off the roadmap
	recent      [64]int32 // recently decided items: decisions cluster
	reviews     int
	open        string            // the id of the review opened and not yet closed
	schedule    map[uint64]string // sequence → "review.open", "review.close", "retire"
	scheduled   int               // scheduled events not yet made
	proposeBy   uint64            // every item is proposed by this sequence
	period      int               // months after genStart of the last review
	scores      []roadmap.Score   // a pool of scores' inputs, as a client sends them

	byType    map[string]int
	keyed     int
	bodyBytes int64
	first     time.Time
}

func newGenerator(spec ledgerSpec, tokenKey roadmap.TokenKey) *generator {
	g := &generator{
		spec: spec, tokenKey: tokenKey, rng: rand.New(rand.NewPCG(spec.Seed, 0x726f61646d6170)), now: genStart,
		gap:       spec.Span.Seconds() / float64(max(spec.Events-1, 1)),
		byProduct: make([][]int, spec.Products), initiatives: make([][]int, spec.Products),
		sizes: make([][3]int, spec.Products), schedule: map[uint64]string{}, byType: map[string]int{},
		state:     projections.NewState(),
		proposeBy: uint64(spec.Events) * 6 / 10, period: -1,
	}
	for i := range g.recent {
		g.recent[i] = -1
	}
	n := uint64(spec.Events)
	objectives := genSetup + uint64(spec.Products*spec.ObjectivesPerProduct) // the last of them
	for k := range uint64(spec.Reviews) {
		at := objectives + (2*k+1)*(n-objectives)/uint64(2*spec.Reviews)
		closeAt := at + 1 + uint64(g.rng.IntN(20))
		if closeAt <= n {
			g.schedule[at] = "review.open"
			g.schedule[closeAt] = "review.close"
		}
	}
	// About one objective in six is retired in the second half.
	for range spec.Products * spec.ObjectivesPerProduct / 6 {
		at := n/2 + g.rng.Uint64N(n*4/10)
		if _, taken := g.schedule[at]; !taken {
			g.schedule[at] = "retire"
		}
	}
	g.scheduled = len(g.schedule)
	for range 4096 {
		g.scores = append(g.scores, g.newScore())
	}
	return g
}

func (g *generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// uuid7 returns a version 7 UUID for the generator's clock, its random bits
// from the seed, so ids sort by time as the ledger's do.
func (g *generator) uuid7() string {
	var b [16]byte
	ms := uint64(g.now.UnixMilli())
	binary.BigEndian.PutUint64(b[8:], g.rng.Uint64())
	binary.BigEndian.PutUint64(b[0:], ms<<16|uint64(g.rng.Uint32()&0xfff))
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func (g *generator) actor(product int) string {
	if g.rng.IntN(4) == 0 { // anyone
		return g.pick(people) + "@example.com"
	}
	// mostly the product's two managers
	return people[(2*product+g.rng.IntN(2))%len(people)] + "@example.com"
}

func (g *generator) newScore() roadmap.Score {
	f := func(v float64) *float64 { return &v }
	var s roadmap.Score
	switch r := g.rng.IntN(10); {
	case r < 5:
		s = roadmap.Score{Framework: roadmap.FrameworkRICE, Reach: f(float64(100 * (1 + g.rng.IntN(200)))),
			Impact: f([]float64{0.25, 0.5, 1, 2, 3}[g.rng.IntN(5)]), Confidence: f([]float64{0.5, 0.8, 1}[g.rng.IntN(3)]),
			Effort: f(float64(1+g.rng.IntN(24)) / 2)}
	case r < 7:
		s = roadmap.Score{Framework: roadmap.FrameworkWSJF, BusinessValue: f(float64(1 + g.rng.IntN(20))),
			TimeCriticality: f(float64(1 + g.rng.IntN(20))), RiskReduction: f(float64(1 + g.rng.IntN(20))), JobSize: f(float64(1 + g.rng.IntN(20)))}
	case r < 9:
		s = roadmap.Score{Framework: roadmap.FrameworkValueEffort, CustomerValue: f(float64(1 + g.rng.IntN(5))),
			BusinessValue: f(float64(1 + g.rng.IntN(5))), Risk: f(float64(1 + g.rng.IntN(5))), Effort: f(float64(1 + g.rng.IntN(5)))}
	default:
		s = roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Category: g.pick([]string{"must", "should", "could", "wont"})}
	}
	return s
}

func (g *generator) score() *roadmap.Score {
	s := g.scores[g.rng.IntN(len(g.scores))]
	return &s
}

func (g *generator) rationale() string {
	return g.pick(openings) + " " + g.pick(causes) + "." + g.pick(closings)
}

func (g *generator) evidence() []string {
	var out []string
	for n := []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 2}[g.rng.IntN(10)]; n > 0; n-- {
		out = append(out, fmt.Sprintf(g.pick(evidences), 1000+g.rng.IntN(90000)))
	}
	return out
}

// linkable returns 0 to 2 active objectives of a product.
func (g *generator) linkable(product int) []string {
	var active []string
	for _, i := range g.byProduct[product] {
		if o, _ := g.state.Objective(g.objectives[i].id); o.Status == roadmap.StatusActive {
			active = append(active, o.ID)
		}
	}
	n := min([]int{0, 0, 1, 1, 1, 1, 1, 2}[g.rng.IntN(8)], len(active))
	out := make([]string, 0, n)
	for _, i := range g.rng.Perm(len(active))[:n] {
		out = append(out, active[i])
	}
	return out
}

// next returns the message of the event at seq.
func (g *generator) next(seq uint64) (*nats.Msg, error) {
	m, err := g.event(seq)
	if err != nil {
		return nil, fmt.Errorf("ledger: event %d: %w", seq, err)
	}
	return m, nil
}

// event decides the event at seq and returns its message.
func (g *generator) event(seq uint64) (*nats.Msg, error) {
	if seq > 1 {
		g.now = g.now.Add(time.Duration(g.rng.ExpFloat64() * g.gap * float64(time.Second)))
	}
	g.now = g.now.Truncate(time.Microsecond)
	if seq == 1 {
		g.first = g.now
	}
	if seq <= genSetup {
		return g.bootstrapToken(seq)
	}
	objectives := genSetup + uint64(len(g.byProduct)*g.spec.ObjectivesPerProduct)
	if seq <= objectives {
		return g.defineObjective(seq)
	}
	if what, ok := g.schedule[seq]; ok {
		g.scheduled--
		switch what {
		case "review.open":
			if g.open == "" {
				return g.openReview(seq)
			}
		case "review.close":
			if g.open != "" {
				return g.closeReview(seq)
			}
		case "retire":
			if m, ok, err := g.retireObjective(seq); ok || err != nil {
				return m, err
			}
		}
	}
	free := max(int64(g.spec.Events)-int64(seq)+1-int64(g.scheduled), 0)
	left := g.spec.Items - len(g.items)
	switch {
	case left > 0 && (seq >= g.proposeBy || g.rng.Float64()*float64(g.proposeBy-seq) < float64(left) ||
		len(g.onRoadmap)+len(g.pending) == 0):
		return g.proposeItem(seq)
	case len(g.pending) > 0 && (free <= int64(len(g.pending)) || len(g.onRoadmap) == 0 || g.rng.IntN(2) == 0):
		i := g.pending[0]
		g.pending = g.pending[1:]
		return g.prioritise(seq, i)
	case len(g.removed) > 0 && (len(g.onRoadmap) == 0 ||
		// As often as items are removed once a tenth of them are off the
		// roadmap, so the roadmap keeps its size.
		g.rng.Float64()*float64(g.spec.Items) < g.spec.Removals*10*float64(len(g.removed))):
		k := g.rng.IntN(len(g.removed))
		i := g.removed[k]
		g.removed = slices.Delete(g.removed, k, k+1)
		return g.prioritise(seq, i)
	case len(g.onRoadmap) == 0:
		// Nothing on the roadmap and nothing waiting: prioritise one of the
		// items that were only proposed.
		for _, k := range g.rng.Perm(len(g.items)) {
			if g.item(int32(k)).Status == roadmap.StatusProposed {
				return g.prioritise(seq, int32(k))
			}
		}
		return nil, errors.New("nothing to decide")
	}
	i := g.onRoadmap[g.rng.IntN(len(g.onRoadmap))]
	if r := g.recent[g.rng.IntN(len(g.recent))]; r >= 0 && g.rng.IntN(2) == 0 && g.item(r).Status == roadmap.StatusOnRoadmap {
		i = r // a hot item: decisions on one item come in bursts
	}
	if g.rng.Float64() < g.spec.Removals {
		return g.remove(seq, i)
	}
	return g.reprioritise(seq, i)
}

// seal seals event, decided by actor, onto its aggregate's chain as the
// event at seq, applies it to the state, and returns the message
// eventlog.Append would publish for it. With mayKey, a share of them
// (spec.Keyed) came with an Idempotency-Key.
func (g *generator) seal(seq uint64, aggType, aggID, actor string, event roadmap.Event, mayKey bool) (*nats.Msg, error) {
	env, err := eventlog.NewEnvelope(event, eventlog.Meta{ID: g.uuid7(), AggregateType: aggType, AggregateID: aggID, Time: g.now, Actor: actor})
	if err != nil {
		return nil, err
	}
	prev, prevHash := g.chain(aggType, aggID)
	opts := eventlog.AppendOptions{ExpectedSequence: prev}
	if mayKey && g.rng.Float64() < g.spec.Keyed {
		// The request hash of a request the API would have taken: the
		// actor, the method and the path, then the body, here the
		// event's data.
		h := sha256.Sum256(append([]byte(actor+" POST "+eventlog.Subject(aggType, aggID)+" "), env.Data...))
		opts.IdempotencyKey, opts.RequestHash = actor+" "+g.uuid7(), hex.EncodeToString(h[:])
		g.keyed++
	}
	m, err := eventlog.NewMessage(env, prevHash, eventlog.DefaultStream, opts)
	if err != nil {
		return nil, err
	}
	body := m.Data
	g.state.Apply(projections.Event{Record: eventlog.Record{Sequence: seq, Envelope: *env}, Data: event})
	g.byType[env.Type]++
	g.bodyBytes += int64(len(body))
	return m, nil
}

// chain returns the version of an aggregate (the sequence of its last
// event, 0 for a new one) and the hash of its last event: what its next
// event follows.
func (g *generator) chain(aggType, id string) (uint64, string) {
	switch aggType {
	case "objective":
		o, _ := g.state.ObjectiveView(id)
		return o.Version, o.Head
	case "item":
		it, _ := g.state.ItemView(id)
		return it.Version, it.Head
	case "review":
		r, _ := g.state.ReviewView(id)
		return r.Version, r.Head
	}
	t, _ := g.state.TokenView(id)
	return t.Version, t.Head
}

// item returns item i as it stands.
func (g *generator) item(i int32) roadmap.Item {
	it, _ := g.state.Item(g.items[i].id)
	return it
}

// bootstrapToken is the first event: the admin token named bootstrap, with
// benchToken as its secret, recorded as the ledger records it at its first
// start.
func (g *generator) bootstrapToken(seq uint64) (*nats.Msg, error) {
	id := g.uuid7()
	e, err := roadmap.DecideCreateToken(roadmap.CreateToken{
		Name: "bootstrap", Role: roadmap.RoleAdmin, SecretHMAC: g.tokenKey.Hash(benchToken), Bootstrap: true,
	}, g.now)
	if err != nil {
		return nil, err
	}
	return g.seal(seq, "token", id, "bootstrap", e, false)
}

func (g *generator) defineObjective(seq uint64) (*nats.Msg, error) {
	p := int(seq-1-genSetup) % len(g.byProduct)
	id := g.uuid7()
	thing := g.pick(things)
	e, err := roadmap.DecideDefineObjective(roadmap.DefineObjective{
		Title: "Grow adoption of " + thing, Description: "Make " + thing + " the reason teams choose us. " + g.pick(problems),
		KPI: "weekly active teams using " + thing, Target: fmt.Sprintf("+%d%% by Q%d", 10+5*g.rng.IntN(8), 1+g.rng.IntN(4)),
		Product: productNames[p],
	})
	if err != nil {
		return nil, err
	}
	g.byProduct[p] = append(g.byProduct[p], len(g.objectives))
	g.objectives = append(g.objectives, genObjective{id: id, product: p})
	return g.seal(seq, "objective", id, g.actor(p), e, true)
}

func (g *generator) retireObjective(seq uint64) (*nats.Msg, bool, error) {
	var active []genObjective
	for _, o := range g.objectives {
		if v, _ := g.state.Objective(o.id); v.Status == roadmap.StatusActive {
			active = append(active, o)
		}
	}
	if len(active) <= len(g.byProduct) {
		return nil, false, nil // keep about one per product
	}
	o := active[g.rng.IntN(len(active))]
	v, _ := g.state.Objective(o.id)
	e, err := roadmap.DecideRetireObjective(v,
		roadmap.RetireObjective{Rationale: "Target met; the KPI is tracked in the quarterly business review from now on."})
	if err != nil {
		return nil, true, err
	}
	m, err := g.seal(seq, "objective", o.id, g.actor(o.product), e, true)
	return m, true, err
}

func (g *generator) proposeItem(seq uint64) (*nats.Msg, error) {
	p := g.rng.IntN(len(g.byProduct))
	it := genItem{id: g.uuid7(), product: p, prioritise: g.rng.Float64() >= g.spec.Unprioritised, onIndex: -1}
	kind := roadmap.KindIdea
	if g.rng.IntN(10) < 3 {
		kind = roadmap.KindInitiative
	}
	cmd := roadmap.ProposeItem{
		Title:       g.pick(verbs) + " " + g.pick(things) + " for " + g.pick(audiences),
		Description: g.pick(problems), Kind: kind, Product: productNames[p], ObjectiveIDs: g.linkable(p),
	}
	if kind == roadmap.KindIdea && len(g.initiatives[p]) > 0 && g.rng.IntN(10) < 7 {
		cmd.ParentID = g.items[g.initiatives[p][g.rng.IntN(len(g.initiatives[p]))]].id
	}
	e, err := roadmap.DecideProposeItem(cmd, g.state)
	if err != nil {
		return nil, err
	}
	idx := int32(len(g.items))
	g.items = append(g.items, it)
	if kind == roadmap.KindInitiative {
		g.initiatives[p] = append(g.initiatives[p], int(idx))
	}
	if it.prioritise {
		g.pending = append(g.pending, idx)
	}
	return g.seal(seq, "item", it.id, g.actor(p), e, true)
}

// decided records the event e, decided by actor on item i as it stood
// before, and keeps the generator's lists in step: the horizons' sizes, the
// items on the roadmap and those taken off it.
func (g *generator) decided(seq uint64, i int32, before roadmap.Item, e roadmap.Event, actor string) (*nats.Msg, error) {
	it := &g.items[i]
	m, err := g.seal(seq, "item", it.id, actor, e, true)
	if err != nil {
		return nil, err
	}
	after := g.item(i)
	if before.Status == roadmap.StatusOnRoadmap {
		g.sizes[it.product][slices.Index(roadmap.Horizons, before.Horizon)]--
	}
	switch {
	case after.Status == roadmap.StatusOnRoadmap:
		g.sizes[it.product][slices.Index(roadmap.Horizons, after.Horizon)]++
		if it.onIndex < 0 {
			it.onIndex = len(g.onRoadmap)
			g.onRoadmap = append(g.onRoadmap, i)
		}
	case it.onIndex >= 0:
		last := g.onRoadmap[len(g.onRoadmap)-1]
		g.onRoadmap[it.onIndex] = last
		g.items[last].onIndex = it.onIndex
		g.onRoadmap = g.onRoadmap[:len(g.onRoadmap)-1]
		it.onIndex = -1
		g.removed = append(g.removed, i)
	}
	return m, nil
}

// touched remembers item i as recently decided on.
func (g *generator) touched(i int32) {
	g.recent[g.rng.IntN(len(g.recent))] = i
}

func (g *generator) prioritise(seq uint64, i int32) (*nats.Msg, error) {
	p := g.items[i].product
	h := []int{0, 1, 1, 2, 2, 2}[g.rng.IntN(6)]
	cmd := roadmap.Prioritise{Horizon: roadmap.Horizons[h]}
	if g.rng.IntN(10) < 6 {
		r := 1 + g.rng.IntN(g.sizes[p][h]+1)
		cmd.Rank = &r
	}
	// The objectives stay those of the item: left out, the domain keeps
	// them, even one retired since.
	cmd.Score, cmd.Rationale, cmd.Evidence = g.score(), g.rationale(), g.evidence()
	it := g.item(i)
	e, err := roadmap.DecidePrioritise(it, cmd, g.state)
	if err != nil {
		return nil, err
	}
	g.touched(i)
	return g.decided(seq, i, it, e, g.actor(p))
}

func (g *generator) reprioritise(seq uint64, i int32) (*nats.Msg, error) {
	p, it := g.items[i].product, g.item(i)
	rank, size := g.state.Position(it.ID)
	cmd := roadmap.Reprioritise{Rationale: g.rationale(), Evidence: g.evidence()}
	switch r := g.rng.IntN(20); {
	case r < 9 && size > 1: // another rank in the same horizon, most often towards the top
		to := 1 + g.rng.IntN(size-1)
		if g.rng.IntN(2) == 0 {
			to = 1 + g.rng.IntN(max(1, min(size-1, 10)))
		}
		if to >= rank {
			to++
		}
		cmd.Rank = &to
	case r < 15: // another horizon
		h := (slices.Index(roadmap.Horizons, it.Horizon) + 1 + g.rng.IntN(2)) % 3
		cmd.Horizon = roadmap.Horizons[h]
		if g.rng.IntN(2) == 0 {
			to := 1 + g.rng.IntN(g.sizes[p][h]+1)
			cmd.Rank = &to
		}
	default: // re-scored in place
		cmd.Rank = &rank
	}
	if g.rng.IntN(5) == 0 {
		cmd.Score = g.score()
	}
	if g.rng.IntN(10) == 0 {
		ids := g.linkable(p)
		cmd.ObjectiveIDs = &ids
	}
	if cmd.Horizon == "" && *cmd.Rank == rank && (cmd.ObjectiveIDs == nil || sameIDs(*cmd.ObjectiveIDs, it.ObjectiveIDs)) {
		// The domain refuses a reprioritisation that changes nothing.
		for cmd.Score == nil || cmd.Score.Equal(it.Score) {
			cmd.Score = g.score()
		}
	}
	e, err := roadmap.DecideReprioritise(it, cmd, g.state)
	if err != nil {
		return nil, err
	}
	g.touched(i)
	return g.decided(seq, i, it, e, g.actor(p))
}

// sameIDs reports whether a and b hold the same ids in any order, as the
// domain compares an item's objectives.
func sameIDs(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(id string) bool { return !slices.Contains(b, id) })
}

func (g *generator) remove(seq uint64, i int32) (*nats.Msg, error) {
	it, actor := g.item(i), g.actor(g.items[i].product)
	e, err := roadmap.DecideRemove(it, roadmap.Remove{Rationale: "Removed: " + g.pick(causes) + ".", Evidence: g.evidence()})
	if err != nil {
		return nil, err
	}
	return g.decided(seq, i, it, e, actor)
}

func (g *generator) openReview(seq uint64) (*nats.Msg, error) {
	months := (g.now.Year()-genStart.Year())*12 + int(g.now.Month()-genStart.Month())
	g.period = max(months, g.period+1)
	period := genStart.AddDate(0, g.period, 0).Format("2006-01")
	id := g.uuid7()
	e, err := roadmap.DecideOpenReview(roadmap.OpenReview{Period: period}, g.state, g.now)
	if err != nil {
		return nil, err
	}
	g.reviews++
	g.open = id
	return g.seal(seq, "review", id, g.actor(0), e, true)
}

// closeReview closes the open review, freezing it at the last event before
// the close with the chain heads the projections compute there.
func (g *generator) closeReview(seq uint64) (*nats.Msg, error) {
	id := g.open
	g.open = ""
	r, _ := g.state.ReviewView(id)
	e, err := roadmap.DecideCloseReview(r.Review, roadmap.CloseReview{Notes: g.pick(notes)}, seq-1, g.state.Heads())
	if err != nil {
		return nil, err
	}
	return g.seal(seq, "review", id, g.actor(0), e, true)
}

// info sums up what was generated.
func (g *generator) info() LedgerInfo {
	n := 0
	for _, byHorizon := range g.sizes {
		for _, size := range byHorizon {
			n += size
		}
	}
	return LedgerInfo{
		Events: g.spec.Events, Items: len(g.items), Products: len(g.byProduct), Objectives: len(g.objectives),
		Reviews: g.reviews, OnRoadmap: n, ByType: g.byType, Keyed: g.keyed,
		BodyBytes: round(float64(g.bodyBytes)/float64(max(g.spec.Events, 1)), 1), First: g.first, Last: g.now,
	}
}

// String describes the ledger in one line.
func (l LedgerInfo) String() string {
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(l.ByType)) {
		parts = append(parts, fmt.Sprintf("%s %d", t, l.ByType[t]))
	}
	return fmt.Sprintf("%d events (%s); %d items over %d products, %d on the roadmap; %d objectives; %d reviews; %d keyed; %.0f B per event body, %.0f B stored per message; %s to %s",
		l.Events, strings.Join(parts, ", "), l.Items, l.Products, l.OnRoadmap, l.Objectives, l.Reviews, l.Keyed,
		l.BodyBytes, l.StoredBytes, l.First.Format(time.DateOnly), l.Last.Format(time.DateOnly))
}

// writeLines describes the ledger in a report's heading: what it holds,
// then how it was made.
func (l LedgerInfo) writeLines(w io.Writer) {
	fmt.Fprintf(w, "ledger:  %s\n", l)
	if l.Cached {
		fmt.Fprintln(w, "         reused from -ledger-dir")
		return
	}
	fmt.Fprintf(w, "         generated in %.1fs (%.0f events/s), asynchronous publishes without fsync\n", l.GenerateSeconds, l.GenerateRate)
}
