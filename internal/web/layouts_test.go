package web

import (
	"errors"
	"slices"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TestAViewMadeFromALayoutIsDrawnInIt checks that the form's reading of
// each layout (specOf) makes a view that layoutOf draws in that layout,
// whatever fields were chosen, and refuses what a layout cannot draw.
func TestAViewMadeFromALayoutIsDrawnInIt(t *testing.T) {
	for _, tc := range []struct {
		name           string
		layout         Layout
		product, kind  string
		fields         []string
		wantFields     []string
		wantKinds      []roadmap.Kind
		wantProduct    string
		wantInvalidFor string
	}{
		{name: "a theme view shows titles and objectives, of initiatives", layout: LayoutTheme, wantFields: []string{"title", "objectives"}, wantKinds: []roadmap.Kind{roadmap.KindInitiative}},
		{name: "a theme view drops the horizon and adds the objectives", layout: LayoutTheme, fields: []string{"horizon", "title"}, wantFields: []string{"title", "objectives"}, wantKinds: []roadmap.Kind{roadmap.KindInitiative}},
		{name: "a release view shows one product with its plan", layout: LayoutRelease, product: "shop", wantFields: []string{"title", "horizon", "rank", "effort", "depends_on", "risks"}, wantProduct: "shop"},
		{name: "a release view with the fields chosen adds the horizon", layout: LayoutRelease, product: "shop", fields: []string{"rationale", "title"}, wantFields: []string{"title", "horizon", "rationale"}, wantProduct: "shop"},
		{name: "a release view needs a product", layout: LayoutRelease, wantInvalidFor: "product"},
		{name: "a technology view filters on a kind", layout: LayoutTechnology, kind: "idea", fields: []string{"objectives"}, wantFields: []string{"horizon", "objectives"}, wantKinds: []roadmap.Kind{roadmap.KindIdea}},
		{name: "a technology view needs a kind", layout: LayoutTechnology, wantInvalidFor: "kind"},
		{name: "a portfolio shows every product", layout: LayoutPortfolio, product: "shop", wantFields: []string{"title", "horizon"}},
		{name: "an unknown layout is refused", layout: "gantt", wantInvalidFor: "layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := specOf(tc.layout, "V", "v", tc.product, tc.kind, tc.fields)
			if tc.wantInvalidFor != "" {
				var ve *roadmap.ValidationError
				if !errors.As(err, &ve) || ve.Fields[0].Field != tc.wantInvalidFor {
					t.Fatalf("got %v, want %s invalid", err, tc.wantInvalidFor)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cmd.Fields, tc.wantFields) || !slices.Equal(cmd.Kinds, tc.wantKinds) || cmd.Product != tc.wantProduct || cmd.Audience != roadmap.AudienceInternal {
				t.Errorf("got fields %q, kinds %q, product %q, audience %s; want %q, %q, %q, internal", cmd.Fields, cmd.Kinds, cmd.Product, cmd.Audience, tc.wantFields, tc.wantKinds, tc.wantProduct)
			}
			if got := layoutOf(roadmap.ViewSpec(cmd)); got != tc.layout {
				t.Errorf("the view is drawn as %s, want %s", got, tc.layout)
			}
		})
	}
}
