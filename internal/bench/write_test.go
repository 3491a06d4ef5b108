package bench

import "testing"

// TestWriteRunsAndReports runs the write benchmark end to end with a tiny
// count, through Run as the command does, and checks the report is whole:
// both rates measured, the ratio computed from them, latencies in order, and
// the data directories gone afterwards.
func TestWriteRunsAndReports(t *testing.T) {
	var rep WriteReport
	runJSON(t, &rep, "write", "-clients", "2", "-warmup", "100ms", "-count", "40", "-disk-probe", "50ms")
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
	checkRatio(t, "", rep.Ratio, rep.API.Rate, rep.Raw.Rate)
	if rep.MeetsTarget != (rep.Ratio >= rep.Target) {
		t.Errorf("meets target %v with ratio %v and target %v", rep.MeetsTarget, rep.Ratio, rep.Target)
	}
	if len(rep.PerRound) != 1 || rep.PerRound[0].Raw != rep.Raw.Rate || rep.PerRound[0].API != rep.API.Rate {
		t.Errorf("per round %+v, want the one round's rates", rep.PerRound)
	}
	checkTable(t, &rep, "(a) raw JetStream", "(b) HTTP API", "p50 ms", "p99 ms", "ratio (b)/(a):", rep.Machine.GOOS+"/"+rep.Machine.GOARCH)
}
