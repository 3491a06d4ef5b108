package roadmap

import (
	"fmt"
	"regexp"
	"time"
)

// Event types of governance reviews.
const (
	TypeReviewOpened    = "review.opened"
	TypeReviewClosed    = "review.closed"
	TypeReviewCancelled = "review.cancelled"
)

// ReviewStatus is where a governance review is in its life.
type ReviewStatus string

// Review statuses.
const (
	ReviewStatusOpen      ReviewStatus = "open"
	ReviewStatusClosed    ReviewStatus = "closed"
	ReviewStatusCancelled ReviewStatus = "cancelled"
)

var periodPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)

// Review is a monthly governance review: opened for a period, closed into an
// immutable snapshot of the ledger at one position.
type Review struct {
	ID     string
	Period string
	Title  string
	Status ReviewStatus
	Notes  string
	// Sequence is the ledger position the closed review freezes.
	Sequence uint64
	// Heads is the digest of every aggregate's hash-chain head at Sequence.
	Heads ChainHeads
	// Checkpoint is the signed checkpoint of the ledger at Sequence, made on
	// closing; nil while open, and for a review closed by a ledger that did
	// not sign checkpoints yet.
	Checkpoint *CheckpointSigned
}

// ChainHeads summarises the heads of every hash chain at one ledger
// position: how many aggregates there are and a SHA-256 digest over their
// sorted "type/id hash" lines, so a later change to any of them shows.
type ChainHeads struct {
	Aggregates int    `json:"aggregates"`
	Digest     string `json:"digest"`
}

// ReviewOpened records the opening of a review for a period.
type ReviewOpened struct {
	Period string `json:"period"`
	Title  string `json:"title"`
}

// ReviewClosed records the closing of a review: the ledger position it
// freezes, the chain heads there and the signed checkpoint of the ledger at
// that position.
type ReviewClosed struct {
	Notes    string     `json:"notes"`
	Sequence uint64     `json:"sequence"`
	Heads    ChainHeads `json:"heads"`
	// Checkpoint is the signed checkpoint of the first Sequence events
	// (its Size is Sequence). Optional: left out by ledgers that did not
	// sign checkpoints, which keeps the schema at version 1.
	Checkpoint *CheckpointSigned `json:"checkpoint,omitempty"`
}

// ReviewCancelled records that an open review was called off: it closes
// nothing, freezes nothing, and frees its period for a new review.
type ReviewCancelled struct {
	Rationale string   `json:"rationale"`
	Evidence  []string `json:"evidence"`
}

// EventType implements Event.
func (ReviewOpened) EventType() string { return TypeReviewOpened }

// EventType implements Event.
func (ReviewCancelled) EventType() string { return TypeReviewCancelled }

// EventType implements Event.
func (ReviewClosed) EventType() string { return TypeReviewClosed }

// OpenReview is the command that opens a review.
type OpenReview struct {
	Period string
	Title  string
}

// CloseReview is the command that closes a review.
type CloseReview struct {
	Notes string
}

// CancelReview is the command that cancels an open review.
type CancelReview struct {
	Rationale string
	Evidence  []string
}

// ReviewReferences gives review decisions what they must know of the rest of
// the ledger.
type ReviewReferences interface {
	// ReviewForPeriod returns the id of the review of a period that is
	// not cancelled, if any.
	ReviewForPeriod(period string) (string, bool)
	// Began returns the time of the ledger's first event; the zero time
	// for an empty ledger.
	Began() time.Time
}

// DecideOpenReview checks opening a review at now, the ledger's clock. It
// returns ErrInvalid for a period that is not YYYY-MM or is out of the
// ledger's range, and ErrConflict when the period already has a review. The
// range runs from the month of the ledger's first event (this month for an
// empty ledger) to the month after now: a review of a month the ledger
// never saw, or of a far future one, would squat a period for good.
func DecideOpenReview(cmd OpenReview, refs ReviewReferences, now time.Time) (*ReviewOpened, error) {
	var p problems
	if !periodPattern.MatchString(cmd.Period) {
		p.add("period", "must be a month as YYYY-MM, such as 2026-11")
	} else if first, last := periodRange(refs.Began(), now); cmd.Period < first || cmd.Period > last {
		p.add("period", "must be a month from %s, the ledger's first month, to %s, the month after this one", first, last)
	}
	optionalText(&p, "title", cmd.Title, maxTitle)
	if err := p.err(); err != nil {
		return nil, err
	}
	if id, ok := refs.ReviewForPeriod(cmd.Period); ok {
		return nil, conflictf("period %s already has review %s", cmd.Period, id)
	}
	title := clean(cmd.Title)
	if title == "" {
		title = "Governance review " + cmd.Period
	}
	return &ReviewOpened{Period: cmd.Period, Title: title}, nil
}

// periodRange returns the first and last periods a review may be opened
// for: the month of began (of now when began is zero or later) to the month
// after now, both as YYYY-MM, in UTC.
func periodRange(began, now time.Time) (first, last string) {
	now = now.UTC()
	if began.IsZero() || began.After(now) {
		began = now
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return began.UTC().Format("2006-01"), month.AddDate(0, 1, 0).Format("2006-01")
}

// DecideCloseReview checks closing r at the ledger position sequence, whose
// chain heads are heads. It returns ErrInvalid for notes that are too long
// and ErrConflict when r is already closed.
func DecideCloseReview(r Review, cmd CloseReview, sequence uint64, heads ChainHeads) (*ReviewClosed, error) {
	var p problems
	optionalText(&p, "notes", cmd.Notes, maxDescription)
	if err := p.err(); err != nil {
		return nil, err
	}
	switch r.Status {
	case ReviewStatusClosed:
		return nil, conflictf("review %s (%s) is already closed at sequence %d", r.ID, r.Period, r.Sequence)
	case ReviewStatusCancelled:
		return nil, conflictf("review %s (%s) is cancelled", r.ID, r.Period)
	}
	return &ReviewClosed{Notes: clean(cmd.Notes), Sequence: sequence, Heads: heads}, nil
}

// DecideCancelReview checks cancelling r. It returns ErrInvalid without a
// rationale and ErrConflict when r is not open.
func DecideCancelReview(r Review, cmd CancelReview) (*ReviewCancelled, error) {
	rationale, evidence, err := checkRationale(cmd.Rationale, cmd.Evidence)
	if err != nil {
		return nil, err
	}
	if r.Status != ReviewStatusOpen {
		return nil, conflictf("only an open review can be cancelled; %s", r)
	}
	return &ReviewCancelled{Rationale: rationale, Evidence: evidence}, nil
}

// EvolveReview returns r with e applied. Events of other aggregates are
// ignored.
func EvolveReview(r Review, id string, e Event) Review {
	switch e := e.(type) {
	case *ReviewOpened:
		return Review{ID: id, Period: e.Period, Title: e.Title, Status: ReviewStatusOpen}
	case *ReviewClosed:
		r.Status, r.Notes, r.Sequence, r.Heads, r.Checkpoint = ReviewStatusClosed, e.Notes, e.Sequence, e.Heads, e.Checkpoint
	case *ReviewCancelled:
		r.Status = ReviewStatusCancelled
	}
	return r
}

// String names a review for messages.
func (r Review) String() string { return fmt.Sprintf("review %s (%s, %s)", r.ID, r.Period, r.Status) }
