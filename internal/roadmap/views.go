package roadmap

import (
	"slices"
	"strconv"
	"strings"
)

// Event types of views: saved selections of the roadmap, each told to one
// audience. Their aggregate type is "view", one aggregate per view.
const (
	TypeViewDefined = "view.defined"
	TypeViewChanged = "view.changed"
	TypeViewDeleted = "view.deleted"
)

// Audience is who a view is for.
type Audience string

// Audiences.
const (
	// AudienceInternal views are read with a token.
	AudienceInternal Audience = "internal"
	// AudiencePublic views are read by anyone, and show only published
	// items, only by their public fields.
	AudiencePublic Audience = "public"
)

// ViewFields are the fields a view may show, in the order a view lists
// them.
var ViewFields = []string{
	"title", "summary", "description", "kind", "status", "horizon", "rank", "objectives",
	"score", "rationale", "last_decision", "effort", "depends_on", "risks",
}

// PublicFields are the only fields a public view may show: the public
// summary, the horizon, and the names of the objectives the view makes
// public.
var PublicFields = []string{"summary", "horizon", "objectives"}

// maxViewFilter bounds each of a view's lists.
const maxViewFilter = 50

// ViewSpec is what a view selects and shows. A public view names the
// objectives whose titles it shows: its ObjectiveIDs.
type ViewSpec struct {
	Name     string   `json:"name"`
	Slug     string   `json:"slug"`
	Audience Audience `json:"audience"`
	// Product is the product the view shows; "" for every product.
	Product      string    `json:"product"`
	ObjectiveIDs []string  `json:"objective_ids"`
	Kinds        []Kind    `json:"kinds"`
	Horizons     []Horizon `json:"horizons"`
	Fields       []string  `json:"fields"`
}

// ViewDefined records a new view.
type ViewDefined struct {
	ViewSpec
}

// ViewChanged records a change to a view: the whole view as it is after.
type ViewChanged struct {
	ViewSpec
}

// ViewDeleted records that a view is gone; its slug is free again.
type ViewDeleted struct{}

// EventType implements Event.
func (ViewDefined) EventType() string { return TypeViewDefined }

// EventType implements Event.
func (ViewChanged) EventType() string { return TypeViewChanged }

// EventType implements Event.
func (ViewDeleted) EventType() string { return TypeViewDeleted }

// View is a view as it stands.
type View struct {
	ID string
	ViewSpec
	Deleted bool
}

// Shows reports whether the view shows field.
func (v ViewSpec) Shows(field string) bool { return slices.Contains(v.Fields, field) }

// Selects reports whether the view selects it, by product, kind, horizon
// and objectives (an item serving any of them). Only items on the roadmap
// are selected.
func (v ViewSpec) Selects(it Item) bool {
	if it.Status != StatusOnRoadmap {
		return false
	}
	if v.Product != "" && it.Product != v.Product {
		return false
	}
	if len(v.Kinds) > 0 && !slices.Contains(v.Kinds, it.Kind) {
		return false
	}
	if len(v.Horizons) > 0 && !slices.Contains(v.Horizons, it.Horizon) {
		return false
	}
	if len(v.ObjectiveIDs) > 0 && !slices.ContainsFunc(it.ObjectiveIDs, func(id string) bool { return slices.Contains(v.ObjectiveIDs, id) }) {
		return false
	}
	return true
}

// ViewReferences gives the decisions on views what they must know of the
// rest of the ledger.
type ViewReferences interface {
	Objective(id string) (Objective, bool)
	// ViewBySlug returns the id of the view, not deleted, with the slug.
	ViewBySlug(slug string) (string, bool)
}

// DefineView is the command that makes a view.
type DefineView ViewSpec

// EditView is the command that changes a view: nil fields keep their
// value. A view's slug never changes: links to it stay good.
type EditView struct {
	Name         *string
	Audience     *Audience
	Product      *string
	ObjectiveIDs *[]string
	Kinds        *[]Kind
	Horizons     *[]Horizon
	Fields       *[]string
}

// DecideDefineView checks a new view. It returns a *ValidationError
// (ErrInvalid) for bad values (a public view showing a field that is not
// public, say) and ErrConflict when the slug is taken or an objective is
// unknown or retired.
func DecideDefineView(cmd DefineView, refs ViewReferences) (*ViewDefined, error) {
	spec, err := checkView(ViewSpec(cmd), refs)
	if err != nil {
		return nil, err
	}
	if id, taken := refs.ViewBySlug(spec.Slug); taken {
		return nil, conflictf("the slug %q is taken by view %s", spec.Slug, id)
	}
	return &ViewDefined{ViewSpec: spec}, nil
}

// DecideEditView checks a change to v. It returns the errors of
// DecideDefineView, ErrInvalid for a change that changes nothing, and
// ErrConflict for a deleted view.
func DecideEditView(v View, cmd EditView, refs ViewReferences) (*ViewChanged, error) {
	if v.Deleted {
		return nil, conflictf("view %s is deleted", v.ID)
	}
	spec := v.ViewSpec
	if cmd.Name != nil {
		spec.Name = *cmd.Name
	}
	if cmd.Audience != nil {
		spec.Audience = *cmd.Audience
	}
	if cmd.Product != nil {
		spec.Product = *cmd.Product
	}
	if cmd.ObjectiveIDs != nil {
		spec.ObjectiveIDs = *cmd.ObjectiveIDs
	}
	if cmd.Kinds != nil {
		spec.Kinds = *cmd.Kinds
	}
	if cmd.Horizons != nil {
		spec.Horizons = *cmd.Horizons
	}
	if cmd.Fields != nil {
		spec.Fields = *cmd.Fields
	}
	spec, err := checkView(spec, refs)
	if err != nil {
		return nil, err
	}
	if spec.equal(v.ViewSpec) {
		return nil, invalidf("the change changes nothing: view %s is already so", v.Slug)
	}
	return &ViewChanged{ViewSpec: spec}, nil
}

// DecideDeleteView checks deleting v. It returns ErrConflict when it is
// already deleted.
func DecideDeleteView(v View) (*ViewDeleted, error) {
	if v.Deleted {
		return nil, conflictf("view %s is already deleted", v.ID)
	}
	return &ViewDeleted{}, nil
}

// EvolveView returns v with e applied.
func EvolveView(v View, id string, e Event) View {
	switch e := e.(type) {
	case *ViewDefined:
		return View{ID: id, ViewSpec: e.ViewSpec}
	case *ViewChanged:
		v.ViewSpec = e.ViewSpec
	case *ViewDeleted:
		v.Deleted = true
	}
	return v
}

// checkView checks a view's spec and returns it cleaned, lists never nil.
func checkView(spec ViewSpec, refs ViewReferences) (ViewSpec, error) {
	var p problems
	requiredText(&p, "name", spec.Name, maxTitle)
	spec.Name = clean(spec.Name)
	if !productPattern.MatchString(spec.Slug) {
		p.add("slug", "must be lower-case letters, digits and dashes, 1 to 63 characters, starting with a letter or digit")
	}
	if spec.Audience != AudienceInternal && spec.Audience != AudiencePublic {
		p.add("audience", "must be internal or public")
	}
	if spec.Product != "" && !productPattern.MatchString(spec.Product) {
		p.add("product", "must be a product slug, or left out for every product")
	}
	checkIDs(&p, "objective_ids", "objective", spec.ObjectiveIDs)
	checkList(&p, "kinds", spec.Kinds, func(k Kind) string {
		if k != KindInitiative && k != KindIdea {
			return "must be initiative or idea"
		}
		return ""
	})
	checkList(&p, "horizons", spec.Horizons, func(h Horizon) string {
		if !h.Valid() {
			return "must be now, next or later"
		}
		return ""
	})
	allowed := ViewFields
	if spec.Audience == AudiencePublic {
		allowed = PublicFields
	}
	if len(spec.Fields) == 0 {
		p.add("fields", "must name at least one field the view shows")
	}
	checkList(&p, "fields", spec.Fields, func(f string) string {
		switch {
		case slices.Contains(allowed, f):
			return ""
		case slices.Contains(ViewFields, f):
			return "is not shown to the public: a public view shows only summary, horizon and objectives"
		}
		return "must be one of " + strings.Join(ViewFields, ", ")
	})
	if err := p.err(); err != nil {
		return spec, err
	}
	for _, id := range spec.ObjectiveIDs {
		if _, ok := refs.Objective(id); !ok {
			return spec, conflictf("objective %s does not exist", id)
		}
	}
	spec.ObjectiveIDs, spec.Kinds, spec.Horizons, spec.Fields = nonNil(spec.ObjectiveIDs), orEmpty(spec.Kinds), orEmpty(spec.Horizons), slices.Clone(spec.Fields)
	return spec, nil
}

// checkList checks each entry of a list of at most maxViewFilter entries,
// none twice; bad says what is wrong with one, "" when nothing is.
func checkList[T comparable](p *problems, field string, list []T, bad func(T) string) {
	if len(list) > maxViewFilter {
		p.add(field, "must have at most %d entries", maxViewFilter)
		return
	}
	for i, v := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		if msg := bad(v); msg != "" {
			p.add(f, "%s", msg)
		} else if slices.Index(list, v) < i {
			p.add(f, "is listed twice")
		}
	}
}

func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return slices.Clone(list)
}

func (v ViewSpec) equal(w ViewSpec) bool {
	return v.Name == w.Name && v.Slug == w.Slug && v.Audience == w.Audience && v.Product == w.Product &&
		slices.Equal(v.ObjectiveIDs, w.ObjectiveIDs) && slices.Equal(v.Kinds, w.Kinds) &&
		slices.Equal(v.Horizons, w.Horizons) && slices.Equal(v.Fields, w.Fields)
}
