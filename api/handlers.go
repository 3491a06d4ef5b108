package api

import (
	"context"
	"fmt"
	"net/http"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Request bodies. Field names are the API's; unknown fields are refused.
type (
	defineObjectiveBody struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		KPI         string `json:"kpi"`
		Target      string `json:"target"`
		Product     string `json:"product"`
	}
	retireBody struct {
		Rationale string `json:"rationale"`
	}
	rationaleBody struct {
		Rationale string   `json:"rationale"`
		Evidence  []string `json:"evidence"`
	}
	proposeBody struct {
		Title        string   `json:"title"`
		Description  string   `json:"description"`
		Kind         string   `json:"kind"`
		ParentID     string   `json:"parent_id"`
		Product      string   `json:"product"`
		ObjectiveIDs []string `json:"objective_ids"`
		Effort       *int     `json:"effort"`
		DependsOn    []string `json:"depends_on"`
		Risks        []string `json:"risks"`
	}
	// editItemBody is a patch of an item: the fields given change, those
	// left out (or null) keep their value; parent_id null or "" clears the
	// parent.
	editItemBody struct {
		Title        *string       `json:"title"`
		Description  *string       `json:"description"`
		Kind         *roadmap.Kind `json:"kind"`
		ParentID     clearable     `json:"parent_id"`
		Product      *string       `json:"product"`
		ObjectiveIDs *[]string     `json:"objective_ids"`
		Effort       *int          `json:"effort"`
		DependsOn    *[]string     `json:"depends_on"`
		Risks        *[]string     `json:"risks"`
		Rationale    string        `json:"rationale"`
		Evidence     []string      `json:"evidence"`
	}
	// editObjectiveBody is a patch of an objective, as editItemBody is of
	// an item.
	editObjectiveBody struct {
		Title       *string  `json:"title"`
		Description *string  `json:"description"`
		KPI         *string  `json:"kpi"`
		Target      *string  `json:"target"`
		Rationale   string   `json:"rationale"`
		Evidence    []string `json:"evidence"`
	}
	placementBody struct {
		Horizon      string         `json:"horizon"`
		Rank         *int           `json:"rank"`
		Score        *roadmap.Score `json:"score"`
		ObjectiveIDs *[]string      `json:"objective_ids"`
		Rationale    string         `json:"rationale"`
		Evidence     []string       `json:"evidence"`
		Effort       *int           `json:"effort"`
	}
)

// Answers.
type (
	objectiveJSON struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
		KPI         string `json:"kpi"`
		Target      string `json:"target"`
		Product     string `json:"product"`
		Status      string `json:"status"`
		Version     uint64 `json:"version"`
	}
	itemJSON struct {
		ID           string         `json:"id"`
		Title        string         `json:"title"`
		Description  string         `json:"description"`
		Kind         string         `json:"kind"`
		ParentID     *string        `json:"parent_id"`
		Product      string         `json:"product"`
		Status       string         `json:"status"`
		Horizon      *string        `json:"horizon"`
		Rank         *int           `json:"rank"`
		Score        *roadmap.Score `json:"score"`
		ObjectiveIDs []string       `json:"objective_ids"`
		Effort       *int           `json:"effort"`
		DependsOn    []string       `json:"depends_on"`
		Risks        []string       `json:"risks"`
		// Provenance is where an imported item came from; null for one
		// proposed by hand.
		Provenance *provenanceJSON `json:"provenance"`
		// Public is what the public roadmap says of the item; left out
		// while it is not published.
		Public *publicationJSON `json:"public,omitempty"`
		// Flags are the warnings on the item as it stands: its horizon
		// over capacity, a dependency out of order.
		Flags   []flagJSON `json:"flags"`
		Version uint64     `json:"version"`
	}
	// provenanceJSON is where an imported item came from.
	provenanceJSON struct {
		Source     string  `json:"source"`
		ExternalID *string `json:"external_id"`
		ImportID   string  `json:"import_id"`
	}
)

// clearable is a text field of a patch that null clears: Set says whether
// the body gave the field at all, null included.
type clearable struct {
	Set   bool
	Value string
}

// UnmarshalJSON reads null as the empty text, and marks the field given.
func (c *clearable) UnmarshalJSON(b []byte) error {
	c.Set = true
	if string(b) == "null" {
		c.Value = ""
		return nil
	}
	return jsonv2.Unmarshal(b, &c.Value)
}

// ptr returns a pointer to its value when the field was given, nil
// otherwise.
func (c clearable) ptr() *string {
	if !c.Set {
		return nil
	}
	return &c.Value
}

// provenanceWire shows where an imported item came from; nil stays nil.
func provenanceWire(p *roadmap.Provenance) *provenanceJSON {
	if p == nil {
		return nil
	}
	out := &provenanceJSON{Source: p.Source, ImportID: p.ImportID}
	if p.ExternalID != "" {
		id := p.ExternalID
		out.ExternalID = &id
	}
	return out
}

func objectiveAnswer(v projections.ObjectiveView) objectiveJSON {
	o := v.Objective
	return objectiveJSON{
		ID: o.ID, Title: o.Title, Description: o.Description, KPI: o.KPI, Target: o.Target,
		Product: o.Product, Status: string(o.Status), Version: v.Version,
	}
}

func itemAnswer(v projections.ItemView) itemJSON {
	it := v.Item
	out := itemJSON{
		ID: it.ID, Title: it.Title, Description: it.Description, Kind: string(it.Kind),
		Product: it.Product, Status: string(it.Status), Score: it.Score,
		ObjectiveIDs: it.ObjectiveIDs, Version: v.Version,
		Effort: it.Effort(), DependsOn: projections.NonNil(it.DependsOn()), Risks: projections.NonNil(it.Risks()),
		Provenance: provenanceWire(it.Provenance), Flags: []flagJSON{}, Public: publicationWire(v),
	}
	if it.ParentID != "" {
		out.ParentID = &it.ParentID
	}
	if it.Status == roadmap.StatusOnRoadmap {
		h, r := string(it.Horizon), v.Rank
		out.Horizon, out.Rank = &h, &r
	}
	out.ObjectiveIDs = projections.NonNil(out.ObjectiveIDs)
	return out
}

// shown is a write's answer as the client gets it.
type shown struct {
	body    any
	version uint64 // the ETag
	// location is where a new aggregate is read from.
	location string
	// held is true for a major change held for approval: a new one is
	// accepted (202), not done.
	held bool
}

func showObjective(v projections.ObjectiveView) shown {
	return shown{objectiveAnswer(v), v.Version, "/v1/objectives/" + v.ID, false}
}

func showItem(o ledger.ItemOutcome) shown {
	if o.Held != nil {
		return showChange(*o.Held)
	}
	item := itemAnswer(o.Item)
	if o.Flags != nil {
		item.Flags = wireList(o.Flags, flagWire)
	}
	return shown{item, o.Item.Version, "/v1/items/" + o.Item.ID, false}
}

func showReview(v projections.ReviewView) shown {
	return shown{reviewAnswer(v), v.Version, "/v1/reviews/" + v.ID, false}
}

func showChange(v projections.ChangeView) shown {
	return shown{changeAnswer(v), v.Version, "/v1/changes/" + v.ID, true}
}

// respond writes the answer to a write: the aggregate with its ETag, 201 and
// a Location for a new one.
func respond[T any](c echo.Context, res ledger.Result[T], show func(T) shown) error {
	out := show(res.Answer)
	h := c.Response().Header()
	h.Set("ETag", etag(out.version))
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		h.Set("Location", out.location)
		if out.held {
			status = http.StatusAccepted
		}
	}
	return c.JSON(status, out.body)
}

// prioritise is the placement the body asks for; a reprioritisation asks for
// one of the same fields.
func (b placementBody) prioritise() roadmap.Prioritise {
	return roadmap.Prioritise{
		Horizon: roadmap.Horizon(b.Horizon), Rank: b.Rank, Score: b.Score,
		ObjectiveIDs: b.ObjectiveIDs, Rationale: b.Rationale, Evidence: b.Evidence, Effort: b.Effort,
	}
}

// writeTo is write for a decision on the aggregate the path's :id names:
// known finds it, and an unknown one is not found before the body is read.
func writeTo[B, T any](c echo.Context, known func(echo.Context) (string, error), show func(T) shown, run func(ctx context.Context, req ledger.Request, id string, body B) (ledger.Result[T], error)) error {
	id, err := known(c)
	if err != nil {
		return err
	}
	return write(c, show, func(ctx context.Context, req ledger.Request, b B) (ledger.Result[T], error) {
		return run(ctx, req, id, b)
	})
}

// write decodes the body into a fresh B, runs the use case with it and
// answers what it made, as show shows it.
func write[B, T any](c echo.Context, show func(T) shown, run func(ctx context.Context, req ledger.Request, body B) (ledger.Result[T], error)) error {
	var body B
	req, err := readRequest(c, &body)
	if err != nil {
		return err
	}
	res, err := run(c.Request().Context(), req, body)
	if err != nil {
		return err
	}
	return respond(c, res, show)
}

func (s *Server) defineObjective(c echo.Context) error {
	return write(c, showObjective, func(ctx context.Context, req ledger.Request, b defineObjectiveBody) (ledger.Result[projections.ObjectiveView], error) {
		return s.cfg.Ledger.DefineObjective(ctx, req, roadmap.DefineObjective{
			Title: b.Title, Description: b.Description, KPI: b.KPI, Target: b.Target, Product: b.Product,
		})
	})
}

func (s *Server) retireObjective(c echo.Context) error {
	return writeTo(c, s.knownObjective, showObjective, func(ctx context.Context, req ledger.Request, id string, b retireBody) (ledger.Result[projections.ObjectiveView], error) {
		return s.cfg.Ledger.RetireObjective(ctx, req, id, roadmap.RetireObjective{Rationale: b.Rationale})
	})
}

func (s *Server) getObjective(c echo.Context) error {
	return get(c, "objective", s.cfg.Views.ObjectiveView, showObjective)
}

func (s *Server) editObjective(c echo.Context) error {
	return writeTo(c, s.knownObjective, showObjective, func(ctx context.Context, req ledger.Request, id string, b editObjectiveBody) (ledger.Result[projections.ObjectiveView], error) {
		return s.cfg.Ledger.EditObjective(ctx, req, id, roadmap.EditObjective{
			Title: b.Title, Description: b.Description, KPI: b.KPI, Target: b.Target, Rationale: b.Rationale, Evidence: b.Evidence,
		})
	})
}

func (s *Server) proposeItem(c echo.Context) error {
	return write(c, showItem, func(ctx context.Context, req ledger.Request, b proposeBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.ProposeItem(ctx, req, roadmap.ProposeItem{
			Title: b.Title, Description: b.Description, Kind: roadmap.Kind(b.Kind),
			ParentID: b.ParentID, Product: b.Product, ObjectiveIDs: b.ObjectiveIDs,
			Effort: b.Effort, DependsOn: b.DependsOn, Risks: b.Risks,
		})
	})
}

func (s *Server) getItem(c echo.Context) error {
	v, err := known(c, "item", s.cfg.Views.ItemView)
	if err != nil {
		return err
	}
	return answerAt(c, v.Version, itemWithFlags(v, s.cfg.Views.ItemFlags(c.Param("id"))))
}

func (s *Server) editItem(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b editItemBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.EditItem(ctx, req, id, roadmap.EditItem{
			Title: b.Title, Description: b.Description, Kind: b.Kind, ParentID: b.ParentID.ptr(), Product: b.Product,
			ObjectiveIDs: b.ObjectiveIDs, Effort: b.Effort, DependsOn: b.DependsOn, Risks: b.Risks,
			Rationale: b.Rationale, Evidence: b.Evidence,
		})
	})
}

func (s *Server) prioritise(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b placementBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Prioritise(ctx, req, id, b.prioritise())
	})
}

func (s *Server) reprioritise(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b placementBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Reprioritise(ctx, req, id, roadmap.Reprioritise(b.prioritise()))
	})
}

func (s *Server) remove(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Remove(ctx, req, id, roadmap.Remove{Rationale: b.Rationale, Evidence: b.Evidence})
	})
}

// get answers the aggregate the :id of the path names, as show shows it,
// with its version as ETag; a 404 naming its kind when there is none.
func get[V any](c echo.Context, kind string, lookup func(id string) (V, bool), show func(V) shown) error {
	v, err := known(c, kind, lookup)
	if err != nil {
		return err
	}
	out := show(v)
	return answerAt(c, out.version, out.body)
}

// known looks up the aggregate the :id of the path names, before the body
// is read, and answers 404 naming its kind when there is none.
func known[V any](c echo.Context, kind string, lookup func(id string) (V, bool)) (V, error) {
	id := c.Param("id")
	v, ok := lookup(id)
	if !ok {
		return v, problem(roadmap.ErrNotFound, fmt.Sprintf("no %s %q", kind, clip(id)))
	}
	return v, nil
}

// knownItem returns the :id of the path when it names an item, and a 404
// otherwise.
func (s *Server) knownItem(c echo.Context) (string, error) {
	_, err := known(c, "item", s.cfg.Views.ItemView)
	return c.Param("id"), err
}

func (s *Server) knownObjective(c echo.Context) (string, error) {
	_, err := known(c, "objective", s.cfg.Views.ObjectiveView)
	return c.Param("id"), err
}
