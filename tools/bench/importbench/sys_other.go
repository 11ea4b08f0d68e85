//go:build !linux && !darwin

package importbench

import "os"

// maxRSS is unknown here: 0 makes the table print "?" instead of a
// misleading number.
func maxRSS(*os.ProcessState) uint64 { return 0 }

// processCPU is unknown here; 0 prints as "–".
func processCPU() float64 { return 0 }
