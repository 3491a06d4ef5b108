package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one synchronous client of a load: Do makes one request, waits
// for its answer and says which operation it was. A worker is used by one
// goroutine only, so it may keep state between calls.
type worker interface {
	Do(ctx context.Context) (op string, err error)
}

// load says how hard and how long to drive the workers.
type load struct {
	// Warmup runs the workers without measuring them first.
	Warmup time.Duration
	// Duration is how long the measured part lasts when Count is 0.
	Duration time.Duration
	// Count, when above 0, measures exactly Count operations instead of
	// running for Duration.
	Count int
}

// sample is one measured operation.
type sample struct {
	op      string
	latency time.Duration
}

// outcome is what one measured run gave.
type outcome struct {
	Ops     int
	Elapsed time.Duration
	Samples []sample
	// CPU is the CPU time the whole process used while measuring, 0 when
	// the platform does not tell.
	CPU time.Duration
}

// add pools o with another outcome.
func (o outcome) add(p outcome) outcome {
	return outcome{
		Ops: o.Ops + p.Ops, Elapsed: o.Elapsed + p.Elapsed, CPU: o.CPU + p.CPU,
		Samples: append(slices.Clip(o.Samples), p.Samples...),
	}
}

// CPUPerOp is the process CPU time per measured operation.
func (o outcome) CPUPerOp() time.Duration {
	if o.Ops == 0 {
		return 0
	}
	return o.CPU / time.Duration(o.Ops)
}

// Rate is the measured operations per second.
func (o outcome) Rate() float64 {
	if o.Elapsed <= 0 {
		return 0
	}
	return float64(o.Ops) / o.Elapsed.Seconds()
}

// drive runs every worker in its own goroutine, concurrently, for l.Warmup
// without measuring, then measures each operation started after the warm-up
// until l.Duration has passed or l.Count operations have been started. The
// elapsed time runs from the end of the warm-up to the answer of the last
// measured operation. The first error of any worker stops them all and is
// returned.
func drive(ctx context.Context, l load, workers []worker) (outcome, error) {
	if len(workers) == 0 {
		return outcome{}, errors.New("no workers")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	begin := time.Now()
	measureFrom := begin.Add(l.Warmup)
	stopAt := measureFrom.Add(l.Duration)
	var claimed atomic.Int64
	// The CPU time is read when the warm-up ends and once every worker is
	// done, so it covers the measured operations (and the process's
	// background work meanwhile).
	cpuFrom := make(chan time.Duration, 1)
	cpuTimer := time.AfterFunc(l.Warmup, func() { cpuFrom <- processCPU() })
	defer cpuTimer.Stop()

	type result struct {
		samples []sample
		last    time.Time
	}
	results := make([]result, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[i]
			res.samples = make([]sample, 0, 4096)
			for ctx.Err() == nil {
				start := time.Now()
				measured := !start.Before(measureFrom)
				if measured {
					if l.Count > 0 {
						if claimed.Add(1) > int64(l.Count) {
							return
						}
					} else if !start.Before(stopAt) {
						return
					}
				}
				op, err := w.Do(ctx)
				end := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("client %d: %w", i, err))
					}
					return
				}
				if measured {
					res.samples = append(res.samples, sample{op: op, latency: end.Sub(start)})
					res.last = end
				}
			}
		}()
	}
	wg.Wait()
	cpuTo := processCPU()
	if err := context.Cause(ctx); err != nil {
		return outcome{}, err
	}

	var out outcome
	select {
	case from := <-cpuFrom:
		out.CPU = cpuTo - from
	default: // the warm-up outlived the run: no operation was measured
	}
	last := measureFrom
	for _, r := range results {
		out.Samples = append(out.Samples, r.samples...)
		if r.last.After(last) {
			last = r.last
		}
	}
	out.Ops = len(out.Samples)
	out.Elapsed = last.Sub(measureFrom)
	return out, nil
}

// Latency sums up a set of latencies, in milliseconds.
type Latency struct {
	Ops  int     `json:"ops"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// summarise returns the latency percentiles of samples, all of them when op
// is empty, else those of op.
func summarise(samples []sample, op string) Latency {
	ds := make([]time.Duration, 0, len(samples))
	var sum time.Duration
	for _, s := range samples {
		if op == "" || s.op == op {
			ds = append(ds, s.latency)
			sum += s.latency
		}
	}
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	return Latency{
		Ops:  len(ds),
		Mean: ms(sum / time.Duration(len(ds))),
		P50:  ms(percentile(ds, 0.50)),
		P90:  ms(percentile(ds, 0.90)),
		P99:  ms(percentile(ds, 0.99)),
		Max:  ms(ds[len(ds)-1]),
	}
}

// percentile returns the nearest-rank p-quantile (0 < p <= 1) of sorted,
// which must not be empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// drive is a step of s in round r that drives workers under l.
func (st *steps) drive(r int, s side, what string, l load, workers []worker) (o outcome, err error) {
	err = st.run(r, s, what, func() (err error) {
		o, err = drive(st.ctx, l, workers)
		return err
	})
	return o, err
}

// LoadInfo says how a benchmark drove each side.
type LoadInfo struct {
	// Warmup and Duration are per side and round (and phase), in seconds;
	// Duration is 0 and Count the operations per side and round when the
	// run was counted.
	Warmup   float64 `json:"warmup_seconds"`
	Duration float64 `json:"duration_seconds"`
	Count    int     `json:"count"`
	Rounds   int     `json:"rounds"`
}

func newLoadInfo(l load, rounds int) LoadInfo {
	info := LoadInfo{Warmup: l.Warmup.Seconds(), Duration: l.Duration.Seconds(), Count: l.Count, Rounds: rounds}
	if l.Count > 0 {
		info.Duration = 0
	}
	return info
}

// measured says how long each side was measured after its warm-up, in ops.
func (l LoadInfo) measured(ops string) string {
	if l.Count > 0 {
		return fmt.Sprintf("%gs warm-up, %d measured %s", l.Warmup, l.Count, ops)
	}
	return fmt.Sprintf("%gs warm-up, %gs measured", l.Warmup, l.Duration)
}

// LoadSide is one side of a request load, pooled over the rounds.
type LoadSide struct {
	What    string  `json:"what"`
	Ops     int     `json:"requests"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"per_second"`
	Latency Latency `json:"latency"`
	// CPUPerOp is the whole process's CPU time per request, clients
	// included, in microseconds.
	CPUPerOp float64 `json:"cpu_us_per_request"`
}

func newLoadSide(what string, o outcome) LoadSide {
	return LoadSide{What: what, Ops: o.Ops, Seconds: round(o.Elapsed.Seconds(), 3), Rate: round(o.Rate(), 1),
		Latency: summarise(o.Samples, ""), CPUPerOp: round(float64(o.CPUPerOp())/1e3, 1)}
}

// row is the side's row in a report's table of sides.
func (s LoadSide) row(name string) string {
	l := s.Latency
	return fmt.Sprintf("%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t", name, s.Ops, s.Seconds, s.Rate, l.P50, l.P90, l.P99, l.Max, s.CPUPerOp)
}

// LoadRound is one alternation of the two sides of a request load.
type LoadRound struct {
	Raw   float64 `json:"raw_per_second"`
	API   float64 `json:"api_per_second"`
	P99   float64 `json:"api_p99_ms"`
	Ratio float64 `json:"ratio"`
}

func (rd LoadRound) row(i int) string {
	return fmt.Sprintf("%d\t%.0f\t%.0f\t%.2f\t%.3f\t", i+1, rd.Raw, rd.API, rd.P99, rd.Ratio)
}

// newLoadRound is the round in which the raw side gave a and the ledger b.
func newLoadRound(a, b outcome) LoadRound {
	rd := LoadRound{Raw: round(a.Rate(), 1), API: round(b.Rate(), 1), P99: summarise(b.Samples, "").P99}
	rd.Ratio = ratio(rd.API, rd.Raw)
	return rd
}
