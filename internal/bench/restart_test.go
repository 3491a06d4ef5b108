package bench

import "testing"

// TestRestartRunsAndReports runs the restart benchmark end to end on a tiny
// ledger, through Run as the command does, and checks the report is whole.
func TestRestartRunsAndReports(t *testing.T) {
	var rep RestartReport
	runJSON(t, &rep, "restart", "-events", "3000", "-items", "100", "-products", "3", "-rounds", "2", "-fresh-keyframes")
	if rep.Benchmark != "restart" || rep.Rounds != 2 || len(rep.PerRound) != 2 || rep.Ledger.Events != 3000 {
		t.Errorf("report header: %+v", rep)
	}
	for name, s := range map[string]ReadSide{"raw": rep.Raw, "replay": rep.Replay, "snapshot": rep.Snapshot} {
		if s.Events != 6000 || s.Seconds <= 0 || s.Rate <= 0 || s.What == "" {
			t.Errorf("%s: %+v, want 6000 events (two rounds) at a positive rate", name, s)
		}
	}
	checkRatio(t, "replay ", rep.ReplayRatio, rep.Replay.Rate, rep.Raw.Rate)
	checkRatio(t, "snapshot ", rep.SnapshotRatio, rep.Snapshot.Rate, rep.Raw.Rate)
	for _, rd := range rep.PerRound {
		if rd.Raw <= 0 || rd.Replay <= 0 || rd.Snapshot <= 0 || rd.SnapshotBytes <= 0 || rd.WriteSeconds <= 0 {
			t.Errorf("round %+v", rd)
		}
		// A keyframe every 1,000 events, each written by (b).
		if rd.Keyframes != 3 || rd.KeyframeBytes <= 0 {
			t.Errorf("round %+v: want 3 keyframe files", rd)
		}
		if rd.ReplayMemory.HeapLive == 0 || rd.SnapshotMemory.HeapLive == 0 {
			t.Errorf("round %+v: memory not measured", rd)
		}
	}
	if rep.MeetsTarget != (rep.SnapshotSeconds <= rep.Target) || rep.Target != 2 {
		t.Errorf("meets target %v with %v s and target %v", rep.MeetsTarget, rep.SnapshotSeconds, rep.Target)
	}
	checkTable(t, &rep, "(a) raw JetStream read", "(b) start to /readyz, no snapshot", "(c) start to /readyz, from a snapshot", "peak RSS", "keyframe dir MiB", "ratio of the rates")
}

func TestRestartRefusesBadFlags(t *testing.T) {
	checkRefuses(t, parseRestart, []string{"-events", "10"}, []string{"-rounds", "0"}, []string{"-target", "0"}, []string{"extra"})
}
