package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	jsonv2 "github.com/go-json-experiment/json"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// aggregate names an aggregate: its type and id.
type aggregate struct{ typ, id string }

// inspected is what the checks of one event that need no other event found:
// whether its bytes are the canonical encoding of an envelope whose hash
// they hold, and what the checks in log order need of it.
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

// hashSuffix is how a sealed body ends: the hash, as the last field.
const hashSuffixLen = len(`,"hash":""}`) + sha256.Size*2

// inspect runs the checks of eventlog.Decode on body and computes its leaf
// hash. It accepts exactly what eventlog.Decode accepts, and for what it
// refuses it gives eventlog.Decode's error, but it does less work on the
// way: the JSON v2 decoder, one encoding instead of two (the canonical bytes
// the hash covers are the body without its last field, once the body is
// known to be the envelope's encoding), and the hash on the stack.
func inspect(seq int64, body []byte) inspected {
	var in inspector
	return in.inspect(seq, body)
}

// inspector inspects events one after the other, encoding each into the
// same buffer.
type inspector struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (in *inspector) inspect(seq int64, body []byte) inspected {
	ev := inspected{seq: seq, leaf: tlog.RecordHash(body)}
	var e eventlog.Envelope
	if jsonv2.Unmarshal(body, &e) == nil && len(e.Hash) == sha256.Size*2 && len(body) > hashSuffixLen {
		// The body must be exactly what the ledger's encoding of the
		// envelope gives (json.Marshal, which an Encoder with its defaults
		// writes, with a line feed after): then its last field is the hash,
		// and the bytes before it are the canonical bytes the hash covers.
		if in.enc == nil {
			in.enc = json.NewEncoder(&in.buf)
		}
		in.buf.Reset()
		err := in.enc.Encode(e)
		again := bytes.TrimSuffix(in.buf.Bytes(), []byte{'\n'})
		if err == nil && bytes.Equal(again, body) {
			cut := len(body) - hashSuffixLen
			var sum [sha256.Size]byte
			h := sha256.New()
			h.Write([]byte(e.PrevHash))
			h.Write([]byte{'\n'})
			h.Write(body[:cut])
			h.Write([]byte{'}'})
			h.Sum(sum[:0])
			var hexSum [sha256.Size * 2]byte
			hex.Encode(hexSum[:], sum[:])
			if string(body[cut:cut+len(`,"hash":"`)]) == `,"hash":"` && string(hexSum[:]) == e.Hash {
				ev.key = aggregate{e.AggregateType, e.AggregateID}
				ev.prevHash, ev.hash = e.PrevHash, e.Hash
				return ev
			}
		}
	}
	// Anything else is settled by eventlog.Decode itself, so a refusal
	// says what it says.
	d, err := eventlog.Decode(body)
	if err != nil {
		ev.err = err
		return ev
	}
	ev.key = aggregate{d.AggregateType, d.AggregateID}
	ev.prevHash, ev.hash = d.PrevHash, d.Hash
	return ev
}
