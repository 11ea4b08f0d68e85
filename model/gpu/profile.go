package gpu

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"ctlens/wgpu"
)

// Stats counts what the backend asked of the device since New. Tests use
// it to check the execution rules (a decode step: one submit, one 4-byte
// readback, nothing allocated or compiled); benchmarks report from it.
type Stats struct {
	Submits      int   // command buffers submitted
	Readbacks    int   // submits that read data back and waited (Read, ReadU32, Sync's fence)
	ReadBytes    int64 // bytes read back
	Dispatches   int   // kernel dispatches recorded
	Copies       int   // buffer-to-buffer copies recorded (Copy, staged writes)
	Writes       int   // host-to-device tensor writes (Write, WriteU32)
	StagedWrites int   // … of which went through the staging arena to keep call order
	Buffers      int   // device buffers created by the backend (tensors, uniforms, scratch)
	BindGroups   int   // bind groups created
	Pipelines    int   // kernel variants compiled (or fetched from the device's cache) on first use
	ParamWrites  int   // cached uniform buffers rewritten with new Params (positions)
}

// Sub is s − o, field by field: the counts of what happened in between.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		Submits: s.Submits - o.Submits, Readbacks: s.Readbacks - o.Readbacks, ReadBytes: s.ReadBytes - o.ReadBytes,
		Dispatches: s.Dispatches - o.Dispatches, Copies: s.Copies - o.Copies, Writes: s.Writes - o.Writes,
		StagedWrites: s.StagedWrites - o.StagedWrites, Buffers: s.Buffers - o.Buffers,
		BindGroups: s.BindGroups - o.BindGroups, Pipelines: s.Pipelines - o.Pipelines, ParamWrites: s.ParamWrites - o.ParamWrites,
	}
}

// Stats returns the counts since New.
func (b *Backend) Stats() Stats { return b.stats }

// ClassTime is the GPU time of one kernel class (the family: gemv, gemm,
// attention, …) over the profiled batches.
type ClassTime struct {
	Dispatches int
	GPU        time.Duration
}

// Profile is what the backend submitted since the last ResetProfile:
// batches, dispatches and, with timing on, GPU time per kernel class from
// timestamp queries.
type Profile struct {
	Batches    int
	Dispatches int
	// Timed is the dispatches that carried timestamps (all of them with
	// timing on, on a device with timestamp-query, up to wgpu's per-batch
	// bound).
	Timed   int
	Classes map[string]ClassTime
}

// GPU is the total timed GPU time.
func (p Profile) GPU() time.Duration {
	var t time.Duration
	for _, c := range p.Classes {
		t += c.GPU
	}
	return t
}

// DispatchesPerBatch is the mean dispatches per submitted batch.
func (p Profile) DispatchesPerBatch() float64 {
	if p.Batches == 0 {
		return 0
	}
	return float64(p.Dispatches) / float64(p.Batches)
}

// String is a table of the classes by GPU time, longest first.
func (p Profile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d batches, %d dispatches (%.1f per batch), %d timed, GPU %v\n",
		p.Batches, p.Dispatches, p.DispatchesPerBatch(), p.Timed, p.GPU().Round(time.Microsecond))
	names := make([]string, 0, len(p.Classes))
	for n := range p.Classes {
		names = append(names, n)
	}
	slices.SortFunc(names, func(x, y string) int { return cmp.Compare(p.Classes[y].GPU, p.Classes[x].GPU) })
	total := p.GPU()
	for _, n := range names {
		c := p.Classes[n]
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(c.GPU) / float64(total)
		}
		fmt.Fprintf(&b, "  %-12s %6d dispatches %12v %5.1f%%\n", n, c.Dispatches, c.GPU.Round(time.Microsecond), pct)
	}
	return b.String()
}

func (p *Profile) add(ts []wgpu.DispatchTime) {
	if p.Classes == nil {
		p.Classes = map[string]ClassTime{}
	}
	for _, t := range ts {
		class, _, _ := strings.Cut(t.Name, "/")
		c := p.Classes[class]
		c.Dispatches++
		c.GPU += t.Dur
		p.Classes[class] = c
	}
	p.Timed += len(ts)
}

// EnableTiming turns per-dispatch GPU timestamps on or off for the batches
// started from now on, and reports whether the device can time (it needs
// timestamp-query). Timing costs a query set and a second readback per
// batch: it is for benchmarks and profiles, not for serving.
func (b *Backend) EnableTiming(on bool) bool {
	b.timing = on && b.d.Info().Features.TimestampQuery
	return b.timing
}

// Profile returns what was recorded since the last ResetProfile.
func (b *Backend) Profile() Profile {
	p := b.profile
	p.Classes = make(map[string]ClassTime, len(b.profile.Classes))
	for k, v := range b.profile.Classes {
		p.Classes[k] = v
	}
	return p
}

// ResetProfile clears the profile (not the Stats).
func (b *Backend) ResetProfile() { b.profile = Profile{} }
