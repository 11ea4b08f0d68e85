//go:build linux

package importbench

import (
	"os"
	"syscall"
)

// maxRSS is the child's maximum resident set size in bytes, from the
// rusage wait4 returned for it (getrusage(2): ru_maxrss is in KiB on Linux).
func maxRSS(ps *os.ProcessState) uint64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return uint64(ru.Maxrss) * 1024
	}
	return 0
}

// processCPU is the user + system CPU time this process has used, all
// threads (the Go GC's included), in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
