package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/cliflag"
)

// feedConfig is what the feed benchmark's flags say.
type feedConfig struct {
	commonFlags
	loadFlags
	Subscribers int
	Products    int
	Target      float64
}

func parseFeed(args []string, stderr io.Writer) (feedConfig, error) {
	var cfg feedConfig
	fs := newFlagSet("feed", `Measures, one after the other on this machine, (a) decisions through the
ledger's HTTP API with nobody following the change feed, and (b) the same
with -subscribers clients following GET /v1/events/stream from the start,
and prints both write rates and the ratio (b)/(a): what the fan-out costs the
writers. For (b) it also reports how fast the events reached every
subscriber, how far behind the slowest was (from an event's time to its
arrival), and whether every subscriber got every event.
`, stderr)
	cfg.commonFlags.register(fs, 5*time.Minute, "the side with subscribers of the first round", "the side without")
	cfg.loadFlags.register(fs, "concurrent writing clients on each side", 16, time.Second, 5*time.Second, "each round")
	fs.IntVar(&cfg.Subscribers, "subscribers", 100, "clients following the event stream on side (b)")
	fs.IntVar(&cfg.Products, "products", 16, "products the items are spread over, round robin by client")
	fs.Float64Var(&cfg.Target, "target", 0.80, "ratio (b)/(a) the write rate should keep with subscribers")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.Subscribers < 1 || cfg.Subscribers > 1000:
		return cfg, fmt.Errorf("-subscribers must be 1 to 1000, got %d", cfg.Subscribers)
	case cfg.Products < 1:
		return cfg, errors.New("-products must be at least 1")
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.loadFlags.check(1024))
}

// FeedReport is the result of the feed benchmark.
type FeedReport struct {
	About
	Clients     int `json:"clients"`
	Subscribers int `json:"subscribers"`
	LoadInfo
	Alone Side `json:"without_subscribers"`
	With  Side `json:"with_subscribers"`
	// Ratio is With.Rate / Alone.Rate.
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target"`
	MeetsTarget bool    `json:"meets_target"`
	// Events is how many events side (b) appended while subscribed, and
	// Delivered how many messages the subscribers received in all.
	Events    int `json:"events"`
	Delivered int `json:"delivered"`
	// FanoutRate is Delivered over the time from the first write to the
	// last subscriber's catching up.
	FanoutRate float64 `json:"fanout_per_second"`
	// Lag is an event's time to its arrival at a subscriber, sampled.
	Lag Latency `json:"lag"`
	// Complete is whether every subscriber received every event, once and
	// in order; Disconnected counts the subscribers the server dropped for
	// falling too far behind (they would resume by their last id).
	Complete     bool        `json:"complete"`
	Disconnected int         `json:"disconnected"`
	PerRound     []FeedRound `json:"per_round"`
}

// FeedRound is one alternation of the two sides.
type FeedRound struct {
	Alone float64 `json:"without_per_second"`
	With  float64 `json:"with_per_second"`
	Ratio float64 `json:"ratio"`
}

func (rd FeedRound) row(i int) string {
	return fmt.Sprintf("%d\t%.0f\t%.0f\t%.3f\t", i+1, rd.Alone, rd.With, rd.Ratio)
}

// measureFeed alternates the two sides cfg.Rounds times, each on a fresh
// data directory, and reports both.
func measureFeed(ctx context.Context, cfg feedConfig, progress io.Writer) (*FeedReport, error) {
	rep := &FeedReport{About: about("feed"), Clients: cfg.Clients, Subscribers: cfg.Subscribers,
		LoadInfo: newLoadInfo(cfg.load, cfg.Rounds), Target: cfg.Target, Complete: true}
	st := newSteps(ctx, "feed", cfg.Rounds, progress)
	wcfg := writeConfig{commonFlags: cfg.commonFlags, loadFlags: cfg.loadFlags, Products: cfg.Products}
	alone := side{name: "(a) no subscribers", profile: cfg.RawProfile}
	with := side{name: "(b) subscribers", profile: cfg.CPUProfile}
	var a, b outcome
	var lags []sample
	var fanoutTime time.Duration
	for r := range cfg.Rounds {
		oa, _, err := measureWriteSide(st, r, alone, wcfg, func(dir string) (writeSide, error) { return openAPI(ctx, dir, cfg.Products, false) })
		if err != nil {
			return nil, err
		}
		a = a.add(oa)
		var ob outcome
		err = withTempDir(cfg.TempDir, "roadmap-bench-feed-*", func(dir string) (err error) {
			s, err := openAPI(ctx, dir, cfg.Products, false)
			if err != nil {
				return fmt.Errorf("%s: %w", with.name, err)
			}
			defer func() { err = errors.Join(err, s.close(ctx)) }()
			subsCtx, stop := context.WithCancel(ctx)
			defer stop()
			start := s.app.Current.Sequence()
			subs := make([]*subscriber, cfg.Subscribers)
			for i := range subs {
				if subs[i], err = subscribe(subsCtx, s.base, start); err != nil {
					return err
				}
			}
			began := time.Now()
			what := fmt.Sprintf("%d clients, %d subscribers, %s", cfg.Clients, cfg.Subscribers, rep.measured("operations"))
			if ob, err = st.drive(r, with, what, cfg.load, s.workers(cfg.Clients)); err != nil {
				return err
			}
			last := s.app.Current.Sequence()
			deadline := time.Now().Add(time.Minute)
			for _, sub := range subs {
				for sub.position() < last && !sub.isDone() && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
			}
			fanoutTime += time.Since(began)
			stop()
			for _, sub := range subs {
				<-sub.done
				got := int(sub.received.Load())
				rep.Delivered += got
				if sub.dropped.Load() {
					rep.Disconnected++
				}
				if uint64(got) != last-start || sub.outOfOrder.Load() {
					rep.Complete = false
				}
				lags = append(lags, sub.lags...)
			}
			rep.Events += int(last - start)
			return nil
		})
		if err != nil {
			return nil, err
		}
		b = b.add(ob)
		rep.PerRound = append(rep.PerRound, FeedRound{Alone: round(oa.Rate(), 1), With: round(ob.Rate(), 1), Ratio: ratio(ob.Rate(), oa.Rate())})
	}
	rep.Alone = newSide("decisions through the HTTP API, nobody following the feed", "decisions/s", a, opPropose, opPrioritise)
	rep.With = newSide(fmt.Sprintf("the same, %d clients following GET /v1/events/stream", cfg.Subscribers), "decisions/s", b, opPropose, opPrioritise)
	rep.Ratio = ratio(rep.With.Rate, rep.Alone.Rate)
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	if fanoutTime > 0 {
		rep.FanoutRate = round(float64(rep.Delivered)/fanoutTime.Seconds(), 0)
	}
	rep.Lag = summarise(lags, "")
	return rep, nil
}

// subscriber is one client of the event stream.
type subscriber struct {
	pos        atomic.Uint64
	received   atomic.Int64
	dropped    atomic.Bool
	outOfOrder atomic.Bool
	lags       []sample
	done       chan struct{}
	finished   atomic.Bool
}

func (s *subscriber) position() uint64 { return s.pos.Load() }
func (s *subscriber) isDone() bool     { return s.finished.Load() }

// subscribe opens the stream after sequence after and reads it until ctx
// ends, keeping every 20th event's lag.
func subscribe(ctx context.Context, base string, after uint64) (*subscriber, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events/stream?after="+strconv.FormatUint(after, 10), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		return nil, fmt.Errorf("GET /v1/events/stream: %s", res.Status)
	}
	s := &subscriber{done: make(chan struct{})}
	s.pos.Store(after)
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		defer s.finished.Store(true)
		lines := bufio.NewReaderSize(res.Body, 64<<10)
		for {
			line, err := lines.ReadSlice('\n')
			if err != nil {
				if ctx.Err() == nil {
					s.dropped.Store(true)
				}
				return
			}
			text := string(line)
			switch {
			case strings.HasPrefix(text, "id: "):
				seq, _ := strconv.ParseUint(strings.TrimSpace(text[4:]), 10, 64)
				if seq != s.pos.Load()+1 {
					s.outOfOrder.Store(true)
				}
				s.pos.Store(seq)
			case strings.HasPrefix(text, "data: "):
				n := s.received.Add(1)
				if n%20 == 0 {
					if i := strings.Index(text, `"time":"`); i >= 0 {
						if end := strings.IndexByte(text[i+8:], '"'); end > 0 {
							if at, err := time.Parse(time.RFC3339Nano, text[i+8:i+8+end]); err == nil {
								s.lags = append(s.lags, sample{latency: time.Since(at)})
							}
						}
					}
				}
			}
		}
	}()
	return s, nil
}

// WriteTable prints the report for people.
func (r *FeedReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintf(w, "load:    %d concurrent writing clients per side; %d subscribers on (b); per side and round %s; %d round(s)\n",
		r.Clients, r.Subscribers, r.measured("operations"), r.Rounds)
	fmt.Fprintln(w)
	row := func(name string, s Side) string {
		return fmt.Sprintf("%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.0f\t", name, s.Ops, s.Seconds, s.Rate, s.Latency.P50, s.Latency.P99, s.CPUPerOp)
	}
	rows := []string{row("(a) no subscribers", r.Alone), row("(b) subscribers", r.With)}
	err := writeTables(w, table{"side\toperations\tseconds\trate/s\tp50 ms\tp99 ms\tCPU µs/op\t", rows},
		"", table{"round\t(a) rate/s\t(b) rate/s\t(b)/(a)\t", roundRows(r.PerRound)})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "fan-out: %d events to %d subscribers: %d messages, %.0f/s; lag p50 %.1f ms, p99 %.1f ms, max %.1f ms; complete: %v; disconnected: %d\n",
		r.Events, r.Subscribers, r.Delivered, r.FanoutRate, r.Lag.P50, r.Lag.P99, r.Lag.Max, r.Complete, r.Disconnected)
	return writeRatio(w, r.Ratio, r.Target, r.MeetsTarget)
}
