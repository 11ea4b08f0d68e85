//go:build !js

package gpu

import (
	"math/rand"
	"testing"
	"time"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// TestBatchPastWGPUWaitTimeout is the regression test of a crash on
// lavapipe: wgpu-native's blocking poll gives up after 5 s and treats the
// batch as done, freeing its memory while the device still runs it; a
// prefill batch past 5 s then killed the process in the driver. wgpu's
// readback now polls without blocking. Here one batch of GEMMs is sized
// from a calibration run to take about 7 s of device time; it must come
// back right, still as one submit and one readback.
func TestBatchPastWGPUWaitTimeout(t *testing.T) {
	const m, n, k = 64, 2048, 1024
	g, c := New(device(t)), cpu.New()
	rng := rand.New(rand.NewSource(3))
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	w, err := shaders.Pack(shaders.Int4, vals(n*k), n, k)
	if err != nil {
		t.Fatal(err)
	}
	x := vals(m * k)
	p := shaders.MatMulDims(m, n, k)
	run := func(o model.Ops, reps int) []float32 {
		wt, xt, yt := o.Upload("w", w), o.Alloc("x", model.F32, m, k), o.Alloc("y", model.F32, m, n)
		o.Write(xt, 0, x)
		for range reps {
			o.MatMul(yt, xt, wt, model.MatMulOpts{}, p)
		}
		y, err := o.Read(yt, 0, m*n)
		if err != nil {
			t.Fatalf("%s: %v", o.Backend(), err)
		}
		return y
	}
	start := time.Now()
	run(g, 4)
	per := time.Since(start) / 4
	reps := min(int(7*time.Second/max(per, time.Millisecond)), 2000)
	before := g.Stats()
	start = time.Now()
	have := run(g, reps)
	took := time.Since(start)
	want := run(c, 1)
	if e := nmse(have, want); !(e <= kernelNMSE) {
		t.Fatalf("after a batch of %d GEMMs (%v): NMSE %.3g", reps, took, e)
	}
	if d := g.Stats().Sub(before); d.Submits != 1 || d.Readbacks != 1 {
		t.Errorf("a batch of GEMMs read back with %d submits and %d readbacks; want 1 and 1", d.Submits, d.Readbacks)
	}
	t.Logf("%d GEMMs in one batch: %v", reps, took.Round(time.Millisecond))
}
