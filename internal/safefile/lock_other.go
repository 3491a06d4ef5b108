//go:build !unix

package safefile

// LockFile is the name of the lock LockDir takes in a directory.
const LockFile = "roadmap.lock"

// LockDir takes no lock on systems without flock: one process a data
// directory is then the operator's to keep.
func LockDir(dir string) (release func(), err error) { return func() {}, nil }
