//go:build !js

package parity_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

type fillParams struct{ N uint32 }

// fill writes i+1 into y[i] for i < N+EXTRA: with EXTRA > 0 it writes past
// the buffer the case declared.
func fill(extra int) shaders.Kernel {
	src := shaders.ParamsWGSL(fillParams{}) + `
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
	if (g.x < P.n + ` + strconv.Itoa(extra) + `u) { y[g.x] = f32(g.x + 1u); }
}`
	return shaders.Kernel{Name: "test/fill", Source: src, Entry: "main",
		Bindings: []shaders.Binding{{Name: "params", Access: shaders.Uniform}, {Name: "y", Access: shaders.ReadWrite}}}
}

func fillCase(extra int, want []float32) shaders.Case {
	return shaders.Case{
		Family: "test", Name: "fill",
		Buffers: []shaders.Buffer{{Name: "y", Size: 4 * len(want)}},
		Steps:   []shaders.Step{{Kernel: fill(extra), Params: fillParams{N: uint32(len(want))}, Grid: [3]uint32{1, 1, 1}}},
		Checks:  []shaders.Check{{Buffer: "y", Want: want, Tol: shaders.Tol{NMSE: 1e-12}}},
	}
}

// The harness must catch what it exists to catch: wrong values, stray
// writes past a buffer, and NaN where a number is due.
func TestHarnessCatchesFailures(t *testing.T) {
	d, err := wgpu.Open(context.Background(), wgpu.Options{})
	if err != nil {
		t.Fatalf("no GPU device: %v", err)
	}
	defer d.Close()
	good := []float32{1, 2, 3, 4, 5}
	if r := parity.Run(context.Background(), d, fillCase(0, good)); !r.OK() {
		t.Fatalf("correct kernel reported as failing: %s", r.Err)
	}
	wrong := []float32{1, 2, 3, 4, 6}
	if r := parity.Run(context.Background(), d, fillCase(0, wrong)); r.OK() || !strings.Contains(r.Err, "test/fill") {
		t.Errorf("wrong value not caught (or kernel not named): %q", r.Err)
	}
	if r := parity.Run(context.Background(), d, fillCase(3, good)); r.OK() || !strings.Contains(r.Err, "stray write") {
		t.Errorf("write past the end not caught: %q", r.Err)
	}
	c := fillCase(0, []float32{1, 2, 3, 4, 5})
	c.Checks[0].Want = []float32{1, 2, 3, 4, float32NaN()}
	if r := parity.Run(context.Background(), d, c); r.OK() {
		t.Errorf("number where NaN is due not caught")
	}
}

func float32NaN() float32 {
	z := float32(0)
	return z / z
}
