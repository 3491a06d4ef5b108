package main

import (
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Every read route answers the same, byte for byte, after the server is
// killed with SIGKILL and started again on its data directory as it did
// before: the read models rebuilt from what JetStream kept are the live
// ones. (api's TestEveryReadAnswersTheSameAfterARestart does the same
// across a clean restart.)
func TestEveryReadAnswersTheSameAfterAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	c := &crashRun{t: t, bin: buildRoadmap(t), dir: t.TempDir(), approvals: roadmap.ApprovalsMajor}
	p, client, base := c.start()
	if p == nil {
		t.FailNow()
	}
	now := time.Now().UTC()
	thisMonth, nextMonth := now.Format("2006-01"), time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	s := apptest.BuildScenario(t, client, base, crashAdmin, thisMonth, nextMonth)
	before := apptest.ReadEverything(t, client, base, crashAdmin, s)
	p.kill()
	client.CloseIdleConnections()

	p, client, base = c.start()
	if p == nil {
		t.FailNow()
	}
	defer client.CloseIdleConnections()
	apptest.SameAnswers(t, "after SIGKILL", before, apptest.ReadEverything(t, client, base, crashAdmin, s))
}
