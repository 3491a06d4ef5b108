package roadmap_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestScoreComputed(t *testing.T) {
	tests := []struct {
		name  string
		score roadmap.Score
		want  float64
	}{
		{name: "rice multiplies reach, impact and confidence over effort", score: rice(1000, 2, 0.8, 4), want: 400},
		{name: "rice accepts the smallest impact", score: rice(100, 0.25, 1, 1), want: 25},
		{name: "rice accepts half impact and a fractional effort", score: rice(10, 0.5, 0.5, 0.5), want: 5},
		{name: "rice accepts the largest impact and full confidence", score: rice(7, 3, 1, 3), want: 7},
		{name: "rice accepts a reach of zero", score: rice(0, 1, 0.5, 2), want: 0},
		{name: "rice accepts the largest reach and effort", score: rice(1e12, 1, 1, 1e6), want: 1e6},
		{name: "rice rounds to six decimals", score: rice(1, 1, 1, 3), want: 0.333333},
		{name: "rice rounds half up at the sixth decimal", score: rice(2, 1, 1, 3), want: 0.666667},
		{name: "moscow must is 4", score: moscow("must"), want: 4},
		{name: "moscow should is 3", score: moscow("should"), want: 3},
		{name: "moscow could is 2", score: moscow("could"), want: 2},
		{name: "moscow wont is 1", score: moscow("wont"), want: 1},
		{name: "wsjf sums value, criticality and risk reduction over job size", score: wsjf(8, 5, 3, 2), want: 8},
		{name: "wsjf accepts the lowest inputs", score: wsjf(1, 1, 1, 1), want: 3},
		{name: "wsjf accepts the highest inputs", score: wsjf(20, 20, 20, 20), want: 3},
		{name: "wsjf peaks with the smallest job", score: wsjf(20, 20, 20, 1), want: 60},
		{name: "wsjf rounds to six decimals", score: wsjf(2, 2, 3, 3), want: 2.333333},
		{name: "value_effort scores the seed's onboarding card", score: valueEffort(5, 5, 3, 4), want: 4.666667},
		{name: "value_effort scores the seed's payment card", score: valueEffort(5, 5, 2, 5), want: 7.5},
		{name: "value_effort accepts the lowest inputs", score: valueEffort(1, 1, 1, 1), want: 3},
		{name: "value_effort accepts the highest inputs", score: valueEffort(5, 5, 5, 5), want: 3},
		{
			name:  "an explicit version 1 is accepted",
			score: func() roadmap.Score { s := moscow("must"); s.Version = 1; return s }(),
			want:  4,
		},
		{
			name:  "a value sent by the client is recomputed",
			score: func() roadmap.Score { s := wsjf(8, 5, 3, 2); s.Value = 1000; return s }(),
			want:  8,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.score.Computed("score")
			if err != nil {
				t.Fatalf("Computed: %v", err)
			}
			if got.Value != tt.want {
				t.Errorf("value = %v, want %v", got.Value, tt.want)
			}
			if got.Version != roadmap.ScoreVersion {
				t.Errorf("version = %d, want %d", got.Version, roadmap.ScoreVersion)
			}
			if !got.Equal(&tt.score) || got.Framework != tt.score.Framework {
				t.Errorf("inputs = %s, want those of %s", jsonString(got), jsonString(tt.score))
			}
		})
	}
}

func TestScoreComputedRefusesBadInputs(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name    string
		score   roadmap.Score
		wantErr wantError
	}{
		{name: "a missing framework is refused", score: roadmap.Score{}, wantErr: invalid("score.framework")},
		{name: "an unknown framework is refused", score: roadmap.Score{Framework: "ice", Reach: ptr(1.0)}, wantErr: invalid("score.framework")},
		{name: "a framework in capitals is unknown", score: roadmap.Score{Framework: "RICE"}, wantErr: invalid("score.framework")},
		{name: "every missing rice input is named", score: roadmap.Score{Framework: "rice"}, wantErr: invalid("score.reach", "score.impact", "score.confidence", "score.effort")},
		{
			name:    "a missing input and an out-of-range one are named together",
			score:   roadmap.Score{Framework: "rice", Impact: ptr(7.0), Confidence: ptr(1.0), Effort: ptr(1.0)},
			wantErr: invalid("score.reach", "score.impact"),
		},
		{
			name:    "an input foreign to the framework is named",
			score:   func() roadmap.Score { s := rice(1, 1, 1, 1); s.Category = "must"; return s }(),
			wantErr: invalid("score.category"),
		},
		{
			name:    "a wsjf input on a value_effort score is foreign",
			score:   func() roadmap.Score { s := valueEffort(1, 1, 1, 1); s.JobSize = ptr(3.0); return s }(),
			wantErr: invalid("score.job_size"),
		},
		{
			name:    "a numeric input on a moscow score is foreign",
			score:   func() roadmap.Score { s := moscow("must"); s.Reach = ptr(10.0); return s }(),
			wantErr: invalid("score.reach"),
		},
		{name: "a moscow score without category is refused", score: moscow(""), wantErr: invalid("score.category")},
		{name: "an unknown moscow category is refused", score: moscow("won't"), wantErr: invalid("score.category")},
		{name: "a moscow category in capitals is refused", score: moscow("Must"), wantErr: invalid("score.category")},
		{name: "a version other than 1 is refused", score: func() roadmap.Score { s := moscow("must"); s.Version = 2; return s }(), wantErr: invalid("score.version")},
		{name: "a negative reach is refused", score: rice(-1, 1, 1, 1), wantErr: invalid("score.reach")},
		{name: "a reach above a trillion is refused", score: rice(1e12+1, 1, 1, 1), wantErr: invalid("score.reach")},
		{name: "an impact off the scale is refused", score: rice(1, 1.5, 1, 1), wantErr: invalid("score.impact")},
		{name: "an impact of zero is refused", score: rice(1, 0, 1, 1), wantErr: invalid("score.impact")},
		{name: "a confidence of zero is refused", score: rice(1, 1, 0, 1), wantErr: invalid("score.confidence")},
		{name: "a confidence above one is refused", score: rice(1, 1, 1.01, 1), wantErr: invalid("score.confidence")},
		{name: "a confidence given as a percentage is refused", score: rice(1, 1, 80, 1), wantErr: invalid("score.confidence")},
		{name: "a negative confidence is refused", score: rice(1, 1, -0.5, 1), wantErr: invalid("score.confidence")},
		{name: "an effort of zero is refused", score: rice(1, 1, 1, 0), wantErr: invalid("score.effort")},
		{name: "a negative effort is refused", score: rice(1, 1, 1, -2), wantErr: invalid("score.effort")},
		{name: "an effort above a million person-months is refused", score: rice(1, 1, 1, 1e6+1), wantErr: invalid("score.effort")},
		{name: "every out-of-range rice input is named", score: rice(-1, 4, 2, 0), wantErr: invalid("score.reach", "score.impact", "score.confidence", "score.effort")},
		{name: "a wsjf input of zero is refused", score: wsjf(0, 1, 1, 1), wantErr: invalid("score.business_value")},
		{name: "a wsjf input above 20 is refused", score: wsjf(1, 21, 1, 1), wantErr: invalid("score.time_criticality")},
		{name: "a fractional wsjf input is refused", score: wsjf(1, 1, 2.5, 1), wantErr: invalid("score.risk_reduction")},
		{name: "a wsjf job size of zero is refused", score: wsjf(1, 1, 1, 0), wantErr: invalid("score.job_size")},
		{name: "every missing wsjf input is named", score: roadmap.Score{Framework: "wsjf"}, wantErr: invalid("score.business_value", "score.time_criticality", "score.risk_reduction", "score.job_size")},
		{name: "a value_effort input of zero is refused", score: valueEffort(0, 1, 1, 1), wantErr: invalid("score.customer_value")},
		{name: "a value_effort input above 5 is refused", score: valueEffort(1, 6, 1, 1), wantErr: invalid("score.business_value")},
		{name: "a fractional value_effort input is refused", score: valueEffort(1, 1, 1, 4.5), wantErr: invalid("score.risk")},
		{name: "a value_effort effort of zero is refused", score: valueEffort(1, 1, 0, 1), wantErr: invalid("score.effort")},
		{name: "every missing value_effort input is named", score: roadmap.Score{Framework: "value_effort"}, wantErr: invalid("score.customer_value", "score.business_value", "score.effort", "score.risk")},
		{name: "a NaN reach is refused", score: rice(nan, 1, 1, 1), wantErr: invalid("score.reach")},
		{name: "a NaN impact is refused", score: rice(1, nan, 1, 1), wantErr: invalid("score.impact")},
		{name: "a NaN confidence is refused", score: rice(1, 1, nan, 1), wantErr: invalid("score.confidence")},
		{name: "a NaN effort is refused", score: rice(1, 1, 1, nan), wantErr: invalid("score.effort")},
		{name: "an infinite reach is refused", score: rice(inf, 1, 1, 1), wantErr: invalid("score.reach")},
		{name: "an infinite effort is refused", score: rice(1, 1, 1, inf), wantErr: invalid("score.effort")},
		{name: "an infinite confidence is refused", score: rice(1, 1, inf, 1), wantErr: invalid("score.confidence")},
		{name: "NaN wsjf inputs are refused", score: wsjf(nan, 1, 1, nan), wantErr: invalid("score.business_value", "score.job_size")},
		{name: "infinite wsjf inputs are refused", score: wsjf(1, inf, -inf, 1), wantErr: invalid("score.time_criticality", "score.risk_reduction")},
		{name: "NaN and infinite value_effort inputs are refused", score: valueEffort(nan, 1, inf, -inf), wantErr: invalid("score.customer_value", "score.effort", "score.risk")},
		{
			name:    "a tiny effort under a huge reach that would overflow is refused",
			score:   rice(1e12, 3, 1, 1e-300),
			wantErr: invalid("score.effort"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.score.Computed("score")
			if tt.wantErr.check(t, err) {
				t.Errorf("Computed = %s, want an error", jsonString(got))
			}
		})
	}
}

func TestScoreComputedPrefixesFields(t *testing.T) {
	_, err := rice(1, 9, 1, 1).Computed("placement.score")
	invalid("placement.score.impact").check(t, err)
}

func TestScoreComputedValueIsAlwaysStorable(t *testing.T) {
	tests := []struct {
		name  string
		score roadmap.Score
	}{
		{name: "a huge reach over a small effort", score: rice(1e12, 3, 1, 1e-9)},
		{name: "a huge reach over a subnormal effort that overflows on rounding", score: rice(1e12, 3, 1, 1e-291)},
		{name: "a huge reach over the smallest effort", score: rice(1e12, 3, 1, math.SmallestNonzeroFloat64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.score.Computed("score")
			if err != nil {
				invalid("score.effort").check(t, err)
				return
			}
			if math.IsInf(got.Value, 0) || math.IsNaN(got.Value) {
				t.Fatalf("value = %v, want a finite number", got.Value)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("json.Marshal: %v", err)
			}
		})
	}
}

func TestScoreEqual(t *testing.T) {
	base := func() *roadmap.Score { s := rice(1000, 2, 0.8, 4); return &s }
	edit := func(f func(*roadmap.Score)) *roadmap.Score { s := base(); f(s); return s }
	all := &roadmap.Score{
		Framework: "x", Category: "must", Reach: ptr(1.0), Impact: ptr(1.0), Confidence: ptr(1.0),
		BusinessValue: ptr(1.0), TimeCriticality: ptr(1.0), RiskReduction: ptr(1.0), JobSize: ptr(1.0),
		CustomerValue: ptr(1.0), Risk: ptr(1.0), Effort: ptr(1.0),
	}
	allBut := func(f func(*roadmap.Score)) *roadmap.Score { s := *all; f(&s); return &s }
	tests := []struct {
		name string
		a, b *roadmap.Score
		want bool
	}{
		{name: "two missing scores are equal", a: nil, b: nil, want: true},
		{name: "a missing score differs from a present one", a: nil, b: base(), want: false},
		{name: "a present score differs from a missing one", a: base(), b: nil, want: false},
		{name: "the same inputs are equal", a: base(), b: base(), want: true},
		{name: "the value is ignored", a: base(), b: edit(func(s *roadmap.Score) { s.Value = 99 }), want: true},
		{name: "the version is ignored", a: base(), b: edit(func(s *roadmap.Score) { s.Version = 1 }), want: true},
		{name: "another framework differs", a: all, b: allBut(func(s *roadmap.Score) { s.Framework = "y" }), want: false},
		{name: "another category differs", a: all, b: allBut(func(s *roadmap.Score) { s.Category = "should" }), want: false},
		{name: "an input present on one side only differs", a: base(), b: edit(func(s *roadmap.Score) { s.Reach = nil }), want: false},
		{name: "another reach differs", a: all, b: allBut(func(s *roadmap.Score) { s.Reach = ptr(2.0) }), want: false},
		{name: "another impact differs", a: all, b: allBut(func(s *roadmap.Score) { s.Impact = ptr(2.0) }), want: false},
		{name: "another confidence differs", a: all, b: allBut(func(s *roadmap.Score) { s.Confidence = ptr(0.5) }), want: false},
		{name: "another business value differs", a: all, b: allBut(func(s *roadmap.Score) { s.BusinessValue = ptr(2.0) }), want: false},
		{name: "another time criticality differs", a: all, b: allBut(func(s *roadmap.Score) { s.TimeCriticality = ptr(2.0) }), want: false},
		{name: "another risk reduction differs", a: all, b: allBut(func(s *roadmap.Score) { s.RiskReduction = ptr(2.0) }), want: false},
		{name: "another job size differs", a: all, b: allBut(func(s *roadmap.Score) { s.JobSize = ptr(2.0) }), want: false},
		{name: "another customer value differs", a: all, b: allBut(func(s *roadmap.Score) { s.CustomerValue = ptr(2.0) }), want: false},
		{name: "another risk differs", a: all, b: allBut(func(s *roadmap.Score) { s.Risk = ptr(2.0) }), want: false},
		{name: "another effort differs", a: all, b: allBut(func(s *roadmap.Score) { s.Effort = ptr(2.0) }), want: false},
		{name: "equal values behind different pointers are equal", a: all, b: allBut(func(s *roadmap.Score) { s.Effort = ptr(1.0) }), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}
