package termtext_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/termtext"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Checkout v2", "Checkout v2"},
		{"Straße, 東京, émigré", "Straße, 東京, émigré"},
		{"line one\n  2. seq 9  approved by alice", `line one\n  2. seq 9  approved by alice`},
		{"tab\there\r", `tab\there\r`},
		{"\x1b]0;owned\x07\x1b[2J", `\x1b]0;owned\x07\x1b[2J`},
		{"admin\u202egnp.exe", `admin\u202egnp.exe`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"next\u2028line\u0085", `next\u2028line\u0085`},
		{`C:\path`, `C:\\path`},
		{"bad \xff byte", `bad \xff byte`},
		{"del\x7f", `del\x7f`},
	} {
		if got := termtext.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
