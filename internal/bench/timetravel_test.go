package bench

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"
)

// TestTimetravelRunsAndReports runs the timetravel benchmark end to end on a
// tiny ledger with checkpoints 400 events apart, and checks the report is
// whole: every phase measured on both sides, over the same points, and
// today's roadmap measured at each concurrency above one.
func TestTimetravelRunsAndReports(t *testing.T) {
	useTempDir(t)
	cfg, err := parseTimetravel([]string{"-events", "3000", "-items", "100", "-products", "2", "-clients", "2", "-more-clients", "3",
		"-warmup", "0s", "-count", "8", "-timeout", "30s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.KeyframeEvery = 400
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := measureTimetravel(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back TimetravelReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("the report does not read back: %v", err)
	}
	if rep.Benchmark != "timetravel" || rep.Ledger.Events != 3000 || rep.KeyframeEvery != 400 || rep.OpenSeconds <= 0 || rep.LiveAnswerBytes <= 0 || rep.Count != 8 {
		t.Errorf("report header: %+v", rep)
	}
	want := []struct {
		query   string
		clients int
	}{{"at_seq", 1}, {"as_of", 1}, {"current", 2}, {"at_seq", 2}, {"as_of", 2}, {"current", 3}, {"at_seq", 3}, {"as_of", 3}}
	if len(rep.Phases) != len(want) {
		t.Fatalf("%d phases, want %d", len(rep.Phases), len(want))
	}
	meets := true
	var current float64
	for i, p := range rep.Phases {
		if p.Query != want[i].query || p.Clients != want[i].clients {
			t.Errorf("phase %d is %s with %d clients, want %+v", i, p.Query, p.Clients, want[i])
		}
		if p.Query == "current" {
			checkLoadSide(t, "today's roadmap", p.API, 8)
			current = p.API.Latency.P99
			continue
		}
		checkLoadSide(t, p.Query+" raw", p.Raw, 8)
		checkLoadSide(t, p.Query+" api", p.API, 8)
		if p.Replayed < 0 || p.Replayed >= 400 || p.RawReplayed < 0 || p.RawReplayed >= 400 {
			t.Errorf("%s: %v and %v events read per query, want fewer than between two checkpoints", p.Query, p.Replayed, p.RawReplayed)
		}
		checkRatio(t, p.Query+": ", p.Ratio, p.API.Rate, p.Raw.Rate)
		wantMeets := p.API.Latency.P99 < rep.TargetP99
		if p.Clients > 1 {
			if want := ratio(p.API.Latency.P99, current); p.ToCurrent != want {
				t.Errorf("%s, %d clients: p99 %v × today's, want %v", p.Query, p.Clients, p.ToCurrent, want)
			}
			wantMeets = wantMeets && p.ToCurrent <= rep.MaxToCurrent
		}
		if p.MeetsTarget != wantMeets || len(p.PerRound) != 1 {
			t.Errorf("%s: meets %v with p99 %v; %d rounds", p.Query, p.MeetsTarget, p.API.Latency.P99, len(p.PerRound))
		}
		meets = meets && p.MeetsTarget
	}
	if rep.Memory.PeakRSS == 0 || rep.Memory.HeapLive == 0 {
		t.Errorf("memory not measured: %+v", rep.Memory)
	}
	if rep.MeetsTarget != meets || rep.TargetP99 != 50 || rep.MaxToCurrent != 3 {
		t.Errorf("meets target %v, phases say %v", rep.MeetsTarget, meets)
	}
	checkTable(t, rep, "at_seq", "as_of", "current", "(a) raw JetStream", "(b) ledger", "p99 ms", "events read/query", "p99/today's", "peak RSS")
}

func TestTimetravelRefusesBadFlags(t *testing.T) {
	checkRefuses(t, parseTimetravel, []string{"-clients", "0"}, []string{"-count", "-1"}, []string{"-rounds", "0"},
		[]string{"-events", "10"}, []string{"-more-clients", "-1"}, []string{"extra"})
}
