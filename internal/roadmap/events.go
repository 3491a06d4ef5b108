package roadmap

// Event types of the ledger, as stored in the envelope's type field. The
// catalogue, with the schema of each version, is docs/events.md.
const (
	TypeObjectiveDefined  = "objective.defined"
	TypeObjectiveRetired  = "objective.retired"
	TypeItemProposed      = "item.proposed"
	TypeItemPrioritised   = "item.prioritised"
	TypeItemReprioritised = "item.reprioritised"
	TypeItemRemoved       = "item.removed"
	TypeItemDelivered     = "item.delivered"
)

// SchemaVersions is the current schema version of each event type. An event
// is written with the current version; readers accept every version up to it.
var SchemaVersions = map[string]int{
	TypeObjectiveDefined:  1,
	TypeObjectiveRetired:  1,
	TypeItemProposed:      1,
	TypeItemPrioritised:   1,
	TypeItemReprioritised: 1,
	TypeItemRemoved:       1,
	TypeReviewOpened:      1,
	TypeReviewClosed:      1,
	TypeReviewCancelled:   1,
	TypeCheckpointSigned:  1,
	TypeTokenCreated:      2,
	TypeTokenRevoked:      1,
	TypeItemDelivered:     1,
	TypeChangeProposed:    1,
	TypeChangeApproved:    1,
	TypeChangeRejected:    1,
	TypeCapacitySet:       1,
	TypeItemEdited:        1,
	TypeObjectiveEdited:   1,

	TypeWebhookCreated:       1,
	TypeWebhookSecretRotated: 1,
	TypeWebhookDeleted:       1,
	TypeItemPublished:        1,
	TypeItemUnpublished:      1,
	TypeViewDefined:          1,
	TypeViewChanged:          1,
	TypeViewDeleted:          1,
	TypeObjectiveMeasured:    1,
}

// Event is the data of one domain event.
type Event interface {
	// EventType is the catalogue name of the event, such as "item.prioritised".
	EventType() string
}

// ObjectiveDefined records a new objective.
type ObjectiveDefined struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	KPI         string `json:"kpi"`
	Target      string `json:"target"`
	Product     string `json:"product"`
}

// ObjectiveRetired records that an objective no longer guides the roadmap.
type ObjectiveRetired struct {
	Rationale string `json:"rationale"`
}

// ItemProposed records a new roadmap candidate (an initiative or an idea).
type ItemProposed struct {
	ItemBrief
	// Effort, DependsOn and Risks are optional (schema version 1 without
	// them): the item's size in effort points, the items it needs first,
	// and the risks it carries.
	Effort    *int     `json:"effort,omitempty"`
	DependsOn []string `json:"depends_on,omitempty"`
	Risks     []string `json:"risks,omitempty"`
	// Provenance is set when an import proposed the item (optional;
	// schema version 1 without it).
	Provenance *Provenance `json:"provenance,omitempty"`
}

// Placement is the part shared by the decisions that put an item on the
// roadmap: where it goes, why, and the resulting score and objectives.
type Placement struct {
	Horizon Horizon `json:"horizon"`
	// Rank is the requested 1-based position within the horizon; nil means
	// last. Replays clamp it to the horizon's length at that point of the log.
	Rank         *int     `json:"rank"`
	Score        *Score   `json:"score"`
	ObjectiveIDs []string `json:"objective_ids"`
	Rationale    string   `json:"rationale"`
	Evidence     []string `json:"evidence"`
	// Effort, when set, re-estimates the item in effort points (optional;
	// schema version 1 without it).
	Effort *int `json:"effort,omitempty"`
	// Approval is set when the decision took effect through an approved
	// change (optional; schema version 1 without it).
	Approval *Approval `json:"approval,omitempty"`
}

// ItemPrioritised records the decision to place an item on the roadmap.
type ItemPrioritised struct {
	Placement
}

// ItemReprioritised records the decision to change the horizon, rank, score or
// objectives of an item already on the roadmap. It carries the full resulting
// placement, so each event reads on its own.
type ItemReprioritised struct {
	Placement
}

// ItemRemoved records the decision to take an item off the roadmap.
type ItemRemoved struct {
	Rationale string    `json:"rationale"`
	Evidence  []string  `json:"evidence"`
	Approval  *Approval `json:"approval,omitempty"`
}

// ItemDelivered records that an item on the roadmap was built and shipped:
// it leaves the horizons, and its history ends with what was delivered.
type ItemDelivered struct {
	Rationale string   `json:"rationale"`
	Evidence  []string `json:"evidence"`
	// Approval is set when the delivery took effect through an approved
	// change (optional; schema version 1 without it).
	Approval *Approval `json:"approval,omitempty"`
}

// EventType implements Event.
func (ItemDelivered) EventType() string { return TypeItemDelivered }

// EventType implements Event.
func (ObjectiveDefined) EventType() string { return TypeObjectiveDefined }

// EventType implements Event.
func (ObjectiveRetired) EventType() string { return TypeObjectiveRetired }

// EventType implements Event.
func (ItemProposed) EventType() string { return TypeItemProposed }

// EventType implements Event.
func (ItemPrioritised) EventType() string { return TypeItemPrioritised }

// EventType implements Event.
func (ItemReprioritised) EventType() string { return TypeItemReprioritised }

// EventType implements Event.
func (ItemRemoved) EventType() string { return TypeItemRemoved }

// NewEvent returns an empty event value of the given type, for decoding, or
// false when the type is unknown.
func NewEvent(eventType string) (Event, bool) {
	switch eventType {
	case TypeObjectiveDefined:
		return &ObjectiveDefined{}, true
	case TypeObjectiveRetired:
		return &ObjectiveRetired{}, true
	case TypeItemProposed:
		return &ItemProposed{}, true
	case TypeItemPrioritised:
		return &ItemPrioritised{}, true
	case TypeItemReprioritised:
		return &ItemReprioritised{}, true
	case TypeItemRemoved:
		return &ItemRemoved{}, true
	case TypeReviewOpened:
		return &ReviewOpened{}, true
	case TypeReviewClosed:
		return &ReviewClosed{}, true
	case TypeReviewCancelled:
		return &ReviewCancelled{}, true
	case TypeCheckpointSigned:
		return &CheckpointSigned{}, true
	case TypeTokenCreated:
		return &TokenCreated{}, true
	case TypeTokenRevoked:
		return &TokenRevoked{}, true
	case TypeItemDelivered:
		return &ItemDelivered{}, true
	case TypeChangeProposed:
		return &ChangeProposed{}, true
	case TypeChangeApproved:
		return &ChangeApproved{}, true
	case TypeChangeRejected:
		return &ChangeRejected{}, true
	case TypeCapacitySet:
		return &CapacitySet{}, true
	case TypeItemEdited:
		return &ItemEdited{}, true
	case TypeObjectiveEdited:
		return &ObjectiveEdited{}, true
	case TypeWebhookCreated:
		return &WebhookCreated{}, true
	case TypeWebhookSecretRotated:
		return &WebhookSecretRotated{}, true
	case TypeWebhookDeleted:
		return &WebhookDeleted{}, true
	case TypeItemPublished:
		return &ItemPublished{}, true
	case TypeItemUnpublished:
		return &ItemUnpublished{}, true
	case TypeViewDefined:
		return &ViewDefined{}, true
	case TypeViewChanged:
		return &ViewChanged{}, true
	case TypeViewDeleted:
		return &ViewDeleted{}, true
	case TypeObjectiveMeasured:
		return &ObjectiveMeasured{}, true
	}
	return nil, false
}
