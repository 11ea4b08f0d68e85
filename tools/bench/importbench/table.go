package importbench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report as ggml's perf mode would: one line per
// reader with throughput and memory, then what was read, whether the
// readers agreed, the goals, and how each reader was measured.
func WriteTable(w io.Writer, rep *Report) error {
	s := rep.Series
	fmt.Fprintf(w, "import benchmark: %s phantom (seed %d), %d files, %.1f MB; int16 volume %.1f MiB\n",
		s.Size, s.Seed, s.Files, float64(s.Bytes)/1e6, mib(uint64(s.VolumeBytes)))
	fmt.Fprintf(w, "series: %s (read once before timing: page cache warm)\n", s.Dir)
	var vs []string
	for _, k := range slices.Sorted(maps.Keys(rep.Versions)) {
		vs = append(vs, k+" "+rep.Versions[k])
	}
	fmt.Fprintf(w, "host: %d CPUs, GOMAXPROCS %d, load %s before, %s after; %s\n",
		rep.Host.CPUs, rep.Host.GOMAXPROCS, rep.Host.LoadBefore, rep.Host.LoadAfter, strings.Join(vs, ", "))
	fmt.Fprintf(w, "runs: %d per reader, alternating (round r starts at reader r); time is the reading itself, measured inside each reader\n\n", rep.Runs)

	// Numbers align right; names are padded by hand to align left.
	width := len("reader")
	for _, r := range rep.Rows {
		width = max(width, len(r.Reader+" (heap)"))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s\truns\tmedian s\tmin–max s\tcpu s\tMB/s\tslices/s\tpeak MiB\tbase MiB\tpeak÷vol\tΔ÷vol\ts÷ctlens\tpeak÷ctlens\t\n", width, "reader")
	for _, r := range rep.Rows {
		name, vsCt := r.Reader, "–"
		if r.Mem == "heap" {
			name += " (heap)"
		} else if r.PeakVsCtlens > 0 {
			vsCt = fmt.Sprintf("%.2f", r.PeakVsCtlens)
		}
		cpu := "–"
		if r.CPU != 0 {
			cpu = fmt.Sprintf("%.3f", r.CPU)
		}
		peak := fmt.Sprintf("%.1f", r.PeakMiB)
		if r.PeakMiB == 0 {
			peak = "?" // no rusage on this platform
		}
		fmt.Fprintf(tw, "%-*s\t%d\t%.3f\t%.3f–%.3f\t%s\t%.0f\t%.0f\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t\n",
			width, name, len(r.Seconds), r.Median, r.Min, r.Max, cpu, r.MBps, r.SlicesPerSec, peak, r.BaseMiB,
			r.PeakPerVol, r.DeltaPerVol, r.TimeVsCtlens, vsCt)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nagreement: every run of every reader built the same volume as ctlens: mean %.4f HU, md5 %s\n", rep.MeanHU, rep.MD5)
	fmt.Fprintln(w, "goals:")
	for _, g := range rep.Goals {
		mark := "MET    "
		if !g.Met {
			mark = "NOT MET"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, g.Goal, g.Detail)
	}
	fmt.Fprintln(w, "how:")
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "  %-16s %s\n", r.Reader, r.How)
	}
	fmt.Fprintln(w, "  peak = the reader process's peak RSS (its VmHWM, not wait4's ru_maxrss), the largest over the runs; base = the same process")
	fmt.Fprintln(w, "  started with -base (libraries loaded, nothing read); Δ÷vol = (peak − base) ÷ the int16 volume;")
	fmt.Fprintln(w, "  cpu s = median user+system CPU seconds over the timed span, all threads (GC included; little disturbed by other jobs)")
	_, err := fmt.Fprintln(w, "  in-process: "+inprocNote(rep))
	return err
}

func inprocNote(rep *Report) string {
	for _, r := range rep.Rows {
		if r.Reader == "ctlens-inproc" {
			return fmt.Sprintf("ctlens-inproc allocated %.1f MiB per import (%.2f× the volume)", r.AllocMiB,
				r.AllocMiB/mib(uint64(rep.Series.VolumeBytes)))
		}
	}
	return "not run"
}
