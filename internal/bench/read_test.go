package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// TestReadRunsAndReports runs the read benchmark end to end on a tiny
// roadmap with a fixed count, and checks the report is whole.
func TestReadRunsAndReports(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var stdout, stderr bytes.Buffer
	args := []string{"read", "-items", "40", "-clients", "2", "-warmup", "50ms", "-count", "30", "-rounds", "2", "-timeout", "30s", "-json"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, stderr.String())
	}
	var rep ReadReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the -json output is not a report: %v\n%s", err, stdout.String())
	}
	if rep.Benchmark != "read" || rep.Request != "GET /v1/roadmap" || rep.OnRoadmap != 40 || rep.Clients != 2 || rep.Count != 30 || rep.Rounds != 2 {
		t.Errorf("report header: %+v", rep)
	}
	if rep.Ledger.Events != 400 || rep.Ledger.OnRoadmap != 40 || rep.AnswerBytes < 40*100 {
		t.Errorf("ledger %+v with a %d-byte answer", rep.Ledger, rep.AnswerBytes)
	}
	for name, s := range map[string]LoadSide{"echo": rep.Echo, "api": rep.API} {
		checkLoadSide(t, name, s, 60)
	}
	if want := round(rep.API.Rate/rep.Echo.Rate, 3); rep.Ratio <= 0 || math.Abs(rep.Ratio-want) > 0.0015 {
		t.Errorf("ratio %v, want (b)/(a) = %v", rep.Ratio, want)
	}
	if rep.TargetP99 != 10 || rep.MeetsTarget != (rep.API.Latency.P99 < rep.TargetP99) {
		t.Errorf("meets target %v with p99 %v and target %v", rep.MeetsTarget, rep.API.Latency.P99, rep.TargetP99)
	}
	if len(rep.PerRound) != 2 {
		t.Errorf("per round %+v, want two", rep.PerRound)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(a) echo from memory", "(b) ledger", "p99 ms", "ratio (b)/(a):", "round"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	assertEmpty(t, tmp)
}

// checkLoadSide fails the test unless s measured ops requests with sane
// figures.
func checkLoadSide(t *testing.T, name string, s LoadSide, ops int) {
	t.Helper()
	if s.Ops != ops || s.Rate <= 0 || s.Seconds <= 0 || s.What == "" {
		t.Errorf("%s: %d requests at %v/s over %vs, want %d at a positive rate", name, s.Ops, s.Rate, s.Seconds, ops)
	}
	if l := s.Latency; l.Ops != s.Ops || !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("%s: latency %+v, want 0 < p50 <= p90 <= p99 <= max over every request", name, l)
	}
}

func TestReadRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-items", "0"},
		{"-clients", "0"},
		{"-duration", "0"},
		{"-events", "50"},
		{"extra"},
	} {
		if _, err := parseRead(args, io.Discard); err == nil {
			t.Errorf("parseRead(%q) accepted", args)
		}
	}
}
