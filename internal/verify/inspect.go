package verify

import (
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// aggregate names an aggregate: its type and id.
type aggregate struct{ typ, id string }

// inspected is what the checks of one event that need no other event found:
// whether its bytes verify on their own (eventlog's check: the canonical
// encoding of an envelope whose hash they hold), and what the checks in log
// order need of it.
type inspected struct {
	seq int64
	// err is why the bytes do not verify (wrapping eventlog.ErrTampered);
	// the fields below are then unset.
	err      error
	key      aggregate
	prevHash string
	hash     string
	leaf     tlog.Hash // the Merkle tree's leaf hash of the body
}

// inspect checks body with eventlog.Decode's check and computes its leaf
// hash.
func inspect(seq int64, body []byte) inspected {
	var in inspector
	return in.inspect(seq, body)
}

// inspector inspects events one after the other, with one
// eventlog.Verifier, whose buffers it reuses.
type inspector struct {
	v eventlog.Verifier
}

func (in *inspector) inspect(seq int64, body []byte) inspected {
	ev := inspected{seq: seq, leaf: tlog.RecordHash(body)}
	link, err := in.v.Verify(body)
	if err != nil {
		ev.err = err
		return ev
	}
	ev.key = aggregate{link.AggregateType, link.AggregateID}
	ev.prevHash, ev.hash = link.PrevHash, link.Hash
	return ev
}
