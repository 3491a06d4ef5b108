package proof

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"golang.org/x/mod/sumdb/note"
)

// KeyFile is the name of the signing key's file in the data directory.
const KeyFile = "signing.key"

// maxKeyFile bounds what LoadKeyFile reads: a key is about 100 bytes.
const maxKeyFile = 4096

// LoadOrCreateKey returns the signer key in dataDir's signing.key and its
// verifier key. On first start (no such file) it generates an Ed25519 key
// named name and writes it there, readable by the owner only, atomically
// (a temporary file, synced, renamed into place, the directory synced): a
// crash leaves either no key or the whole key, never a torn one. An existing
// key must be named name (the checkpoints' origin) and must not be readable
// by group or others.
func LoadOrCreateKey(dataDir, name string) (skey, vkey string, err error) {
	if !validKeyName(name) {
		return "", "", fmt.Errorf("proof: key name %q: it must be non-empty, without spaces or '+'", name)
	}
	path := filepath.Join(dataDir, KeyFile)
	info, err := os.Stat(path)
	switch {
	case err == nil:
		if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
			return "", "", fmt.Errorf("proof: %s is readable by others (mode %#o): make it readable by its owner only (chmod 600)",
				path, info.Mode().Perm())
		}
		skey, vkey, err := LoadKeyFile(path)
		if err != nil {
			return "", "", err
		}
		if got := keyName(vkey); got != name {
			return "", "", fmt.Errorf("proof: %s is the key of %q, not of %q", path, got, name)
		}
		return skey, vkey, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("proof: signing key: %w", err)
	}

	skey, vkey, err = note.GenerateKey(rand.Reader, name)
	if err != nil {
		return "", "", fmt.Errorf("proof: generate a signing key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("proof: signing key: %w", err)
	}
	if err := safefile.WriteBytes(path, 0o600, []byte(skey+"\n")); err != nil {
		return "", "", fmt.Errorf("proof: write the signing key: %w", err)
	}
	return skey, vkey, nil
}

// LoadKeyFile reads a signer key from the file at path (as given with
// --signing-key) and returns it with its verifier key. Surrounding spaces
// and newlines are ignored.
func LoadKeyFile(path string) (skey, vkey string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("proof: signing key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return "", "", fmt.Errorf("proof: signing key: %w", err)
	}
	if len(data) > maxKeyFile {
		return "", "", fmt.Errorf("proof: %s is not a signing key: longer than %d bytes", path, maxKeyFile)
	}
	skey = strings.TrimSpace(string(data))
	vkey, err = VerifierKey(skey)
	if err != nil {
		return "", "", fmt.Errorf("%w (in %s)", err, path)
	}
	return skey, vkey, nil
}

// VerifierKey derives the public verifier key from a note signer key,
// "PRIVATE+KEY+<name>+<key hash, hex>+<base64 of 0x01 and the 32-byte
// Ed25519 seed>". Its errors never quote the signer key.
func VerifierKey(skey string) (string, error) {
	vkey, _, err := parseSignerKey(skey)
	return vkey, err
}

// parseSignerKey returns the verifier key and the Ed25519 seed of a note
// signer key. Its errors never quote the signer key.
func parseSignerKey(skey string) (vkey string, seed []byte, err error) {
	malformed := errors.New("proof: not a note signer key (PRIVATE+KEY+<name>+<hash>+<key>)")
	// Cut at the first four pluses only: the base64 key may hold more.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", nil, malformed
	}
	name, hash, key64 := parts[2], parts[3], parts[4]
	if _, err := note.NewSigner(skey); err != nil { // checks the name, hash and key
		return "", nil, fmt.Errorf("%w: %v", malformed, err)
	}
	key, err := base64.StdEncoding.DecodeString(key64)
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", nil, fmt.Errorf("%w: not an Ed25519 key", malformed)
	}
	seed = key[1:]
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	vkey, err = note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", malformed, err)
	}
	if got := strings.SplitN(vkey, "+", 3)[1]; !strings.EqualFold(got, hash) {
		return "", nil, fmt.Errorf("%w: key hash %s, the key's is %s", malformed, hash, got)
	}
	return vkey, seed, nil
}

// keyName returns the name of a verifier key.
func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	return name
}

// validKeyName is note's rule for key names: non-empty UTF-8 without
// Unicode spaces or '+'.
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}
