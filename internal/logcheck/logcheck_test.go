package logcheck_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// appender appends item events to a log the way the ledger does, keeping
// each item's version and chain head.
type appender struct {
	t       *testing.T
	log     *eventlog.Log
	version map[string]uint64
	head    map[string]string
	n       int
}

func (a *appender) append(item, id, rationale, key string, prevHash *string) uint64 {
	a.t.Helper()
	a.n++
	var data roadmap.Event = &roadmap.ItemRemoved{Rationale: rationale, Evidence: []string{}}
	if a.version[item] == 0 {
		data = &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: rationale, Kind: roadmap.KindIdea, Product: "default", ObjectiveIDs: []string{}}}
	}
	raw, _ := json.Marshal(data)
	e := &eventlog.Envelope{ID: id, Type: data.EventType(), SchemaVersion: 1, AggregateType: "item", AggregateID: item,
		Time: time.Date(2026, 11, 1, 0, 0, a.n, 0, time.UTC), Actor: "test", Data: raw}
	prev := a.head[item]
	if prevHash != nil {
		prev = *prevHash
	}
	ack, err := a.log.Append(context.Background(), e, prev, eventlog.AppendOptions{ExpectedSequence: a.version[item], IdempotencyKey: key, RequestHash: "h"})
	if err != nil {
		a.t.Fatal(err)
	}
	a.version[item], a.head[item] = ack.Sequence, e.Hash
	return ack.Sequence
}

const (
	itemA = "01a205a0-0000-7000-8000-00000000000a"
	itemB = "01a205a0-0000-7000-8000-00000000000b"
)

func openLog(t *testing.T) (*eventlog.Log, *appender) {
	t.Helper()
	log, err := eventlog.Open(context.Background(), eventlog.Config{DataDir: t.TempDir(), DuplicateWindow: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(log.Close)
	return log, &appender{t: t, log: log, version: map[string]uint64{}, head: map[string]string{}}
}

func TestCheckPassesASoundLog(t *testing.T) {
	log, a := openLog(t)
	a.append(itemA, "01a205a0-0000-7000-8000-000000000001", "A", "", nil)
	a.append(itemB, "01a205a0-0000-7000-8000-000000000002", "B", "k1", nil)
	a.append(itemA, "01a205a0-0000-7000-8000-000000000003", "why", "k2", nil)
	l, err := logcheck.Check(context.Background(), log)
	if err != nil {
		t.Fatal(err)
	}
	if l.Last != 3 || len(l.Events) != 3 || len(l.Aggregates["item/"+itemA]) != 2 {
		t.Errorf("read %d events (last %d), aggregates %v", len(l.Events), l.Last, l.Aggregates)
	}
	if prev, ok := l.Previous(3); !ok || prev != 1 {
		t.Errorf("previous of 3: %d %v, want 1", prev, ok)
	}
	if tags := l.Tags(); len(tags["why"]) != 1 || tags["why"][0] != 3 {
		t.Errorf("tags %v", tags)
	}
	h, _, err := l.Views()
	if err != nil || !strings.HasPrefix(string(h), `{"sequence":3,`) || !strings.HasSuffix(string(h), "}\n") {
		t.Errorf("views %s %v", h, err)
	}
}

func TestCheckFindsEveryBreak(t *testing.T) {
	log, a := openLog(t)
	a.append(itemA, "01a205a0-0000-7000-8000-000000000001", "A", "k1", nil)
	broken := "0000"
	a.append(itemA, "01a205a0-0000-7000-8000-000000000002", "chain break", "", &broken)
	a.append(itemB, "01a205a0-0000-7000-8000-000000000002", "B", "k2", nil) // the same event id
	time.Sleep(200 * time.Millisecond)                                      // past the duplicate window
	a.append(itemB, "01a205a0-0000-7000-8000-000000000004", "again", "k1", nil)
	// Bytes that are not the canonical encoding.
	if _, err := log.JetStream().Publish(context.Background(), eventlog.Subject("item", itemB), []byte(`{"id": "x"}`)); err != nil {
		t.Fatal(err)
	}
	_, err := logcheck.Check(context.Background(), log)
	if err == nil {
		t.Fatal("Check passed a broken log")
	}
	for _, want := range []string{
		"chain of item/" + itemA,
		"event id 01a205a0-0000-7000-8000-000000000002 is already stored at sequence 2",
		`idempotency key "k1" is already stored at sequence 1`,
		"sequence 5: event does not verify",
		"head of item/" + itemB,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check's report lacks %q:\n%v", want, err)
		}
	}
}

// TestTagNamesEveryDecisionOfTheSuites checks the text Tag finds in each
// kind of event the reliability suites send.
func TestTagNamesEveryDecisionOfTheSuites(t *testing.T) {
	placement := roadmap.Placement{Horizon: roadmap.Now, Rationale: "into now"}
	for want, data := range map[string]roadmap.Event{
		"an objective":   &roadmap.ObjectiveDefined{Title: "an objective"},
		"an idea":        &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "an idea"}},
		"placed":         &roadmap.ItemPrioritised{Placement: roadmap.Placement{Rationale: "placed"}},
		"moved":          &roadmap.ItemReprioritised{Placement: roadmap.Placement{Rationale: "moved"}},
		"dropped":        &roadmap.ItemRemoved{Rationale: "dropped"},
		"into now":       &roadmap.ChangeProposed{Decision: roadmap.TypeItemPrioritised, Placement: &placement},
		"out of now":     &roadmap.ChangeProposed{Decision: roadmap.TypeItemRemoved, Removal: &roadmap.ItemRemoved{Rationale: "out of now"}},
		"approved":       &roadmap.ChangeApproved{Rationale: "approved"},
		"rejected":       &roadmap.ChangeRejected{Rationale: "rejected"},
		"a review":       &roadmap.ReviewOpened{Period: "2026-11", Title: "a review"},
		"closed":         &roadmap.ReviewClosed{Notes: "closed"},
		"a token":        &roadmap.TokenCreated{Name: "a token"},
		"no longer used": &roadmap.TokenRevoked{Reason: "no longer used"},
		"":               &roadmap.CheckpointSigned{},
	} {
		if got := logcheck.Tag(projections.Event{Data: data}); got != want {
			t.Errorf("Tag of a %s is %q, want %q", data.EventType(), got, want)
		}
	}
}
