package roadmap

import "time"

// TypeCheckpointSigned is the event type of a signed checkpoint of the
// ledger. Its aggregate type is "checkpoint", one aggregate per checkpoint.
const TypeCheckpointSigned = "checkpoint.signed"

// CheckpointSigned records a signed checkpoint of the ledger: the Merkle
// tree of the first Size events of the stream (sequences 1 to Size) has root
// hash Root, as of Time, signed in Note. Size, Root and Time repeat what the
// note says, for readers that do not parse notes; the note is what an
// auditor checks.
//
// A checkpoint covers the events up to Size, never the event that records
// it: that event lands after Size.
type CheckpointSigned struct {
	// Size is the number of events the checkpoint covers: the sequence of
	// the last of them.
	Size int64 `json:"size"`
	// Root is the tree's root hash in standard base64, as in the note.
	Root string `json:"root"`
	// Time is when the checkpoint was made, as in the note's time line.
	Time time.Time `json:"time"`
	// Note is the signed note: the checkpoint text, a blank line and the
	// signature line.
	Note string `json:"note"`
}

// EventType implements Event.
func (CheckpointSigned) EventType() string { return TypeCheckpointSigned }
