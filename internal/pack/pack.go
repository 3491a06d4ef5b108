// Package pack is the monthly governance review pack: what the board reads
// before and during the review, in the order of its agenda, rendered as
// Markdown or as a standalone, printable HTML document. It holds plain rows
// of text and numbers and depends on nothing but the standard library and
// internal/chart (which draws its charts), so the same Pack always renders
// to the same bytes.
package pack

import (
	"strconv"
	"strings"
	"time"
)

// Section is one part of the pack: a stable anchor id and heading that
// readers and tools can find it by.
type Section struct {
	ID    string
	Title string
}

// Sections lists the parts of every pack, in the order of the agenda.
func Sections() []Section {
	return []Section{
		{"goals", "Goals"},
		{"progress", "Progress"},
		{"decisions", "Decisions of the period"},
		{"capacity", "Capacity against commitments"},
		{"risks", "Risks and dependencies"},
		{"health", "Health signals"},
		{"pending", "Pending changes"},
		{"diff", "Diff against the previous review"},
		{"numbers", "Figures against the previous review"},
	}
}

// Pack is one governance review as the board reads it.
type Pack struct {
	ReviewID string
	Period   string
	Title    string
	// Status is "open" or "closed".
	Status   string
	OpenedAt time.Time
	ClosedAt *time.Time
	Notes    string
	// SinceSequence and Sequence bound the period: its decisions are those
	// after SinceSequence, up to Sequence, the ledger position shown.
	SinceSequence uint64
	Sequence      uint64
	// AsOf is the time of the event at Sequence; nil for an empty ledger.
	AsOf *time.Time
	// MeasuredAt is the moment time-based signals are measured at: when the
	// review closed, or when the pack was made for an open one.
	MeasuredAt time.Time
	// ChainDigest is the digest of every hash chain's head at Sequence;
	// empty while the review is open.
	ChainDigest string

	Goals        []Goal
	Unaligned    []GoalItem
	Progress     []ProgressRow
	Decisions    []DecisionRow
	Capacity     []CapacityRow
	Risks        []RiskRow
	Dependencies []DependencyRow
	Health       Health
	Pending      []PendingRow
	// Diff is nil for a first review, with no earlier closed one.
	Diff *Diff
	// Numbers is nil for a pack made without the ledger's figures.
	Numbers *Numbers
}

// Goal is an objective with the roadmap items that serve it.
type Goal struct {
	ObjectiveID string
	Title       string
	KPI         string
	Target      string
	Product     string
	// Retired marks an objective no longer active that items still serve.
	Retired bool
	Items   []GoalItem
}

// GoalItem is a roadmap item where it stands.
type GoalItem struct {
	ItemID  string
	Title   string
	Product string
	Place   Place
}

// Place is where an item stands on the roadmap; the zero Place is off it.
type Place struct {
	Horizon string
	Rank    int
}

// String reads "now #1", or "off the roadmap".
func (p Place) String() string {
	if p.Rank == 0 {
		return "off the roadmap"
	}
	return p.Horizon + " #" + strconv.Itoa(p.Rank)
}

// ProgressRow is an item delivered in the period.
type ProgressRow struct {
	ItemID    string
	Title     string
	Product   string
	Sequence  uint64
	At        time.Time
	Actor     string
	Rationale string
	Evidence  []string
}

// DecisionRow is one decision of the period.
type DecisionRow struct {
	Sequence uint64
	At       time.Time
	Actor    string
	Type     string
	// Kind is the kind of aggregate decided on: "item" or "objective".
	Kind    string
	ID      string
	Subject string
	// From and To are the item's places around the decision; nil for a
	// decision on an objective.
	From, To *Place
	// Score is the score the decision set, as text; empty when none.
	Score     string
	Rationale string
	Evidence  []string
	// Changes are the fields an edit changed; nil for other decisions.
	Changes []FieldChange
}

// FieldChange is one field an edit changed, with its values before and
// after as text.
type FieldChange struct {
	Field  string
	Before string
	After  string
}

// Move reads "later #2 → next #1"; empty for a decision on an objective.
func (d DecisionRow) Move() string {
	if d.From == nil || d.To == nil {
		return ""
	}
	return d.From.String() + " → " + d.To.String()
}

// Change reads what the decision changed: for an edit, each field with
// its values before and after ("title: Import → Bulk import; effort: none
// → 5"); for another decision, its Move.
func (d DecisionRow) Change() string {
	if len(d.Changes) == 0 {
		return d.Move()
	}
	parts := make([]string, len(d.Changes))
	for i, c := range d.Changes {
		parts[i] = c.Field + ": " + c.Before + " → " + c.After
	}
	return strings.Join(parts, "; ")
}

// CapacityRow is what a product's team can take in a horizon beside what
// is committed there.
type CapacityRow struct {
	Product string
	Horizon string
	// Capacity is nil when the team stated none.
	Capacity  *int
	Committed int
	Over      bool
}

// RiskRow is an item with the risks recorded against it.
type RiskRow struct {
	ItemID string
	Title  string
	Risks  []string
}

// DependencyRow is an item with the items it depends on.
type DependencyRow struct {
	ItemID    string
	Title     string
	DependsOn []string
	// Flag says what is wrong with the dependency, if anything (for
	// example, a dependency placed in a later horizon).
	Flag string
}

// PendingRow is a major change waiting for approval.
type PendingRow struct {
	ID         string
	ItemID     string
	Title      string
	Change     string
	ProposedBy string
	ProposedAt time.Time
	Rationale  string
}

// Health holds the review's health signals.
type Health struct {
	Orphans            []HealthItem
	OrphanedObjectives []ObjectiveRow
	Stale              []StaleRow
	Churn              []ChurnRow
	Gravity            []GravityRow
}

// HealthItem is a roadmap item a signal points at.
type HealthItem struct {
	ItemID  string
	Title   string
	Product string
	Place   Place
}

// ObjectiveRow is an objective a signal points at.
type ObjectiveRow struct {
	ObjectiveID string
	Title       string
	KPI         string
	Target      string
	Product     string
}

// StaleRow is an item with no decision for a long time.
type StaleRow struct {
	HealthItem
	LastDecisionAt time.Time
	DaysSince      int
}

// ChurnRow is an item that moved too often in the period.
type ChurnRow struct {
	ItemID    string
	Title     string
	Moves     int
	Sequences []uint64
}

// GravityRow is an item that stays or rises by persistence rather than
// evidence.
type GravityRow struct {
	ItemID  string
	Title   string
	Product string
	// Reason is "long-in-later" or "raised-without-evidence".
	Reason   string
	Sequence uint64
	// Since is when the item went into later; nil for a raise.
	Since *time.Time
	// Move is where a raise took the item ("later #1 → next #3"), when
	// known.
	Move string
}

// Diff is what changed on the roadmap since the previous closed review.
type Diff struct {
	AgainstID       string
	AgainstPeriod   string
	AgainstSequence uint64
	Added           []DiffRow
	Removed         []DiffRow
	Moved           []DiffRow
	Rescored        []DiffRow
}

// DiffRow is one item that changed, with the decisions behind the change.
type DiffRow struct {
	ItemID    string
	Title     string
	Product   string
	From, To  Place
	FromScore string
	ToScore   string
	Decisions []uint64
}

// Numbers are the review's figures against the previous review's, and each
// objective's KPI over time with the deliveries that served it: the last
// part of the pack, added after the others so that what a pack held
// before reads the same.
type Numbers struct {
	// Period is the review's month; Sequence the ledger position the
	// figures are read up to.
	Period   string
	Sequence uint64
	// PreviousID and PreviousPeriod name the previous closed review; empty
	// for a first review, whose Previous figures are all nil.
	PreviousID, PreviousPeriod string
	Figures                    []FigureRow
	Objectives                 []KPISeries
}

// FigureRow is one figure (docs/metrics.md) of the previous review's month
// and of this one's; nil when it has no value there.
type FigureRow struct {
	Name string
	// Unit is "%" for a share (a value from 0 to 1 shown as a
	// percentage), "days" or "hours", or empty for a count or a ratio.
	Unit          string
	Previous, Now *float64
}

// KPISeries is an objective's KPI over time: its measurements and the
// deliveries of the items serving it, up to the review's position.
type KPISeries struct {
	ObjectiveID, Title, KPI, Target string
	Measurements                    []KPIPoint
	Deliveries                      []KPIDelivery
}

// KPIPoint is one measurement of a KPI.
type KPIPoint struct {
	At           time.Time
	Value        float64
	Source, Note string
}

// KPIDelivery is the delivery of an item serving the objective.
type KPIDelivery struct {
	At            time.Time
	ItemID, Title string
}
