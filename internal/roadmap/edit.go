package roadmap

import (
	"fmt"
	"slices"
)

// Event types of edits: a change to what an item or an objective is, as
// opposed to where it stands on the roadmap.
const (
	TypeItemEdited      = "item.edited"
	TypeObjectiveEdited = "objective.edited"
)

// Provenance is where an imported item came from: the kind of file
// (SourceCSV, SourceJira), the id the item has there (a Jira key; empty when
// the file gives none) and the import that brought it in.
type Provenance struct {
	Source     string `json:"source"`
	ExternalID string `json:"external_id,omitempty"`
	ImportID   string `json:"import_id"`
}

// Sources of imported items.
const (
	SourceCSV  = "csv"
	SourceJira = "jira"
)

// ItemDetails are the fields of an item that an edit can change, all of
// them, as they stand before or after one.
type ItemDetails struct {
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Kind         Kind     `json:"kind"`
	ParentID     string   `json:"parent_id"`
	Product      string   `json:"product"`
	ObjectiveIDs []string `json:"objective_ids"`
	Effort       *int     `json:"effort"`
	DependsOn    []string `json:"depends_on"`
	Risks        []string `json:"risks"`
}

// Details returns the editable fields of it as they stand.
func (it Item) Details() ItemDetails {
	return ItemDetails{
		Title: it.Title, Description: it.Description, Kind: it.Kind, ParentID: it.ParentID,
		Product: it.Product, ObjectiveIDs: nonNil(it.ObjectiveIDs), Effort: it.Effort(),
		DependsOn: nonNil(it.DependsOn()), Risks: nonNil(it.Risks()),
	}
}

// ItemEdited records a change to what an item is. It carries every
// editable field before and after, and the names of those that changed, so
// each event reads on its own.
type ItemEdited struct {
	// Changed names the fields that differ, in the order of ItemDetails,
	// by their JSON names ("title", "objective_ids", ...).
	Changed []string    `json:"changed"`
	Before  ItemDetails `json:"before"`
	After   ItemDetails `json:"after"`
	// Rationale is required when the edit changes the why chain or
	// capacity (ItemFieldsNeedingRationale), optional otherwise.
	Rationale string   `json:"rationale,omitempty"`
	Evidence  []string `json:"evidence,omitempty"`
	// Provenance is set when an import made the edit.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Approval is set when the edit took effect through an approved
	// change.
	Approval *Approval `json:"approval,omitempty"`
}

// EventType implements Event.
func (ItemEdited) EventType() string { return TypeItemEdited }

// ObjectiveDetails are the fields of an objective that an edit can change.
type ObjectiveDetails struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	KPI         string `json:"kpi"`
	Target      string `json:"target"`
}

// ObjectiveEdited records a change to what an objective is, with every
// editable field before and after.
type ObjectiveEdited struct {
	Changed   []string         `json:"changed"`
	Before    ObjectiveDetails `json:"before"`
	After     ObjectiveDetails `json:"after"`
	Rationale string           `json:"rationale,omitempty"`
	Evidence  []string         `json:"evidence,omitempty"`
}

// EventType implements Event.
func (ObjectiveEdited) EventType() string { return TypeObjectiveEdited }

// ItemFieldsNeedingRationale are the item fields whose change alters the
// why chain (objectives, parent), the capacity (effort) or the roadmap an
// item is on (product): an edit of one of them must say why.
var ItemFieldsNeedingRationale = []string{"objective_ids", "parent_id", "effort", "product"}

// ObjectiveFieldsNeedingRationale are the objective fields whose change
// moves what the items under it are measured against.
var ObjectiveFieldsNeedingRationale = []string{"kpi", "target"}

// EditItem is the command that changes what an item is. Nil fields keep
// their value.
type EditItem struct {
	Title        *string
	Description  *string
	Kind         *Kind
	ParentID     *string
	Product      *string
	ObjectiveIDs *[]string
	Effort       *int
	DependsOn    *[]string
	Risks        *[]string
	Rationale    string
	Evidence     []string
	// Provenance is set by an import.
	Provenance *Provenance
}

// EditObjective is the command that changes what an objective is. Nil
// fields keep their value.
type EditObjective struct {
	Title       *string
	Description *string
	KPI         *string
	Target      *string
	Rationale   string
	Evidence    []string
}

// DecideEditItem checks an edit of it. It returns a *ValidationError
// (ErrInvalid) for bad values and for a missing rationale where one is
// needed, ErrInvalid for an edit that changes nothing; ErrConflict for a
// delivered item (its record is final), for a parent, dependency or
// objective that cannot be linked, and for a parent under the item itself
// (the why chain would loop).
func DecideEditItem(it Item, cmd EditItem, refs References) (*ItemEdited, error) {
	before := it.Details()
	after := before
	var p problems
	if cmd.Title != nil {
		requiredText(&p, "title", *cmd.Title, maxTitle)
		after.Title = clean(*cmd.Title)
	}
	if cmd.Description != nil {
		optionalText(&p, "description", *cmd.Description, maxDescription)
		after.Description = clean(*cmd.Description)
	}
	if cmd.Kind != nil {
		if *cmd.Kind != KindInitiative && *cmd.Kind != KindIdea {
			p.add("kind", "must be initiative or idea")
		}
		after.Kind = *cmd.Kind
	}
	if cmd.ParentID != nil {
		if *cmd.ParentID != "" && !ValidID(*cmd.ParentID) {
			p.add("parent_id", "must be an item id (a lower-case UUID), or empty for none")
		}
		after.ParentID = *cmd.ParentID
	}
	if cmd.Product != nil {
		if *cmd.Product == "" {
			p.add("product", "must not be empty")
		}
		after.Product = productOrDefault(&p, *cmd.Product)
	}
	if cmd.ObjectiveIDs != nil {
		checkIDs(&p, "objective_ids", "objective", *cmd.ObjectiveIDs)
		after.ObjectiveIDs = nonNil(*cmd.ObjectiveIDs)
	}
	if cmd.Effort != nil {
		checkEffort(&p, cmd.Effort)
		e := *cmd.Effort
		after.Effort = &e
	}
	if cmd.DependsOn != nil {
		checkIDs(&p, "depends_on", "item", *cmd.DependsOn)
		after.DependsOn = nonNil(*cmd.DependsOn)
	}
	if cmd.Risks != nil {
		after.Risks = nonNil(checkRisks(&p, *cmd.Risks))
	}
	optionalText(&p, "rationale", cmd.Rationale, maxRationale)
	evidence := checkEvidence(&p, cmd.Evidence)
	if err := p.err(); err != nil {
		return nil, err
	}
	changed := before.changed(after)
	if len(changed) == 0 {
		return nil, fmt.Errorf("%w: item %s already has these values", ErrUnchanged, it.ID)
	}
	if err := needRationale(changed, ItemFieldsNeedingRationale, cmd.Rationale); err != nil {
		return nil, err
	}
	if it.Status == StatusDelivered {
		return nil, conflictf("item %s was delivered; its record is final", it.ID)
	}
	if slices.Contains(changed, "parent_id") && after.ParentID != "" {
		parent, ok := refs.Item(after.ParentID)
		switch {
		case after.ParentID == it.ID:
			return nil, conflictf("item %s cannot be its own parent", it.ID)
		case !ok:
			return nil, conflictf("parent %s does not exist", after.ParentID)
		case parent.Kind != KindInitiative:
			return nil, conflictf("parent %s is an %s; a parent must be an initiative", after.ParentID, parent.Kind)
		case isUnder(after.ParentID, it.ID, refs):
			return nil, conflictf("parent %s is under item %s, so the why chain would loop", after.ParentID, it.ID)
		}
	}
	if slices.Contains(changed, "kind") && after.Kind != KindInitiative && hasChildren(it.ID, refs) {
		return nil, conflictf("item %s is the parent of other items, so it stays an initiative", it.ID)
	}
	if slices.Contains(changed, "depends_on") {
		for _, id := range after.DependsOn {
			if _, ok := refs.Item(id); !ok || id == it.ID {
				return nil, conflictf("dependency %s does not exist or is the item itself", id)
			}
		}
	}
	if slices.Contains(changed, "objective_ids") {
		if err := checkObjectivesLinkable(added(before.ObjectiveIDs, after.ObjectiveIDs), refs); err != nil {
			return nil, err
		}
	}
	return &ItemEdited{
		Changed: changed, Before: before, After: after,
		Rationale: clean(cmd.Rationale), Evidence: nilIfEmpty(evidence), Provenance: cmd.Provenance,
	}, nil
}

// Children is what References offers, when it can, to tell whether an item
// is a parent.
type Children interface {
	HasChildren(itemID string) bool
}

// maxParentDepth bounds the walk up a chain of parents.
const maxParentDepth = 64

// isUnder reports whether item id is ancestor or sits below it in the
// chain of parents.
func isUnder(id, ancestor string, refs References) bool {
	for range maxParentDepth {
		if id == ancestor {
			return true
		}
		it, ok := refs.Item(id)
		if !ok || it.ParentID == "" {
			return false
		}
		id = it.ParentID
	}
	return false
}

func hasChildren(id string, refs References) bool {
	c, ok := refs.(Children)
	return ok && c.HasChildren(id)
}

// DecideEditObjective checks an edit of o. It returns a *ValidationError
// (ErrInvalid) for bad values and for a missing rationale where one is
// needed, ErrInvalid for an edit that changes nothing, and ErrConflict for
// a retired objective.
func DecideEditObjective(o Objective, cmd EditObjective) (*ObjectiveEdited, error) {
	before := ObjectiveDetails{Title: o.Title, Description: o.Description, KPI: o.KPI, Target: o.Target}
	after := before
	var p problems
	set := func(field string, v *string, dst *string, required bool) {
		if v == nil {
			return
		}
		if required {
			requiredText(&p, field, *v, maxTitle)
		} else {
			optionalText(&p, field, *v, maxDescription)
		}
		*dst = clean(*v)
	}
	set("title", cmd.Title, &after.Title, true)
	set("description", cmd.Description, &after.Description, false)
	set("kpi", cmd.KPI, &after.KPI, true)
	set("target", cmd.Target, &after.Target, true)
	optionalText(&p, "rationale", cmd.Rationale, maxRationale)
	evidence := checkEvidence(&p, cmd.Evidence)
	if err := p.err(); err != nil {
		return nil, err
	}
	var changed []string
	for _, f := range []struct {
		name       string
		old, value string
	}{{"title", before.Title, after.Title}, {"description", before.Description, after.Description}, {"kpi", before.KPI, after.KPI}, {"target", before.Target, after.Target}} {
		if f.old != f.value {
			changed = append(changed, f.name)
		}
	}
	if len(changed) == 0 {
		return nil, fmt.Errorf("%w: objective %s already has these values", ErrUnchanged, o.ID)
	}
	if err := needRationale(changed, ObjectiveFieldsNeedingRationale, cmd.Rationale); err != nil {
		return nil, err
	}
	if o.Status == StatusRetired {
		return nil, conflictf("objective %s is retired; its record is final", o.ID)
	}
	return &ObjectiveEdited{Changed: changed, Before: before, After: after, Rationale: clean(cmd.Rationale), Evidence: nilIfEmpty(evidence)}, nil
}

// changed names the fields of after that differ from d, in field order.
func (d ItemDetails) changed(after ItemDetails) []string {
	var out []string
	add := func(name string, differs bool) {
		if differs {
			out = append(out, name)
		}
	}
	add("title", d.Title != after.Title)
	add("description", d.Description != after.Description)
	add("kind", d.Kind != after.Kind)
	add("parent_id", d.ParentID != after.ParentID)
	add("product", d.Product != after.Product)
	add("objective_ids", !sameSet(d.ObjectiveIDs, after.ObjectiveIDs))
	add("effort", !equalPtr(d.Effort, after.Effort))
	add("depends_on", !sameSet(d.DependsOn, after.DependsOn))
	add("risks", !slices.Equal(d.Risks, after.Risks))
	return out
}

// needRationale refuses an edit of one of the fields in needing without
// a rationale.
func needRationale(changed, needing []string, rationale string) error {
	if clean(rationale) != "" {
		return nil
	}
	for _, f := range changed {
		if slices.Contains(needing, f) {
			return &ValidationError{Fields: []FieldError{{Field: "rationale", Message: fmt.Sprintf("is required when %s changes", f)}}}
		}
	}
	return nil
}

// added returns the ids of after that are not in before.
func added(before, after []string) []string {
	var out []string
	for _, id := range after {
		if !slices.Contains(before, id) {
			out = append(out, id)
		}
	}
	return out
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// applyEdit sets the fields an edit changed.
func (it *Item) applyEdit(after ItemDetails) {
	it.Title, it.Description, it.Kind = after.Title, after.Description, after.Kind
	it.ParentID, it.Product, it.ObjectiveIDs = after.ParentID, after.Product, after.ObjectiveIDs
	it.Plan = newPlan(after.Effort, nilIfEmpty(after.DependsOn), nilIfEmpty(after.Risks))
}
