package bench

import (
	"testing"
)

// TestReadRunsAndReports runs the read benchmark end to end on a tiny
// roadmap with a fixed count, and checks the report is whole.
func TestReadRunsAndReports(t *testing.T) {
	var rep ReadReport
	runJSON(t, &rep, "read", "-items", "40", "-clients", "2", "-warmup", "50ms", "-count", "30", "-rounds", "2")
	if rep.Benchmark != "read" || rep.Request != "GET /v1/roadmap" || rep.OnRoadmap != 40 || rep.Clients != 2 || rep.Count != 30 || rep.Rounds != 2 {
		t.Errorf("report header: %+v", rep)
	}
	if rep.Ledger.Events != 400 || rep.Ledger.OnRoadmap != 40 || rep.AnswerBytes < 40*100 {
		t.Errorf("ledger %+v with a %d-byte answer", rep.Ledger, rep.AnswerBytes)
	}
	for name, s := range map[string]LoadSide{"echo": rep.Echo, "api": rep.API, "board": rep.Board} {
		checkLoadSide(t, name, s, 60)
	}
	checkRatio(t, "", rep.Ratio, rep.API.Rate, rep.Echo.Rate)
	if rep.BoardBytes < 40*200 || rep.BoardTimes <= 0 {
		t.Errorf("the board: %d bytes, %v times the API's latency", rep.BoardBytes, rep.BoardTimes)
	}
	if rep.TargetP99 != 10 || rep.MeetsTarget != (rep.API.Latency.P99 < rep.TargetP99) {
		t.Errorf("meets target %v with p99 %v and target %v", rep.MeetsTarget, rep.API.Latency.P99, rep.TargetP99)
	}
	if len(rep.PerRound) != 2 {
		t.Errorf("per round %+v, want two", rep.PerRound)
	}
	checkTable(t, &rep, "(a) echo from memory", "(b) ledger", "(c) board", "p99 ms", "ratio (b)/(a):", "times (b)'s", "round")
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
	checkRefuses(t, parseRead, []string{"-items", "0"}, []string{"-clients", "0"}, []string{"-duration", "0"},
		[]string{"-events", "50"}, []string{"extra"})
}
