package bench

import "testing"

// TestImportRunsAndReports runs the import benchmark end to end on a small
// file, through Run as the command does, and checks the report is whole.
func TestImportRunsAndReports(t *testing.T) {
	var rep ImportReport
	runJSON(t, &rep, "import", "-rows", "300", "-rounds", "2")
	if rep.Benchmark != "import" || rep.Rows != 300 || rep.Events != 450 || rep.Rounds != 2 || len(rep.PerRound) != 2 || rep.FileBytes <= 0 {
		t.Errorf("report header: %+v", rep)
	}
	for name, s := range map[string]Pooled{"raw": rep.Raw, "import": rep.Import} {
		if s.Events != 900 || s.Seconds <= 0 || s.Rate <= 0 || s.What == "" {
			t.Errorf("%s: %+v, want 900 events (two rounds) at a positive rate", name, s)
		}
	}
	checkRatio(t, "", rep.Ratio, rep.Import.Rate, rep.Raw.Rate)
	if rep.RowsPerSec <= 0 {
		t.Errorf("rows per second %v", rep.RowsPerSec)
	}
	checkTable(t, &rep, "(a) raw JetStream", "(b) import", "rows/s", "ratio (b)/(a)", "round")
}

func TestImportBenchRefusesBadFlags(t *testing.T) {
	checkRefuses(t, parseImport, []string{"-rows", "1"}, []string{"-rows", "200001"}, []string{"-payload", "10"}, []string{"-rounds", "0"}, []string{"extra"})
}
