package bench

import (
	"os"
	"testing"
)

// TestRebuildRunsAndReports runs the rebuild benchmark end to end on a tiny
// ledger, through Run as the command does, and checks the report is whole.
func TestRebuildRunsAndReports(t *testing.T) {
	var rep RebuildReport
	runJSON(t, &rep, "rebuild", "-events", "3000", "-items", "100", "-products", "3", "-rounds", "2")
	if rep.Benchmark != "rebuild" || rep.Machine.NumCPU < 1 || rep.Rounds != 2 || rep.Batch != 4096 {
		t.Errorf("report header: %+v", rep)
	}
	l := rep.Ledger
	if l.Events != 3000 || l.Items != 100 || l.Products != 3 || l.OnRoadmap < 1 || l.Cached || l.GenerateSeconds <= 0 || l.BodyBytes <= 0 || l.StoredBytes <= 0 {
		t.Errorf("ledger: %+v", l)
	}
	checkReadSides(t, rep.Raw, rep.Project, rep.Ratio, rep.Target, rep.MeetsTarget, len(rep.PerRound))
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
	checkTable(t, &rep, "(a) raw JetStream read", "(b) ledger open to ready", "events/s", "peak RSS", "ratio (b)/(a):", "round")
}

func TestRebuildRefusesBadFlags(t *testing.T) {
	checkRefuses(t, parseRebuild, []string{"-events", "10"}, []string{"-rounds", "0"}, []string{"-batch", "0"},
		[]string{"-max-rss", "0"}, []string{"-keyed", "2"}, []string{"extra"})
}

// checkReadSides fails the test unless the two sides of a benchmark that
// read a 3000-event ledger in two rounds each read it twice, and the ratio
// and verdict follow from their rates and the target of 0.5.
func checkReadSides(t *testing.T, raw, ledger ReadSide, ratio, target float64, meetsTarget bool, rounds int) {
	t.Helper()
	for name, s := range map[string]ReadSide{"raw": raw, "ledger": ledger} {
		if s.Events != 6000 || s.Seconds <= 0 || s.Rate <= 0 || s.What == "" {
			t.Errorf("%s: %+v, want 6000 events (two rounds) at a positive rate", name, s)
		}
	}
	checkRatio(t, "", ratio, ledger.Rate, raw.Rate)
	if meetsTarget != (ratio >= target) || target != 0.5 {
		t.Errorf("meets target %v with ratio %v and target %v", meetsTarget, ratio, target)
	}
	if rounds != 2 {
		t.Errorf("%d rounds, want two", rounds)
	}
}
