package safefile

import (
	"fmt"
	"os"
)

// OpenRegular opens the file at path with flag (os.O_RDONLY, os.O_RDWR…;
// never os.O_CREATE) without following a link there, and refuses anything
// but a regular file.
func OpenRegular(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|noFollow, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err == nil && noFollow == 0 {
		// Without O_NOFOLLOW, the name must still be the file opened.
		var named os.FileInfo
		if named, err = os.Lstat(path); err == nil && !os.SameFile(info, named) {
			err = fmt.Errorf("%s is a link", path)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
