package web

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// clockViews is a ledger of ten events whose clock cannot be read, as when
// the projections' history file fails.
type clockViews struct{ Views }

var errHistory = errors.New("the history file: read chunk 3: EOF")

func (clockViews) Sequence() uint64                     { return 10 }
func (clockViews) SequenceAt(time.Time) (uint64, error) { return 0, errHistory }

// A moment the page was asked for badly is the asker's to mend (a 400 that
// says what to send); a clock the ledger cannot read is the ledger's
// error, passed on for failWith to answer, never blamed on the query.
func TestAMomentTellsABadQueryFromTheLedgersOwnError(t *testing.T) {
	a := &App{cfg: Config{Views: clockViews{}}}
	for _, query := range []string{"as_of=yesterday", "at_seq=-1", "at_seq=11"} {
		q, _ := url.ParseQuery(query)
		var bad badMoment
		if _, _, err := a.moment(q); !errors.As(err, &bad) {
			t.Errorf("%s: %v, want a bad moment", query, err)
		}
	}
	q, _ := url.ParseQuery("as_of=2026-11-01")
	var bad badMoment
	if _, _, err := a.moment(q); !errors.Is(err, errHistory) || errors.As(err, &bad) {
		t.Errorf("as_of with the clock unreadable: %v, want the ledger's own error", err)
	}
	q, _ = url.ParseQuery("at_seq=4")
	if seq, past, err := a.moment(q); seq != 4 || !past || err != nil {
		t.Errorf("at_seq=4: %d, %v, %v", seq, past, err)
	}
}
