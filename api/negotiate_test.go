package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestNegotiateFormatPicksTheMediaTypeAcceptPrefers(t *testing.T) {
	pack := []string{"text/markdown", "text/html"}
	audit := []string{"application/json", "application/x-ndjson", "text/csv"}
	for _, tc := range []struct {
		name   string
		accept string
		offers []string
		want   string // empty: not acceptable
	}{
		{"No Accept gives the first offer", "", audit, "application/json"},
		{"An Accept of spaces is no Accept", "  ", pack, "text/markdown"},
		{"Anything gives the first offer", "*/*", audit, "application/json"},
		{"A type wildcard gives its first offer", "text/*", pack, "text/markdown"},
		{"A type wildcard passes over offers of other types", "text/*", audit, "text/csv"},
		{"An application wildcard gives its first offer", "application/*", audit, "application/json"},
		{"An exact type is taken", "text/html", pack, "text/html"},
		{"Media types are matched in any case", "Text/HTML", pack, "text/html"},
		{"An exact type wins over anything of the same weight", "application/x-ndjson, */*", audit, "application/x-ndjson"},
		{"An exact type wins over its wildcard of the same weight", "text/*, text/html", pack, "text/html"},
		{"The higher weight wins", "text/markdown;q=0.5, text/html;q=0.9", pack, "text/html"},
		{"The higher weight wins over the earlier offer", "text/csv;q=0.5, application/json", audit, "application/json"},
		{"A weight below one still wins alone", "application/json, text/markdown;q=0.1", pack, "text/markdown"},
		{"A browser's Accept gets HTML", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", pack, "text/html"},
		{"A browser's Accept gets the default where there is no HTML", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", audit, "application/json"},
		{"The most specific entry sets an offer's weight", "application/json;q=0, */*", audit, "application/x-ndjson"},
		{"An exact entry counts over a heavier wildcard", "*/*;q=0.1, text/*;q=0.5, text/markdown;q=0.2", pack, "text/html"},
		{"Of two entries alike the first counts", "text/html;q=0.2, text/html;q=0.9, text/markdown;q=0.5", pack, "text/markdown"},
		{"Parameters other than the weight are ignored", "text/html;charset=utf-8;level=1", pack, "text/html"},
		{"Entries that are not media types are passed over", "not a media type, text/csv", audit, "text/csv"},
		{"A type that is offered by none is not acceptable", "text/html", audit, ""},
		{"Types offered by none are not acceptable", "image/png, text/plain", audit, ""},
		{"A weight of zero refuses", "text/html;q=0, text/markdown;q=0", pack, ""},
		{"A weight out of range refuses", "text/markdown;q=2, text/html;q=-1", pack, ""},
		{"A weight that is not a number refuses", "application/json;q=NaN", audit, ""},
		{"A header of no media type is not acceptable", "not a media type", audit, ""},
		{"A wildcard of another type is not acceptable", "image/*", pack, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set(echo.HeaderAccept, tc.accept)
			rec := httptest.NewRecorder()
			got, err := negotiateFormat(echo.New().NewContext(req, rec), "the answer", tc.offers...)
			vary := rec.Header().Values("Vary")
			if tc.want == "" {
				if !errors.Is(err, ErrNotAcceptable) || got != "" || vary != nil {
					t.Errorf("Accept %q: %q, %v, Vary %q; want not acceptable, no Vary", tc.accept, got, err, vary)
				}
				return
			}
			if err != nil || got != tc.want || !slices.Equal(vary, []string{"Accept"}) {
				t.Errorf("Accept %q: %q, %v, Vary %q; want %q, Vary Accept", tc.accept, got, err, vary, tc.want)
			}
		})
	}
}

func TestNotAcceptableNamesTheOffers(t *testing.T) {
	for _, tc := range []struct {
		offers []string
		want   string
	}{
		{[]string{"text/plain"}, "the answer is given as text/plain (the default); Accept allows none of them"},
		{[]string{"text/markdown", "text/html"}, "the answer is given as text/markdown (the default) or text/html; Accept allows none of them"},
		{[]string{"application/json", "application/x-ndjson", "text/csv"},
			"the answer is given as application/json (the default), application/x-ndjson or text/csv; Accept allows none of them"},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(echo.HeaderAccept, "image/png")
		_, err := negotiateFormat(echo.New().NewContext(req, httptest.NewRecorder()), "the answer", tc.offers...)
		if status, kind, _, _ := kindOf(err); status != http.StatusNotAcceptable || kind != "not-acceptable" || err.Error() != tc.want {
			t.Errorf("offers %q: %d %s %q, want 406 not-acceptable %q", tc.offers, status, kind, err, tc.want)
		}
	}
}
