package bench

import "testing"

// TestFeedRunsAndReports runs the feed benchmark end to end with a tiny
// count and a few subscribers, and checks that every subscriber got every
// event and that the ratio is computed from the two rates.
func TestFeedRunsAndReports(t *testing.T) {
	var rep FeedReport
	runJSON(t, &rep, "feed", "-clients", "2", "-subscribers", "5", "-warmup", "100ms", "-count", "40")
	if rep.Benchmark != "feed" || rep.Subscribers != 5 || rep.Alone.Ops != 40 || rep.With.Ops != 40 {
		t.Fatalf("report: %+v", rep)
	}
	if !rep.Complete || rep.Disconnected != 0 || rep.Events < 40 || rep.Delivered != 5*rep.Events {
		t.Errorf("fan-out: %d events, %d delivered to 5 subscribers, complete %v, %d disconnected", rep.Events, rep.Delivered, rep.Complete, rep.Disconnected)
	}
	if rep.Lag.Ops == 0 || rep.FanoutRate <= 0 {
		t.Errorf("lag %+v, fan-out %v/s", rep.Lag, rep.FanoutRate)
	}
	checkRatio(t, "", rep.Ratio, rep.With.Rate, rep.Alone.Rate)
}
