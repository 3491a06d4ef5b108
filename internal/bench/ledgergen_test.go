package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// TestGeneratedLedgerIsOneTheLedgerWouldWrite generates a small ledger and
// reads it back: every event verifies and extends its aggregate's chain,
// every decision is one the domain allows on the state before it, every
// review freezes the chain heads the projections compute, and the roadmap
// the projections rebuild is the one the generator meant.
func TestGeneratedLedgerIsOneTheLedgerWouldWrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := defaultLedgerSpec(3000)
	spec.Removals = 0.05 // more removals than usual, to see them come back
	dir := t.TempDir()
	info, err := generateLedger(ctx, dir, spec, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if info.Events != 3000 || info.Items != spec.Items || info.Products != 8 || info.Objectives != 40 || info.Reviews != spec.Reviews {
		t.Errorf("info %+v does not match spec %+v", info, spec)
	}
	if info.ByType[roadmap.TypeItemRemoved] == 0 || info.Keyed == 0 || info.OnRoadmap == 0 {
		t.Errorf("no removals, keyed events or roadmap: %s", info)
	}
	if info.BodyBytes < 500 || info.BodyBytes > 800 || info.StoredBytes <= info.BodyBytes {
		t.Errorf("%v bytes per body and %v stored, want about 500-800 and more stored", info.BodyBytes, info.StoredBytes)
	}

	// The bootstrap token's secret is keyed with the ledger's signing
	// key, made in its data directory.
	signer, _, err := benchSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	tokenKey := app.TokenKey(signer)

	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	state := projections.NewState()
	heads := map[string]string{}
	errDone := errors.New("done")
	err = log.Follow(ctx, 1, func(rec eventlog.Record) error {
		e, err := eventlog.Decode(rec.Body)
		if err != nil {
			t.Fatalf("sequence %d: %v", rec.Sequence, err)
		}
		key := e.AggregateType + "/" + e.AggregateID
		if e.PrevHash != heads[key] {
			t.Fatalf("sequence %d breaks the chain of %s", rec.Sequence, key)
		}
		heads[key] = e.Hash
		ev, err := projections.Decode(rec)
		if err != nil || ev.Data == nil {
			t.Fatalf("sequence %d: %v (%s)", rec.Sequence, err, e.Type)
		}
		if tok, ok := ev.Data.(*roadmap.TokenCreated); (rec.Sequence == 1) != ok ||
			ok && (!tok.Bootstrap || tok.Name != "bootstrap" || tok.Role != roadmap.RoleAdmin || tok.SecretHMAC != tokenKey.Hash(benchToken) || tok.SecretSHA256 != "") {
			t.Fatalf("sequence %d is a %s (%s); want the bootstrap admin token with the bench's secret first, and no other token", rec.Sequence, e.Type, rec.Body)
		}
		checkDecision(t, state, ev)
		state.Apply(ev)
		if rec.Sequence == uint64(spec.Events) {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatal(err)
	}
	if got := state.Roadmap("").Horizons.Len(); got != info.OnRoadmap {
		t.Errorf("the projections put %d items on the roadmap, the generator %d", got, info.OnRoadmap)
	}
}

// checkDecision fails the test unless ev is a decision the domain would
// have taken on s.
func checkDecision(t *testing.T, s *projections.State, ev projections.Event) {
	t.Helper()
	id := ev.Envelope.AggregateID
	it, known := s.Item(id)
	linkable := func(ids []string) {
		for _, o := range ids {
			if obj, ok := s.Objective(o); !ok || obj.Status != roadmap.StatusActive {
				t.Fatalf("sequence %d links objective %s, which is unknown or retired", ev.Sequence, o)
			}
		}
	}
	switch e := ev.Data.(type) {
	case *roadmap.ItemProposed:
		if known {
			t.Fatalf("sequence %d proposes item %s again", ev.Sequence, id)
		}
		linkable(e.ObjectiveIDs)
		if e.ParentID != "" {
			if p, ok := s.Item(e.ParentID); !ok || p.Kind != roadmap.KindInitiative || p.Product != e.Product {
				t.Fatalf("sequence %d: parent %s is not an initiative of %s", ev.Sequence, e.ParentID, e.Product)
			}
		}
	case *roadmap.ItemPrioritised:
		if !known || it.Status == roadmap.StatusOnRoadmap {
			t.Fatalf("sequence %d prioritises item %s, which is %q", ev.Sequence, id, it.Status)
		}
	case *roadmap.ItemReprioritised:
		if !known || it.Status != roadmap.StatusOnRoadmap {
			t.Fatalf("sequence %d reprioritises item %s, which is %q", ev.Sequence, id, it.Status)
		}
		rank, size := s.Position(id)
		same := e.Rank == nil || min(*e.Rank, size) == rank
		if e.Horizon == it.Horizon && same && e.Score.Equal(it.Score) && sameIDs(e.ObjectiveIDs, it.ObjectiveIDs) {
			t.Fatalf("sequence %d reprioritises item %s without changing anything: %s (rank %d of %d, score %+v)", ev.Sequence, id, ev.Envelope.Data, rank, size, it.Score)
		}
		if !sameIDs(e.ObjectiveIDs, it.ObjectiveIDs) {
			linkable(e.ObjectiveIDs)
		}
	case *roadmap.ItemRemoved:
		if !known || it.Status != roadmap.StatusOnRoadmap {
			t.Fatalf("sequence %d removes item %s, which is %q", ev.Sequence, id, it.Status)
		}
	case *roadmap.ObjectiveRetired:
		if o, ok := s.Objective(id); !ok || o.Status != roadmap.StatusActive {
			t.Fatalf("sequence %d retires objective %s, which is not active", ev.Sequence, id)
		}
	case *roadmap.ReviewOpened:
		if other, ok := s.ReviewForPeriod(e.Period); ok {
			t.Fatalf("sequence %d opens a second review (%s) for %s", ev.Sequence, other, e.Period)
		}
	case *roadmap.ReviewClosed:
		if e.Sequence != ev.Sequence-1 || e.Heads != s.Heads() {
			t.Fatalf("sequence %d closes a review at %d with heads %+v; the projections have %+v", ev.Sequence, e.Sequence, e.Heads, s.Heads())
		}
	}
	if ev.Envelope.Time.Before(s.At) {
		t.Fatalf("sequence %d goes back in time", ev.Sequence)
	}
}

// genTokenKey is the token key of the generators that write no ledger.
var genTokenKey = roadmap.NewTokenKey(bytes.Repeat([]byte{1}, roadmap.TokenKeySize))

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := newGenerator(defaultLedgerSpec(2000), genTokenKey), newGenerator(defaultLedgerSpec(2000), genTokenKey)
	for seq := uint64(1); seq <= 2000; seq++ {
		ma, err := a.next(seq)
		if err != nil {
			t.Fatal(err)
		}
		mb, _ := b.next(seq)
		if !bytes.Equal(ma.Data, mb.Data) || ma.Subject != mb.Subject {
			t.Fatalf("sequence %d differs between two runs of one spec", seq)
		}
	}
}

// TestGeneratorStopsWhereTheDomainRefuses checks that the generator's events
// are the domain's decisions, taken against its state: once the items it
// has on the roadmap are taken off it in that state, behind its back, the
// next decision on one of them is refused, and the generator stops there
// instead of writing it.
func TestGeneratorStopsWhereTheDomainRefuses(t *testing.T) {
	g := newGenerator(defaultLedgerSpec(2000), genTokenKey)
	for seq := uint64(1); seq <= 1500; seq++ {
		if _, err := g.next(seq); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range g.onRoadmap {
		g.state.Apply(projections.Event{
			Record: eventlog.Record{Sequence: 1500, Envelope: eventlog.Envelope{AggregateType: "item", AggregateID: g.items[i].id}},
			Data:   &roadmap.ItemRemoved{Rationale: "Taken off behind the generator's back."},
		})
	}
	for seq := uint64(1501); seq <= 2000; seq++ {
		if _, err := g.next(seq); err != nil {
			if !errors.Is(err, roadmap.ErrConflict) {
				t.Fatalf("sequence %d: %v, want the domain's refusal", seq, err)
			}
			t.Log(err)
			return
		}
	}
	t.Fatal("the generator decided on items that are not on the roadmap")
}

func TestLedgerCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "ledger")
	spec := defaultLedgerSpec(1000)
	p, err := prepareLedger(ctx, spec, dir, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if p.Info.Cached || p.Info.GenerateSeconds <= 0 {
		t.Errorf("first run: %+v, want a generated ledger", p.Info)
	}
	p.Close()
	p, err = prepareLedger(ctx, spec, dir, "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Info.Cached || p.Info.Events != 1000 {
		t.Errorf("second run: %+v, want the cached ledger", p.Info)
	}
	spec.Seed = 2
	if p, err = prepareLedger(ctx, spec, dir, "", io.Discard); err != nil || p.Info.Cached {
		t.Errorf("another seed: %v, cached %v; want a new ledger", err, p != nil && p.Info.Cached)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareLedger(ctx, spec, other, "", io.Discard); err == nil {
		t.Error("a directory holding something else was taken for a ledger cache")
	}
	if _, err := os.Stat(filepath.Join(other, "precious")); err != nil {
		t.Errorf("the directory's content was touched: %v", err)
	}
}
