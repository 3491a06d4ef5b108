package roadmap

import (
	"fmt"
	"regexp"
)

// Event types of governance reviews.
const (
	TypeReviewOpened = "review.opened"
	TypeReviewClosed = "review.closed"
)

// ReviewStatus is where a governance review is in its life.
type ReviewStatus string

// Review statuses.
const (
	ReviewStatusOpen   ReviewStatus = "open"
	ReviewStatusClosed ReviewStatus = "closed"
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

// EventType implements Event.
func (ReviewOpened) EventType() string { return TypeReviewOpened }

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

// ReviewReferences gives review decisions what they must know of the rest of
// the ledger.
type ReviewReferences interface {
	// ReviewForPeriod returns the id of the review of a period, if any.
	ReviewForPeriod(period string) (string, bool)
}

// DecideOpenReview checks opening a review. It returns ErrInvalid for a
// period that is not YYYY-MM and ErrConflict when the period already has a
// review.
func DecideOpenReview(cmd OpenReview, refs ReviewReferences) (*ReviewOpened, error) {
	var p problems
	if !periodPattern.MatchString(cmd.Period) {
		p.add("period", "must be a month as YYYY-MM, such as 2026-11")
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

// DecideCloseReview checks closing r at the ledger position sequence, whose
// chain heads are heads. It returns ErrInvalid for notes that are too long
// and ErrConflict when r is already closed.
func DecideCloseReview(r Review, cmd CloseReview, sequence uint64, heads ChainHeads) (*ReviewClosed, error) {
	var p problems
	optionalText(&p, "notes", cmd.Notes, maxDescription)
	if err := p.err(); err != nil {
		return nil, err
	}
	if r.Status == ReviewStatusClosed {
		return nil, conflictf("review %s (%s) is already closed at sequence %d", r.ID, r.Period, r.Sequence)
	}
	return &ReviewClosed{Notes: clean(cmd.Notes), Sequence: sequence, Heads: heads}, nil
}

// EvolveReview returns r with e applied. Events of other aggregates are
// ignored.
func EvolveReview(r Review, id string, e Event) Review {
	switch e := e.(type) {
	case *ReviewOpened:
		return Review{ID: id, Period: e.Period, Title: e.Title, Status: ReviewStatusOpen}
	case *ReviewClosed:
		r.Status, r.Notes, r.Sequence, r.Heads, r.Checkpoint = ReviewStatusClosed, e.Notes, e.Sequence, e.Heads, e.Checkpoint
	}
	return r
}

// String names a review for messages.
func (r Review) String() string { return fmt.Sprintf("review %s (%s, %s)", r.ID, r.Period, r.Status) }
