package roadmap

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on free text, in characters. They keep one event well inside a
// JetStream message and a review readable.
const (
	maxTitle       = 200
	maxDescription = 10000
	maxRationale   = 5000
	maxEvidence    = 50
	maxEvidenceLen = 2000
	maxObjectives  = 50
	maxEffort      = 100000
	maxRisks       = 20
)

// DefaultProduct is the product of an item or objective that names none.
const DefaultProduct = "default"

var (
	productPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	uuidPattern    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ValidID reports whether id has the form of an aggregate id (a lower-case
// UUID).
func ValidID(id string) bool { return uuidPattern.MatchString(id) }

func clean(s string) string { return strings.TrimSpace(s) }

func requiredText(p *problems, field, s string, max int) {
	if strings.TrimSpace(s) == "" {
		p.add(field, "is required and must not be blank")
		return
	}
	optionalText(p, field, s, max)
}

func optionalText(p *problems, field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		p.add(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		p.add(field, "must be at most %d characters", max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		p.add(field, "must not contain control characters")
	case strings.ContainsFunc(s, hidden):
		r := []rune(s)[slices.IndexFunc([]rune(s), hidden)]
		p.add(field, "must not contain bidirectional overrides or invisible characters (U+%04X), which show text in another order than it is stored", r)
	}
}

// hidden reports whether r is one of the characters that make text read
// otherwise than it is stored (the "Trojan Source" set): the
// bidirectional embeddings, overrides and isolates, and the zero-width
// spaces. The joiners (U+200C, U+200D) and the direction marks
// (U+200E, U+200F, U+061C), which scripts and emoji need, are allowed.
func hidden(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200B, r == 0x2060, r == 0xFEFF, r == 0x180E:
		return true
	}
	return false
}

func productOrDefault(p *problems, product string) string {
	if product == "" {
		return DefaultProduct
	}
	if !productPattern.MatchString(product) {
		p.add("product", "must be a slug: lower-case letters, digits and dashes, 1 to 63 characters, starting with a letter or digit")
	}
	return product
}

// checkRationale checks the rationale and evidence a decision gives for
// itself and returns them cleaned, or a *ValidationError naming every bad
// one.
func checkRationale(rationale string, evidence []string) (string, []string, error) {
	var p problems
	requiredText(&p, "rationale", rationale, maxRationale)
	evidence = checkEvidence(&p, evidence)
	if err := p.err(); err != nil {
		return "", nil, err
	}
	return clean(rationale), evidence, nil
}

func checkEvidence(p *problems, evidence []string) []string {
	if len(evidence) > maxEvidence {
		p.add("evidence", "must have at most %d entries", maxEvidence)
		return nil
	}
	out := make([]string, 0, len(evidence))
	for i, e := range evidence {
		field := "evidence[" + strconv.Itoa(i) + "]"
		requiredText(p, field, e, maxEvidenceLen)
		out = append(out, clean(e))
	}
	return out
}

// checkIDs checks a list of aggregate ids of one kind ("objective",
// "item"): well formed, none twice, not too many.
func checkIDs(p *problems, field, kind string, ids []string) {
	if len(ids) > maxObjectives {
		p.add(field, "must have at most %d entries", maxObjectives)
		return
	}
	seen := map[string]bool{}
	for i, id := range ids {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case !ValidID(id):
			p.add(f, "must be an %s id (a lower-case UUID)", kind)
		case seen[id]:
			p.add(f, "is listed twice")
		}
		seen[id] = true
	}
}

func checkEffort(p *problems, effort *int) {
	if effort != nil && (*effort < 0 || *effort > maxEffort) {
		p.add("effort", "must be effort points from 0 to %d", maxEffort)
	}
}

func checkRisks(p *problems, risks []string) []string {
	if len(risks) > maxRisks {
		p.add("risks", "must have at most %d entries", maxRisks)
		return nil
	}
	var out []string
	for i, r := range risks {
		requiredText(p, "risks["+strconv.Itoa(i)+"]", r, maxTitle)
		out = append(out, clean(r))
	}
	return out
}
