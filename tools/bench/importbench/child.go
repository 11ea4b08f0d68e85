package importbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// ChildCommand is the hidden subcommand under which a binary built with this
// package imports one series and prints a childResult: the bench re-executes
// itself with it so that ctlens, like the Python and C++ readers, runs in a
// process of its own whose maximum RSS the kernel reports. A binary (the
// bench, or a test binary in TestMain) must hand its arguments to ChildMain
// when os.Args[1] is ChildCommand.
const ChildCommand = "__import-child"

// childResult is the one JSON line every reader's process prints: the time
// it spent reading, measured inside (so start-up is not charged), and the
// digest of what it read, computed after the clock stopped, and its own
// peak RSS. A baseline run (-base) prints only Base, Versions and VmHWMKiB.
type childResult struct {
	Base    bool    `json:"base,omitempty"`
	Seconds float64 `json:"seconds"`
	// CPUSeconds is the process's user + system CPU time over the same
	// span as Seconds, all threads.
	CPUSeconds float64           `json:"cpu_seconds"`
	Versions   map[string]string `json:"versions,omitempty"`
	// VmHWMKiB is the process's peak RSS as its own /proc/self/status
	// reports it at the end (0 where there is no /proc).
	VmHWMKiB uint64 `json:"vmhwm_kib"`
	Digest
}

// ChildMain runs the child: args are DIR (import the series in DIR) or
// -base (load, import nothing). It writes one JSON line to stdout.
func ChildMain(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: want DIR or -base, got %q", ChildCommand, args)
	}
	versions := map[string]string{"go": runtime.Version()}
	if args[0] == "-base" {
		return json.NewEncoder(stdout).Encode(childResult{Base: true, Versions: versions, VmHWMKiB: vmhwm()})
	}
	t0, c0 := time.Now(), processCPU()
	v, err := importDir(ctx, args[0])
	if err != nil {
		return err
	}
	sec, cpu := time.Since(t0).Seconds(), processCPU()-c0
	d := digestOf(v.Voxels, v.Dims)
	return json.NewEncoder(stdout).Encode(childResult{Seconds: sec, CPUSeconds: cpu, Versions: versions, Digest: d, VmHWMKiB: vmhwm()})
}

// vmhwm returns this process's peak RSS in KiB from /proc/self/status
// (VmHWM), or 0 where there is no /proc.
func vmhwm() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// importDir is what the benchmark times for ctlens: open the folder, then
// dicomread.Import (header pass, grouping, pixel pass into one int16 buffer).
// Anything but exactly one clean single-phase volume is an error, so a
// reader that silently drops files cannot look fast.
func importDir(ctx context.Context, dir string) (*volume.Volume, error) {
	fsys, closer, err := dicomread.Open(dir)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	res, err := dicomread.Import(ctx, fsys, nil)
	if err != nil {
		return nil, err
	}
	if len(res.Errors) > 0 {
		return nil, fmt.Errorf("ctlens: %s: %d file errors, first: %v", dir, len(res.Errors), res.Errors[0])
	}
	if len(res.Volumes) != 1 || res.Volumes[0] == nil || res.Volumes[0].Phases != 1 {
		return nil, fmt.Errorf("ctlens: %s: want one single-phase volume, got %d series", dir, len(res.Volumes))
	}
	return res.Volumes[0], nil
}
