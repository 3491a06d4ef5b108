package eventlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Link is what a stored event that verifies says of its place in the log:
// its aggregate, and its chain's two hashes.
type Link struct {
	AggregateType string
	AggregateID   string
	// PrevHash is the hash of the aggregate's previous event, "" for its
	// first; Hash is the event's own.
	PrevHash string
	Hash     string
}

// Verifier makes Decode's check of stored events one after the other,
// reusing its buffers from one to the next, for a reader that checks many
// (an auditor's verify). It is not safe for concurrent use: each goroutine
// has its own. The zero Verifier is ready to use.
type Verifier struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	plain []byte
}

// Verify checks, as Decode does, that body is exactly the canonical
// encoding of an envelope and that its hash matches, and returns the
// event's Link. It accepts exactly the bodies Decode accepts, and returns
// Decode's error, wrapping ErrTampered, for the others.
func (v *Verifier) Verify(body []byte) (Link, error) {
	e, err := v.decode(body)
	if err != nil {
		return Link{}, err
	}
	return Link{AggregateType: e.AggregateType, AggregateID: e.AggregateID, PrevHash: e.PrevHash, Hash: e.Hash}, nil
}

// Decode parses a stored message body into an envelope and checks that the
// body is exactly the canonical encoding and that its hash matches, so any
// change to the stored bytes is caught. It returns ErrTampered when not.
// The envelope's Data is a copy: it does not alias body.
func Decode(body []byte) (Envelope, error) {
	var v Verifier
	e, err := v.decode(body)
	e.Data = bytes.Clone(e.Data)
	return e, err
}

// hashSuffixLen is the length of how a sealed body ends: the hash, as the
// last field.
const hashSuffixLen = len(`,"hash":""}`) + sha256.Size*2

// decode is Decode's check, which has three ways to the same verdict, the
// first that settles it winning:
//
//  1. The common envelope is read by parsePlain and written again by
//     appendPlain, a small encoder of what json.Marshal writes: when that
//     gives the body back and the hash matches, the body is canonical. Data
//     then aliases body.
//  2. Any other is read by the JSON v2 decoder and written again by
//     appendPlain or, unless plain, by json.Marshal's own encoder, into the
//     Verifier's buffers.
//  3. Anything else is settled by decodeCanonical, the definition, so a
//     refusal says what it says.
//
// In 1 and 2, once the body is known to be the envelope's encoding, the
// bytes the hash covers are the body without its last field: there is no
// second encoding. Both only accept what decodeCanonical accepts, giving the
// same envelope; TestDecodeAgreesWithCanonical and
// FuzzDecodeAgreesWithCanonical hold them to it, and
// TestAppendPlainIsJSONMarshal holds appendPlain to json.Marshal's bytes.
//
// Their speed is BenchmarkVerifyEvent's: "plain" (1) and "decoders" (2)
// against "canonical" (3), on a stored reprioritisation (about 3.5 and 5 to
// 6.5 µs against 21 on a 2-CPU machine).
func (v *Verifier) decode(body []byte) (Envelope, error) {
	if e, ok := parsePlain(body); ok {
		if plain, ok := appendPlain(v.plain[:0], &e, false); ok {
			v.plain = plain
			if bytes.Equal(plain, body) && chainHashMatches(&e, body) {
				return e, nil
			}
		}
	}
	if e, ok := v.decodeGeneral(body); ok {
		return e, nil
	}
	return decodeCanonical(body)
}

// decodeGeneral is decode's second way: the JSON v2 decoder, then
// appendPlain or json.Marshal's encoder. It reports whether the body
// verifies that way.
func (v *Verifier) decodeGeneral(body []byte) (Envelope, bool) {
	var e Envelope
	if jsonv2.Unmarshal(body, &e) != nil || len(e.Hash) != sha256.Size*2 || len(body) <= hashSuffixLen {
		return e, false
	}
	// The body must be exactly what the ledger's encoding of the envelope
	// gives (json.Marshal, which an Encoder with its defaults writes, with
	// a line feed after): then its last field is the hash, and the bytes
	// before it are the canonical bytes the hash covers. The JSON v2
	// decoder checked the data it gave e.Data.
	var again []byte
	var err error
	if plain, ok := appendPlain(v.plain[:0], &e, true); ok {
		v.plain, again = plain, plain
	} else {
		if v.enc == nil {
			v.enc = json.NewEncoder(&v.buf)
		}
		v.buf.Reset()
		err = v.enc.Encode(e)
		again = bytes.TrimSuffix(v.buf.Bytes(), []byte{'\n'})
	}
	return e, err == nil && bytes.Equal(again, body) && chainHashMatches(&e, body)
}

// decodeCanonical is the definition of a stored event that verifies, and of
// the errors of one that does not: the body decodes (encoding/json) into an
// envelope, encoding that envelope again gives the body exactly, and the
// hash computed from its canonical bytes is the one it holds. It returns
// ErrTampered when not.
func decodeCanonical(body []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("%w: not an event envelope: %v", ErrTampered, err)
	}
	again, err := json.Marshal(e)
	if err != nil {
		return e, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if !bytes.Equal(again, body) {
		return e, fmt.Errorf("%w: stored bytes of event %s are not in canonical form", ErrTampered, e.ID)
	}
	want, err := e.ComputeHash()
	if err != nil {
		return e, fmt.Errorf("%w: %v", ErrTampered, err)
	}
	if want != e.Hash {
		return e, fmt.Errorf("%w: hash of event %s is %s, computed %s", ErrTampered, e.ID, e.Hash, want)
	}
	return e, nil
}

// closingBrace closes the canonical bytes of a stored body cut before its
// hash.
var closingBrace = []byte{'}'}

// chainHashMatches reports whether e's hash is the chained hash of its
// canonical bytes, where body is exactly json.Marshal's encoding of e with a
// hash of 64 characters: its last field is the hash, and the bytes before
// it, closed, are the canonical bytes.
func chainHashMatches(e *Envelope, body []byte) bool {
	if len(e.Hash) != sha256.Size*2 || len(body) <= hashSuffixLen {
		return false
	}
	cut := len(body) - hashSuffixLen
	if string(body[cut:cut+len(`,"hash":"`)]) != `,"hash":"` {
		return false
	}
	sum := chainSum(e.PrevHash, body[:cut], closingBrace)
	var hexSum [sha256.Size * 2]byte
	hex.Encode(hexSum[:], sum[:])
	return string(hexSum[:]) == e.Hash
}

// parsePlain reads body as the common envelope: its fields in their order,
// strings without escapes, the data between them as it is, a hash of 64
// characters last. It does not check what it reads: appendPlain writing it
// back to the same bytes does. The two are decode's fast path, for the speed
// BenchmarkVerifyEvent measures ("plain").
func parsePlain(body []byte) (e Envelope, ok bool) {
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
func appendPlain(dst []byte, e *Envelope, validData bool) ([]byte, bool) {
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
