package roadmap_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// reviewRefs is what opening a review sees of the rest of the ledger.
type reviewRefs struct {
	began    time.Time
	byPeriod map[string]string
}

func (f reviewRefs) ReviewForPeriod(period string) (string, bool) {
	id, ok := f.byPeriod[period]
	return id, ok
}

func (f reviewRefs) Began() time.Time { return f.began }

var _ roadmap.ReviewReferences = reviewRefs{}

func TestDecideOpenReviewAcceptsOnlyTheLedgersMonths(t *testing.T) {
	// The ledger began in March 2026; its clock reads the 4th of December.
	began := time.Date(2026, 3, 31, 23, 30, 0, 0, time.UTC)
	now := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	ledger := reviewRefs{began: began}
	empty := reviewRefs{}
	tests := []struct {
		name   string
		refs   reviewRefs
		now    time.Time
		period string
		ok     bool
	}{
		{"the ledger's first month", ledger, now, "2026-03", true},
		{"the month before it", ledger, now, "2026-02", false},
		{"this month", ledger, now, "2026-12", true},
		{"next month, across a year", ledger, now, "2027-01", true},
		{"the month after next", ledger, now, "2027-02", false},
		{"the first month there is", ledger, now, "0001-01", false},
		{"the last month there is", ledger, now, "9999-12", false},
		{"an empty ledger: this month", empty, now, "2026-12", true},
		{"an empty ledger: next month", empty, now, "2027-01", true},
		{"an empty ledger: last month", empty, now, "2026-11", false},
		{"an empty ledger: the month after next", empty, now, "2027-02", false},
		{"the last day of a month: next month", ledger, time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC), "2026-02", true},
		{"the last day of a month: the month after next", ledger, time.Date(2026, 1, 31, 23, 59, 0, 0, time.UTC), "2026-03", false},
		{"a clock set back before the first event: its month", ledger, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), "2026-01", true},
		{"the clock's zone does not count, UTC does", ledger, time.Date(2026, 12, 31, 20, 0, 0, 0, time.FixedZone("", -5*3600)), "2027-02", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := roadmap.DecideOpenReview(roadmap.OpenReview{Period: tt.period}, tt.refs, tt.now)
			if tt.ok {
				if err != nil || e.Period != tt.period {
					t.Fatalf("open %s = %+v, %v, want it opened", tt.period, e, err)
				}
				return
			}
			if !errors.Is(err, roadmap.ErrInvalid) {
				t.Fatalf("open %s = %+v, %v, want ErrInvalid", tt.period, e, err)
			}
			var v *roadmap.ValidationError
			if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != "period" ||
				!strings.Contains(v.Fields[0].Message, " from ") || !strings.Contains(v.Fields[0].Message, " to ") {
				t.Errorf("open %s: %v, want one problem with the period naming the range", tt.period, err)
			}
		})
	}
	t.Run("the message names the range", func(t *testing.T) {
		_, err := roadmap.DecideOpenReview(roadmap.OpenReview{Period: "9999-12"}, ledger, now)
		if err == nil || !strings.Contains(err.Error(), "from 2026-03") || !strings.Contains(err.Error(), "to 2027-01") {
			t.Errorf("err = %v, want it to name 2026-03 to 2027-01", err)
		}
	})
	t.Run("a period with a review is a conflict", func(t *testing.T) {
		refs := reviewRefs{began: began, byPeriod: map[string]string{"2026-11": "r1"}}
		if _, err := roadmap.DecideOpenReview(roadmap.OpenReview{Period: "2026-11"}, refs, now); !errors.Is(err, roadmap.ErrConflict) {
			t.Errorf("err = %v, want ErrConflict", err)
		}
	})
}

func TestDecideCancelReview(t *testing.T) {
	open := roadmap.Review{ID: "r1", Period: "2026-11", Status: roadmap.ReviewStatusOpen}
	closed := roadmap.Review{ID: "r1", Period: "2026-11", Status: roadmap.ReviewStatusClosed, Sequence: 9}
	cancelled := roadmap.Review{ID: "r1", Period: "2026-11", Status: roadmap.ReviewStatusCancelled}
	tests := []struct {
		name   string
		review roadmap.Review
		cmd    roadmap.CancelReview
		want   error
	}{
		{"an open review with a rationale", open, roadmap.CancelReview{Rationale: " Opened for the wrong month. ", Evidence: []string{"https://e/1"}}, nil},
		{"without a rationale", open, roadmap.CancelReview{Rationale: " "}, roadmap.ErrInvalid},
		{"with blank evidence", open, roadmap.CancelReview{Rationale: "r", Evidence: []string{""}}, roadmap.ErrInvalid},
		{"a closed review", closed, roadmap.CancelReview{Rationale: "r"}, roadmap.ErrConflict},
		{"a cancelled review", cancelled, roadmap.CancelReview{Rationale: "r"}, roadmap.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := roadmap.DecideCancelReview(tt.review, tt.cmd)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil || e.Rationale != "Opened for the wrong month." || len(e.Evidence) != 1 {
				t.Fatalf("cancel = %+v, %v", e, err)
			}
			r := roadmap.EvolveReview(tt.review, tt.review.ID, e)
			if r.Status != roadmap.ReviewStatusCancelled || r.Period != "2026-11" {
				t.Errorf("after the event the review is %+v, want it cancelled", r)
			}
			if _, err := roadmap.DecideCloseReview(r, roadmap.CloseReview{}, 10, roadmap.ChainHeads{}); !errors.Is(err, roadmap.ErrConflict) {
				t.Errorf("closing a cancelled review: %v, want ErrConflict", err)
			}
		})
	}
}
