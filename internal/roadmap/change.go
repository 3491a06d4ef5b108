package roadmap

import "time"

// Event types of changes that need a second person. Their aggregate type is
// "change", one aggregate per proposed change.
const (
	TypeChangeProposed = "change.proposed"
	TypeChangeApproved = "change.approved"
	TypeChangeRejected = "change.rejected"
)

// ApprovalPolicy says which decisions need an approver's approval.
type ApprovalPolicy string

// Approval policies.
const (
	// ApprovalsOff records every decision at once.
	ApprovalsOff ApprovalPolicy = "off"
	// ApprovalsMajor holds major changes (MajorChange) for approval.
	ApprovalsMajor ApprovalPolicy = "major"
)

// ItemDecision is a decision on an item: every one of them is judged by
// the approval policy (MajorChange), can be held as a change, and carries,
// once approved, the approval it took effect through.
type ItemDecision interface {
	Event
	// Why returns the rationale and evidence the decision gives.
	Why() (rationale string, evidence []string)
	// Approved returns the approval the decision took effect through, nil
	// for one recorded at once.
	Approved() *Approval
	// approvedBy returns a copy of the decision carrying approval.
	approvedBy(approval *Approval) ItemDecision
}

var (
	_ ItemDecision = (*ItemPrioritised)(nil)
	_ ItemDecision = (*ItemReprioritised)(nil)
	_ ItemDecision = (*ItemRemoved)(nil)
	_ ItemDecision = (*ItemDelivered)(nil)
	_ ItemDecision = (*ItemEdited)(nil)
)

// MajorChange returns why the decision e on it is a major change under the
// default policy, or "" when it is not one. The policy is one rule on where
// the item stands before and after the decision, whatever the decision is,
// so no decision of today or of tomorrow slips past it: a decision that
// puts an item into a product's now column, or takes it out of one (by a
// move, a removal, a delivery or a move to another product), is major; so
// is one that makes a new public statement on it (a publication, or a new
// public summary), while withdrawing one is not.
func MajorChange(it Item, e ItemDecision) string {
	after := EvolveItem(it, it.ID, e)
	was, is := inNow(it), inNow(after)
	switch {
	case !was && is:
		return decisionNoun(e) + " into now"
	case was && !is:
		if _, ok := e.(*ItemReprioritised); ok {
			return "a reprioritisation out of now"
		}
		return decisionNoun(e) + " of a now item"
	case was && is && it.Product != after.Product:
		return "a move of a now item to another product"
	}
	return publicChange(it, after)
}

func inNow(it Item) bool { return it.Status == StatusOnRoadmap && it.Horizon == Now }

// decisionNoun names a decision in a reason: "a prioritisation".
func decisionNoun(e ItemDecision) string {
	switch e.(type) {
	case *ItemPrioritised:
		return "a prioritisation"
	case *ItemReprioritised:
		return "a reprioritisation"
	case *ItemRemoved:
		return "the removal"
	case *ItemDelivered:
		return "the delivery"
	case *ItemPublished:
		return "a publication"
	case *ItemUnpublished:
		return "an unpublication"
	}
	return "an edit"
}

// Why implements ItemDecision.
func (e *ItemPrioritised) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemPrioritised) Approved() *Approval { return e.Approval }

func (e *ItemPrioritised) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// Why implements ItemDecision.
func (e *ItemReprioritised) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemReprioritised) Approved() *Approval { return e.Approval }

func (e *ItemReprioritised) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// Why implements ItemDecision.
func (e *ItemRemoved) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemRemoved) Approved() *Approval { return e.Approval }

func (e *ItemRemoved) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// Why implements ItemDecision.
func (e *ItemDelivered) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemDelivered) Approved() *Approval { return e.Approval }

func (e *ItemDelivered) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// Why implements ItemDecision.
func (e *ItemEdited) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemEdited) Approved() *Approval { return e.Approval }

func (e *ItemEdited) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// ChangeStatus is where a proposed change is.
type ChangeStatus string

// Change statuses.
const (
	ChangeStatusPending  ChangeStatus = "pending"
	ChangeStatusApproved ChangeStatus = "approved"
	ChangeStatusRejected ChangeStatus = "rejected"
)

// Approval is carried by a decision that took effect through an approved
// change: the change and who proposed it. The event's actor is the
// approver.
type Approval struct {
	ChangeID   string `json:"change_id"`
	ProposedBy string `json:"proposed_by"`
}

// ChangeProposed records a major change held for approval: the decision
// exactly as it will be recorded on the item once approved, and the item's
// version it was decided against.
type ChangeProposed struct {
	ItemID      string `json:"item_id"`
	ItemVersion uint64 `json:"item_version"`
	// Decision is the event type the change records on approval.
	Decision string `json:"decision"`
	// Placement is the decision of a prioritisation or reprioritisation.
	Placement *Placement `json:"placement,omitempty"`
	// Removal is the decision of a removal.
	Removal *ItemRemoved `json:"removal,omitempty"`
	// Delivery is the decision of a delivery (optional; schema version 1
	// without it).
	Delivery *ItemDelivered `json:"delivery,omitempty"`
	// Edit is the decision of an edit (optional; schema version 1 without
	// it).
	Edit *ItemEdited `json:"edit,omitempty"`
	// Publication is the decision of a publication (optional; schema
	// version 1 without it).
	Publication *ItemPublished `json:"publication,omitempty"`
	// Unpublication is the decision of an unpublication (optional;
	// schema version 1 without it).
	Unpublication *ItemUnpublished `json:"unpublication,omitempty"`
	// Reason says why the change is major.
	Reason string `json:"reason"`
}

// ChangeApproved records an approver's approval; the decision follows it in
// the log.
type ChangeApproved struct {
	Rationale string   `json:"rationale"`
	Evidence  []string `json:"evidence"`
}

// ChangeRejected records that a change is dropped, with the rejecter's
// rationale and evidence as an approval carries them.
type ChangeRejected ChangeApproved

// EventType implements Event.
func (ChangeProposed) EventType() string { return TypeChangeProposed }

// EventType implements Event.
func (ChangeApproved) EventType() string { return TypeChangeApproved }

// EventType implements Event.
func (ChangeRejected) EventType() string { return TypeChangeRejected }

// Change is a major change and its fate.
type Change struct {
	ID string
	ChangeProposed
	Status     ChangeStatus
	ProposedBy string
	ProposedAt time.Time
	DecidedBy  string
	DecidedAt  *time.Time
	// Rationale and Evidence are the approver's or rejecter's.
	Rationale string
	Evidence  []string
}

// ProposeChange turns the decision e on it, at the item's version, into a
// change held for approval, for the given reason.
func ProposeChange(it Item, version uint64, e ItemDecision, reason string) *ChangeProposed {
	c := &ChangeProposed{ItemID: it.ID, ItemVersion: version, Decision: e.EventType(), Reason: reason}
	switch e := e.(type) {
	case *ItemPrioritised:
		pl := e.Placement
		c.Placement = &pl
	case *ItemReprioritised:
		pl := e.Placement
		c.Placement = &pl
	case *ItemRemoved:
		r := *e
		c.Removal = &r
	case *ItemDelivered:
		d := *e
		c.Delivery = &d
	case *ItemEdited:
		edit := *e
		c.Edit = &edit
	case *ItemPublished:
		pub := *e
		c.Publication = &pub
	case *ItemUnpublished:
		unpub := *e
		c.Unpublication = &unpub
	}
	return c
}

// Held returns the decision the change holds, as it was proposed, without
// an approval.
func (c ChangeProposed) Held() ItemDecision {
	switch {
	case c.Placement != nil && c.Decision == TypeItemReprioritised:
		return &ItemReprioritised{Placement: *c.Placement}
	case c.Placement != nil:
		return &ItemPrioritised{Placement: *c.Placement}
	case c.Removal != nil:
		r := *c.Removal
		return &r
	case c.Delivery != nil:
		d := *c.Delivery
		return &d
	case c.Edit != nil:
		e := *c.Edit
		return &e
	case c.Publication != nil:
		e := *c.Publication
		return &e
	case c.Unpublication != nil:
		e := *c.Unpublication
		return &e
	}
	return nil
}

// Decision returns the decision the change records on approval, carrying
// the approval.
func (c Change) Decision() Event {
	return c.Held().approvedBy(&Approval{ChangeID: c.ID, ProposedBy: c.ProposedBy})
}

// DecideChange is the command that approves or rejects a change.
type DecideChange struct {
	Rationale string
	Evidence  []string
}

// DecideApproveChange checks the approval of c by approver, with the item
// it changes at version itemVersion. It returns ErrInvalid without a
// rationale, ErrForbidden when the approver proposed the change, and
// ErrConflict when the change is not pending or the item has changed since
// it was proposed.
func DecideApproveChange(c Change, approver string, itemVersion uint64, cmd DecideChange) (*ChangeApproved, error) {
	rationale, evidence, err := checkChangeDecision(c, cmd)
	if err != nil {
		return nil, err
	}
	if approver == c.ProposedBy {
		return nil, forbiddenf("%s proposed change %s and cannot approve it: another approver must", approver, c.ID)
	}
	if itemVersion != c.ItemVersion {
		return nil, conflictf("item %s has changed since change %s was proposed (version %d then, %d now): reject it and propose again",
			c.ItemID, c.ID, c.ItemVersion, itemVersion)
	}
	return &ChangeApproved{Rationale: rationale, Evidence: evidence}, nil
}

// DecideRejectChange checks the rejection of c. It returns ErrInvalid
// without a rationale and ErrConflict when the change is not pending.
func DecideRejectChange(c Change, cmd DecideChange) (*ChangeRejected, error) {
	rationale, evidence, err := checkChangeDecision(c, cmd)
	if err != nil {
		return nil, err
	}
	return &ChangeRejected{Rationale: rationale, Evidence: evidence}, nil
}

func checkChangeDecision(c Change, cmd DecideChange) (string, []string, error) {
	rationale, evidence, err := checkRationale(cmd.Rationale, cmd.Evidence)
	if err != nil {
		return "", nil, err
	}
	if c.Status != ChangeStatusPending {
		return "", nil, conflictf("change %s is already %s", c.ID, c.Status)
	}
	return rationale, evidence, nil
}

// EvolveChange returns c with e, recorded at at by actor, applied.
func EvolveChange(c Change, id string, e Event, at time.Time, actor string) Change {
	switch e := e.(type) {
	case *ChangeProposed:
		return Change{ID: id, ChangeProposed: *e, Status: ChangeStatusPending, ProposedBy: actor, ProposedAt: at}
	case *ChangeApproved:
		c.Status, c.DecidedBy, c.DecidedAt, c.Rationale, c.Evidence = ChangeStatusApproved, actor, &at, e.Rationale, e.Evidence
	case *ChangeRejected:
		c.Status, c.DecidedBy, c.DecidedAt, c.Rationale, c.Evidence = ChangeStatusRejected, actor, &at, e.Rationale, e.Evidence
	}
	return c
}
