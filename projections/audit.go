package projections

import (
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// AuditEvent is one event of the audit trail as the history, the audit pages
// and the exports show it: every field that applies to the event's type is
// set, lists included, and every other one is nil, so every row of an export
// has the same shape whatever its type.
type AuditEvent struct {
	Sequence      uint64
	EventID       string
	Type          string
	At            time.Time
	Actor         string
	AggregateType string
	AggregateID   string
	// Product is nil for an aggregate without one (a review).
	Product *string
	Title   *string
	// Rationale is the why of a decision (for a closed review, its notes);
	// nil for an event that carries none, such as a proposal.
	Rationale *string
	// Evidence is a list (maybe empty) for an event that carries evidence
	// (an item decision, a change, a review's cancellation), nil otherwise.
	Evidence []string
	// From and To are the item's places before and after the event; nil
	// for an event of another aggregate.
	From *Place
	To   *Place
	// Score is the score the event set; nil when it set none.
	Score *roadmap.Score
	// ObjectiveIDs is the item's full list of objectives after a proposal,
	// prioritisation, reprioritisation or edit; nil for other events.
	ObjectiveIDs []string
	// Changes are the fields an edit changed with their values before and
	// after (for a change held for approval, those its edit will change);
	// nil for other events.
	Changes []FieldChange
	// Provenance is where an imported item came from, on the proposal or
	// edit an import made; nil otherwise.
	Provenance *roadmap.Provenance
	PrevHash   string
	Hash       string
}

// hasRationale reports whether events of a type carry a rationale.
func hasRationale(eventType string) bool {
	switch eventType {
	case roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved,
		roadmap.TypeItemEdited, roadmap.TypeObjectiveEdited,
		roadmap.TypeObjectiveRetired, roadmap.TypeReviewClosed, roadmap.TypeReviewCancelled, roadmap.TypeItemDelivered,
		roadmap.TypeChangeProposed, roadmap.TypeChangeApproved, roadmap.TypeChangeRejected, roadmap.TypeTokenRevoked,
		roadmap.TypeItemPublished, roadmap.TypeItemUnpublished:
		return true
	}
	return false
}

// setsObjectives reports whether events of a type carry the item's full list
// of objectives.
func setsObjectives(eventType string) bool {
	switch eventType {
	case roadmap.TypeItemProposed, roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemEdited:
		return true
	}
	return false
}

// hasEvidence reports whether events of a type carry evidence.
func hasEvidence(eventType string) bool {
	switch eventType {
	case roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved, roadmap.TypeItemDelivered,
		roadmap.TypeItemEdited, roadmap.TypeObjectiveEdited,
		roadmap.TypeChangeProposed, roadmap.TypeChangeApproved, roadmap.TypeChangeRejected, roadmap.TypeReviewCancelled,
		roadmap.TypeItemPublished, roadmap.TypeItemUnpublished:
		return true
	}
	return false
}

// NewAuditEvent returns r with every field that applies to its type set,
// lists included (empty rather than nil), and every other field nil.
func NewAuditEvent(r Record) AuditEvent {
	a := AuditEvent{
		Sequence: r.Sequence, EventID: r.EventID, Type: r.Type, At: r.At, Actor: r.Actor,
		AggregateType: r.AggregateType, AggregateID: r.AggregateID,
		From: r.From, To: r.To, Score: r.Score, Changes: r.Changes, Provenance: r.Provenance, PrevHash: r.PrevHash, Hash: r.Hash,
	}
	if r.Product != "" {
		a.Product = &r.Product
	}
	if r.Title != "" {
		a.Title = &r.Title
	}
	if hasRationale(r.Type) {
		a.Rationale = &r.Rationale
	}
	if hasEvidence(r.Type) {
		a.Evidence = NonNil(r.Evidence)
	}
	if setsObjectives(r.Type) {
		a.ObjectiveIDs = NonNil(r.ObjectiveIDs)
	}
	return a
}

// NonNil returns s, or an empty list for nil: answers show [] rather than
// null for a list with nothing in it.
func NonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WhyLink is the decision that made a link of the why chain: the proposal
// or edit that put an item under its parent, or the proposal,
// prioritisation, reprioritisation or edit that made it serve an objective.
type WhyLink struct {
	Sequence uint64
	EventID  string
	Type     string
	Actor    string
	At       time.Time
	// Rationale and Evidence are nil for a proposal, which has neither.
	Rationale *string
	Evidence  []string
}

// NewWhyLink returns the link made by the event r.
func NewWhyLink(r Record) WhyLink {
	a := NewAuditEvent(r)
	return WhyLink{
		Sequence: a.Sequence, EventID: a.EventID, Type: a.Type, Actor: a.Actor, At: a.At,
		Rationale: a.Rationale, Evidence: a.Evidence,
	}
}

// WhyObjective is an objective an item serves, with the decision that linked
// them.
type WhyObjective struct {
	ID      string
	Title   string
	KPI     string
	Target  string
	Product string
	Status  roadmap.ObjectiveStatus
	// LinkedBy is the latest event of the item that brought the objective
	// into its objectives, which still holds; nil only when the item's
	// history does not show it (an event this version cannot read).
	LinkedBy *WhyLink
}

// WhyNode is one item of the why chain: where it stands, its last decision,
// the objectives it serves and its parent initiative, each with the decision
// that made the link.
type WhyNode struct {
	ID      string
	Title   string
	Kind    roadmap.Kind
	Product string
	Status  roadmap.ItemStatus
	// Place is where the item stands now: the zero Place off the roadmap.
	Place        Place
	Version      uint64
	LastDecision *Decision
	Objectives   []WhyObjective
	Parent       *WhyNode
	// LinkedBy is, for a parent, the child's proposal or edit that put the
	// child under it. It is nil for the item the chain starts from.
	LinkedBy *WhyLink
}

// ObjectiveLinks reads the history of one item, oldest first, and returns
// for each objective the item serves at its end the event that linked it:
// the latest event that brought the objective into the item's objectives
// (its proposal, a prioritisation, a reprioritisation or an edit) with no
// later event taking it out. An event that keeps an objective does not relink it.
func ObjectiveLinks(history []Record) map[string]Record {
	links := map[string]Record{}
	var current []string
	for _, r := range history {
		if !setsObjectives(r.Type) {
			continue
		}
		for id := range links {
			if !slices.Contains(r.ObjectiveIDs, id) {
				delete(links, id)
			}
		}
		for _, id := range r.ObjectiveIDs {
			if !slices.Contains(current, id) {
				links[id] = r
			}
		}
		current = r.ObjectiveIDs
	}
	return links
}

// ParentLinkOf returns, from the history of an item, oldest first, the
// event that put it under its parent: its proposal, or the latest edit of
// its parent since.
func ParentLinkOf(history []Record) (Record, bool) {
	var link Record
	found := false
	for _, r := range history {
		if r.Type == roadmap.TypeItemProposed || slices.ContainsFunc(r.Changes, func(c FieldChange) bool { return c.Field == "parent_id" }) {
			link, found = r, true
		}
	}
	return link, found
}
