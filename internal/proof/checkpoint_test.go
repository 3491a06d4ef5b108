package proof_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

func newKey(t *testing.T, name string) (skey, vkey string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return skey, vkey
}

func newSigner(t *testing.T, skey string) *proof.Signer {
	t.Helper()
	s, err := proof.NewSigner(skey)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func sign(t *testing.T, skey string, c proof.Checkpoint) []byte {
	t.Helper()
	signed, err := newSigner(t, skey).Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return signed
}

var someRoot = tlog.RecordHash([]byte("some root"))

func TestCheckpointTextIsTheC2SPFormatWithATimeLine(t *testing.T) {
	c := proof.Checkpoint{Origin: origin, Size: 20852163, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)}
	want := "roadmap-ledger/ROADMAP\n20852163\n" + someRoot.String() + "\ntime 2026-11-01T09:30:00Z\n"
	if got := string(c.Text()); got != want {
		t.Errorf("Text() =\n%s\nwant\n%s", got, want)
	}
}

func TestCheckpointTextRoundTrips(t *testing.T) {
	cases := []struct {
		name string
		c    proof.Checkpoint
	}{
		{"the empty tree", proof.Checkpoint{Origin: origin, Size: 0, Root: proof.EmptyRoot, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"a million events", proof.Checkpoint{Origin: origin, Size: 1_000_000, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)}},
		{"the largest size", proof.Checkpoint{Origin: "o", Size: 1<<63 - 1, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)}},
		{"a time with microseconds", proof.Checkpoint{Origin: origin, Size: 7, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC)}},
		{"a time with nanoseconds", proof.Checkpoint{Origin: origin, Size: 7, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 1, time.UTC)}},
		{"a time in another zone", proof.Checkpoint{Origin: origin, Size: 7, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 0, time.FixedZone("X", -5*3600))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proof.ParseCheckpoint(tc.c.Text())
			if err != nil {
				t.Fatalf("ParseCheckpoint(%q): %v", tc.c.Text(), err)
			}
			if !got.Equal(tc.c) {
				t.Errorf("ParseCheckpoint(Text()) = %+v, want %+v", got, tc.c)
			}
			if got.Time.Location() != time.UTC {
				t.Errorf("parsed time in %v, want UTC", got.Time.Location())
			}
		})
	}
}

func TestParseCheckpointRefusesMalformedText(t *testing.T) {
	r := someRoot.String()
	cases := []struct {
		name, text string
	}{
		{"no final newline", origin + "\n7\n" + r + "\ntime 2026-11-01T09:30:00Z"},
		{"no time line", origin + "\n7\n" + r + "\n"},
		{"only the origin", origin + "\n"},
		{"an unknown extension line", origin + "\n7\n" + r + "\ntime 2026-11-01T09:30:00Z\nwitness yes\n"},
		{"a blank line", origin + "\n7\n" + r + "\n\ntime 2026-11-01T09:30:00Z\n"},
		{"an empty origin", "\n7\n" + r + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a size with a leading zero", origin + "\n07\n" + r + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a size with a sign", origin + "\n+7\n" + r + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a negative size", origin + "\n-7\n" + r + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a size too large", origin + "\n9223372036854775808\n" + r + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a root that is not base64", origin + "\n7\n" + "not base64!\ntime 2026-11-01T09:30:00Z\n"},
		{"a root of the wrong length", origin + "\n7\n" + "AAAA\ntime 2026-11-01T09:30:00Z\n"},
		{"a root without padding", origin + "\n7\n" + strings.TrimRight(r, "=") + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a root in base64url", origin + "\n7\n" + "_-" + r[2:] + "\ntime 2026-11-01T09:30:00Z\n"},
		{"a time line without its keyword", origin + "\n7\n" + r + "\n2026-11-01T09:30:00Z\n"},
		{"a time not in UTC", origin + "\n7\n" + r + "\ntime 2026-11-01T10:30:00+01:00\n"},
		{"a time that is not RFC 3339", origin + "\n7\n" + r + "\ntime 1 Nov 2026 09:30\n"},
		{"a time with trailing zeros", origin + "\n7\n" + r + "\ntime 2026-11-01T09:30:00.500Z\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := proof.ParseCheckpoint([]byte(tc.text))
			if !errors.Is(err, proof.ErrMalformed) {
				t.Errorf("ParseCheckpoint(%q) = %+v, %v; want ErrMalformed", tc.text, c, err)
			}
		})
	}
}

func TestRootLineNotInCanonicalBase64IsRefused(t *testing.T) {
	// Standard base64 decoding ignores the unused low bits of the last
	// character; a second spelling of the same root must not parse.
	r := someRoot.String() // 44 characters, the last one padding
	last := r[42]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alphabet, last)
	other := alphabet[i^1] // differs in the lowest, unused bit
	text := origin + "\n7\n" + r[:42] + string(other) + "=\ntime 2026-11-01T09:30:00Z\n"
	if h, err := tlog.ParseHash(r[:42] + string(other) + "="); err != nil || h != someRoot {
		t.Fatalf("the alternative spelling does not decode to the same root (%v), the test is wrong", err)
	}
	if _, err := proof.ParseCheckpoint([]byte(text)); !errors.Is(err, proof.ErrMalformed) {
		t.Errorf("ParseCheckpoint with a non-canonical root: got %v, want ErrMalformed", err)
	}
}

func TestSignedCheckpointOpensWithThePinnedKey(t *testing.T) {
	skey, vkey := newKey(t, origin)
	tree := buildTree(t, streamBodies(t, 321))
	c, err := tree.Checkpoint(origin, time.Now())
	if err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	signed := sign(t, skey, c)
	if !bytes.HasPrefix(signed, append(c.Text(), '\n')) {
		t.Errorf("signed note %q does not start with the text and a blank line", signed)
	}
	got, err := proof.OpenCheckpoint(signed, vkey)
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if !got.Equal(c) {
		t.Errorf("OpenCheckpoint = %+v, want %+v", got, c)
	}
	// A verifier key read from a file keeps its newline: it still opens.
	if _, err := proof.OpenCheckpoint(signed, vkey+"\n"); err != nil {
		t.Errorf("OpenCheckpoint with the key and a newline: %v", err)
	}
}

func TestCosignedCheckpointStillOpens(t *testing.T) {
	skey, vkey := newKey(t, origin)
	witness, _ := newKey(t, "witness.example/w1")
	c := proof.Checkpoint{Origin: origin, Size: 3, Root: someRoot, Time: time.Now()}
	n, err := note.Open(sign(t, skey, c), note.VerifierList(mustVerifier(t, vkey)))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	ws, err := note.NewSigner(witness)
	if err != nil {
		t.Fatalf("witness signer: %v", err)
	}
	cosigned, err := note.Sign(n, ws)
	if err != nil {
		t.Fatalf("cosign: %v", err)
	}
	if bytes.Count(cosigned, []byte("\n— ")) != 2 {
		t.Fatalf("cosigned note %q does not have two signatures", cosigned)
	}
	if _, err := proof.OpenCheckpoint(cosigned, vkey); err != nil {
		t.Errorf("OpenCheckpoint of a cosigned checkpoint: %v", err)
	}
}

func mustVerifier(t *testing.T, vkey string) note.Verifier {
	t.Helper()
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestOpenCheckpointRefusesWhatThePinnedKeyDidNotSign(t *testing.T) {
	skey, vkey := newKey(t, origin)
	otherSkey, otherVkey := newKey(t, origin) // same name, another key
	strangerSkey, _ := newKey(t, "example.com/another-log")
	c := proof.Checkpoint{Origin: origin, Size: 1000, Root: someRoot, Time: time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)}
	signed := sign(t, skey, c)
	replace := func(old, new string) []byte {
		if !bytes.Contains(signed, []byte(old)) {
			t.Fatalf("the signed note has no %q", old)
		}
		return bytes.Replace(signed, []byte(old), []byte(new), 1)
	}
	// A note whose text the pinned key signed, but whose origin is not the
	// key's name.
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	foreign := c
	foreign.Origin = "example.com/another-log"
	foreignOrigin, err := note.Sign(&note.Note{Text: string(foreign.Text())}, s)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := signed[:bytes.Index(signed, []byte("\n\n"))+2]

	cases := []struct {
		name   string
		note   []byte
		key    string
		want   error // nil: opens
		anyErr bool  // an error of no particular kind
	}{
		{"the untouched checkpoint opens", signed, vkey, nil, false},
		{"a larger size", replace("\n1000\n", "\n1001\n"), vkey, proof.ErrBadSignature, false},
		{"a smaller size: the tail cut off", replace("\n1000\n", "\n999\n"), vkey, proof.ErrBadSignature, false},
		{"another root", replace(someRoot.String(), proof.EmptyRoot.String()), vkey, proof.ErrBadSignature, false},
		{"another time", replace("09:30:00Z", "09:31:00Z"), vkey, proof.ErrBadSignature, false},
		{"another origin", replace("roadmap-ledger/ROADMAP\n", "roadmap-ledger/ROADMAX\n"), vkey, proof.ErrBadSignature, false},
		{"re-signed with another key of the same name", sign(t, otherSkey, c), vkey, proof.ErrUnknownKey, false},
		{"signed by another log's key", noteSignedBy(t, strangerSkey, c.Text()), vkey, proof.ErrUnknownKey, false},
		{"opened with another key than the signer's", signed, otherVkey, proof.ErrUnknownKey, false},
		{"signed by the pinned key for another origin", foreignOrigin, vkey, proof.ErrWrongOrigin, false},
		{"the signature removed", unsigned, vkey, proof.ErrMalformed, false},
		{"not a note at all", []byte("hello\n"), vkey, proof.ErrMalformed, false},
		{"a pinned key that is not a verifier key", signed, "roadmap-ledger/ROADMAP+00000000+AAAA", nil, true},
		{"the signer key given as the pinned key", signed, skey, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proof.OpenCheckpoint(tc.note, tc.key)
			switch {
			case tc.anyErr:
				if err == nil {
					t.Errorf("OpenCheckpoint = %+v, want an error", got)
				}
			case tc.want == nil:
				if err != nil || !got.Equal(c) {
					t.Errorf("OpenCheckpoint = %+v, %v; want %+v", got, err, c)
				}
			default:
				if !errors.Is(err, tc.want) {
					t.Errorf("OpenCheckpoint = %+v, %v; want %v", got, err, tc.want)
				}
			}
		})
	}
}

func noteSignedBy(t *testing.T, skey string, text []byte) []byte {
	t.Helper()
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func TestSignRefusesACheckpointItCannotWriteFaithfully(t *testing.T) {
	skey, _ := newKey(t, origin)
	s := newSigner(t, skey)
	at := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	cases := []struct {
		name string
		c    proof.Checkpoint
		want error
	}{
		{"a checkpoint of the key's log signs", proof.Checkpoint{Origin: origin, Size: 5, Root: someRoot, Time: at}, nil},
		{"an origin that is not the key's name", proof.Checkpoint{Origin: "example.com/log", Size: 5, Root: someRoot, Time: at}, proof.ErrWrongOrigin},
		{"no time", proof.Checkpoint{Origin: origin, Size: 5, Root: someRoot}, nil},
		{"a negative size", proof.Checkpoint{Origin: origin, Size: -5, Root: someRoot, Time: at}, proof.ErrMalformed},
		{"a time past the year 9999", proof.Checkpoint{Origin: origin, Size: 5, Root: someRoot, Time: at.AddDate(8000, 0, 0)}, proof.ErrMalformed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			signed, err := s.Sign(tc.c)
			if i == 0 {
				if err != nil {
					t.Fatalf("Sign: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Sign = %q, want an error", signed)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Sign error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyConsistencyNeedsOneLogAndAGrowingTree(t *testing.T) {
	tree := buildTree(t, streamBodies(t, 50))
	empty := proof.Checkpoint{Origin: origin, Size: 0, Root: proof.EmptyRoot}
	at30, at50 := checkpoint(t, tree, 30), checkpoint(t, tree, 50)
	p, err := tree.ConsistencyProof(30, 50)
	if err != nil {
		t.Fatal(err)
	}
	otherLog := at30
	otherLog.Origin = "example.com/log"
	notEmpty := empty
	notEmpty.Root = someRoot
	cases := []struct {
		name         string
		older, newer proof.Checkpoint
		p            tlog.TreeProof
		want         error
	}{
		{"a proof between two checkpoints of the log", at30, at50, p, nil},
		{"the same checkpoint twice", at50, at50, nil, nil},
		{"from the empty tree", empty, at50, nil, nil},
		{"from an empty tree with another root", notEmpty, at50, nil, proof.ErrProof},
		{"checkpoints of two logs", otherLog, at50, p, proof.ErrWrongOrigin},
		{"the newer tree is smaller", at50, at30, p, proof.ErrProof},
		{"the proof of other sizes", at30, at50, mustConsistency(t, tree, 29, 50), proof.ErrProof},
		{"no proof", at30, at50, nil, proof.ErrProof},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := proof.VerifyConsistency(tc.older, tc.newer, tc.p)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("VerifyConsistency = %v, want %v", err, tc.want)
			}
		})
	}
}

func mustConsistency(t *testing.T, tree *proof.Tree, from, to int64) tlog.TreeProof {
	t.Helper()
	p, err := tree.ConsistencyProof(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
