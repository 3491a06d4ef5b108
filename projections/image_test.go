package projections

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"testing"

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
	x := NewIdempotency()
	catchUp(t, c, b)
	for _, rec := range b.recs[:3] {
		ev, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		ev.IdempotencyKey = fmt.Sprintf("key-%d", ev.Sequence)
		ev.RequestHash = fmt.Sprintf("%x", sha256.Sum256([]byte(ev.IdempotencyKey)))
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
	got, err := RestoreCurrent(sliceSource(b.recs), 3, data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.state, c.state) {
		t.Errorf("restored state:\n got %+v\nwant %+v", got.state, c.state)
	}
	if err := got.WaitRestored(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.keyframes, c.keyframes) {
		t.Errorf("restored keyframes differ")
	}
	if !reflect.DeepEqual(got.clock, c.clock) || !reflect.DeepEqual(got.moves, c.moves) {
		t.Errorf("restored clock or moves differ")
	}
	if len(got.keyframes) != int(c.Sequence()/3) {
		t.Errorf("%d keyframes, want %d", len(got.keyframes), c.Sequence()/3)
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
	gotx, err := RestoreIdempotency(idata)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotx.entries, x.entries) || len(gotx.entries) != 3 {
		t.Errorf("restored requests:\n got %+v\nwant %+v", gotx.entries, x.entries)
	}
}

func TestAnImageCutShortOrKeptOtherwiseIsRefused(t *testing.T) {
	c, x, b := imagedLedger(t)
	data, _ := c.Image().AppendBinary(nil)
	idata, _ := x.Image().AppendBinary(nil)
	for _, n := range []int{0, 1, len(data) / 2, len(data) - 1} {
		if _, err := RestoreCurrent(sliceSource(b.recs), 3, data[:n]); !errors.Is(err, ErrImage) {
			t.Errorf("cut to %d of %d bytes: %v, want ErrImage", n, len(data), err)
		}
	}
	if _, err := RestoreCurrent(sliceSource(b.recs), 3, append(data[:len(data):len(data)], 0)); !errors.Is(err, ErrImage) {
		t.Errorf("a byte too many: %v, want ErrImage", err)
	}
	if _, err := RestoreCurrent(sliceSource(b.recs), 4, data); !errors.Is(err, ErrImage) {
		t.Errorf("keyframes every 4 events: %v, want ErrImage", err)
	}
	for _, n := range []int{0, len(idata) / 2, len(idata) - 1} {
		if _, err := RestoreIdempotency(idata[:n]); n > 0 && !errors.Is(err, ErrImage) {
			t.Errorf("requests cut to %d of %d bytes: %v, want ErrImage", n, len(idata), err)
		}
	}
}

func TestTimeTravelWaitsForTheKeyframesOfARestoredImage(t *testing.T) {
	c, _, b := imagedLedger(t)
	data, _ := c.Image().AppendBinary(nil)
	want := map[uint64]*State{}
	for seq := uint64(1); seq < c.Sequence(); seq++ {
		_ = c.At(context.Background(), seq, func(s *State) error { want[seq] = s.Clone(); return nil })
	}
	got, err := RestoreCurrent(sliceSource(b.recs), 3, data)
	if err != nil {
		t.Fatal(err)
	}
	// Asked at once, before the keyframes may be decoded.
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
}

func TestKeyframesThatDoNotDecodeLeaveTimeTravelRight(t *testing.T) {
	c, _, b := imagedLedger(t)
	data, _ := c.Image().AppendBinary(nil)
	// The keyframes part is the second: cut its JSON short but keep its
	// length, so only the keyframes fail.
	r := reader{b: data}
	r.bytes() // the live state
	n := r.uvarint()
	kstart := len(data) - len(r.b)
	bad := append([]byte{}, data...)
	for i := kstart; i < kstart+int(n); i++ {
		bad[i] = ' '
	}
	got, err := RestoreCurrent(sliceSource(b.recs), 3, bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.WaitRestored(context.Background()); !errors.Is(err, ErrImage) {
		t.Errorf("WaitRestored: %v, want ErrImage", err)
	}
	if _, err := got.Image().AppendBinary(nil); err == nil {
		t.Error("an image of a projection without its keyframes was encoded")
	}
	for seq := uint64(1); seq < c.Sequence(); seq++ {
		var a, w *State
		_ = c.At(context.Background(), seq, func(s *State) error { w = s.Clone(); return nil })
		_ = got.At(context.Background(), seq, func(s *State) error { a = s.Clone(); return nil })
		if !reflect.DeepEqual(a, w) {
			t.Errorf("at sequence %d, without keyframes, another state", seq)
		}
	}
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
