package bench

import (
	"fmt"
	"os"
	"time"
)

// probeDisk measures the disk's own limit for what JetStream does with
// SyncAlways: one writer appending size bytes to a file in dir and syncing it
// after every write, for d. It returns the writes per second.
func probeDisk(dir string, size int, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = 'x'
	}
	var n int
	start := time.Now()
	for time.Since(start) < d {
		if _, err := f.Write(buf); err != nil {
			return 0, fmt.Errorf("disk probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("disk probe: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
