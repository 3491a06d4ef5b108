package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRebuildRunsAndReports runs the rebuild benchmark end to end on a tiny
// ledger, through Run as the command does, and checks the report is whole.
func TestRebuildRunsAndReports(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var stdout, stderr bytes.Buffer
	args := []string{"rebuild", "-events", "3000", "-items", "100", "-products", "3", "-rounds", "2", "-timeout", "30s", "-json"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, stderr.String())
	}
	var rep RebuildReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the -json output is not a report: %v\n%s", err, stdout.String())
	}
	if rep.Benchmark != "rebuild" || rep.Machine.NumCPU < 1 || rep.Rounds != 2 || rep.Batch != 4096 {
		t.Errorf("report header: %+v", rep)
	}
	l := rep.Ledger
	if l.Events != 3000 || l.Items != 100 || l.Products != 3 || l.OnRoadmap < 1 || l.Cached || l.GenerateSeconds <= 0 || l.BodyBytes <= 0 || l.StoredBytes <= 0 {
		t.Errorf("ledger: %+v", l)
	}
	for name, s := range map[string]ReadSide{"raw": rep.Raw, "ledger": rep.Project} {
		if s.Events != 6000 || s.Seconds <= 0 || s.Rate <= 0 || s.What == "" {
			t.Errorf("%s: %+v, want 6000 events (two rounds) at a positive rate", name, s)
		}
	}
	if want := round(rep.Project.Rate/rep.Raw.Rate, 3); rep.Ratio <= 0 || math.Abs(rep.Ratio-want) > 0.0015 {
		t.Errorf("ratio %v, want (b)/(a) = %v", rep.Ratio, want)
	}
	if rep.MeetsTarget != (rep.Ratio >= rep.Target) || rep.Target != 0.5 {
		t.Errorf("meets target %v with ratio %v and target %v", rep.MeetsTarget, rep.Ratio, rep.Target)
	}
	if len(rep.PerRound) != 2 {
		t.Errorf("per round %+v, want two", rep.PerRound)
	}
	for _, rd := range rep.PerRound {
		if (rd.RawCPU > 0) != (rep.Raw.CPUPerEvent > 0) || (rd.ProjectCPU > 0) != (rep.Project.CPUPerEvent > 0) {
			t.Errorf("round %+v: CPU per event measured unlike the pooled %v and %v", rd, rep.Raw.CPUPerEvent, rep.Project.CPUPerEvent)
		}
	}
	m := rep.Memory
	if _, err := os.Stat("/proc/self/status"); err == nil {
		if m.PeakRSS == 0 || m.RSS == 0 || m.RSS > m.PeakRSS {
			t.Errorf("memory %+v, want 0 < RSS <= peak", m)
		}
		if rep.MeetsMemory != (m.PeakRSS < rep.MaxRSS) || rep.MaxRSS != 1<<30 {
			t.Errorf("meets memory %v with peak %d and target %d", rep.MeetsMemory, m.PeakRSS, rep.MaxRSS)
		}
	}
	if m.HeapInuse == 0 || m.HeapLive == 0 || m.Sys == 0 || (m.PeakFrom != "open" && m.PeakFrom != "process") {
		t.Errorf("memory %+v", m)
	}

	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(a) raw JetStream read", "(b) ledger open to ready", "events/s", "peak RSS", "ratio (b)/(a):", "round"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, table.String())
		}
	}
	assertEmpty(t, tmp)
}

func TestRebuildRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-events", "10"},
		{"-rounds", "0"},
		{"-batch", "0"},
		{"-max-rss", "0"},
		{"-keyed", "2"},
		{"extra"},
	} {
		if _, err := parseRebuild(args, io.Discard); err == nil {
			t.Errorf("parseRebuild(%q) accepted", args)
		}
	}
}

// assertEmpty fails the test if anything is left in dir.
func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}
