package api

import (
	"mime"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// negotiateFormat picks the media type of the answer to c from its Accept
// header among offers, the first of them the default (see preferredMedia),
// and marks the answer as varying with Accept. When Accept allows none of
// the offers it returns an error of kind ErrNotAcceptable that names what
// is answered and the offers.
func negotiateFormat(c echo.Context, what string, offers ...string) (string, error) {
	media, ok := preferredMedia(c.Request().Header.Get(echo.HeaderAccept), offers)
	if !ok {
		return "", problem(ErrNotAcceptable, what+" is given as "+offerList(offers)+"; Accept allows none of them")
	}
	c.Response().Header().Add("Vary", "Accept")
	return media, nil
}

// offerList reads offers as a client does: "a (the default), b or c".
func offerList(offers []string) string {
	list := offers[0] + " (the default)"
	if n := len(offers); n > 1 {
		list = strings.Join(append([]string{list}, offers[1:n-1]...), ", ") + " or " + offers[n-1]
	}
	return list
}

// mediaRange is one entry of an Accept header: a media type, type/* or
// */*, with its weight.
type mediaRange struct {
	media string
	q     float64
}

// acceptRanges reads an Accept header's entries. An entry that is not a
// media type is left out; a weight that is not a number from 0 to 1 is 0.
func acceptRanges(accept string) []mediaRange {
	var out []mediaRange
	for part := range strings.SplitSeq(accept, ",") {
		media, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 {
				q = 0
			}
		}
		out = append(out, mediaRange{media, q})
	}
	return out
}

// weight returns the weight ranges give offer: that of the most specific
// entry matching it (the type itself, then its type/*, then */*; of two
// alike, the first), and whether that entry names the type itself. No
// entry matching is a weight of 0.
func weight(ranges []mediaRange, offer string) (q float64, exact bool) {
	most := -1
	for _, r := range ranges {
		if spec := specificity(r.media, offer); spec > most {
			q, exact, most = r.q, spec == 2, spec
		}
	}
	return q, exact
}

// specificity says how closely an Accept entry's media names offer: 2 for
// the type itself, 1 for its type/*, 0 for */* and -1 for not at all.
func specificity(media, offer string) int {
	kind, _, _ := strings.Cut(offer, "/")
	switch media {
	case offer:
		return 2
	case kind + "/*":
		return 1
	case "*/*":
		return 0
	}
	return -1
}

// preferredMedia picks the media type of an answer from Accept among
// offers: the first offer when there is no Accept; otherwise the offer
// Accept weighs most, an exact type winning over a wildcard of the same
// weight, and of two alike the earlier offer. It returns false when Accept
// takes none of them.
func preferredMedia(accept string, offers []string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return offers[0], true
	}
	ranges := acceptRanges(accept)
	best, bestQ, bestExact := offers[0], 0.0, false
	for _, offer := range offers {
		q, exact := weight(ranges, offer)
		if q > bestQ || (q == bestQ && q > 0 && exact && !bestExact) {
			best, bestQ, bestExact = offer, q, exact
		}
	}
	return best, bestQ > 0
}
