package roadmap

// Event types of the public roadmap: an item is shown on public views only
// once published, and only by its public summary.
const (
	TypeItemPublished   = "item.published"
	TypeItemUnpublished = "item.unpublished"
)

// maxSummary bounds a public summary: a line or two a customer reads.
const maxSummary = 500

// Publication is what the public roadmap says of an item: its public
// summary, never its title, description, rationale or score.
type Publication struct {
	Summary string `json:"summary"`
}

// Publish is the command that publishes an item on the public roadmap, or
// gives a published item a new public summary.
type Publish struct {
	Summary   string
	Rationale string
	Evidence  []string
}

// Unpublish is the command that takes an item off the public roadmap.
type Unpublish struct {
	Rationale string
	Evidence  []string
}

// ItemPublished records the decision to show an item on the public
// roadmap with a public summary.
type ItemPublished struct {
	Summary   string    `json:"summary"`
	Rationale string    `json:"rationale"`
	Evidence  []string  `json:"evidence"`
	Approval  *Approval `json:"approval,omitempty"`
}

// ItemUnpublished records the decision to stop showing an item on the
// public roadmap.
type ItemUnpublished struct {
	Rationale string    `json:"rationale"`
	Evidence  []string  `json:"evidence"`
	Approval  *Approval `json:"approval,omitempty"`
}

// EventType implements Event.
func (ItemPublished) EventType() string { return TypeItemPublished }

// EventType implements Event.
func (ItemUnpublished) EventType() string { return TypeItemUnpublished }

var (
	_ ItemDecision = (*ItemPublished)(nil)
	_ ItemDecision = (*ItemUnpublished)(nil)
)

// DecidePublish checks publishing it with a public summary. It returns a
// *ValidationError (ErrInvalid) without a summary or a rationale, and
// ErrConflict when the item is not on the roadmap or is already published
// with the same summary.
func DecidePublish(it Item, cmd Publish) (*ItemPublished, error) {
	var p problems
	requiredText(&p, "summary", cmd.Summary, maxSummary)
	requiredText(&p, "rationale", cmd.Rationale, maxRationale)
	evidence := checkEvidence(&p, cmd.Evidence)
	if err := p.err(); err != nil {
		return nil, err
	}
	if it.Status != StatusOnRoadmap {
		return nil, conflictf("item %s is %s; only an item on the roadmap can be published", it.ID, it.Status)
	}
	summary := clean(cmd.Summary)
	if it.Public != nil && it.Public.Summary == summary {
		return nil, conflictf("item %s is already published with this summary", it.ID)
	}
	return &ItemPublished{Summary: summary, Rationale: clean(cmd.Rationale), Evidence: evidence}, nil
}

// DecideUnpublish checks taking it off the public roadmap. It returns
// ErrInvalid without a rationale and ErrConflict when it is not published.
func DecideUnpublish(it Item, cmd Unpublish) (*ItemUnpublished, error) {
	rationale, evidence, err := checkRationale(cmd.Rationale, cmd.Evidence)
	if err != nil {
		return nil, err
	}
	if it.Public == nil {
		return nil, conflictf("item %s is not published", it.ID)
	}
	return &ItemUnpublished{Rationale: rationale, Evidence: evidence}, nil
}

// publicChange returns why a decision that took an item from before to
// after is a major change for the public roadmap, or "": a new public
// statement (a publication, or a new summary) is said by two people;
// withdrawing one never waits.
func publicChange(before, after Item) string {
	if after.Public != nil && (before.Public == nil || before.Public.Summary != after.Public.Summary) {
		return "a publication on the public roadmap"
	}
	return ""
}

// Why implements ItemDecision.
func (e *ItemPublished) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemPublished) Approved() *Approval { return e.Approval }

func (e *ItemPublished) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}

// Why implements ItemDecision.
func (e *ItemUnpublished) Why() (string, []string) { return e.Rationale, e.Evidence }

// Approved implements ItemDecision.
func (e *ItemUnpublished) Approved() *Approval { return e.Approval }

func (e *ItemUnpublished) approvedBy(a *Approval) ItemDecision {
	c := *e
	c.Approval = a
	return &c
}
