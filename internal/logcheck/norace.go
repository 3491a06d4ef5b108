//go:build !race

package logcheck

// RaceEnabled reports whether this program was built with the race
// detector, so a suite that builds the ledger's binary can build it the same
// way.
const RaceEnabled = false
