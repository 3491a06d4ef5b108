package eventlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// AppendRawLine appends to line the line of the raw log for the event at
// sequence seq whose stored body is body: {"seq":N,"event":BODY} and a line
// feed, the body exactly as stored. It is the one writer of the raw log that
// GET /v1/events streams and export bundles hash; ParseRawLine reads it.
func AppendRawLine(line []byte, seq uint64, body []byte) []byte {
	line = append(line, `{"seq":`...)
	line = strconv.AppendUint(line, seq, 10)
	line = append(line, `,"event":`...)
	line = append(line, body...)
	return append(line, "}\n"...)
}

// ErrRawLine marks a line of the raw log that is not {"seq":N,"event":BODY}.
var ErrRawLine = errors.New("malformed line of the raw log")

var (
	rawLinePrefix = []byte(`{"seq":`)
	rawEventKey   = []byte(`,"event":`)
)

// ParseRawLine splits one line of the raw log (without its line feed) into its
// sequence and the event's stored bytes, exactly as sent. The body aliases
// line.
func ParseRawLine(line []byte) (int64, []byte, error) {
	// The server writes exactly {"seq":N,"event":BODY}; read that shape
	// directly, so the bytes are the ones sent.
	if rest, ok := bytes.CutPrefix(line, rawLinePrefix); ok {
		if i := bytes.Index(rest, rawEventKey); i > 0 {
			if seq, err := strconv.ParseInt(string(rest[:i]), 10, 64); err == nil && seq > 0 {
				body := rest[i+len(rawEventKey):]
				if n := len(body); n >= 2 && body[n-1] == '}' {
					return seq, body[:n-1], nil
				}
			}
		}
	}
	// Any other spelling of the same object: decode it, keeping the event's
	// bytes raw.
	var l struct {
		Seq   int64           `json:"seq"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrRawLine, err)
	}
	if l.Seq < 1 || len(l.Event) == 0 {
		return 0, nil, fmt.Errorf("%w: no seq or no event", ErrRawLine)
	}
	return l.Seq, l.Event, nil
}
