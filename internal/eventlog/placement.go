package eventlog

import (
	"strconv"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// placementData decodes the data of a prioritisation or reprioritisation,
// nearly every event of a long ledger, as the replay reads it. The general
// decoder finds each field of Placement by reflection; this one reads the
// compact text field by field, checking what the general decoder checks
// (syntax, UTF-8, no duplicate names). It leaves anything off the shape the
// ledger writes (an unknown field, a null where a value is usual, whitespace,
// an escaped name, a number where a string goes) to the general decoder, so
// the result is the general decoder's in every case:
// TestPlacementDecodesAsTheGeneralDecoder and FuzzPlacement hold it to that.
//
// Its speed is BenchmarkDecodePlacement's: "placementData" against
// "general", the JSON v2 decoder (about 2 µs against 5 to 7 on a 2-CPU
// machine).
type placementData struct {
	ev        roadmap.Event
	placement *roadmap.Placement
	rank      int // the placement's rank points here, allocated with the event
}

var _ dataDecoder = (*placementData)(nil)

// DecodeData implements dataDecoder.
func (d *placementData) DecodeData(data []byte) (int, bool) { return d.decode(data, nil) }

// decode is DecodeData sharing, through shared, the strings that repeat
// from one placement to the next: the horizon, the score's framework and
// category, the objectives' ids. The parser passes its own table.
func (d *placementData) decode(data []byte, shared interner) (int, bool) {
	r := placementReader{b: data, rank: &d.rank, shared: shared}
	p, ok := r.placement()
	if !ok {
		return 0, false
	}
	*d.placement = p
	return r.i, true
}

// placementReader reads the compact JSON of a placement, checking each
// string and number it reads.
type placementReader struct {
	b      []byte
	i      int
	rank   *int     // where to keep the rank, if not in an allocation of its own
	shared interner // the strings shared with other events (nil: none)
}

func (r *placementReader) next(c byte) bool {
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// null reads a null if one is next.
func (r *placementReader) null() bool {
	if r.i+4 <= len(r.b) && string(r.b[r.i:r.i+4]) == "null" {
		r.i += 4
		return true
	}
	return false
}

// The fields of a placement and of its score, as name returns them.
const (
	fieldHorizon = iota
	fieldRank
	fieldScore
	fieldObjectiveIDs
	fieldRationale
	fieldEvidence
	fieldFramework
	fieldVersion
	fieldCategory
	fieldValue
	fieldReach // the first score input: the inputs follow
)

// name reads `"name":` and returns the name's index in fieldNames; an
// escaped or unknown name is not read.
func (r *placementReader) name() (int, bool) {
	if !r.next('"') {
		return 0, false
	}
	start := r.i
	for r.i < len(r.b) && r.b[r.i] != '"' {
		if r.b[r.i] == '\\' {
			return 0, false
		}
		r.i++
	}
	name := r.b[start:r.i]
	r.i++
	if !r.next(':') {
		return 0, false
	}
	// A switch on the bytes as a string neither copies them nor compares
	// them with every name in turn.
	switch string(name) {
	case "horizon":
		return fieldHorizon, true
	case "rank":
		return fieldRank, true
	case "score":
		return fieldScore, true
	case "objective_ids":
		return fieldObjectiveIDs, true
	case "rationale":
		return fieldRationale, true
	case "evidence":
		return fieldEvidence, true
	case "framework":
		return fieldFramework, true
	case "version":
		return fieldVersion, true
	case "category":
		return fieldCategory, true
	case "value":
		return fieldValue, true
	case "reach":
		return fieldReach, true
	case "impact":
		return fieldReach + 1, true
	case "confidence":
		return fieldReach + 2, true
	case "business_value":
		return fieldReach + 3, true
	case "time_criticality":
		return fieldReach + 4, true
	case "risk_reduction":
		return fieldReach + 5, true
	case "job_size":
		return fieldReach + 6, true
	case "customer_value":
		return fieldReach + 7, true
	case "risk":
		return fieldReach + 8, true
	case "effort":
		return fieldReach + 9, true
	}
	return 0, false
}

// str reads a string.
func (r *placementReader) str() (string, bool) {
	quoted := r.i
	raw, next, escaped, ok := scanString(r.b, r.i)
	if !ok {
		return "", false
	}
	r.i = next
	if !escaped {
		return string(raw), true
	}
	// AppendUnquote checks the escapes and the UTF-8 as the general decoder
	// does.
	s, err := jsontext.AppendUnquote(nil, r.b[quoted:next])
	return string(s), err == nil
}

// sharedStr reads a string whose value repeats between events: one
// without an escape comes from the reader's interner.
func (r *placementReader) sharedStr() (string, bool) {
	raw, next, escaped, ok := scanString(r.b, r.i)
	if !ok || escaped || r.shared == nil {
		return r.str()
	}
	r.i = next
	return r.shared.get(raw), true
}

// strs reads an array of strings; [] is an empty slice, not nil. With
// shared, each string is read by sharedStr.
func (r *placementReader) strs(shared bool) ([]string, bool) {
	if r.null() {
		return nil, true
	}
	if !r.next('[') {
		return nil, false
	}
	out := []string{}
	if r.next(']') {
		return out, true
	}
	read := r.str
	if shared {
		read = r.sharedStr
	}
	for {
		s, ok := read()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if r.next(']') {
			return out, true
		}
		if !r.next(',') {
			return nil, false
		}
	}
}

// number returns the text of the number next, or false when it is not a
// JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *placementReader) number() (text []byte, integer, ok bool) {
	start := r.i
	r.next('-')
	switch {
	case r.next('0'):
	case r.digits() == 0:
		return nil, false, false
	}
	integer = true
	if r.next('.') {
		integer = false
		if r.digits() == 0 {
			return nil, false, false
		}
	}
	if r.next('e') || r.next('E') {
		integer = false
		if !r.next('+') {
			r.next('-')
		}
		if r.digits() == 0 {
			return nil, false, false
		}
	}
	return r.b[start:r.i], integer, true
}

// digits reads decimal digits and says how many.
func (r *placementReader) digits() int {
	start := r.i
	for r.i < len(r.b) && '0' <= r.b[r.i] && r.b[r.i] <= '9' {
		r.i++
	}
	return r.i - start
}

// integer reads an integer written without fraction or exponent.
func (r *placementReader) integer() (int, bool) {
	text, integer, ok := r.number()
	if !ok || !integer {
		return 0, false
	}
	n, err := strconv.Atoi(string(text))
	return n, err == nil
}

func (r *placementReader) float() (float64, bool) {
	text, _, ok := r.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(text), 64)
	return f, err == nil
}

func (r *placementReader) placement() (p roadmap.Placement, ok bool) {
	if !r.next('{') {
		return p, false
	}
	var seen uint32 // the fields read so far, by their bit: no name twice
	for first := true; !r.next('}'); first = false {
		if !first && !r.next(',') {
			return p, false
		}
		name, ok := r.name()
		if !ok || seen&(1<<name) != 0 {
			return p, false
		}
		seen |= 1 << name
		switch name {
		case fieldHorizon:
			var h string
			h, ok = r.sharedStr()
			p.Horizon = roadmap.Horizon(h)
		case fieldRank:
			if r.null() {
				p.Rank = nil
				continue
			}
			n := r.rank
			if n == nil {
				n = new(int)
			}
			*n, ok = r.integer()
			p.Rank = n
		case fieldScore:
			if r.null() {
				p.Score = nil
				continue
			}
			p.Score, ok = r.score()
		case fieldObjectiveIDs:
			p.ObjectiveIDs, ok = r.strs(true)
		case fieldRationale:
			p.Rationale, ok = r.str()
		case fieldEvidence:
			p.Evidence, ok = r.strs(false)
		default:
			return p, false
		}
		if !ok {
			return p, false
		}
	}
	return p, true
}

// scoreInputs is the most inputs a score has: their values are allocated
// with the score.
const scoreInputs = 4

func (r *placementReader) score() (*roadmap.Score, bool) {
	if !r.next('{') {
		return nil, false
	}
	// The score and its inputs live and die together: one allocation.
	block := &struct {
		score  roadmap.Score
		inputs [scoreInputs]float64
	}{}
	s, inputs := &block.score, &block.inputs
	used := 0
	var seen uint32
	for first := true; !r.next('}'); first = false {
		if !first && !r.next(',') {
			return nil, false
		}
		name, ok := r.name()
		if !ok || seen&(1<<name) != 0 {
			return nil, false
		}
		seen |= 1 << name
		var input **float64
		switch name {
		case fieldFramework:
			s.Framework, ok = r.sharedStr()
		case fieldVersion:
			s.Version, ok = r.integer()
		case fieldCategory:
			s.Category, ok = r.sharedStr()
		case fieldValue:
			s.Value, ok = r.float()
		case fieldReach:
			input = &s.Reach
		case fieldReach + 1:
			input = &s.Impact
		case fieldReach + 2:
			input = &s.Confidence
		case fieldReach + 3:
			input = &s.BusinessValue
		case fieldReach + 4:
			input = &s.TimeCriticality
		case fieldReach + 5:
			input = &s.RiskReduction
		case fieldReach + 6:
			input = &s.JobSize
		case fieldReach + 7:
			input = &s.CustomerValue
		case fieldReach + 8:
			input = &s.Risk
		case fieldReach + 9:
			input = &s.Effort
		default:
			return nil, false
		}
		if input != nil {
			if used == scoreInputs {
				return nil, false
			}
			v := &inputs[used]
			*v, ok = r.float()
			*input = v
			used++
		}
		if !ok {
			return nil, false
		}
	}
	return s, true
}
