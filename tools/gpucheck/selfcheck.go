package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"ctlens/wgpu"
)

// selfChecks exercise the GPU runtime itself on the device, the browser
// counterpart of wgpu/device_test.go (which needs wgpu-native): a dispatch
// and its readback, per-dispatch timing, errors caught by the error scopes,
// limits refused up front, the optional WGSL features the device claims
// are usable, and (in the browser) device loss.
func selfChecks(ctx context.Context, d *wgpu.Device) []SelfCheck {
	checks := []struct {
		name string
		run  func(context.Context, *wgpu.Device) (note string, err error)
	}{
		{"info", checkInfo},
		{"real-limits", checkRealLimits},
		{"dispatch-readback-timing", checkDispatch},
		{"shader-error", checkShaderError},
		{"validation-at-submit", checkValidationAtSubmit},
		{"too-large", checkTooLarge},
		{"subgroups", checkSubgroups},
		{"packed-dot4", checkPackedDot4},
		{"shader-f16", checkF16},
		{"device-lost", checkDeviceLost},
	}
	var out []SelfCheck
	for _, c := range checks {
		sc := SelfCheck{Name: c.name}
		func() {
			defer func() {
				if p := recover(); p != nil {
					sc.Err = fmt.Sprintf("panic: %v", p)
				}
			}()
			note, err := c.run(ctx, d)
			sc.Note = note
			if err != nil {
				sc.Err = err.Error()
			}
		}()
		out = append(out, sc)
	}
	return out
}

func checkInfo(_ context.Context, d *wgpu.Device) (string, error) {
	in := d.Info()
	if in.Adapter.Name == "" || in.Adapter.Backend == "" || in.Adapter.Type == "" {
		return "", fmt.Errorf("adapter info incomplete: %+v", in.Adapter)
	}
	// The spec's defaults are floors; a device opened with the adapter's
	// real limits reports at least them.
	l := in.Limits
	if l.MaxStorageBufferBindingSize < 128<<20 || l.MaxBufferSize < 256<<20 {
		return "", fmt.Errorf("buffer limits below the WebGPU defaults (limits not requested?): %+v", l)
	}
	if l.MaxComputeWorkgroupStorageSize < 16384 || l.MaxComputeInvocationsPerWorkgroup < 256 || l.MaxComputeWorkgroupsPerDimension < 65535 || l.MaxStorageBuffersPerShaderStage < 8 {
		return "", fmt.Errorf("compute limits below the WebGPU defaults: %+v", l)
	}
	return fmt.Sprintf("%s (%s, %s)", in.Adapter.Name, in.Adapter.Type, in.Adapter.Backend), nil
}

const scaleWGSL = `
struct Params { n: u32, scale: f32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
	if (g.x < P.n) { y[g.x] = x[g.x] * P.scale; }
}`

var scaleSpec = wgpu.PipelineSpec{
	Name: "selfcheck/scale", Source: scaleWGSL, Entry: "main",
	Bindings: []wgpu.BindingKind{wgpu.UniformBinding, wgpu.ReadOnly, wgpu.ReadWrite},
}

// checkDispatch runs two dispatches in one timed batch and reads the result
// back once; with timestamp-query it checks the timings too.
func checkDispatch(ctx context.Context, d *wgpu.Device) (string, error) {
	const n = 1000
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i) - 500
	}
	params := []uint32{n, math.Float32bits(2.5), 0, 0}
	pb, err := d.Upload("params", wgpu.Bytes(params), wgpu.Uniform)
	if err != nil {
		return "", err
	}
	defer pb.Destroy()
	xb, err := d.Upload("x", wgpu.Bytes(x), wgpu.Storage)
	if err != nil {
		return "", err
	}
	defer xb.Destroy()
	yb, err := d.NewBuffer("y", n*4, wgpu.Storage)
	if err != nil {
		return "", err
	}
	defer yb.Destroy()
	p, err := d.Pipeline(scaleSpec)
	if err != nil {
		return "", err
	}
	if p2, _ := d.Pipeline(scaleSpec); p2 != p {
		return "", errors.New("pipeline cache returned a new pipeline for an identical spec")
	}
	g, err := d.Bind(p, wgpu.Whole(pb), wgpu.Whole(xb), wgpu.Whole(yb))
	if err != nil {
		return "", err
	}
	b := d.NewBatch("selfcheck")
	timed := b.EnableTiming()
	b.Dispatch(p, g, (n+63)/64, 1, 1)
	b.Dispatch(p, g, (n+63)/64, 1, 1)
	raw, err := b.SubmitRead(ctx, yb, 0, 0)
	if err != nil {
		return "", err
	}
	y := wgpu.FromBytes[float32](raw)
	for i := range x {
		if y[i] != x[i]*2.5 {
			return "", fmt.Errorf("y[%d] = %v, want %v", i, y[i], x[i]*2.5)
		}
	}
	if timed != d.Info().Features.TimestampQuery {
		return "", fmt.Errorf("EnableTiming = %v with timestamp-query %v", timed, d.Info().Features.TimestampQuery)
	}
	if !timed {
		return "no timestamp-query: timing off", nil
	}
	ts, err := b.Timings(ctx)
	if err != nil {
		return "", err
	}
	if len(ts) != 2 || ts[0].Name != scaleSpec.Name || ts[1].Name != scaleSpec.Name {
		return "", fmt.Errorf("timings = %+v, want two entries named %s", ts, scaleSpec.Name)
	}
	for _, tm := range ts {
		// An unresolved or garbage query reads as a huge or negative
		// span; a real one is far below a minute.
		if tm.Dur < 0 || tm.Dur.Minutes() > 1 {
			return "", fmt.Errorf("implausible GPU time %v", tm.Dur)
		}
	}
	return fmt.Sprintf("timed: %v, %v", ts[0].Dur, ts[1].Dur), nil
}

func checkShaderError(_ context.Context, d *wgpu.Device) (string, error) {
	bad := scaleSpec
	bad.Name = "selfcheck/broken"
	bad.Source = strings.Replace(scaleWGSL, "P.scale;", "P.nope;", 1)
	_, err := d.Pipeline(bad)
	if err == nil || !strings.Contains(err.Error(), "selfcheck/broken") {
		return "", fmt.Errorf("broken shader: err = %v, want an error naming the pipeline", err)
	}
	// In the browser the error comes from the validation scope (a
	// *wgpu.Error); natively cogentcore returns wgpu-native's message.
	if !strings.Contains(strings.ToLower(err.Error()), "validation") {
		return "", fmt.Errorf("broken shader: err = %v, want a validation error", err)
	}
	if _, err := d.Pipeline(scaleSpec); err != nil {
		return "", fmt.Errorf("device unusable after a shader error: %v", err)
	}
	return firstLines(err.Error(), 1), nil
}

func checkValidationAtSubmit(ctx context.Context, d *wgpu.Device) (string, error) {
	p, err := d.Pipeline(scaleSpec)
	if err != nil {
		return "", err
	}
	u, _ := d.NewBuffer("u", 16, wgpu.Uniform)
	x, _ := d.NewBuffer("x", 64, wgpu.Storage)
	y, _ := d.NewBuffer("y", 64, wgpu.Storage)
	if u == nil || x == nil || y == nil {
		return "", errors.New("could not allocate three small buffers")
	}
	defer u.Destroy()
	defer y.Destroy()
	g, err := d.Bind(p, wgpu.Whole(u), wgpu.Whole(x), wgpu.Whole(y))
	if err != nil {
		return "", err
	}
	x.Destroy()
	// Submitting work that uses a destroyed buffer is a validation error;
	// it must come back as an error from the submit.
	b := d.NewBatch("uses destroyed buffer")
	b.Dispatch(p, g, 1, 1, 1)
	err = b.Submit()
	if err == nil {
		return "", errors.New("submit with a destroyed buffer: no error")
	}
	if !strings.Contains(strings.ToLower(err.Error()), "validation") {
		return "", fmt.Errorf("submit error %q does not say validation", err)
	}
	if _, err := y.Read(ctx, 0, 64); err != nil {
		return "", fmt.Errorf("device unusable after a validation error: %v", err)
	}
	return firstLines(err.Error(), 1), nil
}

func checkTooLarge(_ context.Context, d *wgpu.Device) (string, error) {
	_, err := d.NewBuffer("huge", d.Info().Limits.MaxStorageBufferBindingSize+4, wgpu.Storage)
	if !errors.Is(err, wgpu.ErrTooLarge) || !strings.Contains(err.Error(), "huge") {
		return "", fmt.Errorf("oversized buffer: err = %v, want ErrTooLarge naming it", err)
	}
	return "", nil
}

// subgroupWG is the workgroup of the subgroup check; subgroups never span
// workgroups, so a subgroup sums min(subgroup size, subgroupWG) ones.
const subgroupWG = 64

const subgroupWGSL = `enable subgroups;
@group(0) @binding(0) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(subgroup_size) sg: u32) {
	let s = subgroupAdd(1u);
	y[2u * g.x] = s;
	y[2u * g.x + 1u] = sg;
}`

// checkSubgroups compiles and runs a subgroupAdd kernel where the device
// says subgroups are usable; elsewhere it checks that such a pipeline is
// refused with an error, not compiled.
func checkSubgroups(ctx context.Context, d *wgpu.Device) (string, error) {
	spec := wgpu.PipelineSpec{Name: "selfcheck/subgroups", Source: subgroupWGSL, Entry: "main",
		Bindings: []wgpu.BindingKind{wgpu.ReadWrite}, NeedsSubgroups: true}
	if !d.Info().Features.SubgroupsUsable {
		if _, err := d.Pipeline(spec); err == nil {
			return "", errors.New("a subgroup pipeline compiled on a device without usable subgroups")
		}
		return "not usable on this device: refused as it should be", nil
	}
	const groups = 2
	out, err := runOne(ctx, d, spec, groups*subgroupWG*2*4, groups)
	if err != nil {
		return "", err
	}
	sg := out[1]
	if sg == 0 || sg > 128 || sg&(sg-1) != 0 {
		return "", fmt.Errorf("subgroup_size = %d, want a power of two in [1, 128]", sg)
	}
	for i := 0; i < len(out); i += 2 {
		if want := min(out[i+1], subgroupWG); out[i] != want || out[i+1] != sg {
			return "", fmt.Errorf("invocation %d: subgroupAdd(1) = %d with subgroup_size %d, want %d and %d", i/2, out[i], out[i+1], want, sg)
		}
	}
	return fmt.Sprintf("subgroup size %d", sg), nil
}

// packedDot4Pairs are the operands of the packed-dot4 check: the extremes
// (−128·−128, 127·−128), mixed signs and zeros.
var packedDot4Pairs = [][2]uint32{
	{0x80808080, 0x80808080}, {0x7f7f7f7f, 0x80808080}, {0x01ff7f80, 0x02fe8180},
	{0x00000000, 0x12345678}, {0xdeadbeef, 0x0badf00d}, {0x7f01ff80, 0x7f7f7f7f},
}

// packedDot4WGSL computes dot4I8Packed of each pair and one pack4xI8.
func packedDot4WGSL() string {
	var b strings.Builder
	b.WriteString("@group(0) @binding(0) var<storage, read_write> y: array<i32>;\n@compute @workgroup_size(1)\nfn main() {\n")
	for i, p := range packedDot4Pairs {
		fmt.Fprintf(&b, "\ty[%d] = dot4I8Packed(%du, %du);\n", i, p[0], p[1])
	}
	fmt.Fprintf(&b, "\ty[%d] = bitcast<i32>(pack4xI8(vec4<i32>(-1, 127, -128, 5)));\n}\n", len(packedDot4Pairs))
	return b.String()
}

// dot4I8 is dot4I8Packed in Go: the four signed bytes of a times b's.
func dot4I8(a, b uint32) int32 {
	var s int32
	for j := 0; j < 32; j += 8 {
		s += int32(int8(a>>j)) * int32(int8(b>>j))
	}
	return s
}

// checkPackedDot4 runs dot4I8Packed and pack4xI8 where the device says the
// packed_4x8_integer_dot_product extension is usable, against Go's
// arithmetic; elsewhere it checks that such a pipeline is refused up front
// (by the runtime, naming the extension) rather than sent to the compiler.
func checkPackedDot4(ctx context.Context, d *wgpu.Device) (string, error) {
	spec := wgpu.PipelineSpec{Name: "selfcheck/packed-dot4", Source: packedDot4WGSL(), Entry: "main",
		Bindings: []wgpu.BindingKind{wgpu.ReadWrite}, NeedsPackedDot4: true}
	if !d.Info().Features.PackedDot4Usable {
		_, err := d.Pipeline(spec)
		if err == nil {
			return "", errors.New("a packed-dot4 pipeline compiled on a device without the extension")
		}
		if !strings.Contains(err.Error(), "packed_4x8_integer_dot_product") {
			return "", fmt.Errorf("packed-dot4 pipeline: err = %v, want the runtime's refusal naming the extension", err)
		}
		return "not usable on this device: refused as it should be", nil
	}
	out, err := runOne(ctx, d, spec, uint64(4*(len(packedDot4Pairs)+1)), 1)
	if err != nil {
		return "", err
	}
	for i, p := range packedDot4Pairs {
		if got, want := int32(out[i]), dot4I8(p[0], p[1]); got != want {
			return "", fmt.Errorf("dot4I8Packed(%#x, %#x) = %d, want %d", p[0], p[1], got, want)
		}
	}
	if got := out[len(packedDot4Pairs)]; got != 0x05807fff {
		return "", fmt.Errorf("pack4xI8(-1, 127, -128, 5) = %#x, want 0x05807fff", got)
	}
	return "dot4I8Packed and pack4xI8 ran", nil
}

const f16WGSL = `enable f16;
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(1)
fn main() {
	let h = f16(1.5) * 2.0h + f16(y[0]);
	y[0] = f32(h);
}`

// checkF16 runs an f16 kernel where the device says shader-f16 is usable.
func checkF16(ctx context.Context, d *wgpu.Device) (string, error) {
	if !d.Info().Features.ShaderF16Usable {
		return "not usable on this device", nil
	}
	spec := wgpu.PipelineSpec{Name: "selfcheck/f16", Source: f16WGSL, Entry: "main", Bindings: []wgpu.BindingKind{wgpu.ReadWrite}}
	out, err := runOne(ctx, d, spec, 4, 1)
	if err != nil {
		return "", err
	}
	if got := math.Float32frombits(out[0]); got != 3 {
		return "", fmt.Errorf("f16 kernel wrote %v, want 3", got)
	}
	return "f16 arithmetic ran", nil
}

// runOne runs a kernel with one zeroed read-write buffer of size bytes over
// x workgroups and returns the buffer's words.
func runOne(ctx context.Context, d *wgpu.Device, spec wgpu.PipelineSpec, size uint64, x uint32) ([]uint32, error) {
	p, err := d.Pipeline(spec)
	if err != nil {
		return nil, err
	}
	buf, err := d.NewBuffer("out", size, wgpu.Storage)
	if err != nil {
		return nil, err
	}
	defer buf.Destroy()
	g, err := d.Bind(p, wgpu.Whole(buf))
	if err != nil {
		return nil, err
	}
	b := d.NewBatch(spec.Name)
	b.Dispatch(p, g, x, 1, 1)
	raw, err := b.SubmitRead(ctx, buf, 0, 0)
	if err != nil {
		return nil, err
	}
	return wgpu.FromBytes[uint32](raw), nil
}
