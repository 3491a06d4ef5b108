package eventlog_test

import (
	"bytes"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

func TestARawLineReadsBackToTheExactBytes(t *testing.T) {
	body := []byte(`{"id":"x","data":{"k":"v\u00e9","s":"}"}}`)
	line := eventlog.AppendRawLine(nil, 42, body)
	if got, want := string(line), `{"seq":42,"event":`+string(body)+"}\n"; got != want {
		t.Fatalf("AppendRawLine = %q, want %q", got, want)
	}
	seq, got, err := eventlog.ParseRawLine(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil || seq != 42 || !bytes.Equal(got, body) {
		t.Fatalf("ParseRawLine = %d, %s, %v; want 42, %s", seq, got, err, body)
	}
}
