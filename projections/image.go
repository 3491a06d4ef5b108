package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Images: the read models frozen at one sequence, encoded for a restart to
// load instead of replaying the log up to that sequence. The file that
// holds them, and the checks that it may be trusted, are internal/snapshot's;
// this file only turns a read model into bytes and back.
//
// An image is taken while the runner applies nothing (Runner.Hold), so every
// read model is at the same sequence, and it is cheap to take: a clone of the
// live state (views are never changed in place), and slices that only ever
// grow. It is encoded afterwards, while the runner goes on.

// ErrImage marks bytes that are not an image of a read model this version
// of the ledger writes.
var ErrImage = errors.New("not an image of the read models")

// jsonOptions keep what a round trip through JSON would otherwise blur:
// a nil slice or map stays nil, an empty one stays empty.
var jsonOptions = jsonv2.JoinOptions(jsonv2.FormatNilSliceAsNull(true), jsonv2.FormatNilMapAsNull(true))

// CurrentImage is Current frozen at one sequence. The keyframes are not
// part of it: they are its Keyframes' (in files of their own when the
// ledger has a data directory), and a keyframe an image's Current lacks is
// made again by the first time travel that passes it.
type CurrentImage struct {
	every uint64
	state *State
	hist  historyImage
}

// Image returns Current as it stands. The answers remembered for writes
// (recent.go) are left out: a restored ledger answers a retry of an older
// write by travelling back to it, as it does for any write older than them.
func (c *Current) Image() CurrentImage {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return CurrentImage{every: c.every, state: c.state.Clone(), hist: c.hist.image()}
}

// Sequence returns the sequence the image is at.
func (m CurrentImage) Sequence() uint64 { return m.state.Sequence }

// currentDoc is the JSON part of an image of Current: the live state, with
// its item views.
type currentDoc struct {
	Every uint64
	IDs   []string // item handle → id
	Items []itemDoc
	Live  stateDoc
}

// itemDoc is an item view with what ItemView does not export; its handle is
// its place in IDs.
type itemDoc struct {
	View     *ItemView
	Evidence []string
}

// stateDoc is a State; Items lists, by handle, the index in the document's
// Items of each item's view.
type stateDoc struct {
	Sequence         uint64
	At, Began        time.Time
	Items            []uint32
	Objectives       map[string]*ObjectiveView
	Reviews          map[string]*ReviewView
	Horizons         map[string]map[roadmap.Horizon][]uint32
	Checkpoints      map[string]*CheckpointView
	Tokens           map[string]*TokenView
	TokensByHMAC     map[string]string // the keyed hash → the token's id
	TokensBySHA256   map[string]string
	Changes          map[string]*ChangeView
	Capacity         map[string]*CapacityView
	Webhooks         map[string]*WebhookView
	Views            map[string]*SavedView
	Measurements     map[string][]Measurement
	WithDependencies int
	Children         map[string]int
}

// AppendBinary appends the encoded image to b.
func (m CurrentImage) AppendBinary(b []byte) ([]byte, error) {
	doc := currentDoc{Every: m.every, IDs: m.state.ids}
	doc.Live = encodeState(m.state, &doc.Items, map[*ItemView]uint32{})
	js, err := jsonv2.Marshal(doc, jsonOptions)
	if err != nil {
		return b, fmt.Errorf("encode the state: %w", err)
	}
	b = binary.AppendUvarint(b, uint64(len(js)))
	b = append(b, js...)
	return m.hist.appendBinary(b), nil
}

// encodeState returns the document of s, adding each of its item views not
// seen yet to items.
func encodeState(s *State, items *[]itemDoc, seen map[*ItemView]uint32) stateDoc {
	d := stateDoc{
		Sequence: s.Sequence, At: s.At, Began: s.began,
		Items:      make([]uint32, len(s.ids)),
		Objectives: s.objectives, Reviews: s.reviews, Horizons: s.horizons,
		Checkpoints: s.checkpoints, Tokens: s.tokens.byID,
		TokensByHMAC: tokenIDs(s.tokens.byHMAC), TokensBySHA256: tokenIDs(s.tokens.bySHA256),
		Changes: s.changes, Capacity: s.capacity, Webhooks: s.webhooks,
		Views: s.views, Measurements: s.measurements,
		WithDependencies: s.withDependencies, Children: s.children,
	}
	for handle, id := range s.ids {
		v := s.items[id]
		i, ok := seen[v]
		if !ok {
			i = uint32(len(*items))
			seen[v] = i
			*items = append(*items, itemDoc{View: v, Evidence: v.evidence})
		}
		d.Items[handle] = i
	}
	return d
}

func tokenIDs(byHash map[string]*TokenView) map[string]string {
	out := make(map[string]string, len(byHash))
	for h, t := range byHash {
		out[h] = t.ID
	}
	return out
}

// RestoreCurrent returns the Current an image encoded by
// CurrentImage.AppendBinary holds, reading source to travel back in time,
// as NewCurrent does, and keeping its keyframes in keyframes (in memory
// when nil). It returns an error wrapping ErrImage when data is not such
// an image, or one kept with keyframes every other number of events than
// keyframeEvery (KeyframeEvery when 0).
func RestoreCurrent(source Source, keyframeEvery uint64, keyframes Keyframes, data []byte, historyPath string) (*Current, error) {
	c := NewCurrent(source, keyframeEvery)
	if keyframes != nil {
		c.UseKeyframes(keyframes)
	}
	r := binread.Reader{B: data}
	js := r.Bytes()
	var doc currentDoc
	if r.Err == nil {
		if err := jsonv2.Unmarshal(js, &doc); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrImage, err)
		}
	}
	if r.Err == nil && doc.Every != c.every {
		return nil, fmt.Errorf("%w: keyframes every %d events, not %d", ErrImage, doc.Every, c.every)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, r.Err)
	}
	hist, err := readHistory(&r, historyPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, err)
	}
	c.hist = hist
	fail := func(err error) (*Current, error) {
		c.Close()
		return nil, err
	}
	if len(r.B) != 0 {
		return fail(fmt.Errorf("%w: %d bytes after the image", ErrImage, len(r.B)))
	}
	live, err := restoreState(doc.Live, doc.IDs, restoreItems(doc.Items))
	if err != nil {
		return fail(err)
	}
	if seq := live.Sequence; c.hist.len() != int64(seq) {
		return fail(fmt.Errorf("%w: at sequence %d with a history of %d events", ErrImage, seq, c.hist.len()))
	}
	c.state = live
	return c, nil
}

// restoreItems returns the item views of docs.
func restoreItems(docs []itemDoc) []*ItemView {
	items := make([]*ItemView, len(docs))
	for i, d := range docs {
		if d.View != nil {
			items[i] = d.View
			items[i].evidence = d.Evidence
		}
	}
	return items
}

// restoreState rebuilds the State d describes; ids are the live state's
// item ids, of which the state's are a prefix, and items the item views.
func restoreState(d stateDoc, ids []string, items []*ItemView) (*State, error) {
	if len(d.Items) > len(ids) {
		return nil, fmt.Errorf("%w: the state at sequence %d has %d items of %d", ErrImage, d.Sequence, len(d.Items), len(ids))
	}
	s := NewState()
	s.Sequence, s.At, s.began = d.Sequence, d.At, d.Began
	s.ids = slices.Clip(ids[:len(d.Items)])
	for handle, i := range d.Items {
		if int(i) >= len(items) || items[i] == nil || items[i].ID != ids[handle] {
			return nil, fmt.Errorf("%w: the state at sequence %d has a wrong view for item %d", ErrImage, d.Sequence, handle)
		}
		items[i].handle = uint32(handle)
		s.items[ids[handle]] = items[i]
	}
	for _, byHorizon := range d.Horizons {
		for _, list := range byHorizon {
			for _, handle := range list {
				if int(handle) >= len(s.ids) {
					return nil, fmt.Errorf("%w: the state at sequence %d ranks an unknown item", ErrImage, d.Sequence)
				}
			}
		}
	}
	copyMap(s.objectives, d.Objectives)
	copyMap(s.reviews, d.Reviews)
	copyMap(s.checkpoints, d.Checkpoints)
	copyMap(s.changes, d.Changes)
	copyMap(s.capacity, d.Capacity)
	copyMap(s.webhooks, d.Webhooks)
	copyMap(s.views, d.Views)
	copyMap(s.measurements, d.Measurements)
	copyMap(s.children, d.Children)
	copyMap(s.tokens.byID, d.Tokens)
	for _, byHash := range []struct {
		ids map[string]string
		dst map[string]*TokenView
	}{{d.TokensByHMAC, s.tokens.byHMAC}, {d.TokensBySHA256, s.tokens.bySHA256}} {
		for h, id := range byHash.ids {
			t := s.tokens.byID[id]
			if t == nil {
				return nil, fmt.Errorf("%w: the state at sequence %d finds an unknown token by its secret", ErrImage, d.Sequence)
			}
			byHash.dst[h] = t
		}
	}
	for product, byHorizon := range d.Horizons {
		s.horizons[product] = byHorizon
	}
	s.withDependencies = d.WithDependencies
	return s, nil
}

// copyMap copies src into dst, a map NewState made, so a nil src leaves
// an empty map, never a nil one.
func copyMap[K comparable, V any](dst, src map[K]V) { maps.Copy(dst, src) }

// IdempotencyImage is Idempotency frozen at one moment.
type IdempotencyImage struct {
	seqs map[keyDigest]uint64
}

// Image returns the index as it stands.
func (x *Idempotency) Image() IdempotencyImage {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return IdempotencyImage{seqs: maps.Clone(x.seqs)}
}

// AppendBinary appends the encoded image to b: the count, then each key's
// digest and the sequence of its event.
func (m IdempotencyImage) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(len(m.seqs)))
	for d, seq := range m.seqs {
		b = append(b, d[:]...)
		b = binary.AppendUvarint(b, seq)
	}
	return b, nil
}

// RestoreIdempotency returns the index an image encoded by
// IdempotencyImage.AppendBinary holds, reading its requests from source,
// or an error wrapping ErrImage.
func RestoreIdempotency(source Source, data []byte) (*Idempotency, error) {
	x := NewIdempotency(source)
	r := binread.Reader{B: data}
	n := r.Uvarint()
	if r.Err == nil && n > uint64(len(r.B)/(len(keyDigest{})+1)) {
		r.Err = fmt.Errorf("%d requests in %d bytes", n, len(r.B))
	}
	x.seqs = make(map[keyDigest]uint64, n)
	for i := uint64(0); i < n && r.Err == nil; i++ {
		d := keyDigest(r.Take(len(keyDigest{})))
		x.seqs[d] = r.Uvarint()
	}
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("%d bytes after the image", len(r.B))
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, r.Err)
	}
	return x, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
