package proof_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

func TestVerifierKeyDerivedFromTheSignerKeyIsTheGeneratedOne(t *testing.T) {
	for _, name := range []string{origin, "example.com/log", "a", "ledger.example.org/roadmap/eu-1"} {
		t.Run(name, func(t *testing.T) {
			for range 20 { // keys whose base64 holds '+' or '/' too
				skey, vkey := newKey(t, name)
				got, err := proof.VerifierKey(skey)
				if err != nil {
					t.Fatalf("VerifierKey: %v", err)
				}
				if got != vkey {
					t.Fatalf("VerifierKey = %q, want %q", got, vkey)
				}
			}
		})
	}
}

func TestVerifierKeyRefusesWhatIsNotASignerKey(t *testing.T) {
	skey, vkey := newKey(t, origin)
	parts := strings.SplitN(skey, "+", 5)
	secret := parts[4]
	key, _ := base64.StdEncoding.DecodeString(secret)
	otherAlg := append([]byte{2}, key[1:]...)
	cases := []struct {
		name, skey string
	}{
		{"empty", ""},
		{"the verifier key", vkey},
		{"without the PRIVATE+KEY prefix", strings.TrimPrefix(skey, "PRIVATE+KEY+")},
		{"another key hash", strings.Join([]string{parts[0], parts[1], parts[2], "00000000", secret}, "+")},
		{"another name", strings.Join([]string{parts[0], parts[1], "example.com/log", parts[3], secret}, "+")},
		{"a truncated key", skey[:len(skey)-8]},
		{"an unknown algorithm", strings.Join([]string{parts[0], parts[1], parts[2], parts[3], base64.StdEncoding.EncodeToString(otherAlg)}, "+")},
		{"a name with a space", strings.Join([]string{parts[0], parts[1], "my log", parts[3], secret}, "+")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := proof.VerifierKey(tc.skey)
			if err == nil {
				t.Fatalf("VerifierKey = %q, want an error", got)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:12]) {
				t.Errorf("the error %q quotes the private key", err)
			}
		})
	}
}

func TestLoadOrCreateKeyMakesTheKeyOnceAndThenReadsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	skey, vkey, err := proof.LoadOrCreateKey(dir, origin)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	path := filepath.Join(dir, proof.KeyFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the key file: %v", err)
	}
	if runtime.GOOS != "windows" {
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("key file mode = %#o, want 0600", got)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), skey+"\n"; got != want {
		t.Errorf("key file holds %q, want the signer key and a newline", got)
	}
	if derived, err := proof.VerifierKey(skey); err != nil || derived != vkey {
		t.Errorf("VerifierKey(skey) = %q, %v; want %q", derived, err, vkey)
	}
	if !strings.HasPrefix(vkey, origin+"+") {
		t.Errorf("verifier key %q is not named %q", vkey, origin)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("data directory holds %v, want only %s (no temporary file left)", names, proof.KeyFile)
	}

	skey2, vkey2, err := proof.LoadOrCreateKey(dir, origin)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	if skey2 != skey || vkey2 != vkey {
		t.Errorf("second start gave another key: %q, want %q", vkey2, vkey)
	}

	// The key signs checkpoints that open with its verifier key.
	c := proof.Checkpoint{Origin: origin, Size: 1, Root: someRoot, Time: time.Now()}
	if _, err := proof.OpenCheckpoint(sign(t, skey2, c), vkey); err != nil {
		t.Errorf("a checkpoint signed with the loaded key: %v", err)
	}
}

func TestLoadOrCreateKeyRefusesAKeyItShouldNotUse(t *testing.T) {
	otherSkey, _ := newKey(t, "example.com/another-log")
	cases := []struct {
		name    string
		keyName string
		setup   func(t *testing.T, dir string)
		wantIn  string
	}{
		{"a key of another name", origin, func(t *testing.T, dir string) {
			writeKey(t, dir, otherSkey+"\n", 0o600)
		}, "another-log"},
		{"a key that is not a key", origin, func(t *testing.T, dir string) {
			writeKey(t, dir, "PRIVATE+KEY+garbage\n", 0o600)
		}, "not a note signer key"},
		{"an empty key file", origin, func(t *testing.T, dir string) {
			writeKey(t, dir, "", 0o600)
		}, "not a note signer key"},
		{"a key readable by others", origin, func(t *testing.T, dir string) {
			skey, _ := newKey(t, origin)
			writeKey(t, dir, skey+"\n", 0o644)
		}, "readable by others"},
		{"a name with a space", "my log", func(t *testing.T, dir string) {}, "key name"},
		{"a name with a plus", "log+1", func(t *testing.T, dir string) {}, "key name"},
		{"an empty name", "", func(t *testing.T, dir string) {}, "key name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantIn == "readable by others" && runtime.GOOS == "windows" {
				t.Skip("no Unix permissions")
			}
			dir := t.TempDir()
			tc.setup(t, dir)
			skey, _, err := proof.LoadOrCreateKey(dir, tc.keyName)
			if err == nil || !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("LoadOrCreateKey = %q, %v; want an error saying %q", skey, err, tc.wantIn)
			}
		})
	}
}

func writeKey(t *testing.T, dir, content string, mode os.FileMode) {
	t.Helper()
	path := filepath.Join(dir, proof.KeyFile)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func TestLoadKeyFileReadsAKeyTheOperatorGives(t *testing.T) {
	skey, vkey := newKey(t, origin)
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		ok      bool
	}{
		{"the key alone", skey, true},
		{"the key with spaces and newlines around it", "\n  " + skey + "\r\n\n", true},
		{"two keys", skey + "\n" + skey + "\n", false},
		{"a verifier key", vkey + "\n", false},
		{"a large file", strings.Repeat("x", 5000), false},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "key"+string(rune('a'+i)))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			gotS, gotV, err := proof.LoadKeyFile(path)
			if !tc.ok {
				if err == nil {
					t.Errorf("LoadKeyFile = %q, want an error", gotV)
				}
				return
			}
			if err != nil || gotS != skey || gotV != vkey {
				t.Errorf("LoadKeyFile = %q, %q, %v; want the key and %q", gotS, gotV, err, vkey)
			}
		})
	}
	if _, _, err := proof.LoadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadKeyFile of a missing file: got %v, want a not-exist error", err)
	}
}

func TestASignatureByOneKeyDoesNotOpenWithAnother(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	skeyA, vkeyA, err := proof.LoadOrCreateKey(dirA, origin)
	if err != nil {
		t.Fatal(err)
	}
	skeyB, vkeyB, err := proof.LoadOrCreateKey(dirB, origin)
	if err != nil {
		t.Fatal(err)
	}
	if vkeyA == vkeyB {
		t.Fatalf("two data directories got the same key %q", vkeyA)
	}
	c := proof.Checkpoint{Origin: origin, Size: 9, Root: someRoot, Time: time.Now()}
	for _, tc := range []struct {
		name       string
		skey, vkey string
		want       error
	}{
		{"A's signature with A's key", skeyA, vkeyA, nil},
		{"B's signature with B's key", skeyB, vkeyB, nil},
		{"A's signature with B's key", skeyA, vkeyB, proof.ErrUnknownKey},
		{"B's signature with A's key", skeyB, vkeyA, proof.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := proof.OpenCheckpoint(sign(t, tc.skey, c), tc.vkey)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("OpenCheckpoint = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDerivedKeysAreTheKeysAndThePurposes(t *testing.T) {
	skeyA, _ := newKey(t, origin)
	skeyB, _ := newKey(t, origin)
	a, again, b := newSigner(t, skeyA), newSigner(t, skeyA), newSigner(t, skeyB)
	tokens := a.DeriveKey("token secrets")
	if len(tokens) != 32 {
		t.Fatalf("a derived key of %d bytes, want 32", len(tokens))
	}
	if !bytes.Equal(again.DeriveKey("token secrets"), tokens) {
		t.Error("two signers of one key derive different keys for one purpose: servers of one ledger would disagree")
	}
	if bytes.Equal(b.DeriveKey("token secrets"), tokens) {
		t.Error("two signing keys derive the same key")
	}
	if bytes.Equal(a.DeriveKey("another purpose"), tokens) {
		t.Error("two purposes derive the same key")
	}
	parts := strings.SplitN(skeyA, "+", 5)
	seed, _ := base64.StdEncoding.DecodeString(parts[4])
	if bytes.Contains(seed, tokens) {
		t.Error("the derived key is the signing key")
	}
}
