package roadmap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RowError is one thing wrong with one row of an imported file: its line
// (the header is line 1; a row spanning several lines is named by its
// first), the file's column at fault (empty for the row as a whole) and
// what is wrong.
type RowError struct {
	Line    int
	Column  string
	Message string
}

// ImportError lists every row of an imported file that cannot be recorded.
// An import is all or nothing: with one of them, nothing is. It matches
// ErrInvalid with errors.Is.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	parts := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		parts[i] = "line " + strconv.Itoa(r.Line)
		if r.Column != "" {
			parts[i] += ", " + r.Column
		}
		parts[i] += ": " + r.Message
	}
	return "invalid rows: " + strings.Join(parts, "; ")
}

// Is makes an ImportError match ErrInvalid.
func (e *ImportError) Is(target error) bool { return target == ErrInvalid }

// ImportRow is one row of an imported file, read into the fields of an
// item. A nil field is one the file does not give: a new item takes its
// default and an existing one keeps its value.
type ImportRow struct {
	// Line is where the row starts in the file.
	Line int
	// ItemID names an existing item (the roadmap layout's id column).
	ItemID string
	// ExternalID is the row's id in the system it comes from (a Jira key).
	ExternalID string
	// ParentExternalID names the parent by its external id (Jira's Parent
	// or Epic Link); it is resolved against the ledger and the rest of the
	// file. It takes precedence over ParentID.
	ParentExternalID string

	Title        *string
	Description  *string
	Kind         *Kind
	ParentID     *string
	Product      *string
	ObjectiveIDs *[]string
	Effort       *int
	DependsOn    *[]string
	Risks        *[]string
	// Horizon, when not empty, is where the item should stand on the
	// roadmap, at Rank when Rank is set.
	Horizon Horizon
	Rank    *int

	// Columns names the file's column for each field of the domain's
	// errors ("title", "parent_id", ...); a field it does not name is
	// reported under its own name.
	Columns map[string]string
	// Problems are what reading the row found wrong (a number that is not
	// one, a horizon that is none), already named by column.
	Problems []RowError
}

// column returns the file's column for a field of the domain's errors; an
// indexed field ("objective_ids[2]") is named by its list's column.
func (r ImportRow) column(field string) string {
	base, _, _ := strings.Cut(field, "[")
	if c, ok := r.Columns[base]; ok {
		return c
	}
	return base
}

// Outcome is what an import does with one row.
type Outcome int

// Outcomes of a row.
const (
	Unchanged Outcome = iota
	Created
	Updated
)

// PlannedEvent is an event an import records on an item.
type PlannedEvent struct {
	ItemID string
	Event  Event
}

// RowPlan is what an import records for one row: the item the row is
// (new or matched), the events to record on it in order, and the outcome.
type RowPlan struct {
	ItemID  string
	Outcome Outcome
	Events  []PlannedEvent
}

// Import plans an import row by row: it matches each row to the item it is
// and decides the events that make the item what the row says. It
// remembers, across the rows, the items of this import and of earlier ones
// by external id and (for CSV) by title, and the external ids the file has
// given.
type Import struct {
	source, importID string
	newID            func() string
	byExternal       map[string]string // external id (of this source) → item id
	byTitle          map[string]string // product and folded title → item id, of CSV imports
	lines            map[string]int    // item id → the line of this file that is it
}

// NewImport starts planning the import importID of a file of source
// (SourceCSV, SourceJira) against a ledger whose imported items (those with
// a provenance; others are ignored) are imported; newID makes the ids of
// new items.
func NewImport(source, importID string, imported []Item, newID func() string) *Import {
	im := &Import{
		source: source, importID: importID, newID: newID,
		byExternal: map[string]string{}, byTitle: map[string]string{}, lines: map[string]int{},
	}
	for _, it := range imported {
		im.remember(it.ID, it.Provenance, it.Product, it.Title)
	}
	return im
}

// ImportID is the id of the import.
func (im *Import) ImportID() string { return im.importID }

func (im *Import) remember(id string, p *Provenance, product, title string) {
	switch {
	case p == nil:
	case p.Source == im.source && p.ExternalID != "":
		im.byExternal[p.ExternalID] = id
	case p.Source == SourceCSV && im.source == SourceCSV:
		im.byTitle[titleKey(product, title)] = id
	}
}

func titleKey(product, title string) string {
	return product + "\x00" + strings.ToLower(clean(title))
}

// HasExternal reports whether an item of this import's source has the
// external id, in the ledger or among the rows planned so far.
func (im *Import) HasExternal(externalID string) bool {
	_, ok := im.byExternal[externalID]
	return ok
}

// Rationale is the rationale of the decisions an import records for the row
// at line.
func (im *Import) Rationale(line int) string {
	name := "CSV"
	if im.source == SourceJira {
		name = "a Jira export"
	}
	return fmt.Sprintf("Imported from %s by import %s (line %d)", name, im.importID, line)
}

// Plan decides one row against refs, the ledger with every row planned
// before it applied. It returns the row's plan, or every error of the row.
func (im *Import) Plan(row ImportRow, refs References) (RowPlan, []RowError) {
	if len(row.Problems) > 0 {
		return RowPlan{}, row.Problems
	}
	fail := func(column, format string, args ...any) (RowPlan, []RowError) {
		return RowPlan{}, []RowError{{Line: row.Line, Column: column, Message: fmt.Sprintf(format, args...)}}
	}
	if row.ParentExternalID != "" {
		id, ok := im.byExternal[row.ParentExternalID]
		if !ok {
			return fail(row.column("parent_external_id"), "no item has the external id %q, in the ledger or in this file", row.ParentExternalID)
		}
		row.ParentID = &id
	}
	id, existing, err := im.match(row, refs)
	if err != nil {
		return fail(row.column("id"), "%s", err)
	}
	if line, ok := im.lines[id]; ok && existing {
		return fail(row.column(row.matchedBy()), "this is the item of line %d too: an item is on one row only", line)
	}
	prov := &Provenance{Source: im.source, ExternalID: row.ExternalID, ImportID: im.importID}
	var plan RowPlan
	var it Item
	if existing {
		plan.ItemID, it = id, mustItem(refs, id)
		edit, err := DecideEditItem(it, row.edit(im.Rationale(row.Line), prov), refs)
		switch {
		case errors.Is(err, ErrUnchanged):
		case err != nil:
			return RowPlan{}, row.errors(err)
		default:
			plan.Events = append(plan.Events, PlannedEvent{id, edit})
			it = EvolveItem(it, id, edit)
			plan.Outcome = Updated
		}
	} else {
		proposed, err := DecideProposeItem(row.proposal(prov), refs)
		if err != nil {
			return RowPlan{}, row.errors(err)
		}
		plan.ItemID, plan.Outcome = im.newID(), Created
		plan.Events = append(plan.Events, PlannedEvent{plan.ItemID, proposed})
		it = EvolveItem(Item{}, plan.ItemID, proposed)
	}
	placed, err := im.place(row, it, refs)
	if err != nil {
		return RowPlan{}, row.errors(err)
	}
	if placed != nil {
		plan.Events = append(plan.Events, PlannedEvent{plan.ItemID, placed})
		if plan.Outcome == Unchanged {
			plan.Outcome = Updated
		}
	}
	if plan.Outcome == Created {
		im.remember(plan.ItemID, prov, it.Product, it.Title)
	}
	im.lines[plan.ItemID] = row.Line
	return plan, nil
}

// match finds the item a row is: the one its id names (which must exist),
// else the one with its external id, else, for a CSV row with neither, the
// item an earlier CSV import brought in with the same title (case folded)
// in the same product. It returns false for a new item.
func (im *Import) match(row ImportRow, refs References) (string, bool, error) {
	switch {
	case row.ItemID != "":
		if _, ok := refs.Item(row.ItemID); !ok {
			return "", false, fmt.Errorf("no item %s in the ledger", row.ItemID)
		}
		return row.ItemID, true, nil
	case row.ExternalID != "":
		id, ok := im.byExternal[row.ExternalID]
		return id, ok, nil
	case im.source == SourceCSV && row.Title != nil:
		product := DefaultProduct
		if row.Product != nil && *row.Product != "" {
			product = *row.Product
		}
		id, ok := im.byTitle[titleKey(product, *row.Title)]
		return id, ok, nil
	}
	return "", false, nil
}

// matchedBy is the field a row is matched by: id, external_id or title.
func (r ImportRow) matchedBy() string {
	switch {
	case r.ItemID != "":
		return "id"
	case r.ExternalID != "":
		return "external_id"
	}
	return "title"
}

// place decides where the row puts it on the roadmap: nothing when the row
// gives no horizon and no rank or the item already stands there, else a
// prioritisation or a reprioritisation with the import's rationale.
func (im *Import) place(row ImportRow, it Item, refs References) (Event, error) {
	cmd := Prioritise{Horizon: row.Horizon, Rank: row.Rank, Rationale: im.Rationale(row.Line)}
	if it.Status != StatusOnRoadmap {
		switch {
		case row.Horizon == "":
			if row.Rank != nil {
				return nil, &ValidationError{Fields: []FieldError{{Field: "rank", Message: fmt.Sprintf("a rank needs a horizon: item %s is %s, not on the roadmap", it.ID, it.Status)}}}
			}
			return nil, nil
		case it.Status == StatusDelivered:
			return nil, &ValidationError{Fields: []FieldError{{Field: "horizon", Message: fmt.Sprintf("item %s was delivered and cannot return to the roadmap; leave its horizon empty", it.ID)}}}
		}
		return DecidePrioritise(it, cmd, refs)
	}
	rank, size := refs.Position(it.ID)
	sameHorizon := row.Horizon == "" || row.Horizon == it.Horizon
	if sameHorizon && (row.Rank == nil || min(*row.Rank, size) == rank) {
		return nil, nil
	}
	return DecideReprioritise(it, Reprioritise(cmd), refs)
}

// mustItem returns the item refs has for id, which the caller has checked.
func mustItem(refs References, id string) Item {
	it, _ := refs.Item(id)
	return it
}

// proposal is the proposal of a new item the row makes.
func (r ImportRow) proposal(p *Provenance) ProposeItem {
	cmd := ProposeItem{
		Title: deref(r.Title), Description: deref(r.Description), Kind: deref(r.Kind), ParentID: deref(r.ParentID),
		Product: deref(r.Product), Effort: r.Effort, Provenance: p,
	}
	cmd.ObjectiveIDs, cmd.DependsOn, cmd.Risks = deref(r.ObjectiveIDs), deref(r.DependsOn), deref(r.Risks)
	return cmd
}

// edit is the edit of an existing item the row makes: its fields as the
// file gives them, the empty kind and product of a row kept.
func (r ImportRow) edit(rationale string, p *Provenance) EditItem {
	cmd := EditItem{
		Title: r.Title, Description: r.Description, Kind: r.Kind, ParentID: r.ParentID, Product: r.Product,
		ObjectiveIDs: r.ObjectiveIDs, Effort: r.Effort, DependsOn: r.DependsOn, Risks: r.Risks,
		Rationale: rationale, Provenance: p,
	}
	if cmd.Kind != nil && *cmd.Kind == "" {
		cmd.Kind = nil
	}
	if cmd.Product != nil && *cmd.Product == "" {
		cmd.Product = nil
	}
	return cmd
}

// errors turns a decision's error into the row's errors: a field error is
// named by the file's column, any other refusal (an unknown parent or
// objective) is the row's as a whole.
func (r ImportRow) errors(err error) []RowError {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return []RowError{{Line: r.Line, Message: strings.TrimPrefix(err.Error(), ErrConflict.Error()+": ")}}
	}
	out := make([]RowError, len(ve.Fields))
	for i, f := range ve.Fields {
		out[i] = RowError{Line: r.Line, Column: r.column(f.Field), Message: f.Message}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
