package roadmap

// ObjectiveStatus is where an objective is in its life.
type ObjectiveStatus string

// Objective statuses.
const (
	StatusActive  ObjectiveStatus = "active"
	StatusRetired ObjectiveStatus = "retired"
)

// Objective is a company or product goal with a measurable KPI and target.
type Objective struct {
	ID          string          `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	KPI         string          `json:"kpi"`
	Target      string          `json:"target"`
	Product     string          `json:"product"`
	Status      ObjectiveStatus `json:"status"`
}

// DefineObjective is the command that creates an objective.
type DefineObjective struct {
	Title       string
	Description string
	KPI         string
	Target      string
	Product     string
}

// RetireObjective is the command that retires an objective.
type RetireObjective struct {
	Rationale string
}

// DecideDefineObjective checks a new objective. It returns a
// *ValidationError (ErrInvalid) listing every field that breaks a rule.
func DecideDefineObjective(cmd DefineObjective) (*ObjectiveDefined, error) {
	var p problems
	requiredText(&p, "title", cmd.Title, maxTitle)
	optionalText(&p, "description", cmd.Description, maxDescription)
	requiredText(&p, "kpi", cmd.KPI, maxTitle)
	requiredText(&p, "target", cmd.Target, maxTitle)
	product := productOrDefault(&p, cmd.Product)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &ObjectiveDefined{
		Title: clean(cmd.Title), Description: clean(cmd.Description),
		KPI: clean(cmd.KPI), Target: clean(cmd.Target), Product: product,
	}, nil
}

// DecideRetireObjective checks the retirement of o. It returns ErrInvalid
// without a rationale and ErrConflict when o is already retired.
func DecideRetireObjective(o Objective, cmd RetireObjective) (*ObjectiveRetired, error) {
	var p problems
	requiredText(&p, "rationale", cmd.Rationale, maxRationale)
	if err := p.err(); err != nil {
		return nil, err
	}
	if o.Status == StatusRetired {
		return nil, conflictf("objective %s is already retired", o.ID)
	}
	return &ObjectiveRetired{Rationale: clean(cmd.Rationale)}, nil
}

// EvolveObjective returns o with e applied. Events of other aggregates are
// ignored.
func EvolveObjective(o Objective, id string, e Event) Objective {
	switch e := e.(type) {
	case *ObjectiveDefined:
		return Objective{
			ID: id, Title: e.Title, Description: e.Description, KPI: e.KPI,
			Target: e.Target, Product: e.Product, Status: StatusActive,
		}
	case *ObjectiveRetired:
		o.Status = StatusRetired
	case *ObjectiveEdited:
		o.Title, o.Description, o.KPI, o.Target = e.After.Title, e.After.Description, e.After.KPI, e.After.Target
	}
	return o
}
