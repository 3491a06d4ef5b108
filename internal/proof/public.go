package proof

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// PublicEntry is one entry of a public view as the ledger vouches for it:
// what it shows (Summary, Horizon, Objectives) and the event that published
// it (Seq) with the hash of that event's stored body (Leaf), which an
// inclusion proof leads from to a checkpoint's root without revealing the
// event.
type PublicEntry struct {
	Seq        int64
	Leaf       tlog.Hash
	Summary    string
	Horizon    string
	Objectives []string
}

// PublicText is the text the ledger signs for a public view: its slug, the
// ledger sequence it shows, the checkpoint it names and, per entry, the
// publishing event, its leaf hash and a digest of what the entry shows.
// Any change to what a public page says changes the text, so a signature
// over it, by the checkpoints' key, lets anyone holding the verifier key
// refuse a page changed on its way:
//
//	roadmap public view
//	<slug>
//	sequence <n>
//	checkpoint <size> <root, base64>
//	entry <seq> <leaf, base64> <SHA-256 of the JSON array [summary, horizon, objectives], base64>
//	...
//
// The slug is a view's slug (lower-case letters, digits, dashes), so no
// line can be forged from inside one.
func PublicText(slug string, seq uint64, cp Checkpoint, entries []PublicEntry) string {
	var b strings.Builder
	b.WriteString("roadmap public view\n")
	b.WriteString(slug + "\n")
	b.WriteString("sequence " + strconv.FormatUint(seq, 10) + "\n")
	b.WriteString("checkpoint " + strconv.FormatInt(cp.Size, 10) + " " + cp.Root.String() + "\n")
	for _, e := range entries {
		objectives := e.Objectives
		if objectives == nil {
			objectives = []string{}
		}
		shown, _ := json.Marshal([]any{e.Summary, e.Horizon, objectives}) // strings only: never fails
		digest := sha256.Sum256(shown)
		b.WriteString("entry " + strconv.FormatInt(e.Seq, 10) + " " + e.Leaf.String() + " " + base64.StdEncoding.EncodeToString(digest[:]) + "\n")
	}
	return b.String()
}

// VerifyLeafInclusion checks that p proves that the event at sequence seq,
// whose stored body hashes to leaf (tlog.RecordHash), is in the tree of
// checkpoint c: the check of VerifyInclusion for one who holds the hash,
// not the event. Errors wrap ErrProof.
func VerifyLeafInclusion(c Checkpoint, seq int64, leaf tlog.Hash, p tlog.RecordProof) error {
	if seq < 1 || seq > c.Size {
		return errorf("sequence %d is not in a tree of %d events", seq, c.Size)
	}
	if err := tlog.CheckRecord(p, c.Size, c.Root, seq-1, leaf); err != nil {
		return errorf("sequence %d in the tree of %d events: %v", seq, c.Size, err)
	}
	return nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrProof}, args...)...)
}
