package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// routeCase builds a request to one route that succeeds for a role allowed
// to use it: fresh aggregates where the request changes one. It returns the
// path (with its query), the body and the success status.
type routeCase func(l *testLedger) (path string, body any, status int)

// matrixFixture holds what several route cases read.
type matrixFixture struct {
	objective, item, review, otherReview string
	checkpointSize                       int64
	imports                              int
	views                                int
	clock                                *fakeClock
}

// period returns a month no review has: the ledger's clock moves on a
// month, and a review may be opened for the month it reads.
func (f *matrixFixture) period() string {
	f.clock.Advance(31 * 24 * time.Hour)
	return f.clock.Now().UTC().Format("2006-01")
}

// view returns the slug of a fresh internal view.
func (f *matrixFixture) view(l *testLedger) string {
	f.views++
	slug := fmt.Sprintf("matrix-view-%d", f.views)
	l.must(201, "POST", "/v1/views", map[string]any{"name": "V", "slug": slug, "audience": "internal", "fields": []string{"title"}})
	return slug
}

// publishedItem returns a fresh item in next, published: proposed by chair
// and approved by the bootstrap admin.
func publishedItem(l *testLedger) string {
	id := onNext(l)
	change := l.must(202, "POST", "/v1/items/"+id+"/publish", map[string]any{"summary": "s", "rationale": "m"}, as, "chair")["id"].(string)
	l.must(200, "POST", "/v1/changes/"+change+"/approve", map[string]any{"rationale": "ok"})
	return id
}

// onNext returns a fresh item prioritised into next.
func onNext(l *testLedger) string {
	id := l.item("matrix item")
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "next", "rationale": "fixture"})
	return id
}

// pendingChange returns a fresh change into now, proposed by chair.
func pendingChange(l *testLedger) string {
	id := l.item("matrix change")
	return l.must(202, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "major"}, as, "chair")["id"].(string)
}

func routeCases(l *testLedger, clock *fakeClock) map[string]routeCase {
	f := &matrixFixture{objective: l.objective("Matrix"), item: onNext(l), clock: clock}
	f.review = l.must(201, "POST", "/v1/reviews", map[string]any{"period": f.period()})["id"].(string)
	f.otherReview = l.must(201, "POST", "/v1/reviews", map[string]any{"period": f.period()})["id"].(string)
	f.checkpointSize = int64(l.must(201, "POST", "/v1/checkpoints", nil)["size"].(float64))
	rationale := map[string]any{"rationale": "matrix"}
	fixed := func(path string, body any, status int) routeCase {
		return func(*testLedger) (string, any, int) { return path, body, status }
	}
	return map[string]routeCase{
		"POST /v1/objectives":            fixed("/v1/objectives", map[string]any{"title": "T", "kpi": "k", "target": "t"}, 201),
		"GET /v1/objectives":             fixed("/v1/objectives?status=active", nil, 200),
		"GET /v1/objectives/:id":         fixed("/v1/objectives/"+f.objective, nil, 200),
		"GET /v1/objectives/:id/history": fixed("/v1/objectives/"+f.objective+"/history", nil, 200),
		"POST /v1/objectives/:id/retire": func(l *testLedger) (string, any, int) {
			return "/v1/objectives/" + l.objective("to retire") + "/retire", rationale, 200
		},
		"GET /v1/items": fixed("/v1/items?limit=2", nil, 200),
		"PATCH /v1/objectives/:id": func(l *testLedger) (string, any, int) {
			return "/v1/objectives/" + l.objective("to edit"), map[string]any{"title": "edited"}, 200
		},
		"POST /v1/items": fixed("/v1/items", map[string]any{"title": "T", "kind": "idea"}, 201),
		"PATCH /v1/items/:id": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + l.item("to edit"), map[string]any{"title": "edited"}, 200
		},
		"POST /v1/imports": func(*testLedger) (string, any, int) {
			f.imports++
			return "/v1/imports", csvBody(fmt.Sprintf("title\nImported in the matrix %d\n", f.imports)), 201
		},
		"GET /v1/items/:id":         fixed("/v1/items/"+f.item, nil, 200),
		"GET /v1/items/:id/history": fixed("/v1/items/"+f.item+"/history", nil, 200),
		"GET /v1/items/:id/why":     fixed("/v1/items/"+f.item+"/why", nil, 200),
		"POST /v1/items/:id/prioritise": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + l.item("to prioritise") + "/prioritise", map[string]any{"horizon": "later", "rationale": "m"}, 200
		},
		"POST /v1/items/:id/reprioritise": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + onNext(l) + "/reprioritise", map[string]any{"horizon": "later", "rationale": "m"}, 200
		},
		"POST /v1/items/:id/remove": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + onNext(l) + "/remove", rationale, 200
		},
		"POST /v1/items/:id/deliver": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + onNext(l) + "/deliver", rationale, 200
		},
		"GET /v1/changes":     fixed("/v1/changes?status=pending", nil, 200),
		"GET /v1/changes/:id": fixed("/v1/changes/"+pendingChange(l), nil, 200),
		"POST /v1/changes/:id/approve": func(l *testLedger) (string, any, int) {
			return "/v1/changes/" + pendingChange(l) + "/approve", rationale, 200
		},
		"POST /v1/changes/:id/reject": func(l *testLedger) (string, any, int) {
			return "/v1/changes/" + pendingChange(l) + "/reject", rationale, 200
		},
		"GET /v1/products/:product/capacity": fixed("/v1/products/web/capacity", nil, 200),
		"PUT /v1/products/:product/capacity": fixed("/v1/products/web/capacity", map[string]any{"now": 10}, 200),
		"GET /v1/roadmap":                    fixed("/v1/roadmap", nil, 200),
		"GET /v1/audit":                      fixed("/v1/audit", nil, 200),
		"POST /v1/reviews": func(*testLedger) (string, any, int) {
			return "/v1/reviews", map[string]any{"period": f.period()}, 201
		},
		"GET /v1/reviews":     fixed("/v1/reviews", nil, 200),
		"GET /v1/reviews/:id": fixed("/v1/reviews/"+f.review, nil, 200),
		"POST /v1/reviews/:id/close": func(l *testLedger) (string, any, int) {
			id := l.must(201, "POST", "/v1/reviews", map[string]any{"period": f.period()})["id"].(string)
			return "/v1/reviews/" + id + "/close", map[string]any{}, 200
		},
		"POST /v1/reviews/:id/cancel": func(l *testLedger) (string, any, int) {
			id := l.must(201, "POST", "/v1/reviews", map[string]any{"period": f.period()})["id"].(string)
			return "/v1/reviews/" + id + "/cancel", rationale, 200
		},
		"GET /v1/reviews/:id/pack": fixed("/v1/reviews/"+f.review+"/pack", nil, 200),
		"GET /v1/reviews/:id/diff": fixed("/v1/reviews/"+f.review+"/diff?against="+f.otherReview, nil, 200),
		"GET /v1/events":           fixed("/v1/events", nil, 200),
		// The stream never ends by itself: a role it allows gets past the
		// role check to the query's 400.
		"GET /v1/events/stream":           fixed("/v1/events/stream?types=not-a-type", nil, 400),
		"GET /v1/events/:seq/proof":       fixed(fmt.Sprintf("/v1/events/1/proof?checkpoint=%d", f.checkpointSize), nil, 200),
		"POST /v1/checkpoints":            fixed("/v1/checkpoints", nil, 201),
		"GET /v1/checkpoints":             fixed("/v1/checkpoints", nil, 200),
		"GET /v1/checkpoints/latest":      fixed("/v1/checkpoints/latest", nil, 200),
		"GET /v1/checkpoints/public-key":  fixed("/v1/checkpoints/public-key", nil, 200),
		"GET /v1/checkpoints/consistency": fixed(fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", f.checkpointSize, f.checkpointSize), nil, 200),
		"GET /v1/checkpoints/:id":         fixed("/v1/checkpoints/"+l.must(200, "GET", "/v1/checkpoints/latest", nil)["id"].(string), nil, 200),
		"GET /v1/export/manifest":         fixed("/v1/export/manifest", nil, 200),
		"POST /v1/tokens":                 fixed("/v1/tokens", map[string]any{"name": "made in the matrix", "role": "viewer"}, 201),
		"GET /v1/tokens":                  fixed("/v1/tokens", nil, 200),
		"GET /v1/tokens/:id":              fixed("/v1/tokens/"+first(newToken(l, "to read", "viewer")), nil, 200),
		"POST /v1/webhooks":               fixed("/v1/webhooks", map[string]any{"url": "https://hooks.example.com/matrix"}, 201),
		"GET /v1/webhooks":                fixed("/v1/webhooks", nil, 200),
		"GET /v1/webhooks/:id":            fixed("/v1/webhooks/"+newWebhook(l), nil, 200),
		"GET /v1/webhooks/:id/deliveries": fixed("/v1/webhooks/"+newWebhook(l)+"/deliveries", nil, 200),
		"DELETE /v1/webhooks/:id": func(l *testLedger) (string, any, int) {
			return "/v1/webhooks/" + newWebhook(l), nil, 200
		},
		"POST /v1/webhooks/:id/rotate-secret": func(l *testLedger) (string, any, int) {
			return "/v1/webhooks/" + newWebhook(l) + "/rotate-secret", nil, 200
		},
		// A webhook that is not failing cannot be resumed: a role allowed
		// gets past the role check to the 409.
		"POST /v1/webhooks/:id/resume": fixed("/v1/webhooks/"+newWebhook(l)+"/resume", nil, 409),
		"DELETE /v1/tokens/:id": func(l *testLedger) (string, any, int) {
			id, _ := newToken(l, "to revoke", "viewer")
			return "/v1/tokens/" + id, nil, 200
		},

		// Views, the public roadmap, read-only links and outcomes.
		"POST /v1/items/:id/publish": func(l *testLedger) (string, any, int) {
			// A new public statement is a major change under the matrix's policy.
			return "/v1/items/" + onNext(l) + "/publish", map[string]any{"summary": "s", "rationale": "m"}, 202
		},
		"POST /v1/items/:id/unpublish": func(l *testLedger) (string, any, int) {
			return "/v1/items/" + publishedItem(l) + "/unpublish", rationale, 200
		},
		"POST /v1/views": func(*testLedger) (string, any, int) {
			f.views++
			return "/v1/views", map[string]any{"name": "V", "slug": fmt.Sprintf("matrix-%d", f.views), "audience": "internal", "fields": []string{"title"}}, 201
		},
		"GET /v1/views":       fixed("/v1/views", nil, 200),
		"GET /v1/views/:slug": fixed("/v1/views/"+f.view(l), nil, 200),
		"PATCH /v1/views/:slug": func(l *testLedger) (string, any, int) {
			return "/v1/views/" + f.view(l), map[string]any{"name": "renamed"}, 200
		},
		"DELETE /v1/views/:slug": func(l *testLedger) (string, any, int) {
			return "/v1/views/" + f.view(l), nil, 200
		},
		"GET /v1/views/:slug/roadmap": fixed("/v1/views/"+f.view(l)+"/roadmap", nil, 200),
		"POST /v1/views/:slug/links": func(l *testLedger) (string, any, int) {
			return "/v1/views/" + f.view(l) + "/links", map[string]any{"expires_in": 3600}, 201
		},
		"GET /v1/views/:slug/links": func(l *testLedger) (string, any, int) {
			slug := f.view(l)
			l.must(201, "POST", "/v1/views/"+slug+"/links", map[string]any{"expires_in": 3600})
			return "/v1/views/" + slug + "/links", nil, 200
		},
		"DELETE /v1/views/:slug/links/:id": func(l *testLedger) (string, any, int) {
			slug := f.view(l)
			id := l.must(201, "POST", "/v1/views/"+slug+"/links", map[string]any{"expires_in": 3600})["id"].(string)
			return "/v1/views/" + slug + "/links/" + id, nil, 200
		},
		"POST /v1/objectives/:id/measurements": fixed("/v1/objectives/"+f.objective+"/measurements", map[string]any{"value": 1.5, "at": "2026-01-01T00:00:00Z", "source": "matrix"}, 201),
		"GET /v1/objectives/:id/measurements":  fixed("/v1/objectives/"+f.objective+"/measurements", nil, 200),
		"GET /v1/metrics/roadmap":              fixed("/v1/metrics/roadmap?interval=month", nil, 200),
		"GET /v1/reviews/:id/outcomes":         fixed("/v1/reviews/"+f.review+"/outcomes", nil, 200),
	}
}

// newWebhook subscribes a public URL and returns the subscription's id.
func newWebhook(l *testLedger) string {
	l.t.Helper()
	return l.must(201, "POST", "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/matrix", "types": []string{"review."}})["id"].(string)
}

// newToken makes a token and returns its id and secret.
func newToken(l *testLedger, name, role string) (id, secret string) {
	l.t.Helper()
	tok := l.must(201, "POST", "/v1/tokens", map[string]any{"name": name, "role": role})
	return tok["id"].(string), tok["secret"].(string)
}

func first[A, B any](a A, _ B) A { return a }

// designed is the permission each route needs, as the issue and the API's
// documentation give it: the matrix checks the server against this, not
// against its own table.
var designed = map[string]roadmap.Permission{
	"GET /v1/reviews/:id/pack":            roadmap.PermRead,
	"GET /v1/products/:product/capacity":  roadmap.PermRead,
	"PUT /v1/products/:product/capacity":  roadmap.PermAdmin,
	"POST /v1/objectives":                 roadmap.PermDecide,
	"GET /v1/objectives":                  roadmap.PermRead,
	"GET /v1/objectives/:id":              roadmap.PermRead,
	"GET /v1/objectives/:id/history":      roadmap.PermAudit,
	"PATCH /v1/objectives/:id":            roadmap.PermDecide,
	"POST /v1/objectives/:id/retire":      roadmap.PermDecide,
	"GET /v1/items":                       roadmap.PermRead,
	"POST /v1/items":                      roadmap.PermDecide,
	"POST /v1/imports":                    roadmap.PermDecide,
	"GET /v1/items/:id":                   roadmap.PermRead,
	"PATCH /v1/items/:id":                 roadmap.PermDecide,
	"GET /v1/items/:id/history":           roadmap.PermAudit,
	"GET /v1/items/:id/why":               roadmap.PermAudit,
	"POST /v1/items/:id/prioritise":       roadmap.PermDecide,
	"POST /v1/items/:id/reprioritise":     roadmap.PermDecide,
	"POST /v1/items/:id/remove":           roadmap.PermDecide,
	"POST /v1/items/:id/deliver":          roadmap.PermDecide,
	"GET /v1/changes":                     roadmap.PermRead,
	"GET /v1/changes/:id":                 roadmap.PermRead,
	"POST /v1/changes/:id/approve":        roadmap.PermApprove,
	"POST /v1/changes/:id/reject":         roadmap.PermApprove,
	"GET /v1/roadmap":                     roadmap.PermRead,
	"GET /v1/audit":                       roadmap.PermAudit,
	"POST /v1/reviews":                    roadmap.PermDecide,
	"GET /v1/reviews":                     roadmap.PermRead,
	"GET /v1/reviews/:id":                 roadmap.PermRead,
	"POST /v1/reviews/:id/close":          roadmap.PermApprove,
	"POST /v1/reviews/:id/cancel":         roadmap.PermAdmin,
	"GET /v1/reviews/:id/diff":            roadmap.PermRead,
	"GET /v1/events":                      roadmap.PermAudit,
	"GET /v1/events/:seq/proof":           roadmap.PermAudit,
	"GET /v1/events/stream":               roadmap.PermRead,
	"POST /v1/checkpoints":                roadmap.PermApprove,
	"GET /v1/checkpoints":                 roadmap.PermAudit,
	"GET /v1/checkpoints/latest":          roadmap.PermAudit,
	"GET /v1/checkpoints/public-key":      roadmap.PermRead,
	"GET /v1/checkpoints/consistency":     roadmap.PermAudit,
	"GET /v1/checkpoints/:id":             roadmap.PermAudit,
	"GET /v1/export/manifest":             roadmap.PermAudit,
	"POST /v1/tokens":                     roadmap.PermAdmin,
	"GET /v1/tokens":                      roadmap.PermAdmin,
	"GET /v1/tokens/:id":                  roadmap.PermAdmin,
	"DELETE /v1/tokens/:id":               roadmap.PermAdmin,
	"POST /v1/webhooks":                   roadmap.PermAdmin,
	"GET /v1/webhooks":                    roadmap.PermAdmin,
	"GET /v1/webhooks/:id":                roadmap.PermAdmin,
	"DELETE /v1/webhooks/:id":             roadmap.PermAdmin,
	"POST /v1/webhooks/:id/rotate-secret": roadmap.PermAdmin,
	"POST /v1/webhooks/:id/resume":        roadmap.PermAdmin,
	"GET /v1/webhooks/:id/deliveries":     roadmap.PermAdmin,

	// Views, the public roadmap, read-only links and outcomes.
	"POST /v1/items/:id/publish":           roadmap.PermDecide,
	"POST /v1/items/:id/unpublish":         roadmap.PermDecide,
	"POST /v1/views":                       roadmap.PermDecide,
	"GET /v1/views":                        roadmap.PermRead,
	"GET /v1/views/:slug":                  roadmap.PermRead,
	"PATCH /v1/views/:slug":                roadmap.PermDecide,
	"DELETE /v1/views/:slug":               roadmap.PermDecide,
	"GET /v1/views/:slug/roadmap":          roadmap.PermRead,
	"POST /v1/views/:slug/links":           roadmap.PermDecide,
	"GET /v1/views/:slug/links":            roadmap.PermDecide,
	"DELETE /v1/views/:slug/links/:id":     roadmap.PermDecide,
	"POST /v1/objectives/:id/measurements": roadmap.PermDecide,
	"GET /v1/objectives/:id/measurements":  roadmap.PermRead,
	"GET /v1/metrics/roadmap":              roadmap.PermRead,
	"GET /v1/reviews/:id/outcomes":         roadmap.PermRead,
}

// TestEveryRoleOnEveryRoute walks the whole matrix: every /v1 route with no
// token, an unknown one, a revoked one, and one of each role. A role the
// route allows gets the route's success status, one it does not allow 403,
// and the others 401; a refused request appends nothing.
func TestEveryRoleOnEveryRoute(t *testing.T) {
	clock := newFakeClock()
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor, Now: clock.Now})
	server := l.App.Handler.(*api.Server)
	cases := routeCases(l, clock)

	secrets := map[roadmap.Role]string{}
	for _, role := range roadmap.Roles {
		secrets[role] = l.token("matrix "+string(role), string(role))
	}
	revokedID, revoked := newToken(l, "matrix revoked", "admin")
	l.must(200, "DELETE", "/v1/tokens/"+revokedID, nil)

	routes := server.Permissions()
	if len(routes) != len(cases) {
		t.Errorf("the server has %d /v1 routes and the matrix %d cases", len(routes), len(cases))
	}
	for _, r := range routes {
		name := r.Method + " " + r.Path
		build, ok := cases[name]
		needs, designedToo := designed[name]
		if !ok || !designedToo {
			t.Errorf("%s: no case or no designed permission in the matrix; add them", name)
			continue
		}
		if r.Needs != needs {
			t.Errorf("%s: the server asks for %s, designed is %s", name, r.Needs, needs)
		}
		refused := func(who string, headers []string, status int) {
			t.Helper()
			path, body, _ := build(l)
			before := l.messages()
			res := l.do(r.Method, path, body, headers...)
			if res.Status != status {
				t.Errorf("%s as %s: status %d, want %d: %s", name, who, res.Status, status, res.Body)
				return
			}
			checkProblem(t, res, status)
			if status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s as %s: WWW-Authenticate %q, want a Bearer challenge", name, who, res.Header.Get("WWW-Authenticate"))
			}
			if after := l.messages(); after != before {
				t.Errorf("%s as %s: refused, yet the log grew from %d to %d events", name, who, before, after)
			}
		}
		refused("no token", []string{"Authorization", ""}, 401)
		refused("an unknown token", bearer("rlt_not-a-token-of-this-ledger"), 401)
		refused("a revoked token", bearer(revoked), 401)
		refused("a malformed header", []string{"Authorization", "Basic " + secrets[roadmap.RoleAdmin]}, 401)
		for _, role := range roadmap.Roles {
			if !role.Allows(needs) {
				refused(string(role), bearer(secrets[role]), 403)
				continue
			}
			path, body, status := build(l)
			res := l.do(r.Method, path, body, bearer(secrets[role])...)
			if res.Status != status {
				t.Errorf("%s as %s: status %d, want %d: %s", name, role, res.Status, status, res.Body)
			}
		}
	}
}

// TestRolesAreAsDocumented pins the role table of the API's documentation:
// a change to a role's permissions must change this test too.
func TestRolesAreAsDocumented(t *testing.T) {
	want := map[roadmap.Role]string{
		roadmap.RoleViewer:   "read",
		roadmap.RoleEditor:   "read decide",
		roadmap.RoleApprover: "read decide approve",
		roadmap.RoleAuditor:  "read audit",
		roadmap.RoleAdmin:    "read decide approve audit admin",
	}
	for role, perms := range want {
		var got []string
		for _, p := range []roadmap.Permission{roadmap.PermRead, roadmap.PermDecide, roadmap.PermApprove, roadmap.PermAudit, roadmap.PermAdmin} {
			if role.Allows(p) {
				got = append(got, string(p))
			}
		}
		if strings.Join(got, " ") != perms {
			t.Errorf("%s may %q, want %q", role, strings.Join(got, " "), perms)
		}
	}
}

// TestTheSpecStatesEachRoutesPermission checks the x-permission of every
// operation of api/openapi.yaml against the designed permissions.
func TestTheSpecStatesEachRoutesPermission(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		for method, op := range item.Operations() {
			name := method + " " + strings.NewReplacer("{id}", ":id", "{seq}", ":seq", "{product}", ":product", "{slug}", ":slug").Replace(path)
			seen++
			if got, want := op.Extensions["x-permission"], string(designed[name]); fmt.Sprint(got) != want {
				t.Errorf("%s: x-permission %v, designed %q", name, got, want)
			}
		}
	}
	if seen != len(designed) {
		t.Errorf("the spec has %d /v1 operations, the design %d", seen, len(designed))
	}
}
