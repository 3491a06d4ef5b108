package roadmap

import (
	"fmt"
	"slices"
)

// Kind is what an item is: an initiative (a problem to solve) or an idea (a
// possible solution, usually under an initiative).
type Kind string

// Item kinds.
const (
	KindInitiative Kind = "initiative"
	KindIdea       Kind = "idea"
)

// Horizon is a column of the roadmap: committed now, likely next, directional
// later.
type Horizon string

// Horizons, in roadmap order.
const (
	Now   Horizon = "now"
	Next  Horizon = "next"
	Later Horizon = "later"
)

// Horizons lists every horizon in roadmap order.
var Horizons = []Horizon{Now, Next, Later}

// Valid reports whether h is one of now, next, later.
func (h Horizon) Valid() bool { return h == Now || h == Next || h == Later }

// ItemStatus is where an item stands with respect to the roadmap.
type ItemStatus string

// Item statuses.
const (
	StatusProposed  ItemStatus = "proposed"
	StatusOnRoadmap ItemStatus = "on_roadmap"
	StatusRemoved   ItemStatus = "removed"
	// StatusDelivered is final: the item was built and shipped.
	StatusDelivered ItemStatus = "delivered"
)

// ItemBrief is what an item is, as its proposal gives it: its title and
// description, its kind and parent, its product, and the objectives it
// serves. In JSON its fields stand among those of the item or proposal
// that embeds it.
type ItemBrief struct {
	Title        string   `json:"title"`
	Description  string   `json:"description"`
	Kind         Kind     `json:"kind"`
	ParentID     string   `json:"parent_id,omitempty"`
	Product      string   `json:"product"`
	ObjectiveIDs []string `json:"objective_ids"`
}

// Item is a roadmap candidate and, once prioritised, a roadmap entry.
type Item struct {
	ID string `json:"id"`
	ItemBrief
	Status  ItemStatus `json:"status"`
	Horizon Horizon    `json:"horizon,omitempty"`
	Score   *Score     `json:"score"`
	// Plan holds what few items declare: effort, dependencies, risks. It is
	// a pointer so the many views a long ledger keeps stay small.
	Plan *Plan `json:"plan,omitempty"`
	// Provenance is where an imported item came from, nil for one proposed
	// by hand.
	Provenance *Provenance `json:"provenance,omitempty"`
	// Public is what the public roadmap says of the item, nil while it is
	// not published. Taking the item off the roadmap unpublishes it.
	Public *Publication `json:"public,omitempty"`
}

// Plan is an item's effort in points, the items it depends on and the
// risks it carries.
type Plan struct {
	Effort    *int     `json:"effort,omitempty"`
	DependsOn []string `json:"depends_on,omitempty"`
	Risks     []string `json:"risks,omitempty"`
}

// Effort returns the item's effort in points, nil when never estimated.
func (it Item) Effort() *int {
	if it.Plan == nil {
		return nil
	}
	return it.Plan.Effort
}

// DependsOn returns the ids of the items it depends on.
func (it Item) DependsOn() []string {
	if it.Plan == nil {
		return nil
	}
	return it.Plan.DependsOn
}

// Risks returns the risks it carries.
func (it Item) Risks() []string {
	if it.Plan == nil {
		return nil
	}
	return it.Plan.Risks
}

func newPlan(effort *int, dependsOn, risks []string) *Plan {
	if effort == nil && len(dependsOn) == 0 && len(risks) == 0 {
		return nil
	}
	return &Plan{Effort: effort, DependsOn: dependsOn, Risks: risks}
}

// References gives the decisions on one item what they must know of the rest
// of the ledger.
type References interface {
	// Objective returns the objective with the given id, if it exists.
	Objective(id string) (Objective, bool)
	// Item returns the item with the given id, if it exists.
	Item(id string) (Item, bool)
	// Position returns the rank of an item on the roadmap and the number of
	// items in its horizon, or zeros when it is not on the roadmap.
	Position(itemID string) (rank, size int)
}

// ProposeItem is the command that creates an item.
type ProposeItem struct {
	Title        string
	Description  string
	Kind         Kind
	ParentID     string
	Product      string
	ObjectiveIDs []string
	Effort       *int
	DependsOn    []string
	Risks        []string
	// Provenance is set by an import.
	Provenance *Provenance
}

// Prioritise is the command that places an item on the roadmap. Nil fields
// take their default: rank last, no score, the objectives of the proposal.
type Prioritise struct {
	Horizon      Horizon
	Rank         *int
	Score        *Score
	ObjectiveIDs *[]string
	Rationale    string
	Evidence     []string
	Effort       *int
}

// Reprioritise is the command that changes an item on the roadmap. It has
// the fields of Prioritise, but nil or empty fields keep their current value;
// a new horizon without a rank places the item last in it.
type Reprioritise Prioritise

// Deliver is the command that records an item as delivered.
type Deliver struct {
	Rationale string
	Evidence  []string
}

// Remove is the command that takes an item off the roadmap.
type Remove struct {
	Rationale string
	Evidence  []string
}

// DecideProposeItem checks a new item; its kind is an idea unless it says
// otherwise. It returns a *ValidationError (ErrInvalid) for bad values and
// ErrConflict for a parent that is not an initiative or an objective that
// is unknown or retired.
func DecideProposeItem(cmd ProposeItem, refs References) (*ItemProposed, error) {
	if cmd.Kind == "" {
		cmd.Kind = KindIdea
	}
	var p problems
	requiredText(&p, "title", cmd.Title, maxTitle)
	optionalText(&p, "description", cmd.Description, maxDescription)
	if cmd.Kind != KindInitiative && cmd.Kind != KindIdea {
		p.add("kind", "must be initiative or idea")
	}
	if cmd.ParentID != "" && !ValidID(cmd.ParentID) {
		p.add("parent_id", "must be an item id (a lower-case UUID)")
	}
	product := productOrDefault(&p, cmd.Product)
	checkIDs(&p, "objective_ids", "objective", cmd.ObjectiveIDs)
	checkEffort(&p, cmd.Effort)
	checkIDs(&p, "depends_on", "item", cmd.DependsOn)
	risks := checkRisks(&p, cmd.Risks)
	if err := p.err(); err != nil {
		return nil, err
	}
	for _, id := range cmd.DependsOn {
		if _, ok := refs.Item(id); !ok {
			return nil, conflictf("dependency %s does not exist", id)
		}
	}
	if cmd.ParentID != "" {
		parent, ok := refs.Item(cmd.ParentID)
		switch {
		case !ok:
			return nil, conflictf("parent %s does not exist", cmd.ParentID)
		case parent.Kind != KindInitiative:
			return nil, conflictf("parent %s is an %s; a parent must be an initiative", cmd.ParentID, parent.Kind)
		}
	}
	if err := checkObjectivesLinkable(cmd.ObjectiveIDs, refs); err != nil {
		return nil, err
	}
	return &ItemProposed{
		ItemBrief: ItemBrief{
			Title: clean(cmd.Title), Description: clean(cmd.Description), Kind: cmd.Kind,
			ParentID: cmd.ParentID, Product: product, ObjectiveIDs: nonNil(cmd.ObjectiveIDs),
		},
		Effort: cmd.Effort, DependsOn: slices.Clone(cmd.DependsOn), Risks: risks, Provenance: cmd.Provenance,
	}, nil
}

// DecidePrioritise checks placing it on the roadmap. It returns ErrInvalid for
// bad values and ErrConflict when the item is already on the roadmap or links
// an unknown or retired objective.
func DecidePrioritise(it Item, cmd Prioritise, refs References) (*ItemPrioritised, error) {
	var p problems
	if !cmd.Horizon.Valid() {
		p.add("horizon", "must be now, next or later")
	}
	pl := checkPlacement(&p, cmd)
	if err := p.err(); err != nil {
		return nil, err
	}
	if it.Status == StatusOnRoadmap {
		return nil, conflictf("item %s is already on the roadmap (%s); reprioritise it instead", it.ID, it.Horizon)
	}
	if it.Status == StatusDelivered {
		return nil, conflictf("item %s was delivered; propose a new item for more work", it.ID)
	}
	pl.Horizon = cmd.Horizon
	if cmd.ObjectiveIDs == nil {
		pl.ObjectiveIDs = nonNil(it.ObjectiveIDs)
	} else if err := checkObjectivesLinkable(pl.ObjectiveIDs, refs); err != nil {
		return nil, err
	}
	return &ItemPrioritised{Placement: pl}, nil
}

// DecideReprioritise checks a change to it on the roadmap. It returns
// ErrInvalid for bad values and ErrConflict when the item is not on the
// roadmap, the change links an unknown or retired objective, or it changes
// nothing.
func DecideReprioritise(it Item, cmd Reprioritise, refs References) (*ItemReprioritised, error) {
	var p problems
	if cmd.Horizon != "" && !cmd.Horizon.Valid() {
		p.add("horizon", "must be now, next or later (or left out to keep the current one)")
	}
	pl := checkPlacement(&p, Prioritise(cmd))
	if err := p.err(); err != nil {
		return nil, err
	}
	if it.Status != StatusOnRoadmap {
		return nil, conflictf("item %s is %s, not on the roadmap; prioritise it first", it.ID, it.Status)
	}
	pl.Horizon = cmd.Horizon
	if pl.Horizon == "" {
		pl.Horizon = it.Horizon
	}
	if cmd.Score == nil {
		pl.Score = it.Score
	}
	if cmd.ObjectiveIDs == nil {
		pl.ObjectiveIDs = nonNil(it.ObjectiveIDs)
	} else if err := checkObjectivesLinkable(pl.ObjectiveIDs, refs); err != nil {
		return nil, err
	}

	rank, size := refs.Position(it.ID)
	sameRank := pl.Rank == nil || min(*pl.Rank, size) == rank
	sameEffort := pl.Effort == nil || (it.Effort() != nil && *pl.Effort == *it.Effort())
	if pl.Horizon == it.Horizon && sameRank && pl.Score.Equal(it.Score) && sameSet(pl.ObjectiveIDs, it.ObjectiveIDs) && sameEffort {
		return nil, conflictf("the reprioritisation changes nothing: item %s is already %s #%d with the same score and objectives", it.ID, it.Horizon, rank)
	}
	if pl.Horizon == it.Horizon && pl.Rank == nil {
		// Keep the item where it is when only its score or objectives change.
		r := rank
		pl.Rank = &r
	}
	return &ItemReprioritised{Placement: pl}, nil
}

// DecideRemove checks taking it off the roadmap. It returns ErrInvalid without
// a rationale and ErrConflict when the item is not on the roadmap.
func DecideRemove(it Item, cmd Remove) (*ItemRemoved, error) {
	rationale, evidence, err := checkLeavingRoadmap(it, cmd.Rationale, cmd.Evidence, ", not on the roadmap")
	if err != nil {
		return nil, err
	}
	return &ItemRemoved{Rationale: rationale, Evidence: evidence}, nil
}

// DecideDeliver checks recording it as delivered. It returns ErrInvalid
// without a rationale and ErrConflict when the item is not on the roadmap.
func DecideDeliver(it Item, cmd Deliver) (*ItemDelivered, error) {
	rationale, evidence, err := checkLeavingRoadmap(it, cmd.Rationale, cmd.Evidence, "; only an item on the roadmap can be delivered")
	if err != nil {
		return nil, err
	}
	return &ItemDelivered{Rationale: rationale, Evidence: evidence}, nil
}

// checkLeavingRoadmap checks a decision that takes it off the roadmap: its
// rationale and evidence, returned cleaned, then that the item is on the
// roadmap. The conflict otherwise says what it is, followed by notOnRoadmap.
func checkLeavingRoadmap(it Item, rationale string, evidence []string, notOnRoadmap string) (string, []string, error) {
	rationale, evidence, err := checkRationale(rationale, evidence)
	if err != nil {
		return "", nil, err
	}
	if it.Status != StatusOnRoadmap {
		return "", nil, conflictf("item %s is %s%s", it.ID, it.Status, notOnRoadmap)
	}
	return rationale, evidence, nil
}

// EvolveItem returns it with e applied. Events of other aggregates are
// ignored.
func EvolveItem(it Item, id string, e Event) Item {
	switch e := e.(type) {
	case *ItemProposed:
		return Item{
			ID: id, ItemBrief: e.ItemBrief,
			Status: StatusProposed, Plan: newPlan(e.Effort, e.DependsOn, e.Risks), Provenance: e.Provenance,
		}
	case *ItemEdited:
		it.applyEdit(e.After)
	case *ItemPrioritised:
		it.place(e.Placement)
	case *ItemReprioritised:
		it.place(e.Placement)
	case *ItemRemoved:
		it.Status, it.Horizon, it.Public = StatusRemoved, "", nil
	case *ItemDelivered:
		it.Status, it.Horizon, it.Public = StatusDelivered, "", nil
	case *ItemPublished:
		it.Public = &Publication{Summary: e.Summary}
	case *ItemUnpublished:
		it.Public = nil
	}
	return it
}

func (it *Item) place(pl Placement) {
	it.Status, it.Horizon, it.Score, it.ObjectiveIDs = StatusOnRoadmap, pl.Horizon, pl.Score, pl.ObjectiveIDs
	if pl.Effort != nil {
		plan := Plan{}
		if it.Plan != nil {
			plan = *it.Plan
		}
		plan.Effort = pl.Effort
		it.Plan = &plan
	}
}

// checkPlacement checks what a prioritisation or reprioritisation asks for,
// but its horizon, and returns the placement it makes.
func checkPlacement(p *problems, cmd Prioritise) Placement {
	pl := Placement{Rank: cmd.Rank, Rationale: clean(cmd.Rationale), Effort: cmd.Effort}
	requiredText(p, "rationale", cmd.Rationale, maxRationale)
	if cmd.Rank != nil && *cmd.Rank < 1 {
		p.add("rank", "must be 1 or more (1 is the top of the horizon)")
	}
	if cmd.Score != nil {
		computed, err := cmd.Score.Computed("score")
		if err != nil {
			p.fields = append(p.fields, err.(*ValidationError).Fields...)
		}
		pl.Score = &computed
	}
	if cmd.ObjectiveIDs != nil {
		checkIDs(p, "objective_ids", "objective", *cmd.ObjectiveIDs)
		pl.ObjectiveIDs = nonNil(*cmd.ObjectiveIDs)
	}
	pl.Evidence = checkEvidence(p, cmd.Evidence)
	checkEffort(p, cmd.Effort)
	return pl
}

func checkObjectivesLinkable(ids []string, refs References) error {
	for _, id := range ids {
		o, ok := refs.Objective(id)
		switch {
		case !ok:
			return conflictf("objective %s does not exist", id)
		case o.Status == StatusRetired:
			return conflictf("objective %s (%q) is retired and cannot be linked", id, o.Title)
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same ids in any order: the
// objectives an item serves are a set.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(id string) bool { return !slices.Contains(b, id) })
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return slices.Clone(ids)
}

// String describes an item's place, for messages.
func (it Item) String() string {
	return fmt.Sprintf("%s %q (%s)", it.Kind, it.Title, it.Status)
}
