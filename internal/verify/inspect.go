package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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
	buf   bytes.Buffer
	enc   *json.Encoder
	plain []byte
}

func (in *inspector) inspect(seq int64, body []byte) inspected {
	ev := inspected{seq: seq, leaf: tlog.RecordHash(body)}
	// The common envelope is read by parsePlain and written again by
	// appendPlain: when that gives the body back, the body is exactly
	// json.Marshal's encoding of it. Any other goes through the JSON v2
	// decoder and, unless plain, json.Marshal's own encoder.
	if e, ok := parsePlain(body); ok {
		if plain, ok := appendPlain(in.plain[:0], &e, false); ok {
			in.plain = plain
			if bytes.Equal(plain, body) && chainHashMatches(&e, body) {
				ev.key = aggregate{e.AggregateType, e.AggregateID}
				ev.prevHash, ev.hash = e.PrevHash, e.Hash
				return ev
			}
		}
	}
	var e eventlog.Envelope
	if jsonv2.Unmarshal(body, &e) == nil && len(e.Hash) == sha256.Size*2 && len(body) > hashSuffixLen {
		// The body must be exactly what the ledger's encoding of the
		// envelope gives (json.Marshal, which an Encoder with its defaults
		// writes, with a line feed after): then its last field is the hash,
		// and the bytes before it are the canonical bytes the hash covers.
		// The common envelope is written by appendPlain, byte for byte as
		// json.Marshal writes it; any other goes through json.Marshal's
		// own encoder.
		var again []byte
		var err error
		// The JSON v2 decoder checked the data it gave e.Data.
		if plain, ok := appendPlain(in.plain[:0], &e, true); ok {
			in.plain, again = plain, plain
		} else {
			if in.enc == nil {
				in.enc = json.NewEncoder(&in.buf)
			}
			in.buf.Reset()
			err = in.enc.Encode(e)
			again = bytes.TrimSuffix(in.buf.Bytes(), []byte{'\n'})
		}
		if err == nil && bytes.Equal(again, body) && chainHashMatches(&e, body) {
			ev.key = aggregate{e.AggregateType, e.AggregateID}
			ev.prevHash, ev.hash = e.PrevHash, e.Hash
			return ev
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

// chainHashMatches reports whether e's hash is the chained hash of its
// canonical bytes, where body is exactly json.Marshal's encoding of e with a
// hash of 64 characters: its last field is the hash, and the bytes before
// it, closed, are the canonical bytes.
func chainHashMatches(e *eventlog.Envelope, body []byte) bool {
	if len(e.Hash) != sha256.Size*2 || len(body) <= hashSuffixLen {
		return false
	}
	cut := len(body) - hashSuffixLen
	if string(body[cut:cut+len(`,"hash":"`)]) != `,"hash":"` {
		return false
	}
	var sum [sha256.Size]byte
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write([]byte{'\n'})
	h.Write(body[:cut])
	h.Write([]byte{'}'})
	h.Sum(sum[:0])
	var hexSum [sha256.Size * 2]byte
	hex.Encode(hexSum[:], sum[:])
	return string(hexSum[:]) == e.Hash
}

// parsePlain reads body as the common envelope: its fields in their order,
// strings without escapes, the data between them as it is, a hash of 64
// characters last. It does not check what it reads: appendPlain writing it
// back to the same bytes does.
func parsePlain(body []byte) (e eventlog.Envelope, ok bool) {
	rest := body
	str := func(prefix string) string {
		r, found := bytes.CutPrefix(rest, []byte(prefix))
		i := bytes.IndexByte(r, '"')
		if !found || i < 0 {
			ok = false
			return ""
		}
		rest = r[i+1:]
		return string(r[:i])
	}
	ok = true
	e.ID = str(`{"id":"`)
	e.Type = str(`,"type":"`)
	r, found := bytes.CutPrefix(rest, []byte(`,"schema_version":`))
	i := bytes.IndexByte(r, ',')
	if !ok || !found || i < 0 {
		return e, false
	}
	v, err := strconv.Atoi(string(r[:i]))
	if err != nil {
		return e, false
	}
	e.SchemaVersion, rest = v, r[i:]
	e.AggregateType = str(`,"aggregate_type":"`)
	e.AggregateID = str(`,"aggregate_id":"`)
	t := str(`,"time":"`)
	e.Actor = str(`,"actor":"`)
	if !ok {
		return e, false
	}
	if e.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
		return e, false
	}
	// From the end: ,"prev_hash":"" or "<64>", then ,"hash":"<64>"}.
	data, found := bytes.CutPrefix(rest, []byte(`,"data":`))
	const hexLen = sha256.Size * 2
	n := len(data) - hashSuffixLen
	if !found || n < 0 {
		return e, false
	}
	e.Hash = string(data[n+len(`,"hash":"`) : len(data)-2])
	data = data[:n]
	if p, found := bytes.CutSuffix(data, []byte(`,"prev_hash":""`)); found {
		data = p
	} else if n := len(data) - len(`,"prev_hash":""`) - hexLen; n >= 0 && string(data[n:n+len(`,"prev_hash":"`)]) == `,"prev_hash":"` {
		e.PrevHash, data = string(data[n+len(`,"prev_hash":"`):len(data)-1]), data[:n]
	} else {
		return e, false
	}
	e.Data = data
	return e, true
}

// appendPlain appends to dst what json.Marshal writes for e, when every
// part of e is plain: strings whose every character json.Marshal writes as
// it is; a time json.Marshal accepts; data that is compact JSON without a
// character json.Marshal would escape in it. It returns false, and nothing
// to use, for any other envelope.
//
// validData says that e.Data is known to be valid JSON: it was decoded from
// a JSON text.
func appendPlain(dst []byte, e *eventlog.Envelope, validData bool) ([]byte, bool) {
	str := func(name, s string) bool {
		if !plainString(s) {
			return false
		}
		dst = append(dst, name...)
		dst = append(dst, '"')
		dst = append(dst, s...)
		dst = append(dst, '"')
		return true
	}
	if !str(`{"id":`, e.ID) || !str(`,"type":`, e.Type) {
		return nil, false
	}
	dst = append(dst, `,"schema_version":`...)
	dst = strconv.AppendInt(dst, int64(e.SchemaVersion), 10)
	if !str(`,"aggregate_type":`, e.AggregateType) || !str(`,"aggregate_id":`, e.AggregateID) {
		return nil, false
	}
	// time.Time's MarshalJSON: RFC 3339 with nanoseconds, refused outside
	// the years 0 to 9999 and for offsets with seconds.
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return nil, false
	}
	if _, off := e.Time.Zone(); off%60 != 0 {
		return nil, false
	}
	dst = append(dst, `,"time":"`...)
	dst = e.Time.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if !str(`,"actor":`, e.Actor) || !plainData(e.Data, validData) {
		return nil, false
	}
	dst = append(dst, `,"data":`...)
	dst = append(dst, e.Data...)
	if !str(`,"prev_hash":`, e.PrevHash) {
		return nil, false
	}
	if e.Hash != "" && !str(`,"hash":`, e.Hash) {
		return nil, false
	}
	return append(dst, '}'), true
}

// plainString reports whether json.Marshal (which escapes for HTML) writes
// every character of s as it is: printable ASCII other than the quote, the
// backslash, <, > and &, and valid UTF-8 other than U+2028 and U+2029.
func plainString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// plainData reports whether json.Marshal writes the raw data d as it is:
// it compacts it and escapes <, >, &, U+2028 and U+2029 in it, so d must be
// valid JSON (checked unless valid says it is known to be) with no white
// space outside its strings and none of those characters.
func plainData(d []byte, valid bool) bool {
	if len(d) == 0 || (!valid && !jsontext.Value(d).IsValid()) {
		return false
	}
	in := false
	for i := 0; i < len(d); i++ {
		c := d[i]
		if dataClass[c] == 0 {
			continue
		}
		switch {
		case dataClass[c] == classNever:
			return false
		case c == 0xE2:
			if i+2 < len(d) && d[i+1] == 0x80 && (d[i+2] == 0xA8 || d[i+2] == 0xA9) {
				return false
			}
		case c == '"':
			in = !in
		case c == '\\':
			if in {
				i++ // the escaped character
			}
		case c == ' ':
			if !in {
				return false
			}
		}
	}
	return true
}

// The bytes plainData looks at: those that are never plain, and those whose
// meaning depends on where they are.
const (
	classNever = 1
	classLook  = 2
)

var dataClass = func() (t [256]uint8) {
	for _, c := range []byte("<>&\t\n\r") {
		t[c] = classNever
	}
	for _, c := range []byte("\"\\ \xe2") {
		t[c] = classLook
	}
	return t
}()
