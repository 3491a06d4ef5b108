package binread_test

import (
	"encoding/binary"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/binread"
)

func TestReadsWhatTheAppendFunctionsWrote(t *testing.T) {
	b := binary.AppendUvarint(nil, 300)
	b = binary.AppendVarint(b, -7)
	b = binary.AppendUvarint(b, 3)
	b = append(b, "abc"...)
	b = append(b, 9)
	r := &binread.Reader{B: b}
	if u, v, s, c := r.Uvarint(), r.Varint(), string(r.Bytes()), r.Byte(); u != 300 || v != -7 || s != "abc" || c != 9 {
		t.Fatalf("read %d %d %q %d", u, v, s, c)
	}
	if r.Err != nil || len(r.B) != 0 {
		t.Fatalf("err %v, %d bytes left", r.Err, len(r.B))
	}
}

// A length larger than what is left is refused before anything of that
// size is made, and the first error sticks.
func TestALengthBeyondTheInputIsRefusedAndTheErrorSticks(t *testing.T) {
	b := binary.AppendUvarint(nil, 1<<40)
	r := &binread.Reader{B: append(b, "short"...)}
	if p := r.Bytes(); p != nil || r.Err == nil {
		t.Fatalf("read %d bytes of a part longer than the input, err %v", len(p), r.Err)
	}
	first := r.Err
	if r.Uvarint() != 0 || r.Varint() != 0 || r.Byte() != 0 || len(r.Take(4)) != 4 || r.Err != first {
		t.Fatalf("reads after an error did not return zero values, or the error changed to %v", r.Err)
	}
	if r.Need(1, 1) {
		t.Fatal("Need answered true after an error")
	}
}

func TestCutShortNumbersAndPartsAreErrors(t *testing.T) {
	for name, read := range map[string]func(*binread.Reader){
		"uvarint": func(r *binread.Reader) { r.Uvarint() },
		"varint":  func(r *binread.Reader) { r.Varint() },
		"byte":    func(r *binread.Reader) { r.Take(1); r.Byte() },
		"take":    func(r *binread.Reader) { r.Take(2) },
		"need":    func(r *binread.Reader) { r.Need(2, 8) },
	} {
		r := &binread.Reader{B: []byte{0x80}}
		if read(r); r.Err == nil {
			t.Errorf("%s of a cut-short input: no error", name)
		}
	}
}
