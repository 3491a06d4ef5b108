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

// MajorChange returns why the decision e on it is a major change under the
// default policy, or "" when it is not one: a prioritisation into now, a
// reprioritisation into or out of now, the removal of a now item, and an
// edit that moves a now item to another product (it leaves that product's
// now column).
func MajorChange(it Item, e Event) string {
	switch e := e.(type) {
	case *ItemPrioritised:
		if e.Horizon == Now {
			return "a prioritisation into now"
		}
	case *ItemReprioritised:
		switch {
		case it.Horizon != Now && e.Horizon == Now:
			return "a reprioritisation into now"
		case it.Horizon == Now && e.Horizon != Now:
			return "a reprioritisation out of now"
		}
	case *ItemRemoved:
		if it.Status == StatusOnRoadmap && it.Horizon == Now {
			return "the removal of a now item"
		}
	case *ItemEdited:
		if it.Status == StatusOnRoadmap && it.Horizon == Now && e.Before.Product != e.After.Product {
			return "a move of a now item to another product"
		}
	}
	return ""
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
	// Edit is the decision of an edit (optional; schema version 1 without
	// it).
	Edit *ItemEdited `json:"edit,omitempty"`
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
func ProposeChange(it Item, version uint64, e Event, reason string) *ChangeProposed {
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
	case *ItemEdited:
		edit := *e
		c.Edit = &edit
	}
	return c
}

// Decision returns the decision the change records on approval, carrying
// the approval.
func (c Change) Decision() Event {
	approval := &Approval{ChangeID: c.ID, ProposedBy: c.ProposedBy}
	switch c.ChangeProposed.Decision {
	case TypeItemPrioritised:
		pl := *c.Placement
		pl.Approval = approval
		return &ItemPrioritised{Placement: pl}
	case TypeItemReprioritised:
		pl := *c.Placement
		pl.Approval = approval
		return &ItemReprioritised{Placement: pl}
	case TypeItemEdited:
		e := *c.Edit
		e.Approval = approval
		return &e
	default:
		r := *c.Removal
		r.Approval = approval
		return &r
	}
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
