// Package attest answers what an auditor asks of the ledger's signed
// checkpoints: the latest one, the proof that an event is in the tree of
// one, and the proof that the tree of a newer one extends the tree of an
// older one. It holds the rules of those answers (a proof is given only
// against a checkpoint the log records as signed, only for an event the
// checkpoint covers, and only while the tree continues the stream), so the
// API decodes and encodes around it.
//
// internal/proof is the tree and the cryptography; this package puts it
// beside the checkpoints the projections hold, so internal/proof need not
// know the projections.
package attest

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Tree is the Merkle tree of the log as the proofs read it. *proof.Tree
// implements it.
type Tree interface {
	InclusionProof(seq, size int64) (tlog.RecordProof, error)
	ConsistencyProof(from, to int64) (tlog.TreeProof, error)
	ReadHashes(indexes []int64) ([]tlog.Hash, error)
	// Err returns why the tree stopped growing, or nil.
	Err() error
}

var _ Tree = (*proof.Tree)(nil)

// Views hold the checkpoints the log records as signed.
type Views interface {
	Read(fn func(*projections.State))
}

var _ Views = (*projections.Current)(nil)

// Service answers proofs from a tree against the checkpoints of views.
type Service struct {
	tree  Tree
	views Views
}

// New returns the proofs of tree against the signed checkpoints of views.
func New(tree Tree, views Views) *Service {
	return &Service{tree: tree, views: views}
}

// Inclusion is the proof that the event at Seq is in the tree of a signed
// checkpoint: Leaf, the hash of its stored body, with Proof leads to the
// checkpoint's root.
type Inclusion struct {
	Seq        int64
	Checkpoint projections.CheckpointView
	Leaf       tlog.Hash
	Proof      tlog.RecordProof
}

// Consistency is the proof that the tree of checkpoint To extends the tree
// of checkpoint From: the events From covers are unchanged. Proof is empty
// from the empty tree, which every tree extends.
type Consistency struct {
	From, To projections.CheckpointView
	Proof    tlog.TreeProof
}

// notFound is an error of kind roadmap.ErrNotFound whose message is
// exactly what is missing, as the client reads it.
type notFound string

func (e notFound) Error() string        { return string(e) }
func (e notFound) Is(target error) bool { return target == roadmap.ErrNotFound }

// Latest returns the largest signed checkpoint (of equal sizes, the one
// recorded last). It returns an error of kind roadmap.ErrNotFound when no
// checkpoint was signed yet.
func (s *Service) Latest() (projections.CheckpointView, error) {
	var v projections.CheckpointView
	var ok bool
	s.views.Read(func(st *projections.State) { v, ok = st.LatestCheckpoint() })
	if !ok {
		return v, notFound("no checkpoint was signed yet")
	}
	return v, nil
}

// signed returns the checkpoints of the given sizes, read together (of
// several signed at one size, the one recorded first), or an error of kind
// roadmap.ErrNotFound naming the first size no checkpoint was signed at.
func (s *Service) signed(sizes ...int64) ([]projections.CheckpointView, error) {
	out := make([]projections.CheckpointView, len(sizes))
	missing := -1
	s.views.Read(func(st *projections.State) {
		for i, size := range sizes {
			var ok bool
			if out[i], ok = st.CheckpointOfSize(size); !ok {
				missing = i
				return
			}
		}
	})
	if missing >= 0 {
		return nil, notFound(fmt.Sprintf("no checkpoint of size %d was signed", sizes[missing]))
	}
	return out, nil
}

// Inclusion returns the proof that the event at sequence seq is in the tree
// of the checkpoint of size size. It returns an error of kind
// roadmap.ErrNotFound when no checkpoint of that size was signed or the
// event is not among the ones it covers (1 to size), one wrapping
// proof.ErrBroken when the tree no longer continues the stream, and the
// tree's error if it cannot read a hash.
func (s *Service) Inclusion(seq, size int64) (Inclusion, error) {
	signed, err := s.signed(size)
	if err != nil {
		return Inclusion{}, err
	}
	if seq < 1 || seq > size {
		return Inclusion{}, notFound(fmt.Sprintf("event %d is not in the checkpoint of size %d, which covers events 1 to %d", seq, size, size))
	}
	if err := s.tree.Err(); err != nil {
		return Inclusion{}, err
	}
	p, err := s.tree.InclusionProof(seq, size)
	if err != nil {
		return Inclusion{}, err
	}
	leaf, err := s.tree.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
	if err != nil {
		return Inclusion{}, err
	}
	return Inclusion{Seq: seq, Checkpoint: signed[0], Leaf: leaf[0], Proof: p}, nil
}

// Consistency returns the proof that the tree of the checkpoint of size to
// extends the tree of the checkpoint of size from. It returns an error of
// kind roadmap.ErrInvalid when from is larger than to (a tree only grows),
// of kind roadmap.ErrNotFound when no checkpoint of either size was
// signed, one wrapping proof.ErrBroken when the tree no longer continues
// the stream, and the tree's error if it cannot read a hash.
func (s *Service) Consistency(from, to int64) (Consistency, error) {
	if from > to {
		return Consistency{}, fmt.Errorf("%w: from (%d) must not be larger than to (%d): a tree only grows", roadmap.ErrInvalid, from, to)
	}
	signed, err := s.signed(from, to)
	if err != nil {
		return Consistency{}, err
	}
	if err := s.tree.Err(); err != nil {
		return Consistency{}, err
	}
	out := Consistency{From: signed[0], To: signed[1]}
	if from > 0 { // every tree extends the empty one, with no proof
		if out.Proof, err = s.tree.ConsistencyProof(from, to); err != nil {
			return Consistency{}, err
		}
	}
	return out, nil
}
