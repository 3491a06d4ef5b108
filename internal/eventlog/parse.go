package eventlog

import (
	"bytes"
	"errors"
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DataFunc returns a pointer to decode the data of an event of the given type
// into, or nil to leave the data undecoded (Record.Decoded stays nil).
type DataFunc func(eventType string) any

// parser reads stored message bodies into records. It is on the replay's hot
// path, so it reads an envelope in one pass: the canonical envelope puts
// "type" before "data", which lets it decode the data straight into the
// event's own type while it reads the envelope, with no copy of the data and
// no second scan. A body it does not take this way (an unknown field, a null,
// a type after its data, an escaped name) is decoded by the general JSON
// decoder instead, exactly as if the fast path did not exist. It is not
// safe for concurrent use: each reader has its own.
type parser struct {
	data   DataFunc // may be nil: no data is decoded
	in     bytes.Buffer
	dec    jsontext.Decoder
	intern map[string]string // the few distinct types, aggregate types, actors and aggregate ids
	quoted []byte            // scratch for unquoting escaped strings
}

// maxInterned bounds the strings a parser shares between events.
const maxInterned = 1 << 14

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
	p.in = *bytes.NewBuffer(body)
	d := &p.dec
	d.Reset(&p.in)
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return errSlow
	}
	e := &rec.Envelope
	for d.PeekKind() == '"' {
		name, err := d.ReadValue()
		if err != nil {
			return errSlow
		}
		switch string(name) {
		case `"id"`:
			e.ID, err = p.str(false)
		case `"type"`:
			e.Type, err = p.str(true)
		case `"schema_version"`:
			e.SchemaVersion, err = p.small()
		case `"aggregate_type"`:
			e.AggregateType, err = p.str(true)
		case `"aggregate_id"`:
			e.AggregateID, err = p.str(true)
		case `"time"`:
			e.Time, err = p.time()
		case `"actor"`:
			e.Actor, err = p.str(true)
		case `"data"`:
			err = p.eventData(body, rec)
		case `"prev_hash"`:
			e.PrevHash, err = p.str(false)
		case `"hash"`:
			e.Hash, err = p.str(false)
		default:
			return errSlow
		}
		if err != nil {
			return err
		}
	}
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '}' {
		return errSlow
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return errSlow // trailing data, or not even that
	}
	return nil
}

// str reads a string value; shared ones come from the parser's table.
func (p *parser) str(shared bool) (string, error) {
	v, err := p.dec.ReadValue()
	if err != nil || len(v) < 2 || v[0] != '"' {
		return "", errSlow
	}
	raw := v[1 : len(v)-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		if p.quoted, err = jsontext.AppendUnquote(p.quoted[:0], v); err != nil {
			return "", errSlow
		}
		raw = p.quoted
	}
	if !shared {
		return string(raw), nil
	}
	if s, ok := p.intern[string(raw)]; ok {
		return s, nil
	}
	s := string(raw)
	if len(p.intern) < maxInterned {
		p.intern[s] = s
	}
	return s, nil
}

// small reads a non-negative integer of up to nine digits.
func (p *parser) small() (int, error) {
	v, err := p.dec.ReadValue()
	if err != nil || len(v) == 0 || len(v) > 9 {
		return 0, errSlow
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errSlow
		}
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
	v, err := p.dec.ReadValue()
	if err != nil || len(v) < 2 || v[0] != '"' {
		return t, errSlow
	}
	b := v[1 : len(v)-1]
	if len(b) < len("2006-01-02T15:04:05Z") || b[len(b)-1] != 'Z' || b[12] == ':' || b[19] == ',' ||
		bytes.IndexByte(b, '\\') >= 0 {
		return t, errSlow
	}
	if t.UnmarshalText(b) != nil {
		return t, errSlow
	}
	return t, nil
}

// eventData reads the data object: it keeps its bytes, a part of body with
// no copy, and decodes it into the event's type when the type came first
// and the parser knows it.
func (p *parser) eventData(body []byte, rec *Record) error {
	d := &p.dec
	if d.PeekKind() != '{' {
		return errSlow
	}
	start := int(d.InputOffset())
	for start < len(body) && (body[start] == ':' || body[start] == ' ' || body[start] == '\t' || body[start] == '\r' || body[start] == '\n') {
		start++
	}
	var target any
	if p.data != nil && rec.Envelope.Type != "" {
		target = p.data(rec.Envelope.Type)
	}
	if target == nil {
		if err := d.SkipValue(); err != nil {
			return errSlow
		}
	} else if err := jsonv2.UnmarshalDecode(d, target); err != nil {
		return errSlow
	}
	end := int(d.InputOffset())
	if end > len(body) || start >= end {
		return errSlow
	}
	rec.Envelope.Data = body[start:end:end]
	rec.Decoded = target
	return nil
}
