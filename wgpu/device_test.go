//go:build !js

package wgpu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unsafe"

	webgpu "github.com/cogentcore/webgpu/wgpu"

	"ctlens/wgpu"
)

// openDevice fails (never skips) when no adapter exists: the test command
// installs Mesa's lavapipe, so a missing adapter is a broken setup.
func openDevice(t testing.TB) *wgpu.Device {
	t.Helper()
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("open GPU device: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

const doubleWGSL = `
struct Params { n: u32, scale: f32, _p0: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
	if (g.x < P.n) { y[g.x] = x[g.x] * P.scale; }
}`

var doubleSpec = wgpu.PipelineSpec{
	Name: "test/scale", Source: doubleWGSL, Entry: "main",
	Bindings: []wgpu.BindingKind{wgpu.UniformBinding, wgpu.ReadOnly, wgpu.ReadWrite},
}

func TestDispatchAndRead(t *testing.T) {
	d := openDevice(t)
	const n = 1000
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i) - 500
	}
	params := []uint32{n, 0, 0, 0}
	*(*float32)(unsafe.Pointer(&params[1])) = 2.5
	pb, err := d.Upload("params", wgpu.Bytes(params), wgpu.Uniform)
	if err != nil {
		t.Fatal(err)
	}
	xb, err := d.Upload("x", wgpu.Bytes(x), wgpu.Storage)
	if err != nil {
		t.Fatal(err)
	}
	yb, err := d.NewBuffer("y", n*4, wgpu.Storage)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Pipeline(doubleSpec)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := d.Pipeline(doubleSpec); p2 != p {
		t.Errorf("pipeline cache returned a new pipeline for an identical spec")
	}
	g, err := d.Bind(p, wgpu.Whole(pb), wgpu.Whole(xb), wgpu.Whole(yb))
	if err != nil {
		t.Fatal(err)
	}
	b := d.NewBatch("test")
	timed := b.EnableTiming()
	b.Dispatch(p, g, (n+63)/64, 1, 1)
	b.Dispatch(p, g, (n+63)/64, 1, 1)
	raw, err := b.SubmitRead(context.Background(), yb, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	y := wgpu.FromBytes[float32](raw)
	for i := range x {
		if y[i] != x[i]*2.5 {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], x[i]*2.5)
		}
	}
	if timed != d.Info().Features.TimestampQuery {
		t.Errorf("EnableTiming = %v with timestamp-query %v", timed, d.Info().Features.TimestampQuery)
	}
	if timed {
		ts, err := b.Timings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].Name != "test/scale" {
			t.Fatalf("timings = %+v, want two entries named test/scale", ts)
		}
		for _, tm := range ts {
			if tm.Dur < 0 {
				t.Errorf("negative GPU time %v", tm.Dur)
			}
		}
	}
}

func TestInfoReportsRealLimits(t *testing.T) {
	d := openDevice(t)
	in := d.Info()
	if in.Adapter.Name == "" || in.Adapter.Backend == "" || in.Adapter.Type == "" {
		t.Errorf("adapter info incomplete: %+v", in.Adapter)
	}
	// The spec's defaults are floors; a device opened with the adapter's
	// real limits reports at least them.
	if in.Limits.MaxStorageBufferBindingSize < 128<<20 {
		t.Errorf("max storage binding %d < the 128 MiB default: limits were not requested", in.Limits.MaxStorageBufferBindingSize)
	}
	if in.Limits.MaxComputeWorkgroupStorageSize < 16384 || in.Limits.MaxComputeInvocationsPerWorkgroup < 256 {
		t.Errorf("compute limits below WebGPU defaults: %+v", in.Limits)
	}
}

func TestShaderErrorIsGoError(t *testing.T) {
	d := openDevice(t)
	bad := doubleSpec
	bad.Name = "test/broken"
	bad.Source = strings.Replace(doubleWGSL, "P.scale;", "P.nope;", 1)
	_, err := d.Pipeline(bad)
	if err == nil || !strings.Contains(err.Error(), "test/broken") {
		t.Fatalf("broken shader: err = %v, want an error naming the pipeline", err)
	}
	// The device is still usable afterwards.
	if _, err := d.Pipeline(doubleSpec); err != nil {
		t.Fatalf("device unusable after a shader error: %v", err)
	}
}

func TestLimitsRefusedUpFront(t *testing.T) {
	d := openDevice(t)
	_, err := d.NewBuffer("huge", d.Info().Limits.MaxStorageBufferBindingSize+4, wgpu.Storage)
	if !errors.Is(err, wgpu.ErrTooLarge) || !strings.Contains(err.Error(), "huge") {
		t.Fatalf("oversized buffer: err = %v, want ErrTooLarge naming it", err)
	}
	p, err := d.Pipeline(doubleSpec)
	if err != nil {
		t.Fatal(err)
	}
	small, _ := d.NewBuffer("small", 16, wgpu.Storage)
	u, _ := d.NewBuffer("u", 16, wgpu.Uniform)
	if _, err := d.Bind(p, wgpu.Whole(u), wgpu.Whole(small)); err == nil {
		t.Errorf("bind with too few buffers succeeded")
	}
	if _, err := d.Bind(p, wgpu.Whole(small), wgpu.Whole(small), wgpu.Whole(small)); err == nil {
		t.Errorf("storage buffer bound as uniform succeeded")
	}
	if _, err := d.Bind(p, wgpu.Whole(u), wgpu.Range{Buf: small, Offset: 8, Size: 16}, wgpu.Whole(small)); err == nil {
		t.Errorf("out-of-range binding succeeded")
	}
	b := d.NewBatch("too wide")
	g, err := d.Bind(p, wgpu.Whole(u), wgpu.Whole(small), wgpu.Whole(small))
	if err != nil {
		t.Fatal(err)
	}
	b.Dispatch(p, g, d.Info().Limits.MaxComputeWorkgroupsPerDimension+1, 1, 1)
	if err := b.Submit(); err == nil || !strings.Contains(err.Error(), "workgroups per dimension") {
		t.Errorf("oversized dispatch: err = %v", err)
	}
}

func TestValidationErrorCaughtAtSubmit(t *testing.T) {
	d := openDevice(t)
	p, err := d.Pipeline(doubleSpec)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.NewBuffer("u", 16, wgpu.Uniform)
	x, _ := d.NewBuffer("x", 64, wgpu.Storage)
	y, _ := d.NewBuffer("y", 64, wgpu.Storage)
	g, err := d.Bind(p, wgpu.Whole(u), wgpu.Whole(x), wgpu.Whole(y))
	if err != nil {
		t.Fatal(err)
	}
	x.Destroy()
	// Submitting work that uses a destroyed buffer is a validation error in
	// WebGPU; it must come back as an error, not abort the process.
	b := d.NewBatch("uses destroyed buffer")
	b.Dispatch(p, g, 1, 1, 1)
	if err := b.Submit(); err == nil {
		t.Fatalf("submit with a destroyed buffer: no error")
	} else if !strings.Contains(strings.ToLower(err.Error()), "validation") {
		t.Errorf("submit error %q does not say validation", err)
	}
	if _, err := y.Read(context.Background(), 0, 64); err != nil {
		t.Fatalf("device unusable after a validation error: %v", err)
	}
}

// TestRawDeviceLayout guards the one place that reads cogentcore's Device
// struct: it must be a single pointer-sized handle.
func TestRawDeviceLayout(t *testing.T) {
	if s := unsafe.Sizeof(webgpu.Device{}); s != unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("cogentcore wgpu.Device is %d bytes, want one handle: update scope_native.go", s)
	}
}
