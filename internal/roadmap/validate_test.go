package roadmap_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{name: "a lower-case UUID is an id", id: "0a000000-0000-4000-8000-00000000000a", want: true},
		{name: "an upper-case UUID is not", id: "0A000000-0000-4000-8000-00000000000A", want: false},
		{name: "a UUID without dashes is not", id: "0a000000000040008000000000000000a", want: false},
		{name: "a UUID in braces is not", id: "{0a000000-0000-4000-8000-00000000000a}", want: false},
		{name: "a UUID with a trailing newline is not", id: "0a000000-0000-4000-8000-00000000000a\n", want: false},
		{name: "a slug is not", id: "grow-activation", want: false},
		{name: "the empty string is not", id: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roadmap.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestHorizons(t *testing.T) {
	if got, want := roadmap.Horizons, []roadmap.Horizon{"now", "next", "later"}; !slices.Equal(got, want) {
		t.Errorf("Horizons = %v, want %v", got, want)
	}
	for _, h := range roadmap.Horizons {
		if !h.Valid() {
			t.Errorf("Valid(%q) = false, want true: it is listed in Horizons", h)
		}
	}
	// Not horizons: the empty one, a capitalised one, one with a space.
	for _, h := range []roadmap.Horizon{"", "Later", " now"} {
		if h.Valid() {
			t.Errorf("Valid(%q) = true, want false", h)
		}
	}
}

func TestProductSlug(t *testing.T) {
	tests := []struct {
		name    string
		product string
		want    string // the product recorded; "" when refused
	}{
		{name: "no product means the default product", product: "", want: "default"},
		{name: "a single letter is a slug", product: "a", want: "a"},
		{name: "letters, digits and dashes make a slug", product: "mobile-app-2", want: "mobile-app-2"},
		{name: "a slug may start with a digit", product: "2fa", want: "2fa"},
		{name: "63 characters are allowed", product: strings.Repeat("a", 63), want: strings.Repeat("a", 63)},
		{name: "64 characters are refused", product: strings.Repeat("a", 64)},
		{name: "a leading dash is refused", product: "-app"},
		{name: "capitals are refused", product: "App"},
		{name: "underscores are refused", product: "mobile_app"},
		{name: "spaces are refused", product: " app"},
		{name: "non-ASCII letters are refused", product: "café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := roadmap.DecideDefineObjective(roadmap.DefineObjective{Title: "t", KPI: "k", Target: "x", Product: tt.product})
			if tt.want == "" {
				invalid("product").check(t, err)
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if got.Product != tt.want {
				t.Errorf("product = %q, want %q", got.Product, tt.want)
			}
		})
	}
}

func TestTextLimits(t *testing.T) {
	define := func(title, description string) error {
		_, err := roadmap.DecideDefineObjective(roadmap.DefineObjective{Title: title, Description: description, KPI: "k", Target: "x"})
		return err
	}
	retire := func(rationale string) error {
		_, err := roadmap.DecideRetireObjective(roadmap.Objective{Status: roadmap.StatusActive}, roadmap.RetireObjective{Rationale: rationale})
		return err
	}
	remove := func(evidence ...string) error {
		_, err := roadmap.DecideRemove(roadmap.Item{Status: roadmap.StatusOnRoadmap}, roadmap.Remove{Rationale: "r", Evidence: evidence})
		return err
	}
	propose := func(refs fakeRefs, ids []string) error {
		_, err := roadmap.DecideProposeItem(roadmap.ProposeItem{Title: "t", Kind: roadmap.KindIdea, ObjectiveIDs: ids}, refs)
		return err
	}
	refs50, ids50 := manyObjectives(50)
	refs51, ids51 := manyObjectives(51)
	notes := func(n int) []string { return slices.Repeat([]string{"note"}, n) }

	tests := []struct {
		name    string
		err     error
		wantErr wantError
	}{
		{name: "a title of 200 characters is accepted, counting characters not bytes", err: define(strings.Repeat("é", 200), "")},
		{name: "a title of 201 characters is refused", err: define(strings.Repeat("a", 201), ""), wantErr: invalid("title")},
		{name: "a description of 10000 characters is accepted", err: define("t", strings.Repeat("d", 10000))},
		{name: "a description of 10001 characters is refused", err: define("t", strings.Repeat("d", 10001)), wantErr: invalid("description")},
		{name: "tabs and line breaks are allowed", err: define("t", "line one\r\nline two\n\tindented")},
		{name: "a NUL character is refused", err: define("t\x00", ""), wantErr: invalid("title")},
		{name: "a DEL character is refused", err: define("t", "x\x7f"), wantErr: invalid("description")},
		{name: "a C1 control character is refused", err: define("t\u0085x", ""), wantErr: invalid("title")},
		{name: "invalid UTF-8 is refused", err: define("t\xff", ""), wantErr: invalid("title")},
		{name: "a right-to-left override is refused", err: define("admin\u202efdp.exe", ""), wantErr: invalid("title")},
		{name: "a bidirectional isolate is refused", err: retire("ok \u2067hidden\u2069"), wantErr: invalid("rationale")},
		{name: "a zero-width space is refused", err: remove("https://exa\u200bmple.com"), wantErr: invalid("evidence[0]")},
		{name: "a byte order mark inside text is refused", err: define("t", "x\ufeffy"), wantErr: invalid("description")},
		{name: "joiners and direction marks, which scripts and emoji need, are allowed", err: define("\U0001F468\u200d\U0001F469 \u0645\u06cc\u200cخواهم \u200fשלום", "")},
		{name: "a rationale of 5000 characters is accepted", err: retire(strings.Repeat("r", 5000))},
		{name: "a rationale of 5001 characters is refused", err: retire(strings.Repeat("r", 5001)), wantErr: invalid("rationale")},
		{name: "a rationale with a control character is refused", err: retire("because\x1b"), wantErr: invalid("rationale")},
		{name: "an evidence entry of 2000 characters is accepted", err: remove(strings.Repeat("e", 2000))},
		{name: "an evidence entry of 2001 characters is refused", err: remove("ok", strings.Repeat("e", 2001)), wantErr: invalid("evidence[1]")},
		{name: "fifty evidence entries are accepted", err: remove(notes(50)...)},
		{name: "fifty-one evidence entries are refused", err: remove(notes(51)...), wantErr: invalid("evidence")},
		{name: "fifty objectives are accepted", err: propose(refs50, ids50)},
		{name: "fifty-one objectives are refused", err: propose(refs51, ids51), wantErr: invalid("objective_ids")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.wantErr.check(t, tt.err)
		})
	}
}
