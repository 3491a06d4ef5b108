package safefile

import (
	"errors"
	"fmt"
	"os"
)

// ErrNotRegular is OpenRegular's error for a path that names a link, a
// directory or anything else but a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens the file at path with flag (os.O_RDONLY, os.O_RDWR…;
// never os.O_CREATE) without following a link there. It returns an error
// wrapping ErrNotRegular for anything but a regular file, and the open's
// own error otherwise (fs.ErrNotExist when there is nothing).
func OpenRegular(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|noFollow, 0)
	if err != nil {
		// O_NOFOLLOW refuses a link with an error that differs from one
		// system to another: the name itself says what it is.
		if named, lerr := os.Lstat(path); lerr == nil && !named.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s", ErrNotRegular, path)
		}
		return nil, err
	}
	info, err := f.Stat()
	switch {
	case err != nil:
	case !info.Mode().IsRegular():
		err = fmt.Errorf("%w: %s", ErrNotRegular, path)
	default:
		// Without O_NOFOLLOW, or with a name replaced meanwhile, the name
		// must still be the file opened.
		if named, lerr := os.Lstat(path); lerr != nil || !os.SameFile(info, named) {
			err = fmt.Errorf("%w: %s changed while it was opened", ErrNotRegular, path)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
