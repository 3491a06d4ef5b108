package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// What the benchmarks that read the whole generated ledger (rebuild,
// verify) share: the raw read beside which they measure the ledger, their
// rounds, and their report's head and tables.

// ReadSide is one side of a benchmark that reads the whole ledger, pooled
// over the rounds.
type ReadSide struct {
	What   string `json:"what"`
	Events int    `json:"events"`
	// Seconds is the measured time: for the raw side the read alone, for
	// the ledger from app.Open to ready.
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"events_per_second"`
	// OpenSeconds is the mean time to open (the embedded server's start and
	// the stream's recovery): outside the raw side's measure, inside the
	// ledger's.
	OpenSeconds float64 `json:"open_seconds"`
	// CPUPerEvent is the whole process's CPU time per event, in
	// microseconds, and Cores the CPU time over the measured time.
	CPUPerEvent float64 `json:"cpu_us_per_event"`
	Cores       float64 `json:"cores"`
}

// readOutcome is one measured read of the whole log.
type readOutcome struct {
	events  int
	open    time.Duration
	elapsed time.Duration
	cpu     time.Duration
}

func (o readOutcome) add(p readOutcome) readOutcome {
	return readOutcome{events: o.events + p.events, open: o.open + p.open, elapsed: o.elapsed + p.elapsed, cpu: o.cpu + p.cpu}
}

func (o readOutcome) rate() float64 {
	if o.elapsed <= 0 {
		return 0
	}
	return float64(o.events) / o.elapsed.Seconds()
}

func newReadSide(what string, o readOutcome, rounds int) ReadSide {
	s := ReadSide{What: what, Events: o.events, Seconds: round(o.elapsed.Seconds(), 3), Rate: round(o.rate(), 0),
		OpenSeconds: round(o.open.Seconds()/float64(rounds), 3), CPUPerEvent: o.cpuPerEvent()}
	if o.events > 0 && o.cpu > 0 {
		s.Cores = round(o.cpu.Seconds()/o.elapsed.Seconds(), 2)
	}
	return s
}

// cpuPerEvent returns the process CPU per event read, in microseconds, or 0
// when it was not measured.
func (o readOutcome) cpuPerEvent() float64 {
	if o.events == 0 || o.cpu <= 0 {
		return 0
	}
	return round(float64(o.cpu.Microseconds())/float64(o.events), 2)
}

// WholeRead is the head of the report of a benchmark that reads the whole
// generated ledger.
type WholeRead struct {
	About
	Ledger LedgerInfo `json:"generated_ledger"`
	Rounds int        `json:"rounds"`
	Batch  int        `json:"raw_batch"`
}

func newWholeRead(benchmark string, led *preparedLedger, rounds, batch int) WholeRead {
	return WholeRead{About: about(benchmark), Ledger: led.Info, Rounds: rounds, Batch: batch}
}

func (h WholeRead) writeHead(w io.Writer) {
	h.About.writeHead(w)
	h.Ledger.writeLines(w)
	fmt.Fprintf(w, "rounds:  %d; raw side pulls %d messages at a time\n", h.Rounds, h.Batch)
}

// readRound is one round of a benchmark that reads the whole generated
// ledger: (a) the raw read, (b) the ledger's side and what else it measured
// (its memory).
type readRound[M any] struct {
	a, b readOutcome
	m    M
}

// reads is what readRounds measured: each round, and each side pooled over
// the rounds.
type reads[M any] struct {
	rounds      []readRound[M]
	raw, ledger readOutcome
}

// readRounds runs the rounds of a benchmark that reads the whole generated
// ledger: in each, (a) the raw read of its stream (rawRead), then (b) the
// ledger's side, what measure measures in round r.
func readRounds[M any](st *steps, led *preparedLedger, batch int, raw, ledger side, what string,
	measure func(r int) (readOutcome, M, error)) (reads[M], error) {
	var res reads[M]
	events := led.Info.Events
	for r := range st.rounds {
		var rd readRound[M]
		err := st.run(r, raw, fmt.Sprintf("ordered consumer over %d events", events), func() (err error) {
			rd.a, err = rawRead(st.ctx, led.DataDir, events, batch)
			return err
		})
		if err != nil {
			return res, err
		}
		err = st.run(r, ledger, what, func() (err error) {
			rd.b, rd.m, err = measure(r)
			return err
		})
		if err != nil {
			return res, err
		}
		res.rounds = append(res.rounds, rd)
		res.raw, res.ledger = res.raw.add(rd.a), res.ledger.add(rd.b)
		fmt.Fprintf(st.progress, "bench %s: round %d/%d: (a) %.0f events/s, (b) %.0f events/s, ratio %.3f\n",
			st.bench, r+1, st.rounds, rd.a.rate(), rd.b.rate(), ratio(rd.b.rate(), rd.a.rate()))
	}
	return res, nil
}

// rawReadWhat is what the raw side of a benchmark that reads the whole
// ledger does.
const rawReadWhat = "an ordered consumer reading every message and doing nothing with it"

// rawRead opens the ledger's directory with the ledger's own server options
// and stream configuration and reads the whole stream with an ordered
// consumer, doing nothing with each message. Only the read is measured.
func rawRead(ctx context.Context, dir string, events, batch int) (readOutcome, error) {
	var o readOutcome
	start := time.Now()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir, DuplicateWindow: shortDuplicateWindow})
	if err != nil {
		return o, err
	}
	defer log.Close()
	o.open = time.Since(start)
	cpu := processCPU()
	start = time.Now()
	n, err := readStream(ctx, log.JetStream(), log.Stream(), 1, uint64(events), batch)
	o.elapsed, o.cpu, o.events = time.Since(start), processCPU()-cpu, n
	if err == nil && n != events {
		err = fmt.Errorf("read %d events, want %d", n, events)
	}
	return o, err
}

// readStream reads the messages from sequence from to sequence to with an
// ordered consumer pulling at most batch at a time, does nothing with them,
// and deletes the consumer, as any reader that must leave no state on the
// server does (the ledger's own reads do the same). It returns how many
// messages it read.
func readStream(ctx context.Context, js jetstream.JetStream, name string, from, to uint64, batch int) (int, error) {
	if to < from {
		return 0, nil
	}
	stream, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 30 * time.Second}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return 0, err
	}
	want := int(to - from + 1)
	// Never ask for more than is read: what is pulled and not read is work
	// thrown away.
	it, err := cons.Messages(jetstream.PullMaxMessages(min(batch, want)))
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	n := 0
	for ; n < want; n++ {
		if _, err = it.Next(); err != nil {
			err = errors.Join(err, ctx.Err())
			break
		}
	}
	stop()
	it.Stop()
	if info := cons.CachedInfo(); info != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := stream.DeleteConsumer(dctx, info.Name); !errors.Is(derr, jetstream.ErrConsumerNotFound) {
			err = errors.Join(err, derr)
		}
	}
	return n, err
}

// writeReadTables writes the tables of a benchmark that reads the whole
// ledger: its sides, (a) the raw read and the ledger's, named ledgerName,
// with their open times when open, the note on them, then its rounds.
func writeReadTables(w io.Writer, raw, ledger ReadSide, ledgerName string, open bool, note string, rounds table) error {
	sides := table{"side\tevents\tseconds\tevents/s\tCPU µs/event\tcores\t",
		[]string{raw.row("(a) raw JetStream read", open), ledger.row(ledgerName, open)}}
	if open {
		sides.heading = "side\tevents\tseconds\tevents/s\topen s\tCPU µs/event\tcores\t"
	}
	return writeTables(w, sides, note, rounds)
}

// row is the side's row in a report's table of sides; with open, its open
// time is a column.
func (s ReadSide) row(name string, open bool) string {
	if open {
		return fmt.Sprintf("%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t", name, s.Events, s.Seconds, s.Rate, s.OpenSeconds, s.CPUPerEvent, s.Cores)
	}
	return fmt.Sprintf("%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t", name, s.Events, s.Seconds, s.Rate, s.CPUPerEvent, s.Cores)
}
