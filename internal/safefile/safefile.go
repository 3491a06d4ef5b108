// Package safefile is the one way the ledger's commands write files: never
// through a link someone planted, never half-written where a reader looks,
// readable by the owner only unless asked otherwise.
//
// A file is written under a temporary name made exclusively in the target's
// directory (O_CREATE|O_EXCL, which fails on any existing name, a link
// included), synced, then renamed over the target: a link at the target's
// name is replaced, not written through, and a crash leaves either the old
// file or the new one.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
)

// File is a file being written; the target appears only on Commit.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing the file at path with mode perm (0600 when perm is
// 0). Commit it when written; Abort (or a failed Commit) removes it.
func Create(path string, perm os.FileMode) (*File, error) {
	if perm == 0 {
		perm = 0o600
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f, path: path}, nil
}

// Commit syncs the file, closes it and renames it to its target, then
// syncs the directory so the rename survives a crash.
func (f *File) Commit() error {
	if f.done {
		return errors.New("safefile: already committed or aborted")
	}
	f.done = true
	tmp := f.Name()
	err := errors.Join(f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return syncDir(filepath.Dir(f.path))
}

// Abort drops the file; the target is left as it was. It does nothing after
// Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// Write writes the file at path with mode perm (0600 when 0) from what fill
// writes, as Create and Commit do.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fill(f); err != nil {
		return err
	}
	return f.Commit()
}

// WriteBytes writes data to the file at path, as Write does.
func WriteBytes(path string, perm os.FileMode, data []byte) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// ErrNotEmpty is returned by PrepareDir for a directory that already holds
// files, when it may not overwrite them.
var ErrNotEmpty = errors.New("the directory is not empty")

// PrepareDir makes dir ready to receive new files: it creates it (mode
// 0700) when missing, refuses a dir that is a link, and refuses one that
// holds anything unless overwrite is true.
func PrepareDir(dir string, overwrite bool) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; name the directory itself", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	if overwrite {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%w: %s holds %d entries", ErrNotEmpty, dir, len(entries))
	}
	return nil
}

// syncDir makes a rename in dir durable. Some systems cannot sync a
// directory; the rename is then as durable as they make it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
