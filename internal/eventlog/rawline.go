package eventlog

import "strconv"

// AppendRawLine appends to line the line of the raw log for the event at
// sequence seq whose stored body is body: {"seq":N,"event":BODY} and a line
// feed, the body exactly as stored. It is the one writer of the raw log that
// GET /v1/events streams and export bundles hash; verify.ParseLine reads it.
func AppendRawLine(line []byte, seq uint64, body []byte) []byte {
	line = append(line, `{"seq":`...)
	line = strconv.AppendUint(line, seq, 10)
	line = append(line, `,"event":`...)
	line = append(line, body...)
	return append(line, "}\n"...)
}
