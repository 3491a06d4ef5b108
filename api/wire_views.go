package api

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/attest"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Request bodies of views and of the public roadmap.
type (
	// viewBody makes a view; product left out means every product.
	viewBody struct {
		Name         string            `json:"name"`
		Slug         string            `json:"slug"`
		Audience     roadmap.Audience  `json:"audience"`
		Product      string            `json:"product"`
		ObjectiveIDs []string          `json:"objective_ids"`
		Kinds        []roadmap.Kind    `json:"kinds"`
		Horizons     []roadmap.Horizon `json:"horizons"`
		Fields       []string          `json:"fields"`
	}
	// viewPatchBody changes a view: the fields given change, those left
	// out (or null) keep their value; product "" means every product.
	viewPatchBody struct {
		Name         *string            `json:"name"`
		Audience     *roadmap.Audience  `json:"audience"`
		Product      *string            `json:"product"`
		ObjectiveIDs *[]string          `json:"objective_ids"`
		Kinds        *[]roadmap.Kind    `json:"kinds"`
		Horizons     *[]roadmap.Horizon `json:"horizons"`
		Fields       *[]string          `json:"fields"`
	}
	publishBody struct {
		Summary   string   `json:"summary"`
		Rationale string   `json:"rationale"`
		Evidence  []string `json:"evidence"`
	}
)

// viewJSON is a view as the API answers it.
type viewJSON struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Slug         string            `json:"slug"`
	Audience     roadmap.Audience  `json:"audience"`
	Product      *string           `json:"product"`
	ObjectiveIDs []string          `json:"objective_ids"`
	Kinds        []roadmap.Kind    `json:"kinds"`
	Horizons     []roadmap.Horizon `json:"horizons"`
	Fields       []string          `json:"fields"`
	// PublicURL is where anyone reads a public view; null for an internal
	// one.
	PublicURL *string `json:"public_url"`
	Deleted   bool    `json:"deleted"`
	Version   uint64  `json:"version"`
}

func viewWire(v projections.SavedView) viewJSON {
	out := viewJSON{
		ID: v.ID, Name: v.Name, Slug: v.Slug, Audience: v.Audience,
		ObjectiveIDs: projections.NonNil(v.ObjectiveIDs), Kinds: nonNilList(v.Kinds), Horizons: nonNilList(v.Horizons),
		Fields: projections.NonNil(v.Fields), Deleted: v.Deleted, Version: v.Version,
	}
	if v.Product != "" {
		p := v.Product
		out.Product = &p
	}
	if v.Audience == roadmap.AudiencePublic {
		u := "/public/" + v.Slug
		out.PublicURL = &u
	}
	return out
}

func nonNilList[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

func showView(v projections.SavedView) shown {
	return shown{viewWire(v), v.Version, "/v1/views/" + v.Slug, false}
}

// publicationJSON is what the public roadmap says of an item, in the
// item's answer only once it is published.
type publicationJSON struct {
	Summary string `json:"summary"`
	// Sequence is the event that published it.
	Sequence uint64 `json:"sequence"`
}

func publicationWire(v projections.ItemView) *publicationJSON {
	if v.Public == nil || v.Published == nil {
		return nil
	}
	return &publicationJSON{Summary: v.Public.Summary, Sequence: v.Published.Sequence}
}

// The public roadmap: what anyone reads without a token. These types hold
// only what a public view may show; nothing else of an item can reach the
// page.
type (
	publicRoadmapJSON struct {
		Name string `json:"name"`
		Slug string `json:"slug"`
		// Sequence is the ledger position the view shows.
		Sequence uint64 `json:"sequence"`
		// Checkpoint is the latest signed checkpoint, null before the
		// first.
		Checkpoint *publicCheckpointJSON `json:"checkpoint"`
		Entries    []publicEntryJSON     `json:"entries"`
		// Statement is the note the ledger signs over what the page
		// shows (proof.PublicText), with the checkpoints' key; null
		// without a checkpoint.
		Statement *string `json:"statement"`
	}
	publicCheckpointJSON struct {
		Size int64  `json:"size"`
		Root string `json:"root"`
		Note string `json:"note"`
	}
	publicEntryJSON struct {
		Summary    string   `json:"summary,omitempty"`
		Horizon    string   `json:"horizon,omitempty"`
		Objectives []string `json:"objectives,omitempty"`
		// Sequence is the event that published the entry; LeafHash the
		// hash of its stored body.
		Sequence uint64 `json:"sequence"`
		LeafHash string `json:"leaf_hash"`
		// Proof is where the proof of that event in the checkpoint is
		// read; null while the checkpoint does not cover it.
		Proof *string `json:"proof"`
	}
)

func publicWire(v attest.PublicView, statement *string) publicRoadmapJSON {
	out := publicRoadmapJSON{Name: v.View.Name, Slug: v.View.Slug, Sequence: v.Sequence, Entries: []publicEntryJSON{}, Statement: statement}
	if cp := v.Checkpoint; cp != nil {
		out.Checkpoint = &publicCheckpointJSON{Size: cp.Size, Root: cp.Root, Note: cp.Note}
	}
	for _, e := range v.Entries {
		pe := publicEntryJSON{Sequence: e.Published.Sequence, LeafHash: e.Leaf.String()}
		pe.Summary, pe.Horizon, pe.Objectives = e.Shown(v.View.ViewSpec)
		if e.Proven {
			p := publicProofPath(v.View.Slug, e.Published.Sequence, v.Checkpoint.Size)
			pe.Proof = &p
		}
		out.Entries = append(out.Entries, pe)
	}
	return out
}

// shareViewBody makes a read-only link to a view; expires_in is required.
type shareViewBody struct {
	Name      string `json:"name"`
	ExpiresIn *int64 `json:"expires_in"`
}

// linkJSON is a read-only link to a view: a viewer token bound to it.
type linkJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	View      string     `json:"view"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// LastUsedAt is when this server last let a request through with the
	// link, since it started; null if not since.
	LastUsedAt *time.Time `json:"last_used_at"`
	// URL is what the link opens, with its secret as the bearer token.
	URL     string `json:"url"`
	Version uint64 `json:"version"`
	// Secret is only in the answer to the creation, once.
	Secret string `json:"secret,omitempty"`
}

func linkWire(slug string, l web.Link, secret string) linkJSON {
	t := l.Token
	return linkJSON{
		ID: t.ID, Name: t.Name, View: slug, Status: string(l.Status), CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt, LastUsedAt: l.LastUsedAt, URL: "/v1/views/" + slug + "/roadmap",
		Version: l.Version, Secret: secret,
	}
}

// viewRoadmapJSON is what a view shows: its entries, each with only the
// fields the view names (and its id).
type viewRoadmapJSON struct {
	Name     string          `json:"name"`
	Slug     string          `json:"slug"`
	Audience string          `json:"audience"`
	Sequence uint64          `json:"sequence"`
	Fields   []string        `json:"fields"`
	Entries  []viewEntryJSON `json:"entries"`
}

type viewEntryJSON struct {
	ID           string         `json:"id"`
	Title        *string        `json:"title,omitempty"`
	Summary      *string        `json:"summary,omitempty"`
	Description  *string        `json:"description,omitempty"`
	Kind         *string        `json:"kind,omitempty"`
	Status       *string        `json:"status,omitempty"`
	Horizon      *string        `json:"horizon,omitempty"`
	Rank         *int           `json:"rank,omitempty"`
	Objectives   *[]refJSON     `json:"objectives,omitempty"`
	Score        *roadmap.Score `json:"score,omitempty"`
	Rationale    *string        `json:"rationale,omitempty"`
	LastDecision *decisionJSON  `json:"last_decision,omitempty"`
	Effort       *int           `json:"effort,omitempty"`
	DependsOn    *[]string      `json:"depends_on,omitempty"`
	Risks        *[]string      `json:"risks,omitempty"`
}

func viewRoadmapWire(v projections.SavedView, seq uint64, entries []projections.ViewEntry) viewRoadmapJSON {
	out := viewRoadmapJSON{Name: v.Name, Slug: v.Slug, Audience: string(v.Audience), Sequence: seq, Fields: projections.NonNil(v.Fields), Entries: []viewEntryJSON{}}
	for _, e := range entries {
		out.Entries = append(out.Entries, viewEntryWire(v.ViewSpec, e))
	}
	return out
}

// viewEntryWire shows of e only what v shows: a field the view does not
// name is never written.
func viewEntryWire(v roadmap.ViewSpec, e projections.ViewEntry) viewEntryJSON {
	out := viewEntryJSON{ID: e.ID}
	text := func(s string) *string { return &s }
	for _, f := range v.Fields {
		switch f {
		case "title":
			out.Title = text(e.Title)
		case "summary":
			out.Summary = text(e.Summary)
		case "description":
			out.Description = text(e.Description)
		case "kind":
			out.Kind = text(string(e.Kind))
		case "status":
			out.Status = text(string(e.Status))
		case "horizon":
			out.Horizon = text(string(e.Horizon))
		case "rank":
			r := e.Rank
			out.Rank = &r
		case "objectives":
			refs := []refJSON{}
			for _, o := range e.Objectives {
				refs = append(refs, refJSON{ID: o.ID, Title: o.Title})
			}
			out.Objectives = &refs
		case "score":
			out.Score = e.Score
		case "rationale":
			if e.LastDecision != nil {
				out.Rationale = text(e.LastDecision.Rationale)
			}
		case "last_decision":
			out.LastDecision = (*decisionJSON)(e.LastDecision)
		case "effort":
			out.Effort = e.Effort
		case "depends_on":
			deps := projections.NonNil(e.DependsOn)
			out.DependsOn = &deps
		case "risks":
			risks := projections.NonNil(e.Risks)
			out.Risks = &risks
		}
	}
	return out
}
