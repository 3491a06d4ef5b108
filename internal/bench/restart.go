package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
)

// restartConfig is what the restart benchmark's flags say.
type restartConfig struct {
	commonFlags
	ledgerConfig
	// Target is the least time to ready, in seconds, the start from a
	// snapshot should take; reported, not enforced.
	Target float64
	// FreshKeyframes removes the keyframe files before (b) too, so its
	// replay writes every one of them, as a ledger's first start does.
	FreshKeyframes bool
}

func parseRestart(args []string, stderr io.Writer) (restartConfig, error) {
	var cfg restartConfig
	fs := newFlagSet("restart", `Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir), then measures on it, one after the other: (a) raw
JetStream: an ordered consumer reading the whole stream and doing nothing with
each message; (b) a start without a usable snapshot: app.Open on the directory,
served on 127.0.0.1, until GET /readyz answers 200, the whole log replayed; its
clean shutdown writes a snapshot of the read models; (c) a start with that
snapshot, until GET /readyz answers 200. It prints the times, each start's rate
beside the raw read's as a ratio, each start's peak memory, and the sizes of
the snapshot and of the keyframe files of time travel. (b) keeps the
keyframe files (its replay checks the head of each and writes those
missing) unless -fresh-keyframes. With -rounds N it runs (a), (b) and (c)
N times.
`, stderr)
	cfg.commonFlags.register(fs, 20*time.Minute, "(c), the start from a snapshot, of the first round", "(a) of the first round")
	cfg.ledgerConfig.register(fs, 1_000_000)
	fs.Float64Var(&cfg.Target, "target", 2, "seconds the start from a snapshot should take at most to be ready")
	fs.BoolVar(&cfg.FreshKeyframes, "fresh-keyframes", false, "remove the keyframe files before (b) too, so its replay writes them all, as a first start does")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if cfg.Target <= 0 {
		return cfg, errors.New("-target must be positive")
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.ledgerConfig.resolve())
}

// RestartReport is the result of the restart benchmark.
type RestartReport struct {
	WholeRead
	Raw ReadSide `json:"raw_jetstream"`
	// Replay is the start without a snapshot, Snapshot the start with one:
	// each from app.Open until GET /readyz answers 200, events being the
	// ledger's.
	Replay   ReadSide `json:"start_replaying"`
	Snapshot ReadSide `json:"start_from_snapshot"`
	// ReplayRatio and SnapshotRatio are each start's rate over the raw
	// read's: the raw read's time over the start's.
	ReplayRatio   float64 `json:"replay_ratio"`
	SnapshotRatio float64 `json:"snapshot_ratio"`
	// SnapshotSeconds is the slowest start from a snapshot, against Target.
	SnapshotSeconds float64        `json:"snapshot_start_seconds_max"`
	Target          float64        `json:"target_seconds"`
	MeetsTarget     bool           `json:"meets_target"`
	PerRound        []RestartRound `json:"per_round"`
}

// RestartRound is one round of the three steps.
type RestartRound struct {
	Raw      float64 `json:"raw_seconds"`
	Replay   float64 `json:"replay_seconds"`
	Snapshot float64 `json:"snapshot_seconds"`
	// ReplayRatio and SnapshotRatio are Raw/Replay and Raw/Snapshot.
	ReplayRatio   float64 `json:"replay_ratio"`
	SnapshotRatio float64 `json:"snapshot_ratio"`
	// ReplayMemory and SnapshotMemory are the process's once each start
	// was ready.
	ReplayMemory   Memory `json:"replay_memory"`
	SnapshotMemory Memory `json:"snapshot_memory"`
	// WriteSeconds is the clean shutdown after (b), the snapshot's writing
	// included, and SnapshotBytes the snapshot's size.
	WriteSeconds  float64 `json:"shutdown_with_snapshot_seconds"`
	SnapshotBytes int64   `json:"snapshot_bytes"`
	// KeyframeBytes is the size of the keyframe directory after (b), the
	// keyframes and the segments of events beside them, and Keyframes how
	// many keyframes there are.
	KeyframeBytes int64 `json:"keyframe_bytes"`
	Keyframes     int   `json:"keyframes"`
}

func measureRestart(ctx context.Context, cfg restartConfig, progress io.Writer) (*RestartReport, error) {
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	rep := &RestartReport{WholeRead: newWholeRead("restart", led, cfg.Rounds, cfg.Batch), Target: cfg.Target}
	events := led.Info.Events
	path := filepath.Join(led.DataDir, snapshot.File)
	st := newSteps(ctx, "restart", cfg.Rounds, progress)
	raw := side{name: "(a) raw JetStream", profile: cfg.RawProfile}
	replay, fromSnapshot := side{name: "(b) start, no snapshot"}, side{name: "(c) start from a snapshot", profile: cfg.CPUProfile}
	var rawSum, replaySum, snapSum readOutcome
	for r := range cfg.Rounds {
		var rd RestartRound
		var a, b, c readOutcome
		err := st.run(r, raw, fmt.Sprintf("ordered consumer over %d events", events), func() (err error) {
			a, err = rawRead(ctx, led.DataDir, events, cfg.Batch)
			return err
		})
		if err == nil {
			err = st.run(r, replay, "app.Open, the whole log replayed, until /readyz answers 200; then a clean shutdown writing a snapshot", func() error {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				if cfg.FreshKeyframes {
					if err := os.RemoveAll(filepath.Join(led.DataDir, snapshot.KeyframeDir)); err != nil {
						return err
					}
				}
				var err error
				b, rd.ReplayMemory, rd.WriteSeconds, err = startToReady(ctx, led.DataDir, events, false)
				return err
			})
		}
		if err == nil {
			var info os.FileInfo
			if info, err = os.Stat(path); err == nil {
				rd.SnapshotBytes = info.Size()
				rd.Keyframes, rd.KeyframeBytes, err = keyframeDirSize(filepath.Join(led.DataDir, snapshot.KeyframeDir))
			}
		}
		if err == nil {
			err = st.run(r, fromSnapshot, "app.Open, the snapshot loaded, until /readyz answers 200", func() (err error) {
				c, rd.SnapshotMemory, _, err = startToReady(ctx, led.DataDir, events, true)
				return err
			})
		}
		if err != nil {
			return nil, err
		}
		rd.Raw, rd.Replay, rd.Snapshot = seconds(a.elapsed), seconds(b.elapsed), seconds(c.elapsed)
		rd.ReplayRatio, rd.SnapshotRatio = ratio(a.elapsed.Seconds(), b.elapsed.Seconds()), ratio(a.elapsed.Seconds(), c.elapsed.Seconds())
		rep.SnapshotSeconds = max(rep.SnapshotSeconds, rd.Snapshot)
		rep.PerRound = append(rep.PerRound, rd)
		rawSum, replaySum, snapSum = rawSum.add(a), replaySum.add(b), snapSum.add(c)
		fmt.Fprintf(progress, "bench restart: round %d/%d: (a) %.2f s, (b) %.2f s (ratio %.3f), (c) %.2f s (ratio %.3f)\n",
			r+1, cfg.Rounds, rd.Raw, rd.Replay, rd.ReplayRatio, rd.Snapshot, rd.SnapshotRatio)
	}
	rep.Raw = newReadSide(rawReadWhat, rawSum, cfg.Rounds)
	rep.Replay = newReadSide("app.Open until GET /readyz answers 200, no snapshot: the whole log replayed", replaySum, cfg.Rounds)
	rep.Snapshot = newReadSide("app.Open until GET /readyz answers 200, the read models loaded from a snapshot at the log's end", snapSum, cfg.Rounds)
	rep.ReplayRatio = ratio(rep.Replay.Rate, rep.Raw.Rate)
	rep.SnapshotRatio = ratio(rep.Snapshot.Rate, rep.Raw.Rate)
	rep.MeetsTarget = rep.SnapshotSeconds <= cfg.Target
	return rep, nil
}

func seconds(d time.Duration) float64 { return round(d.Seconds(), 3) }

// keyframeDirSize returns how many keyframes the keyframe directory dir
// holds and the size of all its files.
func keyframeDirSize(dir string) (keyframes int, size int64, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return 0, 0, err
		}
		if strings.HasSuffix(e.Name(), ".keyframe") {
			keyframes++
		}
		size += info.Size()
	}
	return keyframes, size, err
}

// startToReady opens the ledger on dir as the serve command does, serves it
// on a loopback port and measures the time until GET /readyz answers 200,
// then the process's memory, then the time its clean shutdown takes (a
// snapshot written). fromSnapshot says whether the start must have loaded
// the snapshot or replayed the whole log.
func startToReady(ctx context.Context, dir string, events int, fromSnapshot bool) (readOutcome, Memory, float64, error) {
	var o readOutcome
	releaseMemory()
	peakFrom := "process"
	if resetPeakRSS() {
		peakFrom = "open"
	}
	cpu := processCPU()
	start := time.Now()
	// Snapshots are written on the clean shutdown only, not while measured.
	// The duplicates window is the raw side's (shortDuplicateWindow): a
	// ledger generated minutes ago would otherwise have JetStream read the
	// whole stream again at every open, which a real restart after a pause
	// does not.
	a, err := app.Open(ctx, app.Config{DataDir: dir, BootstrapToken: benchToken, SnapshotEvery: time.Hour, DuplicateWindow: shortDuplicateWindow})
	if err != nil {
		return o, Memory{}, 0, err
	}
	o.open = time.Since(start)
	s, err := serveHandler(a.Handler)
	if err != nil {
		a.Close()
		return o, Memory{}, 0, err
	}
	s.app = a
	closed := false
	defer func() {
		if !closed {
			s.close(ctx)
		}
	}()
	client := s.client()
	for {
		if err := ctx.Err(); err != nil {
			return o, Memory{}, 0, context.Cause(ctx)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if err != nil {
			return o, Memory{}, 0, err
		}
		res, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(2 * time.Millisecond) // polled as a load balancer would, closely
	}
	o.elapsed, o.cpu, o.events = time.Since(start), processCPU()-cpu, events
	switch {
	case fromSnapshot && a.Resumed != uint64(events):
		return o, Memory{}, 0, fmt.Errorf("resumed at sequence %d, not from a snapshot at %d", a.Resumed, events)
	case !fromSnapshot && a.Resumed != 0:
		return o, Memory{}, 0, fmt.Errorf("resumed at sequence %d without a snapshot", a.Resumed)
	case a.Current.Sequence() != uint64(events):
		return o, Memory{}, 0, fmt.Errorf("the projections are at sequence %d, want %d", a.Current.Sequence(), events)
	}
	mem := measureMemory(peakFrom)
	start = time.Now()
	closed = true
	if err := s.close(ctx); err != nil {
		return o, mem, 0, err
	}
	return o, mem, seconds(time.Since(start)), nil
}

// WriteTable prints the report for people.
func (r *RestartReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintln(w)
	sides := table{"side\tevents\tseconds\tevents/s\topen s\tCPU µs/event\tcores\t", []string{
		r.Raw.row("(a) raw JetStream read", true),
		r.Replay.row("(b) start to /readyz, no snapshot", true),
		r.Snapshot.row("(c) start to /readyz, from a snapshot", true),
	}}
	rounds := table{"round\t(a) s\t(b) s\t(a)/(b)\t(c) s\t(a)/(c)\t(b) peak RSS MiB\t(c) peak RSS MiB\tsnapshot MiB\tkeyframes\tkeyframe dir MiB\tshutdown s\t", nil}
	for i, rd := range r.PerRound {
		rounds.rows = append(rounds.rows, fmt.Sprintf("%d\t%.2f\t%.2f\t%.3f\t%.2f\t%.3f\t%.0f\t%.0f\t%.1f\t%d\t%.1f\t%.2f\t", i+1,
			rd.Raw, rd.Replay, rd.ReplayRatio, rd.Snapshot, rd.SnapshotRatio,
			mib(rd.ReplayMemory.PeakRSS), mib(rd.SnapshotMemory.PeakRSS), mib(uint64(rd.SnapshotBytes)),
			rd.Keyframes, mib(uint64(rd.KeyframeBytes)), rd.WriteSeconds))
	}
	err := writeTables(w, sides, "(open s: the embedded server's start, outside (a)'s measure and inside (b)'s and (c)'s; shutdown s: (b)'s, the snapshot written)", rounds)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nratio of the rates, start/(raw read): (b) %.3f, (c) %.3f\n", r.ReplayRatio, r.SnapshotRatio)
	_, err = fmt.Fprintf(w, "slowest start from a snapshot: %.2f s, which %s the target of at most %.1f s\n", r.SnapshotSeconds, meets(r.MeetsTarget), r.Target)
	return err
}
