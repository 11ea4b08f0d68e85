package importbench

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"
)

// readersPy holds the Python readers (pydicom and GDCM's binding); it is
// run with python -c so that nothing has to be installed beside the bench.
//
//go:embed readers/readers.py
var readersPy string

// gdcmReadCC is the C++ GDCM reader, compiled on first use into the cache.
//
//go:embed readers/gdcm_read.cc
var gdcmReadCC string

// sample is one measured run of one reader.
type sample struct {
	seconds float64 // reading time, measured inside the reader
	wall    float64 // the child process from start to exit; 0 in-process
	cpu     float64 // user + system CPU seconds over the same span as seconds, all threads
	peak    uint64  // bytes: the child's peak RSS, or in-process the peak live heap above the baseline
	rusage  uint64  // bytes: the child's ru_maxrss from wait4 (inflated on Linux: see the package doc)
	alloc   uint64  // in-process only: bytes allocated by the import
	digest  Digest
	err     error // in-process only: the import failed (child readers fail the run instead)
}

// env is what readers need from the run.
type env struct {
	python   string
	self     []string
	cache    string
	gdcmBin  string            // set by the gdcm-cxx reader's prepare
	versions map[string]string // library versions the base runs report
}

// reader is one way of reading the series. A child reader gives argv for
// a series folder or for "-base" (start, load libraries, read nothing: the
// floor under its peak RSS); the in-process reader measures itself.
type reader struct {
	Name string
	Mem  string // "rss" (a child's peak RSS, VmHWM) or "heap" (in-process peak live heap)
	How  string // how it reads, for the table's notes
	Hint string // what to install when it cannot run

	prepare func(ctx context.Context, e *env) error      // optional: build or check
	argv    func(e *env, arg string) []string            // child readers
	inproc  func(ctx context.Context, dir string) sample // the in-process reader
}

// readers lists the readers in table order: ctlens first (the reference
// every other digest must equal), then GDCM's C++ API and its Python
// binding, then pydicom as a careful user and as a typical one.
var readers = []reader{
	{
		Name: "ctlens", Mem: "rss",
		How:  "dicomread.Open + dicomread.Import in a child process (this binary, re-executed)",
		argv: func(e *env, arg string) []string { return append(append([]string{}, e.self...), ChildCommand, arg) },
	},
	{
		Name: "ctlens-inproc", Mem: "heap",
		How:    "the same import inside the bench process; memory is the peak live heap above the baseline (runtime/metrics, sampled), not RSS",
		inproc: importInProcess,
	},
	{
		Name: "gdcm-cxx", Mem: "rss", Hint: "apt-get install g++ libgdcm-dev",
		How:     "GDCM's C++ API: IPPSorter, then ImageReader per file decoding into one int16 buffer (readers/gdcm_read.cc, g++ -O2)",
		prepare: buildGDCM,
		argv:    func(e *env, arg string) []string { return []string{e.gdcmBin, arg} },
	},
	{
		Name: "gdcm-py", Mem: "rss", Hint: "apt-get install python3-gdcm python3-numpy (Debian's /usr/bin/python3; see -python)",
		How:  "GDCM's Python binding: IPPSorter, ImageReader per file, GetBuffer into numpy, into one int16 array (readers/readers.py)",
		argv: pyArgv("gdcm-py"),
	},
	{
		Name: "pydicom-2pass", Mem: "rss", Hint: "apt-get install python3-pydicom python3-numpy (Debian's /usr/bin/python3; see -python)",
		How:  "pydicom + numpy at their leanest: dcmread(stop_before_pixels) header pass, sort, then pixel_array per file into one int16 array",
		argv: pyArgv("pydicom-2pass"),
	},
	{
		Name: "pydicom-typical", Mem: "rss", Hint: "apt-get install python3-pydicom python3-numpy (Debian's /usr/bin/python3; see -python)",
		How:  "pydicom + numpy as tutorials teach: dcmread every file into a list, sort, np.stack(pixel_array).astype(int16), rescale",
		argv: pyArgv("pydicom-typical"),
	},
}

func pyArgv(mode string) func(e *env, arg string) []string {
	return func(e *env, arg string) []string { return []string{e.python, "-c", readersPy, mode, arg} }
}

// ReaderNames lists the readers' names in table order.
func ReaderNames() []string {
	var n []string
	for _, r := range readers {
		n = append(n, r.Name)
	}
	return n
}

// runChild runs one reader process and decodes its JSON line. Its peak
// RSS is the VmHWM it reports itself; wait4's ru_maxrss is kept beside it
// and used only where a reader cannot report (no /proc).
func runChild(ctx context.Context, r *reader, argv []string) (childResult, sample, error) {
	var out childResult
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	wall := time.Since(t0).Seconds()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "…" + msg[len(msg)-2000:]
		}
		hint := ""
		if r.Hint != "" && (errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || strings.Contains(msg, "No module named")) {
			hint = "\nhint: " + r.Hint + ", or leave " + r.Name + " out with -readers"
		}
		return out, sample{}, fmt.Errorf("bench: %s: %v\n%s%s", r.Name, err, msg, hint)
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, sample{}, fmt.Errorf("bench: %s: output is not the expected JSON line: %v\n%.500s", r.Name, err, stdout.String())
	}
	smp := sample{seconds: out.Seconds, wall: wall, cpu: out.CPUSeconds, peak: out.VmHWMKiB << 10, rusage: maxRSS(cmd.ProcessState), digest: out.Digest}
	if smp.peak == 0 {
		smp.peak = smp.rusage
	}
	return out, smp, nil
}

// importInProcess imports dir in this process. Its CPU time includes the
// heap sampler's, a few percent. Peak memory is the live
// heap (/memory/classes/heap/objects:bytes) sampled every half millisecond,
// above what was live before; it leaves out GC slack and the runtime,
// which the child's RSS includes, so the two rows together show how much
// of ctlens's RSS is garbage awaiting collection.
func importInProcess(ctx context.Context, dir string) sample {
	runtime.GC()
	debug.FreeOSMemory() // return the last run's volume, so runs start alike
	ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(ms)
	base, alloc0 := ms[0].Value.Uint64(), ms[1].Value.Uint64()
	done, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var p uint64
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			p = max(p, s[0].Value.Uint64())
			select {
			case <-done:
				peakc <- p
				return
			case <-tick.C:
			}
		}
	}()
	t0, c0 := time.Now(), processCPU()
	v, err := importDir(ctx, dir)
	sec, cpu := time.Since(t0).Seconds(), processCPU()-c0
	close(done)
	p := <-peakc
	metrics.Read(ms)
	p = max(p, ms[0].Value.Uint64())
	if err != nil {
		return sample{seconds: sec, err: err} // reported by the agreement check
	}
	return sample{seconds: sec, cpu: cpu, peak: p - min(p, base), alloc: ms[1].Value.Uint64() - alloc0, digest: digestOf(v.Voxels, v.Dims)}
}

// heapNow is the live heap, the in-process reader's baseline.
func heapNow() uint64 {
	runtime.GC()
	ms := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(ms)
	return ms[0].Value.Uint64()
}

// buildGDCM compiles readers/gdcm_read.cc against the system GDCM into the
// cache, once per source, compiler and header folder.
func buildGDCM(ctx context.Context, e *env) error {
	const hint = "hint: apt-get install g++ libgdcm-dev, or leave gdcm-cxx out with -readers"
	cxx, err := exec.LookPath("g++")
	if err != nil {
		if cxx, err = exec.LookPath("c++"); err != nil {
			return fmt.Errorf("bench: gdcm-cxx: no C++ compiler (g++ or c++) on PATH\n%s", hint)
		}
	}
	incs, _ := filepath.Glob("/usr/include/gdcm-*/gdcmImageReader.h")
	if len(incs) == 0 {
		return fmt.Errorf("bench: gdcm-cxx: GDCM headers not found under /usr/include/gdcm-*\n%s", hint)
	}
	inc := filepath.Dir(incs[len(incs)-1])
	h := sha256.Sum256([]byte(gdcmReadCC + "\x00" + cxx + "\x00" + inc))
	dir := filepath.Join(e.cache, "gdcm_read-"+hex.EncodeToString(h[:6]))
	bin := filepath.Join(dir, "gdcm_read")
	if _, err := os.Stat(bin); err == nil {
		e.gdcmBin = bin
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: gdcm-cxx: %w", err)
	}
	src := filepath.Join(dir, "gdcm_read.cc")
	if err := os.WriteFile(src, []byte(gdcmReadCC), 0o644); err != nil {
		return fmt.Errorf("bench: gdcm-cxx: %w", err)
	}
	tmp := bin + ".tmp"
	cmd := exec.CommandContext(ctx, cxx, "-O2", "-std=c++17", "-I"+inc, src, "-o", tmp,
		"-lgdcmMSFF", "-lgdcmDSED", "-lgdcmCommon")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: gdcm-cxx: compiling %s: %v\n%s\n%s", src, err, out, hint)
	}
	if err := os.Rename(tmp, bin); err != nil { // whole or absent, like the series cache
		return fmt.Errorf("bench: gdcm-cxx: %w", err)
	}
	e.gdcmBin = bin
	return nil
}
