//go:build darwin

package importbench

import (
	"os"
	"syscall"
)

// maxRSS is the child's maximum resident set size in bytes (ru_maxrss is
// already in bytes on macOS).
func maxRSS(ps *os.ProcessState) uint64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return uint64(ru.Maxrss)
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
