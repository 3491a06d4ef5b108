package roadmap

import (
	"math"
	"slices"
)

// The prioritisation frameworks a score can come from.
const (
	FrameworkRICE        = "rice"
	FrameworkMoSCoW      = "moscow"
	FrameworkWSJF        = "wsjf"
	FrameworkValueEffort = "value_effort"
)

// ScoreVersion is the version of the scoring formulas. A score records the
// version it was computed with, so a past score can be reproduced exactly even
// after a formula changes.
const ScoreVersion = 1

// Score is the output of a prioritisation framework, stored with the
// framework, the formula version, every input and the computed value.
//
// Formulas (version 1):
//   - rice: reach × impact × confidence / effort; impact is one of 0.25, 0.5,
//     1, 2, 3; confidence is a fraction in (0, 1]; effort > 0 (person-months).
//   - moscow: must = 4, should = 3, could = 2, wont = 1.
//   - wsjf: (business_value + time_criticality + risk_reduction) / job_size,
//     every input an integer from 1 to 20.
//   - value_effort: (customer_value + business_value + risk) / effort, every
//     input an integer from 1 to 5 (the card of seed 003).
//
// Values are rounded to six decimals.
type Score struct {
	Framework string `json:"framework"`
	Version   int    `json:"version"`

	Reach      *float64 `json:"reach,omitempty"`
	Impact     *float64 `json:"impact,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`

	Category string `json:"category,omitempty"`

	BusinessValue   *float64 `json:"business_value,omitempty"`
	TimeCriticality *float64 `json:"time_criticality,omitempty"`
	RiskReduction   *float64 `json:"risk_reduction,omitempty"`
	JobSize         *float64 `json:"job_size,omitempty"`

	CustomerValue *float64 `json:"customer_value,omitempty"`
	Risk          *float64 `json:"risk,omitempty"`

	// Effort is RICE's effort (person-months) or the 1-5 effort of value_effort.
	Effort *float64 `json:"effort,omitempty"`

	Value float64 `json:"value"`
}

var riceImpacts = []float64{0.25, 0.5, 1, 2, 3}

var moscowValues = map[string]float64{"must": 4, "should": 3, "could": 2, "wont": 1}

// scoreInputs lists, per framework, the inputs it takes; any other input set
// on a score is refused, so a typo never passes silently.
var scoreInputs = map[string][]string{
	FrameworkRICE:        {"reach", "impact", "confidence", "effort"},
	FrameworkMoSCoW:      {"category"},
	FrameworkWSJF:        {"business_value", "time_criticality", "risk_reduction", "job_size"},
	FrameworkValueEffort: {"customer_value", "business_value", "effort", "risk"},
}

func (s Score) present() map[string]bool {
	set := map[string]bool{}
	for name, v := range map[string]*float64{
		"reach": s.Reach, "impact": s.Impact, "confidence": s.Confidence,
		"business_value": s.BusinessValue, "time_criticality": s.TimeCriticality,
		"risk_reduction": s.RiskReduction, "job_size": s.JobSize,
		"customer_value": s.CustomerValue, "risk": s.Risk, "effort": s.Effort,
	} {
		if v != nil {
			set[name] = true
		}
	}
	if s.Category != "" {
		set["category"] = true
	}
	return set
}

// Computed checks the score's inputs and returns it with its version and value
// set. It returns a *ValidationError (ErrInvalid) naming every input that is
// missing, foreign to the framework or out of range; field names are prefixed
// with prefix ("score").
func (s Score) Computed(prefix string) (Score, error) {
	var p problems
	inputs, ok := scoreInputs[s.Framework]
	if !ok {
		p.add(prefix+".framework", "must be one of rice, moscow, wsjf, value_effort")
		return s, p.err()
	}
	present := s.present()
	for _, name := range inputs {
		if !present[name] {
			p.add(prefix+"."+name, "is required for the %s framework", s.Framework)
		}
		delete(present, name)
	}
	for _, name := range sortedKeys(present) {
		p.add(prefix+"."+name, "is not an input of the %s framework", s.Framework)
	}
	if s.Version != 0 && s.Version != ScoreVersion {
		p.add(prefix+".version", "must be %d (or left out)", ScoreVersion)
	}

	// Check the range of every input that is present, even when another is
	// missing or foreign, so one answer names every bad field.
	switch s.Framework {
	case FrameworkRICE:
		between(&p, prefix+".reach", s.Reach, 0, 1e12, false)
		if s.Impact != nil && !slices.Contains(riceImpacts, *s.Impact) {
			p.add(prefix+".impact", "must be one of 0.25, 0.5, 1, 2, 3")
		}
		if s.Confidence != nil && !(*s.Confidence > 0 && *s.Confidence <= 1) {
			p.add(prefix+".confidence", "must be a fraction in (0, 1], for example 0.8 for 80%%")
		}
		if s.Effort != nil && !(*s.Effort > 0 && *s.Effort <= 1e6) {
			p.add(prefix+".effort", "must be greater than 0 (person-months) and at most 1000000")
		}
	case FrameworkMoSCoW:
		if _, ok := moscowValues[s.Category]; s.Category != "" && !ok {
			p.add(prefix+".category", "must be one of must, should, could, wont")
		}
	case FrameworkWSJF:
		between(&p, prefix+".business_value", s.BusinessValue, 1, 20, true)
		between(&p, prefix+".time_criticality", s.TimeCriticality, 1, 20, true)
		between(&p, prefix+".risk_reduction", s.RiskReduction, 1, 20, true)
		between(&p, prefix+".job_size", s.JobSize, 1, 20, true)
	case FrameworkValueEffort:
		between(&p, prefix+".customer_value", s.CustomerValue, 1, 5, true)
		between(&p, prefix+".business_value", s.BusinessValue, 1, 5, true)
		between(&p, prefix+".effort", s.Effort, 1, 5, true)
		between(&p, prefix+".risk", s.Risk, 1, 5, true)
	}
	if err := p.err(); err != nil {
		return s, err
	}

	var value float64
	switch s.Framework {
	case FrameworkRICE:
		value = *s.Reach * *s.Impact * *s.Confidence / *s.Effort
	case FrameworkMoSCoW:
		value = moscowValues[s.Category]
	case FrameworkWSJF:
		value = (*s.BusinessValue + *s.TimeCriticality + *s.RiskReduction) / *s.JobSize
	case FrameworkValueEffort:
		value = (*s.CustomerValue + *s.BusinessValue + *s.Risk) / *s.Effort
	}
	// A tiny RICE effort under a large reach overflows float64; an infinite
	// value cannot be stored (JSON has no Inf), so it is refused.
	if math.IsInf(value, 0) || math.IsNaN(value) {
		p.add(prefix+".effort", "is too small for this reach: the score would overflow")
		return s, p.err()
	}
	if rounded := math.Round(value*1e6) / 1e6; !math.IsInf(rounded, 0) {
		value = rounded
	}
	s.Version = ScoreVersion
	s.Value = value
	return s, nil
}

// Equal reports whether two scores have the same framework and inputs.
func (s *Score) Equal(o *Score) bool {
	if s == nil || o == nil {
		return s == o
	}
	a, b := *s, *o
	a.Value, b.Value = 0, 0
	return a.Framework == b.Framework && a.Category == b.Category &&
		eqf(a.Reach, b.Reach) && eqf(a.Impact, b.Impact) && eqf(a.Confidence, b.Confidence) &&
		eqf(a.BusinessValue, b.BusinessValue) && eqf(a.TimeCriticality, b.TimeCriticality) &&
		eqf(a.RiskReduction, b.RiskReduction) && eqf(a.JobSize, b.JobSize) &&
		eqf(a.CustomerValue, b.CustomerValue) && eqf(a.Risk, b.Risk) && eqf(a.Effort, b.Effort)
}

func eqf(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// between checks that v, when present, is a number (or an integer) from lo to
// hi; NaN and infinities are out of range.
func between(p *problems, field string, pv *float64, lo, hi float64, integer bool) {
	if pv == nil {
		return
	}
	if v := *pv; math.IsNaN(v) || v < lo || v > hi || (integer && v != math.Trunc(v)) {
		kind := "a number"
		if integer {
			kind = "an integer"
		}
		p.add(field, "must be %s from %g to %g", kind, lo, hi)
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
