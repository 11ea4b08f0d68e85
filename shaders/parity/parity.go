// Package parity runs the kernel cases of ctlens/shaders on a GPU device and
// compares them with their Go references: the kernel library's
// test-backend-ops. It is used by the native tests (package shaders_test),
// by tools/gpucheck in the browser, and by the benchmarks.
//
// Every output buffer is followed by sentinel words that must survive the
// dispatches (stray writes), NaN and Inf are checked apart from the
// tolerance, and a failure names the kernel variant and the case, prints the
// first few have/want pairs and stops counting after ten mismatches.
package parity

import (
	"context"
	"fmt"
	"math"
	"strings"

	"ctlens/shaders"
	"ctlens/wgpu"
)

// sentinelWords follow every buffer; 1,024 floats as in ggml's tests.
const sentinelWords = 1024

// sentinel is a NaN payload no kernel produces by arithmetic.
const sentinel = 0x7fc0dead

// Result is the outcome of one case.
type Result struct {
	Case    string   `json:"case"`
	Kernels []string `json:"kernels"`
	// Skipped is set, with the reason, when the device cannot run the case
	// (a browser-only variant on a native device).
	Skipped string `json:"skipped,omitempty"`
	Err     string `json:"error,omitempty"`
	// NMSE per checked buffer.
	NMSE map[string]float64 `json:"nmse,omitempty"`
}

// OK reports whether the case ran and matched.
func (r Result) OK() bool { return r.Err == "" }

// Kind maps a shaders access to a wgpu binding kind.
func Kind(a shaders.Access) wgpu.BindingKind {
	switch a {
	case shaders.Read:
		return wgpu.ReadOnly
	case shaders.ReadWrite:
		return wgpu.ReadWrite
	}
	return wgpu.UniformBinding
}

// Spec turns a kernel into the runtime's pipeline spec.
func Spec(k shaders.Kernel) wgpu.PipelineSpec {
	kinds := make([]wgpu.BindingKind, len(k.Bindings))
	for i, b := range k.Bindings {
		kinds[i] = Kind(b.Access)
	}
	return wgpu.PipelineSpec{Name: k.Name, Source: k.Source, Entry: k.Entry, Bindings: kinds,
		NeedsSubgroups: k.NeedsSubgroups, NeedsPackedDot4: k.NeedsPackedDot4}
}

// Run executes one case on d and compares every check.
func Run(ctx context.Context, d *wgpu.Device, c shaders.Case) Result {
	res := Result{Case: c.FullName()}
	f := d.Info().Features
	feats := shaders.DeviceFeatures{Subgroups: f.SubgroupsUsable, PackedDot4: f.PackedDot4Usable, ShaderF16: f.ShaderF16Usable}
	for _, s := range c.Steps {
		res.Kernels = append(res.Kernels, s.Kernel.Name)
		if why := s.Kernel.Unsupported(feats); why != "" {
			res.Skipped = why
			return res
		}
	}
	if err := c.Validate(); err != nil {
		res.Err = err.Error()
		return res
	}
	if err := run(ctx, d, c, &res); err != nil {
		res.Err = fmt.Sprintf("%s [kernels %s]: %v", c.FullName(), strings.Join(res.Kernels, ", "), err)
	}
	return res
}

type allocated struct {
	buf  *wgpu.Buffer
	size uint64 // the bound part, before the sentinels
}

func run(ctx context.Context, d *wgpu.Device, c shaders.Case, res *Result) error {
	bufs := map[string]allocated{}
	defer func() {
		for _, a := range bufs {
			a.buf.Destroy()
		}
	}()
	for _, b := range c.Buffers {
		size := uint64(b.Size)
		if len(b.Init) > 0 {
			size = uint64(len(b.Init))
		}
		size = (size + 3) &^ 3
		if size == 0 {
			size = 4
		}
		buf, err := d.NewBuffer(b.Name, size+4*sentinelWords, wgpu.Storage)
		if err != nil {
			return err
		}
		bufs[b.Name] = allocated{buf, size}
		init := make([]uint32, int(size/4)+sentinelWords)
		copy(wgpu.Bytes(init), b.Init)
		for i := int(size / 4); i < len(init); i++ {
			init[i] = sentinel
		}
		if err := buf.Write(0, wgpu.Bytes(init)); err != nil {
			return err
		}
	}
	batch := d.NewBatch(c.FullName())
	for i, s := range c.Steps {
		p, err := d.Pipeline(Spec(s.Kernel))
		if err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		pb, err := d.Upload(s.Kernel.Name+" params", shaders.ParamsBytes(s.Params), wgpu.Uniform)
		if err != nil {
			return err
		}
		defer pb.Destroy()
		ranges := []wgpu.Range{wgpu.Whole(pb)}
		for _, n := range s.BufferNames() {
			a := bufs[n]
			// Bound whole, sentinels included, so a stray write lands on them
			// instead of being clamped into range by robust buffer access.
			ranges = append(ranges, wgpu.Whole(a.buf))
		}
		g, err := d.Bind(p, ranges...)
		if err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
		batch.Dispatch(p, g, s.Grid[0], s.Grid[1], s.Grid[2])
	}
	if err := batch.Submit(); err != nil {
		return err
	}
	res.NMSE = map[string]float64{}
	var problems []string
	for _, b := range c.Buffers {
		a := bufs[b.Name]
		raw, err := a.buf.Read(ctx, 0, 0)
		if err != nil {
			return err
		}
		words := wgpu.FromBytes[uint32](raw)
		for i := int(a.size / 4); i < len(words); i++ {
			if words[i] != sentinel {
				problems = append(problems, fmt.Sprintf("buffer %q: stray write past its end at word %d (%#x)", b.Name, i-int(a.size/4), words[i]))
				break
			}
		}
		for _, ch := range c.Checks {
			if ch.Buffer != b.Name {
				continue
			}
			nmse, msg := compare(ch, words[:a.size/4])
			res.NMSE[ch.Buffer] = nmse
			if msg != "" {
				problems = append(problems, msg)
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n"))
	}
	return nil
}

// compare checks one buffer against its reference and describes the first
// mismatches.
func compare(ch shaders.Check, words []uint32) (float64, string) {
	n := len(ch.Want)
	if ch.WantU32 != nil {
		n = len(ch.WantU32)
	}
	at := func(i int) int {
		if ch.Index != nil {
			return ch.Index[i]
		}
		return i
	}
	if ch.Index == nil && n > len(words) {
		return 0, fmt.Sprintf("buffer %q: %d words, reference has %d", ch.Buffer, len(words), n)
	}
	var lines []string
	bad := 0
	note := func(format string, a ...any) {
		bad++
		if bad <= 5 {
			lines = append(lines, fmt.Sprintf(format, a...))
		}
	}
	if ch.WantU32 != nil {
		for i := 0; i < n && bad < 10; i++ {
			if have := words[at(i)]; have != ch.WantU32[i] {
				note("  [%d] have %d want %d", at(i), have, ch.WantU32[i])
			}
		}
		if bad > 0 {
			return 0, fmt.Sprintf("buffer %q: %d+ mismatches (exact):\n%s", ch.Buffer, bad, strings.Join(lines, "\n"))
		}
		return 0, ""
	}
	var num, den float64
	for i := 0; i < n; i++ {
		have := math.Float32frombits(words[at(i)])
		want := ch.Want[i]
		hv, wv := float64(have), float64(want)
		switch {
		case math.IsNaN(wv) || math.IsInf(wv, 0):
			// NaN and the sign of infinities must match exactly.
			if !(math.IsNaN(wv) && math.IsNaN(hv)) && hv != wv {
				note("  [%d] have %v want %v", at(i), have, want)
			}
			continue
		case math.IsNaN(hv) || math.IsInf(hv, 0):
			note("  [%d] have %v want %v (non-finite)", at(i), have, want)
			continue
		}
		d := hv - wv
		num += d * d
		den += wv * wv
		if ch.Tol.Exact && have != want {
			note("  [%d] have %v want %v (exact)", at(i), have, want)
		} else if ch.Tol.MaxAbs > 0 && math.Abs(d) > ch.Tol.MaxAbs {
			note("  [%d] have %v want %v (|Δ| %.3g > %.3g)", at(i), have, want, math.Abs(d), ch.Tol.MaxAbs)
		}
	}
	nmse := 0.0
	if den > 0 {
		nmse = num / den
	} else if num > 0 {
		nmse = math.Inf(1)
	}
	if !ch.Tol.Exact && ch.Tol.NMSE > 0 && nmse > ch.Tol.NMSE {
		bad++
		lines = append(lines, fmt.Sprintf("  NMSE %.3g > %.3g", nmse, ch.Tol.NMSE))
		// Show where it went wrong.
		shown := 0
		for i := 0; i < n && shown < 5; i++ {
			have := math.Float32frombits(words[at(i)])
			if math.Abs(float64(have-ch.Want[i])) > 1e-3*math.Max(1, math.Abs(float64(ch.Want[i]))) {
				lines = append(lines, fmt.Sprintf("  [%d] have %v want %v", at(i), have, ch.Want[i]))
				shown++
			}
		}
	}
	if bad > 0 {
		return nmse, fmt.Sprintf("buffer %q: mismatches (NMSE %.3g):\n%s", ch.Buffer, nmse, strings.Join(lines, "\n"))
	}
	return nmse, ""
}
