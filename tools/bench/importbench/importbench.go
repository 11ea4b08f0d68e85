// Package importbench measures ctlens's DICOM import (ctlens/volume) against
// third-party readers on the same phantom series, in one run: the library
// behind `go run ./tools/bench import`.
//
// What it owns: a cached phantom series (tools/phantom/synth), the readers
// (ctlens in a child process and in-process; GDCM through its C++ API and
// its Python binding; pydicom + numpy written carefully and written the way
// tutorials teach), their alternation, the agreement check and the table.
// What it never does: change how any reader reads, or report a number from
// a reader whose volume differs from ctlens's.
//
// # How a reader is measured
//
// Each child reader is one process per run. It prints one JSON line: the
// seconds it spent reading, timed inside (interpreter start-up and library
// loading are not charged); a Digest of the int16 HU volume it built,
// computed after its clock stopped; and, read last, its peak RSS: VmHWM
// from its own /proc/self/status, so Go, CPython and C++ are compared by the
// same meter. Before each run the reader also runs with -base (start, load
// libraries, read nothing): the median of those is the floor under its
// memory. Each reader also reports the CPU time (user + system, all
// threads) of its reading span, which other jobs on the cores disturb far
// less than the time. The in-process ctlens row reports the peak live heap
// instead, which shows how much of the child's RSS is the runtime and
// garbage awaiting collection.
//
// Why not wait4's ru_maxrss: on Linux a child's ru_maxrss starts from its
// parent's RSS high-water mark. Go starts children with vfork sharing the
// parent's address space, and exec folds the old address space's high-water
// mark into the process's maxrss; a plain fork copies the mark as well.
// Measured here: a python3 child whose VmHWM was 9 MiB got ru_maxrss
// 303 MiB from wait4 while its Go parent held 300 MiB, and /bin/sh (VmHWM
// 2 MiB) forked and exec'd by a Python parent holding 300 MiB got 305 MiB.
// After the in-process import the bench has held a volume, so every later
// child would be charged for it. ru_maxrss is
// still recorded (rusage_max_mib in -json) and used where there is no /proc.
//
// Runs alternate: round r runs every reader once, starting at reader r, so
// machine noise (other jobs on shared cores) spreads over all readers rather
// than landing on one. The table gives the median and the min–max spread.
//
// # Units
//
// MB/s is file bytes (10^6) read per second of median time; slices/s is
// slices per second; memory is MiB (2^20 bytes); "÷ vol" divides by the
// int16 volume's own size, X·Y·Z·2 bytes.
package importbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"ctlens/tools/phantom/synth"
)

// Config says what to measure. Size, Seed, Dir, Runs and Self are required.
type Config struct {
	Size synth.Size
	Seed uint64
	// Dir caches the phantom series and the compiled GDCM reader.
	Dir  string
	Runs int // runs per reader
	// Readers names the readers to run, in any order; nil runs them all.
	// ctlens is always run: it is the reference the others must equal.
	Readers []string
	// Python is the interpreter with pydicom, numpy and gdcm; "" means
	// Debian's /usr/bin/python3 (a python3 earlier on PATH, pyenv's say,
	// usually lacks the Debian packages).
	Python string
	// Self is the command that runs this binary; ChildCommand and its
	// arguments are appended to it.
	Self []string
	Log  io.Writer // progress; nil discards it
}

// Report is one benchmark run: what was read, on what, and the rows.
type Report struct {
	Series   *Series           `json:"series"`
	Host     Host              `json:"host"`
	Versions map[string]string `json:"versions"` // as the readers report them
	Runs     int               `json:"runs"`
	// MeanHU and MD5 are of ctlens's volume (see Digest), which every run
	// of every reader matched.
	MeanHU float64 `json:"mean_hu"`
	MD5    string  `json:"md5"`
	Rows   []Row   `json:"rows"`
	Goals  []Goal  `json:"goals"`
}

// Host describes the machine the numbers come from.
type Host struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	LoadBefore string `json:"load_before"` // /proc/loadavg: 1, 5 and 15 minute averages
	LoadAfter  string `json:"load_after"`
}

// Row is one reader's measurements over all its runs.
type Row struct {
	Reader  string    `json:"reader"`
	How     string    `json:"how"`
	Mem     string    `json:"mem"` // "rss" or "heap": what PeakMiB measures
	Seconds []float64 `json:"seconds"`
	// Median, Min and Max are of Seconds, the reading time of each run.
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// WallMedian is the child process's median life, start-up included.
	WallMedian float64 `json:"wall_median,omitempty"`
	// CPU is the median user + system CPU seconds the reader measured over
	// the same span as Seconds, all its threads: Go's concurrent GC counts,
	// so it can exceed the time. Unlike the times it hardly grows when other
	// jobs share the cores, so it backs the medians up on a loaded machine.
	CPU          float64 `json:"cpu_s"`
	MBps         float64 `json:"mb_per_s"`
	SlicesPerSec float64 `json:"slices_per_s"`
	PeakMiB      float64 `json:"peak_mib"` // the largest over the runs
	BaseMiB      float64 `json:"base_mib"` // the same process reading nothing
	PeakPerVol   float64 `json:"peak_per_volume"`
	// DeltaPerVol is (peak − base) ÷ volume: memory the reading itself took.
	DeltaPerVol float64 `json:"delta_per_volume"`
	// TimeVsCtlens and PeakVsCtlens divide by the ctlens row (>1: this
	// reader is slower or bigger); PeakVsCtlens is 0 for the heap row.
	TimeVsCtlens float64 `json:"time_vs_ctlens"`
	PeakVsCtlens float64 `json:"peak_vs_ctlens,omitempty"`
	AllocMiB     float64 `json:"alloc_mib,omitempty"` // in-process: allocated per import
	// RusageMaxMiB is the largest ru_maxrss wait4 gave, for comparison
	// (an overestimate on Linux: see the package doc).
	RusageMaxMiB float64 `json:"rusage_max_mib,omitempty"`
}

// Goal is one of issue 3's targets and whether this run met it.
type Goal struct {
	Goal   string `json:"goal"`
	Met    bool   `json:"met"`
	Detail string `json:"detail"`
}

// closeToGDCM is what "close to GDCM" is taken to mean: ctlens's median time
// at most this multiple of GDCM's fastest row.
const closeToGDCM = 1.5

// Run generates or reuses the series, prepares every reader, measures them
// in alternating rounds and checks that every run of every reader built the
// same volume as ctlens; any difference is an error, never a row.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	if cfg.Runs < 1 {
		return nil, fmt.Errorf("bench: -runs %d: need at least 1", cfg.Runs)
	}
	if len(cfg.Self) == 0 {
		return nil, fmt.Errorf("bench: Config.Self is empty: the ctlens child needs this binary's path")
	}
	rs, err := pick(cfg.Readers)
	if err != nil {
		return nil, err
	}
	s, err := series(ctx, cfg.Dir, cfg.Size, cfg.Seed, log)
	if err != nil {
		return nil, err
	}
	if err := s.warm(); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if cfg.Python == "" {
		cfg.Python = "/usr/bin/python3"
	}
	e := &env{python: cfg.Python, self: cfg.Self, cache: cfg.Dir, versions: map[string]string{}}
	// base holds each reader's -base runs: one here, which also checks that
	// the reader can start at all, and one per round below.
	base := make([][]sample, len(rs))
	for j, r := range rs {
		if r.prepare != nil {
			fmt.Fprintf(log, "preparing %s …\n", r.Name)
			if err := r.prepare(ctx, e); err != nil {
				return nil, err
			}
		}
		if r.inproc != nil {
			base[j] = append(base[j], sample{peak: heapNow()})
			continue
		}
		out, smp, err := runChild(ctx, r, r.argv(e, "-base"))
		if err != nil {
			return nil, err
		}
		base[j] = append(base[j], smp)
		for k, v := range out.Versions {
			e.versions[k] = v
		}
	}

	rep := &Report{Series: s, Runs: cfg.Runs, Versions: e.versions,
		Host: Host{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), LoadBefore: loadavg()}}
	got := make([][]sample, len(rs))
	for round := range cfg.Runs {
		for i := range rs {
			j := (i + round) % len(rs)
			r := rs[j]
			fmt.Fprintf(log, "round %d/%d: %s …\n", round+1, cfg.Runs, r.Name)
			if r.inproc != nil {
				got[j] = append(got[j], r.inproc(ctx, s.Dir))
				continue
			}
			_, b, err := runChild(ctx, r, r.argv(e, "-base"))
			if err != nil {
				return nil, err
			}
			_, smp, err := runChild(ctx, r, r.argv(e, s.Dir))
			if err != nil {
				return nil, err
			}
			base[j] = append(base[j], b)
			got[j] = append(got[j], smp)
		}
	}
	rep.Host.LoadAfter = loadavg()

	// Agreement: ctlens's first run is the reference; it must have the
	// series' shape, and every run of every reader must equal it.
	ref := got[0][0].digest
	want := [3]int{cfg.Size.Cols, cfg.Size.Rows, cfg.Size.Slices}
	if ref.Dims != want {
		return nil, fmt.Errorf("bench: ctlens read dims %v from a %s series", ref.Dims, cfg.Size)
	}
	var bad []string
	for j, r := range rs {
		for k, smp := range got[j] {
			if smp.err != nil {
				bad = append(bad, fmt.Sprintf("%s run %d: %v", r.Name, k+1, smp.err))
			} else if err := compare(ref, smp.digest); err != nil {
				bad = append(bad, fmt.Sprintf("%s run %d: %v", r.Name, k+1, err))
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("bench: readers disagree with ctlens (mean %.4f HU, md5 %s); no numbers are reported:\n  %s",
			ref.Mean(), ref.MD5, strings.Join(bad, "\n  "))
	}
	rep.MeanHU, rep.MD5 = ref.Mean(), ref.MD5

	for j, r := range rs {
		rep.Rows = append(rep.Rows, row(r, got[j], base[j], s))
	}
	ct := rep.Rows[0]
	for i := range rep.Rows {
		w := &rep.Rows[i]
		w.TimeVsCtlens = w.Median / ct.Median
		if w.Mem == "rss" && ct.PeakMiB > 0 {
			w.PeakVsCtlens = w.PeakMiB / ct.PeakMiB
		}
	}
	rep.Goals = goals(rep)
	return rep, nil
}

// pick returns the named readers in table order, ctlens always first.
func pick(names []string) ([]*reader, error) {
	want := map[string]bool{"ctlens": true}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !slices.Contains(ReaderNames(), n) {
			return nil, fmt.Errorf("bench: unknown reader %q; choose from %s", n, strings.Join(ReaderNames(), ","))
		}
		want[n] = true
	}
	var rs []*reader
	for i := range readers {
		if names == nil || want[readers[i].Name] {
			rs = append(rs, &readers[i])
		}
	}
	return rs, nil
}

// row summarises one reader's samples.
func row(r *reader, smp, bases []sample, s *Series) Row {
	w := Row{Reader: r.Name, How: r.How, Mem: r.Mem}
	// The memory floor is the median of the -base runs: start-up varies a
	// little from run to run.
	var bpeaks []float64
	for _, b := range bases {
		bpeaks = append(bpeaks, float64(b.peak))
	}
	base := uint64(median(bpeaks))
	var walls, cpus []float64
	var peak, alloc, ru uint64
	for _, x := range smp {
		ru = max(ru, x.rusage)
		w.Seconds = append(w.Seconds, x.seconds)
		if x.wall > 0 {
			walls = append(walls, x.wall)
		}
		cpus = append(cpus, x.cpu)
		peak = max(peak, x.peak)
		alloc = max(alloc, x.alloc)
	}
	w.Median, w.Min, w.Max = median(w.Seconds), slices.Min(w.Seconds), slices.Max(w.Seconds)
	w.WallMedian, w.CPU = median(walls), median(cpus)
	w.MBps = float64(s.Bytes) / w.Median / 1e6
	w.SlicesPerSec = float64(s.Files) / w.Median
	w.PeakMiB, w.BaseMiB = mib(peak), mib(base)
	w.PeakPerVol = float64(peak) / float64(s.VolumeBytes)
	if r.Mem == "heap" {
		// The heap row's peak is already above its baseline.
		w.DeltaPerVol = w.PeakPerVol
	} else {
		w.DeltaPerVol = float64(peak-min(peak, base)) / float64(s.VolumeBytes)
	}
	w.AllocMiB, w.RusageMaxMiB = mib(alloc), mib(ru)
	return w
}

// goals checks issue 3's three targets against the rows present.
func goals(rep *Report) []Goal {
	byName := map[string]Row{}
	for _, w := range rep.Rows {
		byName[w.Reader] = w
	}
	ct := byName["ctlens"]
	var gs []Goal
	var py []string
	fastest := true
	for _, n := range []string{"pydicom-2pass", "pydicom-typical"} {
		if w, ok := byName[n]; ok {
			py = append(py, fmt.Sprintf("%s %.3f s, cpu %.3f s (%.1f× ctlens)", n, w.Median, w.CPU, w.TimeVsCtlens))
			fastest = fastest && ct.Median < w.Median
		}
	}
	if len(py) > 0 {
		gs = append(gs, Goal{"faster than pydicom", fastest,
			fmt.Sprintf("ctlens %.3f s, cpu %.3f s; %s", ct.Median, ct.CPU, strings.Join(py, "; "))})
	}
	var best *Row
	var gd []string
	for _, n := range []string{"gdcm-cxx", "gdcm-py"} {
		if w, ok := byName[n]; ok {
			gd = append(gd, fmt.Sprintf("%s %.3f s, cpu %.3f s (ctlens takes %.2f× its time)", n, w.Median, w.CPU, ct.Median/w.Median))
			if best == nil || w.Median < best.Median {
				best = &w
			}
		}
	}
	if best != nil {
		gs = append(gs, Goal{fmt.Sprintf("close to GDCM (≤ %.1f× its fastest row)", closeToGDCM), ct.Median <= closeToGDCM*best.Median,
			fmt.Sprintf("ctlens %.3f s, cpu %.3f s; %s", ct.Median, ct.CPU, strings.Join(gd, "; "))})
	}
	detail := fmt.Sprintf("ctlens peak RSS %.1f MiB = %.2f× the %.1f MiB int16 volume (%.2f× above its %.1f MiB base)",
		ct.PeakMiB, ct.PeakPerVol, mib(uint64(rep.Series.VolumeBytes)), ct.DeltaPerVol, ct.BaseMiB)
	if w, ok := byName["ctlens-inproc"]; ok {
		detail += fmt.Sprintf("; in-process peak live heap %.2f× the volume", w.PeakPerVol)
	}
	gs = append(gs, Goal{"peak memory < 2× the int16 volume", ct.PeakPerVol < 2, detail})
	return gs
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(x))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// loadavg returns the 1, 5 and 15 minute load averages, or "?" off Linux.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
