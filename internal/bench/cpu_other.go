//go:build !unix

package bench

import "time"

// processCPU returns 0: this platform does not tell the bench its CPU time.
func processCPU() time.Duration { return 0 }
