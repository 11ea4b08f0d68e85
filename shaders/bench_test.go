//go:build !js

package shaders_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

// Kernel benchmarks: each reports the effective bandwidth (GB/s: weight,
// activation and output bytes the kernel must move, per second), GFLOP/s,
// and %copy, the bandwidth as a percentage of the copy kernel's over a
// buffer of the same size measured in the same run: the roofline ratio
// (ggml's perf mode). Time is GPU time from timestamp queries where the
// device has them, wall time around submit-and-wait otherwise.
//
//	go test ./shaders/ -run '^$' -bench . -benchtime 2x

var bench struct {
	once sync.Once
	d    *wgpu.Device
	err  error
	mu   sync.Mutex
	copy map[int]float64 // copy kernel bytes/s by buffer size
}

func benchDevice(b *testing.B) *wgpu.Device {
	b.Helper()
	bench.once.Do(func() {
		// Opened once for all benchmarks and left to the process's exit:
		// opening lavapipe and compiling pipelines is not what is measured.
		bench.d, bench.err = wgpu.Open(context.Background(), wgpu.Options{HighPerformance: true})
		bench.copy = map[int]float64{}
	})
	if bench.err != nil {
		b.Fatalf("no GPU device: %v", bench.err)
	}
	clock := "wall time (no timestamp queries)"
	if bench.d.Info().Features.TimestampQuery {
		clock = "GPU timestamps"
	}
	b.Logf("%s, timed by %s", bench.d.Info().Adapter.Name, clock)
	return bench.d
}

// dispatch is one kernel with its buffers bound, ready to record.
type dispatch struct {
	p    *wgpu.Pipeline
	g    *wgpu.BindGroup
	grid [3]uint32
	out  *wgpu.Buffer // read 4 bytes of it to wait for the batch
}

// prepare uploads bufs (name → contents, or a size for zeroed outputs),
// builds the pipeline and binds the buffers named like k's bindings.
func prepare(b *testing.B, d *wgpu.Device, k shaders.Kernel, params any, grid [3]uint32, bufs []shaders.Buffer) dispatch {
	b.Helper()
	byName := map[string]*wgpu.Buffer{}
	for _, sb := range bufs {
		var buf *wgpu.Buffer
		var err error
		if sb.Init != nil {
			buf, err = d.Upload(sb.Name, sb.Init, wgpu.Storage)
		} else {
			buf, err = d.NewBuffer(sb.Name, uint64(sb.Size), wgpu.Storage)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(buf.Destroy)
		byName[sb.Name] = buf
	}
	p, err := d.Pipeline(parity.Spec(k))
	if err != nil {
		b.Fatal(err)
	}
	pb, err := d.Upload(k.Name+" params", shaders.ParamsBytes(params), wgpu.Uniform)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pb.Destroy)
	ranges := []wgpu.Range{wgpu.Whole(pb)}
	for _, bind := range k.Bindings[1:] {
		buf, ok := byName[bind.Name]
		if !ok {
			b.Fatalf("%s: no buffer %q", k.Name, bind.Name)
		}
		ranges = append(ranges, wgpu.Whole(buf))
	}
	g, err := d.Bind(p, ranges...)
	if err != nil {
		b.Fatal(err)
	}
	return dispatch{p: p, g: g, grid: grid, out: byName[k.Bindings[len(k.Bindings)-1].Name]}
}

// runBatch records perBatch dispatches of k in one batch, submits it and
// waits (a 4-byte read); it returns the dispatches' GPU time when the
// device has timestamp queries.
func runBatch(b *testing.B, d *wgpu.Device, k dispatch, perBatch int) (gpu time.Duration, timed bool) {
	ctx := context.Background()
	bt := d.NewBatch(k.p.Name())
	timed = bt.EnableTiming()
	for range perBatch {
		bt.Dispatch(k.p, k.g, k.grid[0], k.grid[1], k.grid[2])
	}
	if _, err := bt.SubmitRead(ctx, k.out, 0, 4); err != nil {
		b.Fatal(err)
	}
	if timed {
		ts, err := bt.Timings(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range ts {
			gpu += t.Dur
		}
	}
	return gpu, timed
}

// timeBatches runs batches batches and returns the mean time of one
// dispatch: GPU time where timestamps exist, else wall time around
// submit-and-wait. Callers warm up first (lavapipe compiles shaders on
// first use).
func timeBatches(b *testing.B, d *wgpu.Device, k dispatch, perBatch, batches int) time.Duration {
	b.Helper()
	var gpu time.Duration
	timed := true
	start := time.Now()
	for range batches {
		g, ok := runBatch(b, d, k, perBatch)
		gpu += g
		timed = timed && ok
	}
	wall := time.Since(start)
	n := time.Duration(batches * perBatch)
	if timed && gpu > 0 {
		return gpu / n
	}
	return wall / n
}

// timeDispatches is timeBatches over the benchmark's b.N batches, after
// one to warm up.
func timeDispatches(b *testing.B, d *wgpu.Device, k dispatch, perBatch int) time.Duration {
	b.Helper()
	runBatch(b, d, k, perBatch)
	b.ResetTimer()
	per := timeBatches(b, d, k, perBatch, b.N)
	b.StopTimer()
	return per
}

// copyBandwidth is the copy kernel's bytes/s (read + write) over a buffer
// of size bytes, measured once per size in this process (a fixed 8
// batches of 8: it is the yardstick, not the benchmark).
func copyBandwidth(b *testing.B, d *wgpu.Device, size int) float64 {
	size = (size + 15) &^ 15
	bench.mu.Lock()
	bw, ok := bench.copy[size]
	bench.mu.Unlock()
	if ok {
		return bw
	}
	n4 := uint32(size / 16)
	k := prepare(b, d, shaders.Copy(), shaders.CopyParams{N4: n4}, shaders.CopyGrid(n4),
		[]shaders.Buffer{{Name: "x", Size: size}, {Name: "y", Size: size}})
	runBatch(b, d, k, 8)
	bw = float64(2*size) / timeBatches(b, d, k, 8, 8).Seconds()
	bench.mu.Lock()
	bench.copy[size] = bw
	bench.mu.Unlock()
	return bw
}

// report sets the metrics of a kernel that moves bytes and does flops in
// per, against the copy kernel's bandwidth copyBW.
func report(b *testing.B, per time.Duration, bytes, flops float64, copyBW float64) {
	bw := bytes / per.Seconds()
	b.ReportMetric(float64(per.Nanoseconds()), "ns/dispatch")
	b.ReportMetric(bw/1e9, "GB/s")
	b.ReportMetric(flops/per.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(100*bw/copyBW, "%copy")
}

func BenchmarkCopy(b *testing.B) {
	d := benchDevice(b)
	for _, mb := range []int{4, 32} {
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			size := mb << 20
			n4 := uint32(size / 16)
			k := prepare(b, d, shaders.Copy(), shaders.CopyParams{N4: n4}, shaders.CopyGrid(n4),
				[]shaders.Buffer{{Name: "x", Size: size}, {Name: "y", Size: size}})
			per := timeDispatches(b, d, k, 8)
			b.ReportMetric(float64(per.Nanoseconds()), "ns/dispatch")
			b.ReportMetric(float64(2*size)/per.Seconds()/1e9, "GB/s")
		})
	}
}

// matmulBuffers are the buffers of a benchmark matmul: random weights
// packed as dt, random x, zero y.
func matmulBuffers(dt shaders.DType, m, n, k int) []shaders.Buffer {
	w, err := shaders.Pack(dt, benchRand(n*k, 1, 0.05), n, k)
	if err != nil {
		panic(err)
	}
	return append(w.Buffers("w"),
		shaders.Buffer{Name: "x", Init: shaders.F32Bytes(benchRand(m*k, 2, 1))},
		shaders.Buffer{Name: "y", Size: 4 * m * n})
}

// benchRand is cheap deterministic noise in [-scale, scale).
func benchRand(n int, seed uint32, scale float32) []float32 {
	out := make([]float32, n)
	s := seed*2654435761 + 1
	for i := range out {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		out[i] = (float32(s>>8)/(1<<24)*2 - 1) * scale
	}
	return out
}

// BenchmarkGEMV is decode at Phi-3-mini's width: y (1, 3072) = x·Wᵀ with
// W 3072×3072 in each dtype.
func BenchmarkGEMV(b *testing.B) {
	d := benchDevice(b)
	const n, k = 3072, 3072
	for _, dt := range shaders.DTypes() {
		b.Run(dt.String(), func(b *testing.B) {
			v := shaders.GEMVVariant{DType: dt}
			p := shaders.MatMulDims(1, n, k)
			wbytes := dt.Bytes(n, k)
			copyBW := copyBandwidth(b, d, wbytes)
			kr := prepare(b, d, shaders.GEMV(v), p, shaders.GEMVGrid(v, p), matmulBuffers(dt, 1, n, k))
			per := timeDispatches(b, d, kr, 8)
			report(b, per, float64(wbytes+4*k+4*n), 2*n*k, copyBW)
		})
	}
}

// BenchmarkGEMM is CLIP ViT-L/14-336's MLP fc1 over its 577 tokens:
// Y (577, 4096) = X (577, 1024)·Wᵀ.
func BenchmarkGEMM(b *testing.B) {
	d := benchDevice(b)
	const m, n, k = 577, 4096, 1024
	for _, dt := range []shaders.DType{shaders.F16, shaders.F32} {
		b.Run(dt.String(), func(b *testing.B) {
			p := shaders.MatMulDims(m, n, k)
			bytes := dt.Bytes(n, k) + 4*m*k + 4*m*n
			copyBW := copyBandwidth(b, d, bytes)
			kr := prepare(b, d, shaders.GEMM(shaders.GEMMVariant{DType: dt}), p, shaders.GEMMGrid(p), matmulBuffers(dt, m, n, k))
			per := timeDispatches(b, d, kr, 1)
			report(b, per, float64(bytes), 2*m*n*k, copyBW)
		})
	}
}
