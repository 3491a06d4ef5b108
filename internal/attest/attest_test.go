package attest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/attest"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// auditedLedger is a running ledger and the proofs of it.
type auditedLedger struct {
	t      testing.TB
	ctx    context.Context
	app    *app.App
	proofs *attest.Service
}

// openLedger starts a ledger on an embedded JetStream in a temporary
// directory.
func openLedger(t testing.TB) *auditedLedger {
	t.Helper()
	a, ctx := apptest.Open(t, app.Config{})
	return &auditedLedger{t: t, ctx: ctx, app: a, proofs: attest.New(a.Tree, a.Current)}
}

var auditor = ledger.Request{Actor: "auditor@example.com"}

// signed is a checkpoint as the log records it, and as an auditor opens it
// with the ledger's verifier key.
type signed struct {
	view projections.CheckpointView
	cp   proof.Checkpoint
}

// signAfter records n decisions (objectives, one event each), then signs
// a checkpoint of the ledger as it stands.
func (l *auditedLedger) signAfter(n int) signed {
	l.t.Helper()
	for i := 0; i < n; i++ {
		title := fmt.Sprintf("Objective %d at %d", i, l.app.Current.Sequence())
		if _, err := l.app.Ledger.DefineObjective(l.ctx, auditor, roadmap.DefineObjective{Title: title, KPI: "k", Target: "t"}); err != nil {
			l.t.Fatal(err)
		}
	}
	res, err := l.app.Ledger.SignCheckpoint(l.ctx, auditor)
	if err != nil {
		l.t.Fatalf("sign a checkpoint: %v", err)
	}
	cp, err := proof.OpenCheckpoint([]byte(res.Answer.Note), l.app.VerifierKey)
	if err != nil {
		l.t.Fatalf("the checkpoint's note does not open: %v", err)
	}
	return signed{res.Answer, cp}
}

func TestInclusionProofsHoldAgainstSignedCheckpoints(t *testing.T) {
	l := openLedger(t)
	first := l.signAfter(6)
	second := l.signAfter(4)
	bodies := apptest.StoredBodies(t, l.app)

	for _, c := range []signed{first, second} {
		for _, seq := range []int64{1, 2, first.cp.Size / 2, first.cp.Size, c.cp.Size} {
			got, err := l.proofs.Inclusion(seq, c.cp.Size)
			if err != nil {
				t.Fatalf("event %d in the checkpoint of %d: %v", seq, c.cp.Size, err)
			}
			if got.Seq != seq || got.Checkpoint.ID != c.view.ID || got.Leaf != tlog.RecordHash(bodies[seq]) {
				t.Errorf("event %d in %d: seq %d, checkpoint %s, leaf %s; want checkpoint %s and the hash of the stored body",
					seq, c.cp.Size, got.Seq, got.Checkpoint.ID, got.Leaf, c.view.ID)
			}
			if err := proof.VerifyInclusion(c.cp, seq, bodies[seq], got.Proof); err != nil {
				t.Errorf("event %d in the checkpoint of %d does not verify: %v", seq, c.cp.Size, err)
			}
			changed := append(bytes.Clone(bodies[seq]), ' ')
			if err := proof.VerifyInclusion(c.cp, seq, changed, got.Proof); !errors.Is(err, proof.ErrProof) {
				t.Errorf("event %d with changed bytes: %v, want ErrProof", seq, err)
			}
		}
	}
}

func TestConsistencyProofsTieCheckpointsTogether(t *testing.T) {
	l := openLedger(t)
	first, second := l.signAfter(5), l.signAfter(7)
	cp1, cp2 := first.cp, second.cp

	got, err := l.proofs.Consistency(cp1.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if got.From.ID != first.view.ID || got.To.ID != second.view.ID {
		t.Errorf("from %s to %s, want %s to %s", got.From.ID, got.To.ID, first.view.ID, second.view.ID)
	}
	if err := proof.VerifyConsistency(cp1, cp2, got.Proof); err != nil {
		t.Errorf("consistency from %d to %d: %v", cp1.Size, cp2.Size, err)
	}
	forged := cp1
	forged.Root = tlog.RecordHash([]byte("another history"))
	if err := proof.VerifyConsistency(forged, cp2, got.Proof); !errors.Is(err, proof.ErrProof) {
		t.Errorf("consistency from another history: %v, want ErrProof", err)
	}
	same, err := l.proofs.Consistency(cp2.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyConsistency(cp2, cp2, same.Proof); err != nil {
		t.Errorf("consistency of a checkpoint with itself: %v", err)
	}
}

func TestTheLatestCheckpointIsTheLargest(t *testing.T) {
	l := openLedger(t)
	_, err := l.proofs.Latest()
	if !errors.Is(err, roadmap.ErrNotFound) || err.Error() != "no checkpoint was signed yet" {
		t.Errorf("the latest checkpoint of a ledger that signed none: %v, want not found", err)
	}
	l.signAfter(2)
	second := l.signAfter(1)
	if latest, err := l.proofs.Latest(); err != nil || latest.ID != second.view.ID || latest.Note != second.view.Note {
		t.Errorf("latest %+v, %v; want the second checkpoint %s", latest, err, second.view.ID)
	}
}

func TestProofsAreRefusedOutsideTheSignedCheckpoints(t *testing.T) {
	l := openLedger(t)
	size := l.signAfter(4).cp.Size
	for _, tc := range []struct {
		name string
		err  error
		kind error
		want string
	}{
		{"An inclusion in a size never signed", errOf(l.proofs.Inclusion(1, size-1)), roadmap.ErrNotFound, fmt.Sprintf("no checkpoint of size %d was signed", size-1)},
		{"An inclusion of an event past the checkpoint", errOf(l.proofs.Inclusion(size+1, size)), roadmap.ErrNotFound,
			fmt.Sprintf("event %d is not in the checkpoint of size %d, which covers events 1 to %d", size+1, size, size)},
		{"An inclusion of event 0", errOf(l.proofs.Inclusion(0, size)), roadmap.ErrNotFound,
			fmt.Sprintf("event 0 is not in the checkpoint of size %d, which covers events 1 to %d", size, size)},
		{"A consistency from a size never signed", errOf(l.proofs.Consistency(1, size)), roadmap.ErrNotFound, "no checkpoint of size 1 was signed"},
		{"A consistency to a size never signed", errOf(l.proofs.Consistency(size, size+1)), roadmap.ErrNotFound, fmt.Sprintf("no checkpoint of size %d was signed", size+1)},
		{"A consistency from a larger tree", errOf(l.proofs.Consistency(size, 1)), roadmap.ErrInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.kind) || (tc.want != "" && tc.err.Error() != tc.want) {
				t.Errorf("%v, want %v: %q", tc.err, tc.kind, tc.want)
			}
		})
	}
}

// errOf returns the error of a call's answer.
func errOf[T any](_ T, err error) error { return err }

// TestABrokenTreeProvesNothing breaks the tree as a gap in the stream would:
// no proof is given, even against a checkpoint signed before.
func TestABrokenTreeProvesNothing(t *testing.T) {
	l := openLedger(t)
	cp := l.signAfter(3).cp
	if err := l.app.Tree.Append(uint64(l.app.Current.Sequence())+2, []byte(`{"id":"x"}`)); !errors.Is(err, proof.ErrBroken) {
		t.Fatalf("append after a gap: %v", err)
	}
	if err := errOf(l.proofs.Inclusion(1, cp.Size)); !errors.Is(err, proof.ErrBroken) {
		t.Errorf("inclusion in a broken tree: %v, want ErrBroken", err)
	}
	if err := errOf(l.proofs.Consistency(cp.Size, cp.Size)); !errors.Is(err, proof.ErrBroken) {
		t.Errorf("consistency in a broken tree: %v, want ErrBroken", err)
	}
	// What the log never signed is still not found first.
	if err := errOf(l.proofs.Inclusion(1, cp.Size-1)); !errors.Is(err, roadmap.ErrNotFound) {
		t.Errorf("inclusion in a size never signed, in a broken tree: %v, want not found", err)
	}
}
