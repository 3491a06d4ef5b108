package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// verifyBenchConfig is what the verify benchmark's flags say.
type verifyBenchConfig struct {
	Ledger     ledgerSpec
	LedgerDir  string
	Rounds     int
	Batch      int
	Timeout    time.Duration
	Target     float64
	JSON       bool
	CPUProfile string
	RawProfile string
	TempDir    string
}

func parseVerifyBench(args []string, stderr io.Writer) (verifyBenchConfig, error) {
	var cfg verifyBenchConfig
	var lf ledgerFlags
	fs := flag.NewFlagSet("bench verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: roadmap bench verify [flags]

Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir, such as the rebuild benchmark's), then measures, one
after the other: (a) raw JetStream: an ordered consumer reading the whole
stream and doing nothing with each message, on the log opened alone, and
(b) the auditor's verify: the ledger served on 127.0.0.1 as the serve command
serves it, a checkpoint of the whole log signed with its key, and the code of
"roadmap verify" checking the whole raw log (GET /v1/events) against it over
HTTP: every event's bytes and hash, every chain, the Merkle root. It prints
both rates, the ratio (b)/(a) and the memory (b) took. With -rounds N it
alternates (a) and (b) N times.

Flags:
`)
		fs.PrintDefaults()
	}
	lf.register(fs, 1_000_000)
	fs.IntVar(&cfg.Rounds, "rounds", 1, "times to alternate (a) and (b)")
	fs.IntVar(&cfg.Batch, "batch", 4096, "messages the raw side's ordered consumer pulls at a time (the ledger's reads pull 4096)")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "hard cap on the whole run, generation included")
	fs.Float64Var(&cfg.Target, "target", 0.50, "ratio (b)/(a) the verifier should reach")
	fs.BoolVar(&cfg.JSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of (b), the verify (server and verifier), of the first round to this file")
	fs.StringVar(&cfg.RawProfile, "raw-cpuprofile", "", "write a CPU profile of (a) of the first round to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Ledger, cfg.LedgerDir = lf.spec(), lf.dir
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("bench verify takes no arguments, got %q", fs.Args())
	case cfg.Rounds < 1 || cfg.Rounds > 100:
		return cfg, fmt.Errorf("-rounds must be 1 to 100, got %d", cfg.Rounds)
	case cfg.Batch < 1:
		return cfg, errors.New("-batch must be positive")
	case cfg.Timeout <= 0:
		return cfg, errors.New("-timeout must be positive")
	}
	return cfg, cfg.Ledger.validate()
}

func runVerifyBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseVerifyBench(args, stderr)
	if err != nil {
		return err
	}
	return report(stdout, cfg.JSON, func() (tableWriter, error) { return measureVerify(ctx, cfg, stderr) })
}

// VerifyReport is the result of the verify benchmark.
type VerifyReport struct {
	Benchmark string     `json:"benchmark"`
	Date      time.Time  `json:"date"`
	Machine   Machine    `json:"machine"`
	Ledger    LedgerInfo `json:"generated_ledger"`
	Rounds    int        `json:"rounds"`
	Batch     int        `json:"raw_batch"`
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

func measureVerify(ctx context.Context, cfg verifyBenchConfig, progress io.Writer) (*VerifyReport, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench verify: the run took longer than -timeout %s", cfg.Timeout))
	defer cancel()
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	rep := &VerifyReport{
		Benchmark: "verify", Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine(), Ledger: led.Info,
		Rounds: cfg.Rounds, Batch: cfg.Batch, Target: cfg.Target,
	}
	// The checkpoints' key lives in a temporary directory, not beside a
	// cached ledger, and the checkpoint is signed without appending to the
	// log: the ledger stays the one generated, for every benchmark that
	// reuses it.
	err = withTempDir(cfg.TempDir, "roadmap-bench-verify-key-*", func(keyDir string) error {
		signer, keyFile, err := benchSigner(keyDir)
		if err != nil {
			return err
		}
		events := led.Info.Events
		var raw, ver readOutcome
		var opens time.Duration
		for i := range cfg.Rounds {
			first := i == 0
			fmt.Fprintf(progress, "bench verify: round %d/%d: (a) raw JetStream: ordered consumer over %d events\n", i+1, cfg.Rounds, events)
			var a readOutcome
			err := instrumented(first, cfg.RawProfile, "", func() (err error) {
				a, err = rawRead(ctx, led.DataDir, events, cfg.Batch)
				return err
			})
			if err != nil {
				return fmt.Errorf("raw JetStream: %w", errors.Join(err, context.Cause(ctx)))
			}
			raw = raw.add(a)

			fmt.Fprintf(progress, "bench verify: round %d/%d: (b) verify: serving the ledger, then checking its %d events over HTTP\n", i+1, cfg.Rounds, events)
			b, open, mem, err := verifyRound(ctx, led.DataDir, keyFile, signer, first, cfg, rep)
			if err != nil {
				return fmt.Errorf("verify: %w", errors.Join(err, context.Cause(ctx)))
			}
			opens += open
			ver = ver.add(b)
			rd := VerifyRound{Raw: round(a.rate(), 0), Verify: round(b.rate(), 0), Memory: mem}
			if rd.Raw > 0 {
				rd.Ratio = round(rd.Verify/rd.Raw, 3)
			}
			rep.PerRound = append(rep.PerRound, rd)
			if mem.PeakRSSGrowth >= rep.Memory.PeakRSSGrowth {
				rep.Memory = mem
			}
			fmt.Fprintf(progress, "bench verify: round %d/%d: (a) %.0f events/s, (b) %.0f events/s, ratio %.3f\n", i+1, cfg.Rounds, rd.Raw, rd.Verify, rd.Ratio)
		}
		rep.OpenSeconds = round(opens.Seconds()/float64(cfg.Rounds), 2)
		rep.Raw = newReadSide("an ordered consumer reading every message and doing nothing with it", raw, cfg.Rounds)
		rep.Verify = newReadSide("roadmap verify's checks of GET /v1/events from the served ledger, server and verifier in one process", ver, cfg.Rounds)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rep.Raw.Rate > 0 {
		rep.Ratio = round(rep.Verify.Rate/rep.Raw.Rate, 3)
	}
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	return rep, nil
}

// benchSigner makes a signing key for the ledger's checkpoints in dir and
// returns its signer and its file.
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
	_ readOutcome, _ time.Duration, _ VerifyMemory, err error) {
	var o readOutcome
	start := time.Now()
	a, err := app.Open(ctx, verifyLedger(dir, keyFile))
	if err != nil {
		return o, 0, VerifyMemory{}, err
	}
	if err := a.Runner.WaitReady(ctx); err != nil {
		a.Close()
		return o, 0, VerifyMemory{}, fmt.Errorf("projections not ready: %w", err)
	}
	opened := time.Since(start)
	cp, err := a.Tree.Checkpoint(a.Origin, time.Now())
	if err == nil && cp.Size != int64(a.Current.Sequence()) {
		err = fmt.Errorf("the tree holds %d events, the projections %d", cp.Size, a.Current.Sequence())
	}
	var note []byte
	if err == nil {
		note, err = signer.Sign(cp)
	}
	var ledger *httpSide
	if err == nil {
		// The log holds no checkpoint: the front answers this one as its
		// latest.
		ledger, err = serveHandler(ledgerFront(a.Handler, note))
	}
	if err != nil {
		a.Close()
		return o, opened, VerifyMemory{}, err
	}
	ledger.app = a
	defer func() { err = errors.Join(err, ledger.close(ctx)) }()
	rep.Checkpoint = cp.Size

	counted := &countingTransport{base: &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConnsPerHost: 1}}
	defer counted.base.CloseIdleConnections()
	remote := &verify.Remote{Server: ledger.base, Token: benchToken, Client: &http.Client{Transport: counted}}

	releaseMemory()
	var mem VerifyMemory
	liveBefore := heapNow()
	mem.RSSBefore = rssNow()
	resetPeakRSS()
	sampler := startHeapSampler(20 * time.Millisecond)
	mem.HeapBefore = sampler.before
	var res verify.Result
	err = instrumented(first, cfg.CPUProfile, "", func() error {
		cpu := processCPU()
		start := time.Now()
		var err error
		res, err = remote.Verify(ctx, verify.Options{VerifierKey: signer.VerifierKey(), KeyKind: "pinned"})
		o.elapsed, o.cpu = time.Since(start), processCPU()-cpu
		return err
	})
	mem.PeakHeapGrowth = sampler.stop()
	runtime.GC()
	mem.HeapRetained = int64(heapNow()) - int64(liveBefore)
	if peak, _ := procMemory(); peak > 0 {
		mem.PeakRSS = peak
		if peak > mem.RSSBefore {
			mem.PeakRSSGrowth = peak - mem.RSSBefore
		}
	}
	if err != nil {
		return o, opened, mem, err
	}
	if res.Events != cp.Size || res.Checkpoint.Size != cp.Size {
		return o, opened, mem, fmt.Errorf("verified %d events against a checkpoint of size %d, want %d", res.Events, res.Checkpoint.Size, cp.Size)
	}
	o.events = int(res.Events)
	rep.LogBytes = counted.bytes()
	return o, opened, mem, nil
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
	fmt.Fprintf(w, "roadmap bench verify, %s\n", r.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "ledger:  %s\n", r.Ledger)
	if r.Ledger.Cached {
		fmt.Fprintln(w, "         reused from -ledger-dir")
	} else {
		fmt.Fprintf(w, "         generated in %.1fs (%.0f events/s), asynchronous publishes without fsync\n", r.Ledger.GenerateSeconds, r.Ledger.GenerateRate)
	}
	fmt.Fprintf(w, "         served on 127.0.0.1, open to ready in %.1fs (not measured); checkpoint of size %d; raw log %.0f MiB over HTTP\n",
		r.OpenSeconds, r.Checkpoint, float64(r.LogBytes)/(1<<20))
	fmt.Fprintf(w, "rounds:  %d; raw side pulls %d messages at a time\n\n", r.Rounds, r.Batch)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\tevents\tseconds\tevents/s\tCPU µs/event\tcores\t")
	for _, s := range []struct {
		name string
		side ReadSide
	}{{"(a) raw JetStream read", r.Raw}, {"(b) verify over HTTP", r.Verify}} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t\n", s.name, s.side.Events, s.side.Seconds, s.side.Rate, s.side.CPUPerEvent, s.side.Cores)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "((b)'s CPU is the server's and the verifier's, in one process)")
	if len(r.PerRound) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "round\t(a) events/s\t(b) events/s\t(b)/(a)\t(b) peak RSS growth MiB\t")
		for i, rd := range r.PerRound {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.3f\t%.0f\t\n", i+1, rd.Raw, rd.Verify, rd.Ratio, mib(rd.Memory.PeakRSSGrowth))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	m := r.Memory
	fmt.Fprintf(w, "\nmemory of (b): peak RSS %.0f MiB, %.0f MiB above the served ledger's %.0f MiB before it; Go heap at most %.0f MiB above its %.0f MiB before it (garbage not yet collected); live heap after it %+.1f MiB\n",
		mib(m.PeakRSS), mib(m.PeakRSSGrowth), mib(m.RSSBefore), mib(m.PeakHeapGrowth), mib(m.HeapBefore), float64(m.HeapRetained)/(1<<20))
	verdict := "meets"
	if !r.MeetsTarget {
		verdict = "misses"
	}
	_, err := fmt.Fprintf(w, "ratio (b)/(a): %.3f (%.0f%%), which %s the target of %.0f%%\n", r.Ratio, r.Ratio*100, verdict, r.Target*100)
	return err
}
