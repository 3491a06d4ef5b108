package safefile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

func TestWriteReplacesALinkInsteadOfFollowingIt(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.txt")
	if err := os.Symlink(victim, path); err != nil {
		t.Fatal(err)
	}
	if err := safefile.WriteBytes(path, 0, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Fatalf("the link's target now holds %q", b)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the file is %v; want a regular file with mode 0600", fi.Mode())
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("the file holds %q", b)
	}
}

func TestAFailedWriteLeavesTheOldFileAndNoTemporaryOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := safefile.WriteBytes(path, 0o644, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := safefile.Write(path, 0, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want the fill's error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("the file holds %q; want the old content", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v; want the asked 0644 kept", fi.Mode())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the directory holds %d entries; want only the file", len(entries))
	}
}

func TestPrepareDir(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh")
	if err := safefile.PrepareDir(fresh, false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("a created directory is %v (%v); want mode 0700", fi.Mode(), err)
	}
	if err := safefile.PrepareDir(fresh, false); err != nil {
		t.Fatalf("an empty directory is refused: %v", err)
	}
	if err := os.WriteFile(filepath.Join(fresh, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := safefile.PrepareDir(fresh, false); !errors.Is(err, safefile.ErrNotEmpty) {
		t.Fatalf("a directory holding a file: %v; want ErrNotEmpty", err)
	}
	if err := safefile.PrepareDir(fresh, true); err != nil {
		t.Fatalf("with overwrite: %v", err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(fresh, link); err != nil {
		t.Fatal(err)
	}
	if err := safefile.PrepareDir(link, true); err == nil {
		t.Fatal("a directory named through a link was accepted")
	}
}

func TestOpenRegularRefusesALinkAndADirectory(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	f, err := safefile.OpenRegular(target, os.O_RDWR)
	if err != nil {
		t.Fatalf("a regular file: %v", err)
	}
	f.Close()
	for _, path := range []string{link, dir} {
		if f, err := safefile.OpenRegular(path, os.O_RDWR); !errors.Is(err, safefile.ErrNotRegular) {
			if err == nil {
				f.Close()
			}
			t.Errorf("OpenRegular(%s): %v, want ErrNotRegular", filepath.Base(path), err)
		}
	}
	if _, err := safefile.OpenRegular(filepath.Join(dir, "missing"), os.O_RDONLY); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenRegular of nothing: %v, want fs.ErrNotExist", err)
	}
}

func TestADirectoryIsLockedByOneHolderAtATime(t *testing.T) {
	dir := t.TempDir()
	release, err := safefile.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := safefile.LockDir(dir); err == nil {
		again()
		t.Fatal("a locked directory was locked again")
	}
	release()
	again, err := safefile.LockDir(dir)
	if err != nil {
		t.Fatalf("after its release: %v", err)
	}
	again()
}
