package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DataFunc returns a pointer to decode the data of an event of the given type
// into, or nil to leave the data undecoded (Record.Decoded stays nil); it is
// decoded with the JSON v2 decoder. DomainData is the one for the ledger's
// own events.
type DataFunc func(eventType string) any

// dataDecoder is a target of a DataFunc that decodes an event's data itself,
// straight from the stored body: data starts with the data's value and runs
// on to the end of the body. DecodeData returns the length of the value it
// decoded. It may decode only a value the JSON v2 decoder takes (valid
// syntax and UTF-8, no duplicate names), and exactly as that decoder would;
// it returns false for anything else, which leaves the whole event to the
// general decoder. The placements' decoder (placementData) is one.
type dataDecoder interface {
	DecodeData(data []byte) (n int, ok bool)
}

// parser reads stored message bodies into records. It is on the replay's hot
// path, so it reads an envelope in one pass over the compact text the ledger
// stores, checking as it goes what the general decoder checks (syntax, UTF-8,
// no duplicate names): the canonical envelope puts "type" before "data",
// which lets it decode the data straight into the event's own type, with no
// copy of the data and no second scan. A body it does not take this way (an
// unknown field, a null, whitespace, a type after its data, an escaped name)
// is decoded by the general JSON decoder instead, exactly as if the fast path
// did not exist. It is not safe for concurrent use: each reader has its own.
//
// Its speed is BenchmarkReadEvent's: "replay" against "general", the JSON v2
// decoder reading the same envelope and event (about 3 µs against 8 to 11 on
// a 2-CPU machine). TestParseMatchesGeneralDecoder, FuzzParse,
// TestDomainDataDecodesAsTheGeneralDecoder and FuzzDomainParse hold it to
// the general decoder's results.
type parser struct {
	data   DataFunc             // may be nil: no data is decoded
	intern interner             // the few distinct types, aggregate types, actors, aggregate ids, horizons, frameworks…
	last   [sharedFields]string // by field, its value in the previous body: most repeat
	quoted []byte               // scratch for unquoting escaped strings
	r      reader
}

// maxInterned bounds the strings a parser shares between events.
const maxInterned = 1 << 14

// interner shares the strings that repeat from one event to the next, so
// that each is allocated once per read rather than once per event, and
// the read models that keep them hold one copy. Only the few distinct
// values of a field are for it (names, types, ids, horizons): a unique
// string, such as a rationale, would only fill it. A nil interner shares
// nothing.
type interner map[string]string

// get returns raw as a string: the shared one when there is one.
func (in interner) get(raw []byte) string {
	if s, ok := in[string(raw)]; ok {
		return s
	}
	s := string(raw)
	if in != nil && len(in) < maxInterned {
		in[s] = s
	}
	return s
}

// The fields whose strings a parser shares between events, and notShared
// for the others.
const (
	notShared = iota - 1
	sharedType
	sharedAggregateType
	sharedAggregateID
	sharedActor
	sharedFields
)

func newParser(data DataFunc) *parser {
	return &parser{data: data, intern: make(map[string]string, 256)}
}

// parse decodes body into rec.Envelope and, when the parser has a DataFunc
// and the type is one it knows, the data into rec.Decoded. It returns the
// general decoder's error when body is not an envelope.
func (p *parser) parse(body []byte, rec *Record) error {
	if p.fast(body, rec) == nil {
		return nil
	}
	// Strict like the fast path: no duplicate names, valid UTF-8. Into a
	// variable of its own, so that only this rare path allocates one.
	var e Envelope
	err := jsonv2.Unmarshal(body, &e)
	rec.Envelope, rec.Decoded = e, nil
	return err
}

// errSlow sends a body to the general decoder.
var errSlow = errors.New("not on the fast path")

func (p *parser) fast(body []byte, rec *Record) error {
	r := &p.r
	*r = reader{b: body}
	if !r.next('{') {
		return errSlow
	}
	e := &rec.Envelope
	var seen uint16 // the fields read so far, by their bit: no name twice
	for first := true; !r.next('}'); first = false {
		if !first && !r.next(',') {
			return errSlow
		}
		name, bit, ok := r.name()
		if !ok || seen&bit != 0 {
			return errSlow
		}
		seen |= bit
		var err error
		switch name {
		case "id":
			e.ID, err = p.str(notShared)
		case "type":
			e.Type, err = p.str(sharedType)
		case "schema_version":
			e.SchemaVersion, err = p.small()
		case "aggregate_type":
			e.AggregateType, err = p.str(sharedAggregateType)
		case "aggregate_id":
			e.AggregateID, err = p.str(sharedAggregateID)
		case "time":
			e.Time, err = p.time()
		case "actor":
			e.Actor, err = p.str(sharedActor)
		case "data":
			err = p.eventData(rec)
		case "prev_hash":
			e.PrevHash, err = p.str(notShared)
		case "hash":
			e.Hash, err = p.str(notShared)
		default:
			return errSlow
		}
		if err != nil {
			return err
		}
	}
	if r.i != len(body) {
		return errSlow
	}
	return nil
}

// str reads a string value of a field; a shared field's string is the
// previous body's when it is the same, else it comes from the parser's
// table.
func (p *parser) str(field int) (string, error) {
	raw, escaped, ok := p.r.str()
	if !ok {
		return "", errSlow
	}
	if escaped {
		var err error
		// AppendUnquote checks the escapes and the UTF-8 as the general
		// decoder does.
		if p.quoted, err = jsontext.AppendUnquote(p.quoted[:0], p.r.b[p.r.i-len(raw)-2:p.r.i]); err != nil {
			return "", errSlow
		}
		raw = p.quoted
	}
	if field == notShared {
		return string(raw), nil
	}
	if last := p.last[field]; string(raw) == last {
		return last, nil
	}
	s := p.intern.get(raw)
	p.last[field] = s
	return s, nil
}

// small reads a non-negative integer of up to nine digits, written as JSON
// writes it (no leading zero).
func (p *parser) small() (int, error) {
	r := &p.r
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	digits := r.b[start:r.i]
	if len(digits) == 0 || len(digits) > 9 || (digits[0] == '0' && len(digits) > 1) {
		return 0, errSlow
	}
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// time reads an RFC 3339 time in UTC, as the general decoder would: it
// parses with time.Time.UnmarshalText and takes only what the general
// decoder's extra checks (two-digit hour, a period before the fraction)
// accept, in UTC.
func (p *parser) time() (time.Time, error) {
	var t time.Time
	b, escaped, ok := p.r.str()
	if !ok || escaped {
		return t, errSlow
	}
	if len(b) < len("2006-01-02T15:04:05Z") || b[len(b)-1] != 'Z' || b[12] == ':' || b[19] == ',' {
		return t, errSlow
	}
	if t.UnmarshalText(b) != nil {
		return t, errSlow
	}
	return t, nil
}

// eventData reads the data object: it keeps its bytes, a part of the body
// with no copy, and decodes it into the event's type when the type came
// first and the parser knows it.
func (p *parser) eventData(rec *Record) error {
	r := &p.r
	start := r.i
	var target any
	if p.data != nil && rec.Envelope.Type != "" {
		target = p.data(rec.Envelope.Type)
	}
	if d, ok := target.(dataDecoder); ok {
		var n int
		if pd, isPlacement := d.(*placementData); isPlacement {
			n, ok = pd.decode(r.b[start:], p.intern)
		} else {
			n, ok = d.DecodeData(r.b[start:])
		}
		if !ok || n <= 0 || r.b[start] != '{' {
			return errSlow
		}
		r.i += n
	} else {
		if !r.skipObject() {
			return errSlow
		}
		// The general decoder checks the data as it decodes it.
		if target != nil && jsonv2.Unmarshal(r.b[start:r.i], target) != nil {
			return errSlow
		}
		if target == nil && !jsontext.Value(r.b[start:r.i]).IsValid() {
			return errSlow
		}
	}
	rec.Envelope.Data = r.b[start:r.i:r.i]
	rec.Decoded = target
	if d, ok := target.(*placementData); ok {
		rec.Decoded = d.ev // the event itself, not its decoder
	}
	return nil
}

// reader reads the compact JSON of an envelope, checking each string it
// reads, and refuses whatever it does not expect (whitespace, for one).
type reader struct {
	b []byte
	i int
}

func (r *reader) next(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// name reads `"name":` and returns name and its bit; an escaped or unknown
// name is refused. The string is only for comparing: the compiler does not
// copy it.
func (r *reader) name() (string, uint16, bool) {
	raw, escaped, ok := r.str()
	if !ok || escaped || !r.next(':') {
		return "", 0, false
	}
	switch string(raw) {
	case "id":
		return "id", 1 << 0, true
	case "type":
		return "type", 1 << 1, true
	case "schema_version":
		return "schema_version", 1 << 2, true
	case "aggregate_type":
		return "aggregate_type", 1 << 3, true
	case "aggregate_id":
		return "aggregate_id", 1 << 4, true
	case "time":
		return "time", 1 << 5, true
	case "actor":
		return "actor", 1 << 6, true
	case "data":
		return "data", 1 << 7, true
	case "prev_hash":
		return "prev_hash", 1 << 8, true
	case "hash":
		return "hash", 1 << 9, true
	}
	return "", 0, false
}

// str reads a string and returns its raw contents, between the quotes, and
// whether they hold an escape (see scanString).
func (r *reader) str() (raw []byte, escaped, ok bool) {
	raw, next, escaped, ok := scanString(r.b, r.i)
	if ok {
		r.i = next
	}
	return raw, escaped, ok
}

// scanString reads the JSON string that starts at b[i] and returns its raw
// contents, between the quotes, the index past its closing quote, and
// whether the contents hold an escape. Contents without an escape are
// checked here: no control character, valid UTF-8. Escaped ones are for the
// caller to unquote (jsontext.AppendUnquote), which checks them. It is the
// string reading of the replay's hand-written readers: the envelope's
// (parser) and the placements' (placementReader).
func scanString(b []byte, i int) (raw []byte, next int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false, false
	}
	start := i + 1
	// Most strings hold no escape: two vector searches find their end.
	if end := bytes.IndexByte(b[start:], '"'); end >= 0 && bytes.IndexByte(b[start:start+end], '\\') < 0 {
		raw = b[start : start+end]
		return raw, start + end + 1, false, validChars(raw)
	}
	j := start
	for j < len(b) && b[j] != '"' {
		if b[j] == '\\' {
			escaped = true
			j++
		}
		j++
	}
	if j >= len(b) {
		return nil, i, false, false
	}
	return b[start:j], j + 1, escaped, escaped || validChars(b[start:j])
}

// validChars reports whether the unescaped contents of a JSON string are
// valid: no control character, valid UTF-8.
func validChars(raw []byte) bool {
	ascii := true
	for _, c := range raw {
		if c < 0x20 {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	return ascii || utf8.Valid(raw)
}

// skipObject reads past an object.
func (r *reader) skipObject() bool {
	if r.i >= len(r.b) || r.b[r.i] != '{' {
		return false
	}
	depth := 0
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case '"':
			if _, _, ok := r.str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		r.i++
		if depth == 0 {
			return true
		}
	}
	return false
}

// BodyReader reads stored message bodies kept outside the stream (time
// travel's event segments) into records, exactly as a read of the stream
// does, decoding each event's data with its DataFunc. It is not safe for
// concurrent use.
type BodyReader struct{ p *parser }

// NewBodyReader returns a BodyReader decoding data with data (may be nil).
func NewBodyReader(data DataFunc) *BodyReader { return &BodyReader{p: newParser(data)} }

// Read returns the record of the event stored at sequence seq as body. The
// record carries no headers (IdempotencyKey, RequestHash). It returns an
// error wrapping ErrTampered when body is not an event envelope.
func (b *BodyReader) Read(seq uint64, body []byte) (Record, error) {
	rec := Record{Sequence: seq, Body: body}
	if err := b.p.parse(body, &rec); err != nil {
		return rec, fmt.Errorf("%w: sequence %d is not an event envelope: %v", ErrTampered, seq, err)
	}
	return rec, nil
}
