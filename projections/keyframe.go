package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// A keyframe on its own, for a file of its own (internal/snapshot): the
// item views, nearly all of a keyframe, in a compact binary form with every
// string written once, and the rest of the state as JSON, as in an image.
//
// Why not JSON throughout: time travel loads a keyframe for nearly every
// query in the past that misses the cache. With the item views as JSON, a
// keyframe of a ledger of 3,000 items was 2.9 MB and took about 16 ms to
// decode, the largest share of a query's CPU in `roadmap bench timetravel`'s
// profile; in this form it is a fraction of the size and several times
// faster to decode (TestAKeyframeDecodesToTheStateItWasTakenOf,
// BenchmarkDecodeKeyframe). TestTheKeyframeCodecKnowsEveryFieldOfAnItemView
// fails when an item view gains a field the codec does not write.

// keyframeDoc is the JSON part of a keyframe: its state without the item
// views, which follow it (appendItemViews).
type keyframeDoc struct {
	State stateDoc
}

// AppendKeyframe appends the encoding of s, a keyframe, to b: a state on
// its own, for DecodeKeyframe. The file that holds it, and the checks that
// it may be trusted, are internal/snapshot's.
func AppendKeyframe(b []byte, s *State) ([]byte, error) {
	var doc keyframeDoc
	var items []itemDoc
	doc.State = encodeState(s, &items, map[*ItemView]uint32{})
	doc.State.Items = nil // by handle, in the binary part
	js, err := jsonv2.Marshal(doc, jsonOptions)
	if err != nil {
		return b, fmt.Errorf("encode the keyframe at sequence %d: %w", s.Sequence, err)
	}
	b = binary.AppendUvarint(b, uint64(len(js)))
	b = append(b, js...)
	views := make([]*ItemView, len(s.ids))
	for handle, id := range s.ids {
		views[handle] = s.items[id]
	}
	return appendItemViews(b, views), nil
}

// DecodeKeyframe returns the state AppendKeyframe encoded, or an error
// wrapping ErrImage.
func DecodeKeyframe(data []byte) (*State, error) {
	r := binread.Reader{B: data}
	js := r.Bytes()
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, r.Err)
	}
	var doc keyframeDoc
	if err := jsonv2.Unmarshal(js, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrImage, err)
	}
	views, err := decodeItemViews(r.B)
	if err != nil {
		return nil, fmt.Errorf("%w: the item views: %v", ErrImage, err)
	}
	var ids []string // nil for a state without items, as a state begins
	if len(views) > 0 {
		ids = make([]string, len(views))
	}
	doc.State.Items = make([]uint32, len(views))
	for i, v := range views {
		ids[i] = v.ID
		doc.State.Items[i] = uint32(i)
	}
	return restoreState(doc.State, ids, views)
}

// viewWriter writes item views, each string once in a table that comes
// first.
type viewWriter struct {
	strings map[string]uint64
	table   []byte // the strings, each after its length
	n       uint64 // strings in table
	b       []byte // the views
}

func (w *viewWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *viewWriter) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }

func (w *viewWriter) str(s string) {
	i, ok := w.strings[s]
	if !ok {
		i = w.n
		w.n++
		w.strings[s] = i
		w.table = binary.AppendUvarint(w.table, uint64(len(s)))
		w.table = append(w.table, s...)
	}
	w.uvarint(i)
}

// strs writes a list of strings, telling nil from empty.
func (w *viewWriter) strs(list []string) {
	if list == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(list)) + 1)
	for _, s := range list {
		w.str(s)
	}
}

func (w *viewWriter) f64(f float64) { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(f)) }

func (w *viewWriter) f64p(f *float64) {
	if f == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.f64(*f)
}

func (w *viewWriter) present(ok bool) bool {
	if ok {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	return ok
}

// decision writes d; same says d is the item's LastDecision, written
// before it, which it then refers to.
func (w *viewWriter) decision(d, last *Decision) {
	switch {
	case d == nil:
		w.b = append(w.b, 0)
	case d == last:
		w.b = append(w.b, 1)
	default:
		w.b = append(w.b, 2)
		w.uvarint(d.Sequence)
		w.str(d.Type)
		w.str(d.Rationale)
		w.str(d.Actor)
		at, _ := d.At.MarshalBinary() // fails only for odd offsets of a year out of range
		w.b = append(w.b, byte(len(at)))
		w.b = append(w.b, at...)
	}
}

// appendItemViews appends views to b: the string table, then each view.
func appendItemViews(b []byte, views []*ItemView) []byte {
	w := &viewWriter{strings: map[string]uint64{}}
	w.uvarint(uint64(len(views)))
	for _, v := range views {
		it := v.Item
		w.str(it.ID)
		w.str(it.Title)
		w.str(it.Description)
		w.str(string(it.Kind))
		w.str(it.ParentID)
		w.str(it.Product)
		w.strs(it.ObjectiveIDs)
		w.str(string(it.Status))
		w.str(string(it.Horizon))
		if s := it.Score; w.present(s != nil) {
			w.str(s.Framework)
			w.varint(int64(s.Version))
			for _, f := range []*float64{s.Reach, s.Impact, s.Confidence, s.BusinessValue, s.TimeCriticality,
				s.RiskReduction, s.JobSize, s.CustomerValue, s.Risk, s.Effort} {
				w.f64p(f)
			}
			w.str(s.Category)
			w.f64(s.Value)
		}
		if p := it.Plan; w.present(p != nil) {
			if w.present(p.Effort != nil) {
				w.varint(int64(*p.Effort))
			}
			w.strs(p.DependsOn)
			w.strs(p.Risks)
		}
		if p := it.Provenance; w.present(p != nil) {
			w.str(p.Source)
			w.str(p.ExternalID)
			w.str(p.ImportID)
		}
		if p := it.Public; w.present(p != nil) {
			w.str(p.Summary)
		}
		w.varint(int64(v.Rank))
		w.uvarint(v.Version)
		w.str(v.Head)
		w.decision(v.LastDecision, nil)
		w.decision(v.Placed, v.LastDecision)
		w.decision(v.Published, v.LastDecision)
		w.strs(v.evidence)
	}
	b = binary.AppendUvarint(b, w.n)
	b = binary.AppendUvarint(b, uint64(len(w.table)))
	b = append(b, w.table...)
	return append(b, w.b...)
}

// viewReader reads what appendItemViews wrote; its first error sticks and
// every later read returns zero values.
type viewReader struct {
	binread.Reader
	strings []string
	// Slabs the views' small parts are taken from: a few allocations for
	// a keyframe, not several for each view.
	floats    []float64
	decisions []Decision
	scores    []roadmap.Score
}

// float returns a place for f, from the slab.
func (r *viewReader) float(f float64) *float64 {
	if len(r.floats) == cap(r.floats) {
		r.floats = make([]float64, 0, 1024)
	}
	r.floats = append(r.floats, f)
	return &r.floats[len(r.floats)-1]
}

func (r *viewReader) str() string {
	i := r.Uvarint()
	if r.Err == nil && i >= uint64(len(r.strings)) {
		r.Err = fmt.Errorf("string %d of %d", i, len(r.strings))
	}
	if r.Err != nil {
		return ""
	}
	return r.strings[i]
}

func (r *viewReader) strs() []string {
	n := r.Uvarint()
	if n == 0 || !r.Need(n-1, 1) {
		return nil
	}
	out := make([]string, n-1)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func (r *viewReader) present() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	if r.Err == nil {
		r.Err = errors.New("a presence is neither 0 nor 1")
	}
	return false
}

func (r *viewReader) f64() float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(r.Take(8)))
}

func (r *viewReader) f64p() *float64 {
	if !r.present() {
		return nil
	}
	return r.float(r.f64())
}

func (r *viewReader) decision(last *Decision) *Decision {
	switch r.Byte() {
	case 0:
		return nil
	case 1:
		if last == nil && r.Err == nil {
			r.Err = errors.New("a decision refers to no last decision")
		}
		return last
	case 2:
		if len(r.decisions) == cap(r.decisions) {
			r.decisions = make([]Decision, 0, 256)
		}
		r.decisions = append(r.decisions, Decision{Sequence: r.Uvarint(), Type: r.str(), Rationale: r.str(), Actor: r.str()})
		d := &r.decisions[len(r.decisions)-1]
		at := r.Take(int(r.Byte()))
		if r.Err == nil {
			if err := d.At.UnmarshalBinary(at); err != nil {
				r.Err = err
			}
		}
		return d
	}
	if r.Err == nil {
		r.Err = errors.New("a decision of an unknown kind")
	}
	return nil
}

// decodeItemViews returns the views appendItemViews wrote in data, which
// it must hold exactly.
func decodeItemViews(data []byte) ([]*ItemView, error) {
	r := &viewReader{Reader: binread.Reader{B: data}}
	n := r.Uvarint()
	table := r.Bytes()
	if r.Err == nil && n > uint64(len(table)) {
		r.Err = fmt.Errorf("%d strings in %d bytes", n, len(table))
	}
	if r.Err != nil {
		return nil, r.Err
	}
	// One allocation for every string: each is a piece of it.
	all := string(table)
	r.strings = make([]string, 0, n)
	for off := 0; uint64(len(r.strings)) < n; {
		l, k := binary.Uvarint(table[off:])
		if k <= 0 || l > uint64(len(table)-off-k) {
			return nil, errors.New("the string table is cut short")
		}
		off += k
		r.strings = append(r.strings, all[off:off+int(l)])
		off += int(l)
	}
	count := r.Uvarint()
	if !r.Need(count, 8) {
		return nil, r.Err
	}
	views := make([]ItemView, count)
	out := make([]*ItemView, count)
	for i := range views {
		v := &views[i]
		it := &v.Item
		it.ID, it.Title, it.Description = r.str(), r.str(), r.str()
		it.Kind, it.ParentID, it.Product = roadmap.Kind(r.str()), r.str(), r.str()
		it.ObjectiveIDs = r.strs()
		it.Status, it.Horizon = roadmap.ItemStatus(r.str()), roadmap.Horizon(r.str())
		if r.present() {
			if len(r.scores) == cap(r.scores) {
				r.scores = make([]roadmap.Score, 0, 256)
			}
			r.scores = append(r.scores, roadmap.Score{Framework: r.str(), Version: int(r.Varint())})
			s := &r.scores[len(r.scores)-1]
			for _, f := range []**float64{&s.Reach, &s.Impact, &s.Confidence, &s.BusinessValue, &s.TimeCriticality,
				&s.RiskReduction, &s.JobSize, &s.CustomerValue, &s.Risk, &s.Effort} {
				*f = r.f64p()
			}
			s.Category, s.Value = r.str(), r.f64()
			it.Score = s
		}
		if r.present() {
			p := &roadmap.Plan{}
			if r.present() {
				e := int(r.Varint())
				p.Effort = &e
			}
			p.DependsOn, p.Risks = r.strs(), r.strs()
			it.Plan = p
		}
		if r.present() {
			it.Provenance = &roadmap.Provenance{Source: r.str(), ExternalID: r.str(), ImportID: r.str()}
		}
		if r.present() {
			it.Public = &roadmap.Publication{Summary: r.str()}
		}
		v.Rank = int(r.Varint())
		v.Version = r.Uvarint()
		v.Head = r.str()
		v.LastDecision = r.decision(nil)
		v.Placed = r.decision(v.LastDecision)
		v.Published = r.decision(v.LastDecision)
		v.evidence = r.strs()
		if r.Err != nil {
			return nil, r.Err
		}
		out[i] = v
	}
	if len(r.B) != 0 {
		return nil, fmt.Errorf("%d bytes after the item views", len(r.B))
	}
	return out, nil
}
