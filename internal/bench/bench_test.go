package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestWriteRunsAndReports runs the write benchmark end to end with a tiny
// count, through Run as the command does, and checks the report is whole:
// both rates measured, the ratio computed from them, latencies in order, and
// the data directories gone afterwards.
func TestWriteRunsAndReports(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var stdout, stderr bytes.Buffer
	args := []string{"write", "-clients", "2", "-warmup", "100ms", "-count", "40", "-disk-probe", "50ms", "-timeout", "30s", "-json"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, stderr.String())
	}
	var rep WriteReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the -json output is not a report: %v\n%s", err, stdout.String())
	}

	if rep.Benchmark != "write" || rep.Machine.NumCPU < 1 || rep.Machine.GoVersion == "" || rep.Clients != 2 || rep.Count != 40 || rep.Rounds != 1 {
		t.Errorf("report header: %+v", rep)
	}
	if rep.DiskFsyncs <= 0 {
		t.Errorf("disk probe: %v write+fsync/s, want > 0", rep.DiskFsyncs)
	}
	for name, s := range map[string]Side{"raw": rep.Raw, "api": rep.API} {
		if s.Ops != 40 || s.Rate <= 0 || s.Seconds <= 0 {
			t.Errorf("%s: %d operations at %v/s over %vs, want 40 at a positive rate", name, s.Ops, s.Rate, s.Seconds)
		}
		l := s.Latency
		if l.Ops != s.Ops || !(0 < l.P50 && l.P50 <= l.P99 && l.P99 <= l.Max) {
			t.Errorf("%s: latency %+v, want 0 < p50 <= p99 <= max over every operation", name, l)
		}
		if len(s.ByOp) != 2 {
			t.Errorf("%s: latency by operation %v, want two operations", name, s.ByOp)
		}
		// The load alternates, but where each client's alternation stands
		// when the warm-up ends decides the split: about half each.
		for op, l := range s.ByOp {
			if l.Ops < 12 || l.Ops > 28 {
				t.Errorf("%s: %d %s operations, want about 20 of 40: the load alternates", name, l.Ops, op)
			}
		}
		if s.StoredBytes <= 0 {
			t.Errorf("%s: %v stored bytes per message, want > 0", name, s.StoredBytes)
		}
	}
	if want := round(rep.API.Rate/rep.Raw.Rate, 3); rep.Ratio <= 0 || math.Abs(rep.Ratio-want) > 0.0015 {
		t.Errorf("ratio %v, want (b)/(a) = %v", rep.Ratio, want)
	}
	if rep.MeetsTarget != (rep.Ratio >= rep.Target) {
		t.Errorf("meets target %v with ratio %v and target %v", rep.MeetsTarget, rep.Ratio, rep.Target)
	}
	if len(rep.PerRound) != 1 || rep.PerRound[0].Raw != rep.Raw.Rate || rep.PerRound[0].API != rep.API.Rate {
		t.Errorf("per round %+v, want the one round's rates", rep.PerRound)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(a) raw JetStream", "(b) HTTP API", "p50 ms", "p99 ms", "ratio (b)/(a):", rep.Machine.GOOS + "/" + rep.Machine.GOARCH} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}

	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

func TestRunRefusesWhatItDoesNotKnow(t *testing.T) {
	ctx := context.Background()
	if err := Run(ctx, nil, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("no benchmark: %v, want flag.ErrHelp", err)
	}
	if err := Run(ctx, []string{"nosuch"}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown benchmark: %v", err)
	}
	for _, args := range [][]string{
		{"-clients", "0"},
		{"-duration", "0"},
		{"-rounds", "0"},
		{"-payload", "10"},
		{"-warmup", "-1s"},
		{"extra"},
	} {
		if _, err := parseWrite(args, io.Discard); err == nil {
			t.Errorf("parseWrite(%q) accepted", args)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.50, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(ds, c.p); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]time.Duration{7}, 0.99); got != 7 {
		t.Errorf("percentile of one sample = %v, want it", got)
	}
}
