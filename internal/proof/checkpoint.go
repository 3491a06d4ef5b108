package proof

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Why a checkpoint or a proof is refused. The errors returned wrap one of
// these and say more.
var (
	// ErrMalformed: the signed note or its checkpoint text is not well formed.
	ErrMalformed = errors.New("malformed checkpoint")
	// ErrBadSignature: the note carries a signature by the pinned key that
	// does not verify: its text was changed after signing.
	ErrBadSignature = errors.New("bad checkpoint signature")
	// ErrUnknownKey: no signature in the note is by the pinned key (it was
	// signed, or re-signed, with another key).
	ErrUnknownKey = errors.New("checkpoint not signed by the pinned key")
	// ErrWrongOrigin: the checkpoint's origin is not the name of the key
	// that signs it, or two checkpoints come from different logs.
	ErrWrongOrigin = errors.New("checkpoint of another log")
	// ErrProof: an inclusion or consistency proof does not verify.
	ErrProof = errors.New("proof does not verify")
)

const timePrefix = "time "

// Checkpoint is a signed tree head: the log Origin at Size events has root
// hash Root, as of Time.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time
}

// Text returns the checkpoint's note text, in the C2SP tlog-checkpoint
// format with one extension line:
//
//	<origin>
//	<size, decimal>
//	<root, base64>
//	time <time, RFC 3339 in UTC, fractional seconds only when not zero>
//
// each line ending in a newline.
func (c Checkpoint) Text() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(c.Root.String())
	b.WriteByte('\n')
	b.WriteString(timePrefix)
	b.WriteString(c.Time.UTC().Format(time.RFC3339Nano))
	b.WriteByte('\n')
	return b.Bytes()
}

// Equal reports whether c and d are the same checkpoint (times compared with
// time.Time.Equal).
func (c Checkpoint) Equal(d Checkpoint) bool {
	return c.Origin == d.Origin && c.Size == d.Size && c.Root == d.Root && c.Time.Equal(d.Time)
}

// ParseCheckpoint parses a checkpoint's note text (the text of a signed note,
// without the blank line and the signatures; it does not check any
// signature: OpenCheckpoint does). It accepts exactly what Text writes:
// four lines, with the size in decimal without leading zeros, the root in
// padded base64 and the time line in UTC, so one checkpoint has one text.
// Its errors wrap ErrMalformed.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	malformed := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	s := string(text)
	if !strings.HasSuffix(s, "\n") {
		return malformed("the text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) < 4 {
		return malformed("%d lines, want 4: origin, size, root hash and time", len(lines))
	}
	if len(lines) > 4 {
		return malformed("%d lines, want 4: an unknown extension line %.40q", len(lines), lines[4])
	}
	var c Checkpoint
	if c.Origin = lines[0]; c.Origin == "" {
		return malformed("the origin line is empty")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return malformed("the size line %.40q is not a decimal number of events", lines[1])
	}
	c.Size = size
	root, err := tlog.ParseHash(lines[2])
	if err != nil || root.String() != lines[2] {
		return malformed("the root line %.60q is not a base64 SHA-256 hash", lines[2])
	}
	c.Root = root
	stamp, ok := strings.CutPrefix(lines[3], timePrefix)
	if !ok {
		return malformed("the fourth line %.40q is not the time line", lines[3])
	}
	at, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil || at.UTC().Format(time.RFC3339Nano) != stamp {
		return malformed("the time %.40q is not an RFC 3339 time in UTC", stamp)
	}
	c.Time = at.UTC()
	return c, nil
}

// Signer signs checkpoints with an Ed25519 note key.
type Signer struct {
	signer note.Signer
	vkey   string
	seed   []byte
}

// NewSigner returns a signer for the note signer key skey (as
// LoadOrCreateKey and LoadKeyFile return it). The key's name is the origin
// of the checkpoints it signs.
func NewSigner(skey string) (*Signer, error) {
	vkey, seed, err := parseSignerKey(skey)
	if err != nil {
		return nil, err
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("proof: malformed signer key: %v", err)
	}
	return &Signer{signer: s, vkey: vkey, seed: seed}, nil
}

// DeriveKey returns a 32-byte secret key for purpose, derived from the
// signing key (HKDF-SHA256 over its Ed25519 seed, purpose as the info): a
// key that only a holder of the signing key can compute, the same for every
// server that holds it, and a different one for each purpose. Nothing
// derived from it tells anything of the signing key or of the keys of other
// purposes.
func (s *Signer) DeriveKey(purpose string) []byte {
	key, err := hkdf.Key(sha256.New, s.seed, nil, "roadmap-ledger derived key: "+purpose, 32)
	if err != nil { // only for a length HKDF-SHA256 cannot give
		panic("proof: derive a key: " + err.Error())
	}
	return key
}

// Name returns the key's name: the origin of the checkpoints it signs.
func (s *Signer) Name() string { return s.signer.Name() }

// VerifierKey returns the public verifier key, for auditors to pin.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign returns the signed note of c: its text, a blank line and the
// signature line. c's origin must be the key's name (C2SP asks that the
// log's key name match the origin, and it stops a checkpoint of one log
// passing for another's), its time must be set and its fields must make a
// well-formed text.
func (s *Signer) Sign(c Checkpoint) ([]byte, error) {
	if c.Origin != s.signer.Name() {
		return nil, fmt.Errorf("proof: cannot sign: %w: origin %q, key %q", ErrWrongOrigin, c.Origin, s.signer.Name())
	}
	if c.Time.IsZero() {
		return nil, errors.New("proof: cannot sign: the checkpoint has no time")
	}
	text := c.Text()
	if back, err := ParseCheckpoint(text); err != nil {
		return nil, fmt.Errorf("proof: cannot sign: %w", err)
	} else if !back.Equal(c) {
		return nil, fmt.Errorf("proof: cannot sign: %w: the text does not read back as the checkpoint", ErrMalformed)
	}
	return note.Sign(&note.Note{Text: string(text)}, s.signer)
}

// SignNote signs a text of the ledger's own making (an export manifest) with
// the same key as the checkpoints. The text must end with a newline.
func (s *Signer) SignNote(text string) ([]byte, error) {
	return note.Sign(&note.Note{Text: text}, s.signer)
}

// OpenNote verifies that signedNote is signed by the pinned key
// verifierKey, and only that key, and returns its text and the key's name.
// Errors wrap ErrBadSignature, ErrUnknownKey or ErrMalformed.
func OpenNote(signedNote []byte, verifierKey string) (text, name string, err error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return "", "", fmt.Errorf("proof: the pinned key is not a note verifier key: %v", err)
	}
	n, err := note.Open(signedNote, note.VerifierList(v))
	if err != nil {
		var bad *note.InvalidSignatureError
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &bad):
			return "", "", fmt.Errorf("%w: the signature by %s+%08x does not match the text", ErrBadSignature, bad.Name, bad.Hash)
		case errors.As(err, &unverified):
			var by []string
			for _, sig := range unverified.Note.UnverifiedSigs {
				by = append(by, fmt.Sprintf("%s+%08x", sig.Name, sig.Hash))
			}
			return "", "", fmt.Errorf("%w %s+%08x: signed by %s", ErrUnknownKey, v.Name(), v.KeyHash(), strings.Join(by, ", "))
		default:
			return "", "", fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	return n.Text, v.Name(), nil
}

// OpenCheckpoint verifies that signedNote is signed by the key verifierKey
// (the verifier key the auditor pinned, and only that key: signatures by any
// other key are ignored, and one of them alone is not enough) and returns its
// checkpoint. The checkpoint's origin must be the key's name. Errors wrap
// ErrBadSignature, ErrUnknownKey, ErrWrongOrigin or ErrMalformed; a
// verifierKey that is not a verifier key is an error of its own.
func OpenCheckpoint(signedNote []byte, verifierKey string) (Checkpoint, error) {
	text, name, err := OpenNote(signedNote, verifierKey)
	if err != nil {
		return Checkpoint{}, err
	}
	c, err := ParseCheckpoint([]byte(text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != name {
		return Checkpoint{}, fmt.Errorf("%w: origin %q, signed by the key of %q", ErrWrongOrigin, c.Origin, name)
	}
	return c, nil
}

// VerifyInclusion checks that p proves that the event at sequence seq, whose
// stored body is body, is in the tree of checkpoint c. Errors wrap ErrProof.
func VerifyInclusion(c Checkpoint, seq int64, body []byte, p tlog.RecordProof) error {
	if seq < 1 || seq > c.Size {
		return fmt.Errorf("%w: sequence %d is not in a tree of %d events", ErrProof, seq, c.Size)
	}
	if err := tlog.CheckRecord(p, c.Size, c.Root, seq-1, tlog.RecordHash(body)); err != nil {
		return fmt.Errorf("%w: sequence %d in the tree of %d events: %v", ErrProof, seq, c.Size, err)
	}
	return nil
}

// VerifyConsistency checks that p proves that the tree of checkpoint newer
// extends the tree of checkpoint older: the events of older are unchanged
// and in place. Both must be of the same log. Errors wrap ErrProof or
// ErrWrongOrigin.
func VerifyConsistency(older, newer Checkpoint, p tlog.TreeProof) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("%w: %q and %q", ErrWrongOrigin, older.Origin, newer.Origin)
	}
	if older.Size > newer.Size {
		return fmt.Errorf("%w: the tree shrank from %d to %d events", ErrProof, older.Size, newer.Size)
	}
	if older.Size == 0 { // every tree extends the empty one
		if older.Root != EmptyRoot || len(p) != 0 {
			return fmt.Errorf("%w: not the empty tree, or a proof where none is needed", ErrProof)
		}
		return nil
	}
	if err := tlog.CheckTree(p, newer.Size, newer.Root, older.Size, older.Root); err != nil {
		return fmt.Errorf("%w: from %d to %d events: %v", ErrProof, older.Size, newer.Size, err)
	}
	return nil
}
