package governance

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestScoreTextReadsAScoreAsTheBoardDoes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		score *roadmap.Score
		want  string
	}{
		{"No score is no text", nil, ""},
		{"MoSCoW reads as its category", &roadmap.Score{Framework: "moscow", Category: "must", Value: 4}, "moscow must"},
		{"A whole value has no decimals", &roadmap.Score{Framework: "rice", Value: 640}, "rice 640"},
		{"A fraction has the digits it needs", &roadmap.Score{Framework: "wsjf", Value: 2.125}, "wsjf 2.125"},
		{"A large value is not in exponent form", &roadmap.Score{Framework: "rice", Value: 12_000_000}, "rice 12000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scoreText(tc.score); got != tc.want {
				t.Errorf("scoreText = %q, want %q", got, tc.want)
			}
		})
	}
}
