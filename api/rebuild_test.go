package api_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Every read route answers the same, byte for byte, from the read models a
// restart rebuilds from the log as from the live ones: the roadmap and its
// time travel, the backlog, histories and why chains, the audit trail in
// every format, reviews, diffs and packs, changes, checkpoints and proofs,
// the export manifest, the raw log, capacity and tokens (but for the
// in-memory time of a token's last use). cmd/roadmap's
// TestEveryReadAnswersTheSameAfterAKill does the same across SIGKILL.
func TestEveryReadAnswersTheSameAfterARestart(t *testing.T) {
	dir := t.TempDir()
	cfg := app.Config{DataDir: dir, Approvals: roadmap.ApprovalsMajor, KeyframeEvery: 4}
	l := startLedgerWith(t, cfg)
	s := apptest.BuildScenario(t, l.client, l.URL, adminSecret, thisMonth(), nextMonth())
	before := apptest.ReadEverything(t, l.client, l.URL, adminSecret, s)
	l.stop()

	l = startLedgerWith(t, cfg)
	apptest.SameAnswers(t, "after a restart", before, apptest.ReadEverything(t, l.client, l.URL, adminSecret, s))
}
