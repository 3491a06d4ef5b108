package projections

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// imagedLedger folds a small ledger of every kind of item decision into a
// Current with a keyframe every three events, and indexes a keyed request.
func imagedLedger(t *testing.T) (*Current, *Idempotency, *logBuilder) {
	t.Helper()
	b := newLogBuilder()
	b.add("objective", "o1", &roadmap.ObjectiveDefined{Title: "grow", KPI: "users", Target: "+10%"})
	for i := range 6 {
		id := fmt.Sprintf("i%d", i)
		b.propose(id)
		b.place(id, true, roadmap.Horizons[i%3], 0, "https://example.com/"+id)
	}
	b.place("i1", false, roadmap.Now, 1)
	b.rescore("i2")
	b.remove("i3")
	b.add("item", "i4", &roadmap.ItemDelivered{Rationale: "shipped", Evidence: []string{}})
	c := NewCurrent(sliceSource(b.recs), 3)
	x := NewIdempotency(sliceSource(b.recs))
	catchUp(t, c, b)
	for i := range b.recs[:3] {
		rec := &b.recs[i]
		rec.IdempotencyKey = fmt.Sprintf("key-%d", rec.Sequence)
		rec.RequestHash = fmt.Sprintf("%x", sha256.Sum256([]byte(rec.IdempotencyKey)))
		ev, err := Decode(*rec)
		if err != nil {
			t.Fatal(err)
		}
		x.Apply(ev)
	}
	return c, x, b
}

func TestARestoredImageIsTheReadModelItWasTakenOf(t *testing.T) {
	c, x, b := imagedLedger(t)
	data, err := c.Image().AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := RestoreCurrent(sliceSource(b.recs), 3, nil, data, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.state, c.state) {
		t.Errorf("restored state:\n got %+v\nwant %+v", got.state, c.state)
	}
	if !reflect.DeepEqual(got.hist, c.hist) {
		t.Errorf("restored history differs")
	}
	// The restored projection goes on as the original does.
	b.place("i0", false, roadmap.Later, 1)
	catchUp(t, c, b)
	catchUp(t, got, b)
	if !reflect.DeepEqual(got.state, c.state) {
		t.Errorf("after one more event:\n got %+v\nwant %+v", got.state, c.state)
	}

	idata, err := x.Image().AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	gotx, err := RestoreIdempotency(sliceSource(b.recs), idata)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotx.seqs, x.seqs) || len(gotx.seqs) != 3 {
		t.Errorf("restored requests:\n got %+v\nwant %+v", gotx.seqs, x.seqs)
	}
}

func TestAnImageCutShortOrKeptOtherwiseIsRefused(t *testing.T) {
	c, x, b := imagedLedger(t)
	data, _ := c.Image().AppendBinary(nil)
	idata, _ := x.Image().AppendBinary(nil)
	for _, n := range []int{0, 1, len(data) / 2, len(data) - 1} {
		if _, err := RestoreCurrent(sliceSource(b.recs), 3, nil, data[:n], ""); !errors.Is(err, ErrImage) {
			t.Errorf("cut to %d of %d bytes: %v, want ErrImage", n, len(data), err)
		}
	}
	if _, err := RestoreCurrent(sliceSource(b.recs), 3, nil, append(data[:len(data):len(data)], 0), ""); !errors.Is(err, ErrImage) {
		t.Errorf("a byte too many: %v, want ErrImage", err)
	}
	if _, err := RestoreCurrent(sliceSource(b.recs), 4, nil, data, ""); !errors.Is(err, ErrImage) {
		t.Errorf("keyframes every 4 events: %v, want ErrImage", err)
	}
	for _, n := range []int{0, len(idata) / 2, len(idata) - 1} {
		if _, err := RestoreIdempotency(sliceSource(b.recs), idata[:n]); n > 0 && !errors.Is(err, ErrImage) {
			t.Errorf("requests cut to %d of %d bytes: %v, want ErrImage", n, len(idata), err)
		}
	}
}

func TestARestoredImageTravelsInTimeAsTheOriginalAndMakesItsKeyframesAgain(t *testing.T) {
	c, _, b := imagedLedger(t)
	data, _ := c.Image().AppendBinary(nil)
	want := map[uint64]*State{}
	for seq := uint64(1); seq < c.Sequence(); seq++ {
		_ = c.At(context.Background(), seq, func(s *State) error { want[seq] = s.Clone(); return nil })
	}
	keyframes := NewMemoryKeyframes()
	got, err := RestoreCurrent(sliceSource(b.recs), 3, keyframes, data, "")
	if err != nil {
		t.Fatal(err)
	}
	// The image holds no keyframe: the first travel replays from the
	// first event, and keeps every keyframe it passes.
	for seq := c.Sequence() - 1; seq >= 1; seq-- {
		err := got.At(context.Background(), seq, func(s *State) error {
			if !reflect.DeepEqual(s, want[seq]) {
				t.Errorf("at sequence %d the restored projection has another state", seq)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var wantSeqs []uint64
	for k := uint64(3); k < c.Sequence(); k += 3 {
		wantSeqs = append(wantSeqs, k)
	}
	if got := keyframes.Sequences(); !reflect.DeepEqual(got, wantSeqs) {
		t.Errorf("keyframes made again at %v, want %v", got, wantSeqs)
	}
	for _, k := range wantSeqs {
		s, _ := keyframes.Keyframe(k)
		if !reflect.DeepEqual(s, want[k]) {
			t.Errorf("the keyframe made again at %d is another state", k)
		}
	}
}

func TestAKeyframeDecodesToTheStateItWasTakenOf(t *testing.T) {
	c, _, _ := imagedLedger(t)
	for _, k := range c.keyframes.(*MemoryKeyframes).Sequences() {
		s, _ := c.keyframes.Keyframe(k)
		data, err := AppendKeyframe(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeKeyframe(data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("keyframe %d:\n got %+v\nwant %+v", k, got, s)
		}
		for _, n := range []int{0, 1, len(data) / 2, len(data) - 1} {
			if _, err := DecodeKeyframe(data[:n]); !errors.Is(err, ErrImage) {
				t.Errorf("keyframe %d cut to %d of %d bytes: %v, want ErrImage", k, n, len(data), err)
			}
		}
	}
	c.Read(func(s *State) {
		data, _ := AppendKeyframe(nil, s)
		if got, err := DecodeKeyframe(data); err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("the live state as a keyframe: %v", err)
		}
	})
}

// TestTheImageKeepsEveryFieldOfTheState fails when State gains a field:
// encodeState and decodeState must then keep it too (and this list name
// it), or a start from a snapshot would lose what the field holds.
func TestTheImageKeepsEveryFieldOfTheState(t *testing.T) {
	kept := map[string]bool{
		"Sequence": true, "At": true, "began": true, "objectives": true, "items": true, "reviews": true,
		"horizons": true, "ids": true, "checkpoints": true, "tokens": true, "changes": true, "capacity": true,
		"webhooks": true, "views": true, "measurements": true, "withDependencies": true, "children": true,
	}
	st := reflect.TypeFor[State]()
	for i := range st.NumField() {
		if name := st.Field(i).Name; !kept[name] {
			t.Errorf("State.%s is not kept in the snapshot image: add it to encodeState, decodeState and this list", name)
		}
	}
}

// The index keeps only a digest of each key and reads the rest back from
// the event: what it answers is the request as the log holds it, and a
// key whose digest points at another key's event is not that event's.
func TestIdempotencyReadsTheRequestBackFromItsEvent(t *testing.T) {
	_, x, b := imagedLedger(t)
	ctx := context.Background()
	for _, rec := range b.recs[:3] {
		e, ok, err := x.Lookup(ctx, rec.IdempotencyKey)
		if err != nil || !ok {
			t.Fatalf("Lookup(%q) = %v, %v", rec.IdempotencyKey, ok, err)
		}
		want := IdempotencyEntry{
			RequestHash: sha256.Sum256([]byte(rec.IdempotencyKey)), Sequence: rec.Sequence,
			EventType: rec.Envelope.Type, AggregateType: rec.Envelope.AggregateType, AggregateID: rec.Envelope.AggregateID,
		}
		if e != want {
			t.Errorf("Lookup(%q):\n got %+v\nwant %+v", rec.IdempotencyKey, e, want)
		}
	}
	if _, ok, err := x.Lookup(ctx, "never-used"); ok || err != nil {
		t.Errorf("a key never used: found %v, %v", ok, err)
	}
	// Plant another key's digest on the first event, as a collision would.
	x.seqs[digestKey("collides")] = b.recs[0].Sequence
	if _, ok, err := x.Lookup(ctx, "collides"); ok || err != nil {
		t.Errorf("a key whose digest points at another key's event: found %v, %v", ok, err)
	}
}

// A move is kept for every event of the ledger: eight bytes, and every
// place it can hold comes back as it went in.
func TestAPlaceRoundTripsThroughItsFourBytes(t *testing.T) {
	if n := unsafe.Sizeof(move{}); n != 8 {
		t.Errorf("a move takes %d bytes, want 8", n)
	}
	places := []Place{{}}
	for _, h := range roadmap.Horizons {
		places = append(places, Place{Horizon: h, Rank: 1}, Place{Horizon: h, Rank: 1<<rankBits - 1})
	}
	for _, p := range places {
		if got := pack(p).unpack(); got != p {
			t.Errorf("pack(%+v).unpack() = %+v", p, got)
		}
	}
}
