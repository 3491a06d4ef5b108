package snapshot

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/roadmap-ledger/roadmap/internal/binread"
)

// Parts are a snapshot file's fields, for tests that write one that passes
// its checksum but not the checks after it.
type Parts struct {
	Format, Sequence        uint64
	Stream                  string
	Tree, Current, Requests []byte
}

// Split reads the fields of a snapshot file, without checking it.
func Split(data []byte) Parts {
	r := binread.Reader{B: data[len(magic) : len(data)-sha256.Size]}
	p := Parts{Format: r.Uvarint(), Stream: string(r.Bytes()), Sequence: r.Uvarint()}
	p.Tree, p.Current, p.Requests = r.Bytes(), r.Bytes(), r.Bytes()
	if r.Err != nil {
		panic(r.Err)
	}
	return p
}

// Join writes the snapshot file of p, with its checksum.
func Join(p Parts) []byte {
	b := []byte(magic)
	b = binary.AppendUvarint(b, p.Format)
	b = appendBytes(b, []byte(p.Stream))
	b = binary.AppendUvarint(b, p.Sequence)
	for _, part := range [][]byte{p.Tree, p.Current, p.Requests} {
		b = appendBytes(b, part)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}
