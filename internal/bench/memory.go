package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Memory is what the process held at one moment, in bytes.
type Memory struct {
	// PeakRSS is the process's peak resident set (VmHWM) since PeakFrom,
	// and RSS its resident set (VmRSS) at the moment; 0 where the platform
	// does not tell (they come from /proc/self/status).
	PeakRSS uint64 `json:"peak_rss_bytes"`
	RSS     uint64 `json:"rss_bytes"`
	// PeakFrom says what PeakRSS covers: "open" when the peak was reset
	// right before the ledger was opened, "process" when it could not be
	// and covers the whole run (generation included).
	PeakFrom string `json:"peak_from"`
	// HeapInuse is the Go heap's in-use spans at the moment, and HeapLive
	// the bytes still reachable after a forced collection right after.
	HeapInuse uint64 `json:"heap_inuse_bytes"`
	HeapLive  uint64 `json:"heap_live_bytes"`
	// Sys is the memory the Go runtime has obtained from the system.
	Sys uint64 `json:"go_sys_bytes"`
}

// releaseMemory collects the garbage and returns what it can to the system,
// so the next peak belongs to what follows.
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// resetPeakRSS makes the kernel's peak resident set of this process start
// again from its current resident set. It returns false where it cannot.
func resetPeakRSS() bool {
	// "5" resets the peak RSS (Linux 4.0 and later).
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procMemory returns the peak and current resident set of this process, or
// zeros where /proc/self/status does not tell.
func procMemory() (peak, rss uint64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		f := strings.Fields(value) // "123456 kB"
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if name == "VmHWM" {
			peak = kb << 10
		} else {
			rss = kb << 10
		}
	}
	return peak, rss
}

// measureMemory reads the process's memory now: the resident sets first,
// then the heap, then the live heap after a forced collection.
func measureMemory(peakFrom string) Memory {
	m := Memory{PeakFrom: peakFrom}
	m.PeakRSS, m.RSS = procMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.HeapInuse, m.Sys = ms.HeapInuse, ms.Sys
	runtime.GC()
	runtime.ReadMemStats(&ms)
	m.HeapLive = ms.HeapAlloc
	return m
}

// String describes the memory for people.
func (m Memory) String() string {
	return fmt.Sprintf("peak RSS %.0f MiB (since %s), RSS %.0f MiB, Go heap in use %.0f MiB, live %.0f MiB, Go runtime total %.0f MiB",
		mib(m.PeakRSS), m.PeakFrom, mib(m.RSS), mib(m.HeapInuse), mib(m.HeapLive), mib(m.Sys))
}

func mib(b uint64) float64 { return round(float64(b)/(1<<20), 1) }
