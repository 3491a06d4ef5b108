package attest

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// PublicView is a public view as the ledger vouches for it: its published
// entries at one ledger position, each with the leaf hash of the event
// that published it, and the latest signed checkpoint.
type PublicView struct {
	View     projections.SavedView
	Sequence uint64
	// Checkpoint is the latest signed checkpoint, nil before the first.
	Checkpoint *projections.CheckpointView
	Entries    []PublicEntry
}

// PublicEntry is one published item of a public view.
type PublicEntry struct {
	projections.ViewEntry
	// Leaf is the hash of the stored body of the event that published it.
	Leaf tlog.Hash
	// Proven reports whether the checkpoint covers that event, so that an
	// inclusion proof of it can be given.
	Proven bool
}

// Wait waits until every read model, the tree included, has applied a
// sequence.
type Wait func(ctx context.Context, seq uint64) error

// Public returns the public view with the given slug as the ledger stands,
// once wait says the tree has the events it shows. It returns an error of
// kind roadmap.ErrNotFound when there is no public view of that slug (an
// internal view is not found either: the public learns nothing of it),
// and the tree's error if it cannot read a hash.
func (s *Service) Public(ctx context.Context, slug string, wait Wait) (PublicView, error) {
	var out PublicView
	found := false
	s.views.Read(func(st *projections.State) {
		v, ok := st.SavedViewBySlug(slug)
		if !ok || v.Audience != roadmap.AudiencePublic {
			return
		}
		found = true
		out.View, out.Sequence = v, st.Sequence
		if cp, ok := st.LatestCheckpoint(); ok {
			out.Checkpoint = &cp
		}
		for _, e := range st.ViewEntries(v.ViewSpec) {
			out.Entries = append(out.Entries, PublicEntry{ViewEntry: e})
		}
	})
	if !found {
		return PublicView{}, notFound(fmt.Sprintf("no public view %q", slug))
	}
	if err := wait(ctx, out.Sequence); err != nil {
		return PublicView{}, err
	}
	if err := s.tree.Err(); err != nil {
		return PublicView{}, err
	}
	for i := range out.Entries {
		e := &out.Entries[i]
		seq := int64(e.Published.Sequence)
		leaf, err := s.tree.ReadHashes([]int64{tlog.StoredHashIndex(0, seq-1)})
		if err != nil {
			return PublicView{}, err
		}
		e.Leaf = leaf[0]
		e.Proven = out.Checkpoint != nil && seq <= out.Checkpoint.Size
	}
	return out, nil
}

// PublicProof returns the proof that the event at seq, which published an
// entry the public view slug shows now, is in the tree of the checkpoint of
// size size. It returns an error of kind roadmap.ErrNotFound when the view
// is not public, no entry it shows was published by that event, or
// Inclusion finds none; a proof is never given of another event, so the
// public route reveals nothing but hashes of what the page shows.
func (s *Service) PublicProof(slug string, seq, size int64) (Inclusion, error) {
	shown := false
	s.views.Read(func(st *projections.State) {
		v, ok := st.SavedViewBySlug(slug)
		if !ok || v.Audience != roadmap.AudiencePublic {
			return
		}
		for _, e := range st.ViewEntries(v.ViewSpec) {
			if int64(e.Published.Sequence) == seq {
				shown = true
				return
			}
		}
	})
	if !shown {
		return Inclusion{}, notFound(fmt.Sprintf("the public view %q shows no entry published by event %d", slug, seq))
	}
	return s.Inclusion(seq, size)
}

// Text is the text the ledger signs for v (proof.PublicText), nil when v
// names no checkpoint: a page is vouched for against one.
func (v PublicView) Text() (string, bool) {
	if v.Checkpoint == nil {
		return "", false
	}
	root, err := tlog.ParseHash(v.Checkpoint.Root)
	if err != nil {
		return "", false
	}
	entries := make([]proof.PublicEntry, len(v.Entries))
	for i, e := range v.Entries {
		entries[i] = proof.PublicEntry{Seq: int64(e.Published.Sequence), Leaf: e.Leaf}
		entries[i].Summary, entries[i].Horizon, entries[i].Objectives = e.Shown(v.View.ViewSpec)
	}
	cp := proof.Checkpoint{Size: v.Checkpoint.Size, Root: root}
	return proof.PublicText(v.View.Slug, v.Sequence, cp, entries), true
}

// Shown returns what a public view shows of the entry: the summary, the
// horizon and the objectives' titles, each "" or nil when the view does
// not show it.
func (e PublicEntry) Shown(v roadmap.ViewSpec) (summary, horizon string, objectives []string) {
	if v.Shows("summary") {
		summary = e.Summary
	}
	if v.Shows("horizon") {
		horizon = string(e.Horizon)
	}
	if v.Shows("objectives") {
		objectives = []string{}
		for _, o := range e.Objectives {
			objectives = append(objectives, o.Title)
		}
	}
	return summary, horizon, objectives
}
