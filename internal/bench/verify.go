package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// verifyBenchConfig is what the verify benchmark's flags say.
type verifyBenchConfig struct {
	commonFlags
	ledgerConfig
	Target float64
}

func parseVerifyBench(args []string, stderr io.Writer) (verifyBenchConfig, error) {
	var cfg verifyBenchConfig
	fs := newFlagSet("verify", `Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir, such as the rebuild benchmark's), then measures, one
after the other: (a) raw JetStream: an ordered consumer reading the whole
stream and doing nothing with each message, on the log opened alone, and
(b) the auditor's verify: the ledger served on 127.0.0.1 as the serve command
serves it, a checkpoint of the whole log signed with its key, and the code of
"roadmap verify" checking the whole raw log (GET /v1/events) against it over
HTTP: every event's bytes and hash, every chain, the Merkle root. It prints
both rates, the ratio (b)/(a) and the memory (b) took. With -rounds N it
alternates (a) and (b) N times.
`, stderr)
	cfg.commonFlags.register(fs, 10*time.Minute, "(b), the verify (server and verifier), of the first round", "(a) of the first round")
	cfg.ledgerConfig.register(fs, 1_000_000)
	fs.Float64Var(&cfg.Target, "target", 0.50, "ratio (b)/(a) the verifier should reach")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.ledgerConfig.resolve())
}

// VerifyReport is the result of the verify benchmark.
type VerifyReport struct {
	WholeRead
	// OpenSeconds is the ledger's mean time from open to ready, before (b)
	// and outside its measure.
	OpenSeconds float64 `json:"ledger_open_seconds"`
	// Checkpoint is the size of the checkpoint (b) verified against.
	Checkpoint int64    `json:"checkpoint_size"`
	Raw        ReadSide `json:"raw_jetstream"`
	Verify     ReadSide `json:"verify"`
	// LogBytes is the size of the raw log (b) streamed, per round.
	LogBytes int64 `json:"raw_log_bytes"`
	// Ratio is Verify.Rate / Raw.Rate.
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target"`
	MeetsTarget bool    `json:"meets_target"`
	// Memory is what (b) took, in the round where it took the most.
	Memory   VerifyMemory  `json:"verify_memory"`
	PerRound []VerifyRound `json:"per_round"`
}

// VerifyMemory is the memory the verify took on top of the served ledger.
type VerifyMemory struct {
	// RSSBefore is the process's resident set with the ledger served, right
	// before (b); PeakRSS the peak during (b) (0 where the platform does not
	// tell), and PeakRSSGrowth the difference.
	RSSBefore     uint64 `json:"rss_before_bytes"`
	PeakRSS       uint64 `json:"peak_rss_bytes"`
	PeakRSSGrowth uint64 `json:"peak_rss_growth_bytes"`
	// HeapBefore is the Go heap's live objects right before (b), and
	// PeakHeapGrowth the most they grew above it during (b), sampled every
	// 20 ms. Both sides of the HTTP stream, the server's and the verifier's,
	// are in the process.
	HeapBefore     uint64 `json:"heap_before_bytes"`
	PeakHeapGrowth uint64 `json:"peak_heap_growth_bytes"`
	// HeapRetained is how much the live heap grew from before (b) to right
	// after it, both read after a forced collection: what the verify kept.
	// The peak above is mostly garbage the collector had not yet reclaimed,
	// which it lets grow as large as the live heap (GOGC).
	HeapRetained int64 `json:"heap_retained_bytes"`
}

// VerifyRound is one alternation of the two sides.
type VerifyRound struct {
	Raw    float64      `json:"raw_per_second"`
	Verify float64      `json:"verify_per_second"`
	Ratio  float64      `json:"ratio"`
	Memory VerifyMemory `json:"verify_memory"`
}

// verified is what (b) of a verify round measured beside the read itself.
type verified struct {
	open time.Duration // from open to ready, outside the measure
	mem  VerifyMemory
}

func measureVerify(ctx context.Context, cfg verifyBenchConfig, progress io.Writer) (*VerifyReport, error) {
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	rep := &VerifyReport{WholeRead: newWholeRead("verify", led, cfg.Rounds, cfg.Batch), Target: cfg.Target}
	// The checkpoints' key is the generated ledger's own (the one its
	// bootstrap token's secret is keyed with), and the checkpoint is signed
	// without appending to the log: the ledger stays the one generated, for
	// every benchmark that reuses it.
	signer, keyFile, err := benchSigner(led.DataDir)
	if err != nil {
		return nil, err
	}
	st := newSteps(ctx, "verify", cfg.Rounds, progress)
	res, err := readRounds(st, led, cfg.Batch,
		side{name: "(a) raw JetStream", profile: cfg.RawProfile}, side{name: "(b) verify"},
		fmt.Sprintf("serving the ledger, then checking its %d events over HTTP", led.Info.Events),
		func(r int) (readOutcome, verified, error) {
			return verifyRound(ctx, led.DataDir, keyFile, signer, r == 0, cfg, rep)
		})
	if err != nil {
		return nil, err
	}
	var opens time.Duration
	for _, rd := range res.rounds {
		raw, ver := round(rd.a.rate(), 0), round(rd.b.rate(), 0)
		rep.PerRound = append(rep.PerRound, VerifyRound{Raw: raw, Verify: ver, Ratio: ratio(ver, raw), Memory: rd.m.mem})
		if rd.m.mem.PeakRSSGrowth >= rep.Memory.PeakRSSGrowth {
			rep.Memory = rd.m.mem
		}
		opens += rd.m.open
	}
	rep.OpenSeconds = round(opens.Seconds()/float64(cfg.Rounds), 2)
	rep.Raw = newReadSide(rawReadWhat, res.raw, cfg.Rounds)
	rep.Verify = newReadSide("roadmap verify's checks of GET /v1/events from the served ledger, server and verifier in one process", res.ledger, cfg.Rounds)
	rep.Ratio = ratio(rep.Verify.Rate, rep.Raw.Rate)
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	return rep, nil
}

// benchSigner returns the signer of the signing key in dir, made there if
// there is none yet, and its file.
func benchSigner(dir string) (*proof.Signer, string, error) {
	skey, _, err := proof.LoadOrCreateKey(dir, app.Origin(eventlog.DefaultStream))
	if err != nil {
		return nil, "", err
	}
	s, err := proof.NewSigner(skey)
	if err != nil {
		return nil, "", err
	}
	return s, filepath.Join(dir, proof.KeyFile), nil
}

// verifyRound serves the ledger in dir as the serve command does, signs a
// checkpoint of the whole log, and measures verify.Remote.Verify, the code
// of roadmap verify, checking the ledger over HTTP against it with the
// pinned key.
func verifyRound(ctx context.Context, dir, keyFile string, signer *proof.Signer, first bool, cfg verifyBenchConfig, rep *VerifyReport) (
	o readOutcome, v verified, err error) {
	start := time.Now()
	var cp proof.Checkpoint
	ledger, err := serveLedger(ctx, verifyLedger(dir, keyFile), func(a *app.App) (http.Handler, error) {
		var err error
		cp, err = a.Tree.Checkpoint(a.Origin, time.Now())
		if err == nil && cp.Size != int64(a.Current.Sequence()) {
			err = fmt.Errorf("the tree holds %d events, the projections %d", cp.Size, a.Current.Sequence())
		}
		if err != nil {
			return nil, err
		}
		// The log holds no checkpoint: the front answers this one as its
		// latest.
		note, err := signer.Sign(cp)
		return ledgerFront(a.Handler, note), err
	})
	if err != nil {
		return o, v, err
	}
	defer func() { err = errors.Join(err, ledger.close(ctx)) }()
	v.open = time.Since(start)
	rep.Checkpoint = cp.Size

	counted := &countingTransport{base: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 1}}
	defer counted.base.CloseIdleConnections()
	remote := &verify.Remote{Server: ledger.base, Token: benchToken, Client: &http.Client{Transport: counted}}

	releaseMemory()
	liveBefore := heapNow()
	v.mem.RSSBefore = rssNow()
	resetPeakRSS()
	sampler := startHeapSampler(20 * time.Millisecond)
	v.mem.HeapBefore = sampler.before
	var res verify.Result
	err = instrumented(first, cfg.CPUProfile, "", func() error {
		cpu := processCPU()
		start := time.Now()
		var err error
		res, err = remote.Verify(ctx, verify.Options{VerifierKey: signer.VerifierKey(), KeyKind: "pinned"})
		o.elapsed, o.cpu = time.Since(start), processCPU()-cpu
		return err
	})
	v.mem.PeakHeapGrowth = sampler.stop()
	runtime.GC()
	v.mem.HeapRetained = int64(heapNow()) - int64(liveBefore)
	if peak, _ := procMemory(); peak > 0 {
		v.mem.PeakRSS = peak
		if peak > v.mem.RSSBefore {
			v.mem.PeakRSSGrowth = peak - v.mem.RSSBefore
		}
	}
	if err != nil {
		return o, v, err
	}
	if res.Events != cp.Size || res.Checkpoint.Size != cp.Size {
		return o, v, fmt.Errorf("verified %d events against a checkpoint of size %d, want %d", res.Events, res.Checkpoint.Size, cp.Size)
	}
	o.events = int(res.Events)
	rep.LogBytes = counted.bytes()
	return o, v, nil
}

// verifyLedger is the configuration the benchmark serves the ledger with.
func verifyLedger(dir, keyFile string) app.Config {
	return app.Config{DataDir: dir, SigningKeyFile: keyFile, BootstrapToken: benchToken}
}

// ledgerFront stands before the served ledger h: it answers GET
// /v1/checkpoints/latest with the signed note, as the ledger answers its
// latest checkpoint, to the benchmark's token only (401 otherwise, as the
// ledger would), and passes every other request, the ledger's own token
// checks included, to h.
func ledgerFront(h http.Handler, note []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/checkpoints/latest" {
			if r.Header.Get("Authorization") != "Bearer "+benchToken {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"type":"urn:roadmap-ledger:problem:unauthorized","title":"Unauthorized","status":401,"detail":"the benchmark's token is missing"}`)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, "{\"note\":%q}", note)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// countingTransport counts the bytes of the answers' bodies.
type countingTransport struct {
	base *http.Transport
	mu   sync.Mutex
	n    int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(r)
	if err == nil {
		res.Body = &countingBody{ReadCloser: res.Body, t: t}
	}
	return res, err
}

func (t *countingTransport) bytes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

type countingBody struct {
	io.ReadCloser
	t *countingTransport
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countingBody) Close() error {
	b.t.mu.Lock()
	b.t.n += b.n
	b.t.mu.Unlock()
	b.n = 0
	return b.ReadCloser.Close()
}

// rssNow returns the process's resident set, 0 where it cannot tell.
func rssNow() uint64 {
	_, rss := procMemory()
	return rss
}

// heapSampler samples the Go heap's live objects and keeps the highest.
type heapSampler struct {
	before uint64
	done   chan struct{}
	peak   chan uint64
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{before: heapNow(), done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		peak := h.before
		for {
			select {
			case <-h.done:
				h.peak <- max(peak, heapNow())
				return
			case <-t.C:
				peak = max(peak, heapNow())
			}
		}
	}()
	return h
}

// stop ends the sampling and returns the most the heap grew above where it
// started.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	peak := <-h.peak
	if peak < h.before {
		return 0
	}
	return peak - h.before
}

// WriteTable prints the report for people.
func (r *VerifyReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintf(w, "(b):     the ledger served on 127.0.0.1, open to ready in %.1fs (not measured); checkpoint of size %d; raw log %.0f MiB over HTTP\n\n",
		r.OpenSeconds, r.Checkpoint, float64(r.LogBytes)/(1<<20))
	err := writeReadTables(w, r.Raw, r.Verify, "(b) verify over HTTP", false,
		"((b)'s CPU is the server's and the verifier's, in one process)",
		table{"round\t(a) events/s\t(b) events/s\t(b)/(a)\t(b) peak RSS growth MiB\t", roundRows(r.PerRound)})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nmemory of (b): %s\n", r.Memory)
	return errors.Join(err, writeRatio(w, r.Ratio, r.Target, r.MeetsTarget))
}

// String describes what the verify took, for people.
func (m VerifyMemory) String() string {
	return fmt.Sprintf("peak RSS %.0f MiB, %.0f MiB above the served ledger's %.0f MiB before it; Go heap at most %.0f MiB above its %.0f MiB before it (garbage not yet collected); live heap after it %+.1f MiB",
		mib(m.PeakRSS), mib(m.PeakRSSGrowth), mib(m.RSSBefore), mib(m.PeakHeapGrowth), mib(m.HeapBefore), float64(m.HeapRetained)/(1<<20))
}

func (rd VerifyRound) row(i int) string {
	return fmt.Sprintf("%d\t%.0f\t%.0f\t%.3f\t%.0f\t", i+1, rd.Raw, rd.Verify, rd.Ratio, mib(rd.Memory.PeakRSSGrowth))
}
