//go:build !js

package gpu

import (
	"context"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/x448/float16"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/shaders/parity"
	"ctlens/wgpu"
)

// Model benchmarks on the GPU backend: a decoder of Phi-3-mini's layer
// shapes (C 3072, 32 heads of 96, F 8192, V 32064, untied head) with 2
// layers instead of 32, int4, and a small CLIP vision tower (ViT-S/16 at
// 224², f16). They report decode and prefill tok/s, the vision encoder's
// ms, dispatches per decode step, the decode roofline ratio (weight bytes a
// decode step reads × tok/s ÷ the copy kernel's bandwidth measured in the
// same run) and, from timestamp queries, GPU time per kernel class (logged
// as a table and reported as ms per token).
//
//	go test ./model/gpu/ -run '^$' -bench . -benchtime 5x

// phi3Bench is the decoder config: Phi-3-mini's LLM with 2 layers.
func phi3Bench() model.Config {
	c := model.Phi3VisionConfig()
	c.Vision = model.VisionConfig{}
	c.Projector = model.ProjectorConfig{}
	c.MoE = model.MoEConfig{}
	c.LLM.NumLayers = 2
	return c
}

// clipBench is a small CLIP tower alone: 224² in 16² patches (197 tokens),
// width 384, 6 heads, MLP 1536, 6 layers of which 5 run.
func clipBench() model.Config {
	return model.Config{
		ModelType: "ctlens",
		Vision: model.VisionConfig{
			ImageSize: 224, PatchSize: 16, NumChannels: 3, HiddenSize: 384, NumLayers: 6, NumHeads: 6,
			Intermediate: 1536, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, FeatureLayer: -2, ClassToken: true,
		},
		Transfer3D: model.Transfer3DConfig{Slices: 1},
	}
}

// int4Source makes random int4 weights for an LLM-only config directly in
// their packing (random codes, f16 scales of 1/(7√K) so activations stay
// of order one): quantizing 200 M floats would dominate the benchmark's
// setup.
func int4Source(cfg model.Config) model.MapSource {
	src := model.MapSource{}
	lc := cfg.LLM
	c, h, hkv, dh, f := lc.HiddenSize, lc.NumHeads, lc.NumKVHeads, lc.Dh(), lc.Intermediate
	r := uint64(0x9e3779b97f4a7c15)
	next := func() uint32 {
		r ^= r << 13
		r ^= r >> 7
		r ^= r << 17
		return uint32(r >> 32)
	}
	matrix := func(name string, n, k int) {
		w := shaders.Weights{DType: shaders.Int4, N: n, K: k, Words: make([]uint32, n*k/8), Scales: make([]uint32, (n*k/shaders.GroupSize+1)/2)}
		for i := range w.Words {
			w.Words[i] = next()
		}
		s := float16.Fromfloat32(float32(1 / (7 * math.Sqrt(float64(k))))).Bits()
		for i := range w.Scales {
			w.Scales[i] = uint32(s) | uint32(s)<<16
		}
		src.PutWeights(name, w)
	}
	ones := func(name string, n int) {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		src.PutF32(name, v, n)
	}
	matrix("model.embed_tokens.weight", lc.VocabSize, c)
	for l := 0; l < lc.NumLayers; l++ {
		n := func(s string) string { return model.LLMLayerName(l, s) }
		ones(n("input_layernorm.weight"), c)
		matrix(n("self_attn.qkv_proj.weight"), (h+2*hkv)*dh, c)
		matrix(n("self_attn.o_proj.weight"), c, h*dh)
		ones(n("post_attention_layernorm.weight"), c)
		matrix(n("mlp.gate_up_proj.weight"), 2*f, c)
		matrix(n("mlp.down_proj.weight"), c, f)
	}
	ones("model.norm.weight", c)
	matrix("lm_head.weight", lc.VocabSize, c)
	return src
}

// decodeWeightBytes is what one decode step must read of the weights:
// every layer matrix and the head in full, one embedding row.
func decodeWeightBytes(cfg model.Config) int64 {
	lc := cfg.LLM
	c, h, hkv, dh, f := lc.HiddenSize, lc.NumHeads, lc.NumKVHeads, lc.Dh(), lc.Intermediate
	dt := shaders.Int4
	per := dt.Bytes((h+2*hkv)*dh, c) + dt.Bytes(c, h*dh) + dt.Bytes(2*f, c) + dt.Bytes(c, f)
	return int64(lc.NumLayers*per + dt.Bytes(lc.VocabSize, c) + dt.Bytes(1, c))
}

var benchLLM struct {
	once sync.Once
	b    *Backend
	m    *model.Model
	err  error
}

// llmBench loads the Phi-3-mini-shaped decoder once for all benchmarks.
func llmBench(b *testing.B) (*Backend, *model.Model) {
	b.Helper()
	benchLLM.once.Do(func() {
		cfg := phi3Bench()
		gb := New(device(b))
		m, err := model.New(gb, cfg, int4Source(cfg))
		if err == nil {
			err = gb.Warm(context.Background(), m)
		}
		benchLLM.b, benchLLM.m, benchLLM.err = gb, m, err
	})
	if benchLLM.err != nil {
		b.Fatal(benchLLM.err)
	}
	return benchLLM.b, benchLLM.m
}

// benchPrompt is n token ids spread over the vocabulary.
func benchPrompt(n, vocab int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = (i*7919 + 1) % vocab
	}
	return ids
}

// BenchmarkDecode is one decode step (Decode + greedy SampleNext) per
// iteration after a 16-token prompt, the context growing from 17.
func BenchmarkDecode(b *testing.B) {
	gb, m := llmBench(b)
	ctx := context.Background()
	const maxSeq = 512
	s, err := m.NewState(model.StateOptions{MaxSeq: maxSeq, MaxPrefill: 128})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Free()
	restart := func() {
		s.Reset()
		if err := m.Prefill(ctx, s, benchPrompt(16, m.Cfg.LLM.VocabSize)); err != nil {
			b.Fatal(err)
		}
		if _, err := m.SampleNext(s, shaders.SampleParams{}); err != nil {
			b.Fatal(err)
		}
	}
	step := func() {
		if s.Pos >= maxSeq-1 {
			b.StopTimer()
			restart()
			b.StartTimer()
		}
		if err := m.Decode(ctx, s); err != nil {
			b.Fatal(err)
		}
		if _, err := m.SampleNext(s, shaders.SampleParams{}); err != nil {
			b.Fatal(err)
		}
	}
	restart()
	step() // the decode step's bind groups
	copyBW := copyBandwidth(b, gb.d, 64<<20)
	before := gb.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		step()
		n++
	}
	wall := time.Since(start)
	b.StopTimer()
	d := gb.Stats().Sub(before)
	tokPerS := float64(n) / wall.Seconds()
	wbytes := decodeWeightBytes(m.Cfg)
	b.ReportMetric(tokPerS, "tok/s")
	b.ReportMetric(float64(d.Dispatches)/float64(n), "dispatches/step")
	b.ReportMetric(float64(d.Submits)/float64(n), "submits/step")
	b.ReportMetric(float64(wbytes)*tokPerS/1e9, "GB/s")
	b.ReportMetric(100*float64(wbytes)*tokPerS/copyBW, "%roofline")
	b.Logf("%s: %d decode steps, %.2f tok/s, %.1f MB of weights per token, copy kernel %.2f GB/s",
		gb.d.Info().Adapter.Name, n, tokPerS, float64(wbytes)/1e6, copyBW/1e9)
	profile(b, gb, "decode", 4, step)
}

// BenchmarkPrefill is a 128-token prompt through the decoder and its first
// sampled token per iteration.
func BenchmarkPrefill(b *testing.B) {
	gb, m := llmBench(b)
	ctx := context.Background()
	const t = 128
	s, err := m.NewState(model.StateOptions{MaxSeq: t + 8, MaxPrefill: t})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Free()
	prompt := benchPrompt(t, m.Cfg.LLM.VocabSize)
	run := func() {
		s.Reset()
		if err := m.Prefill(ctx, s, prompt); err != nil {
			b.Fatal(err)
		}
		if _, err := m.SampleNext(s, shaders.SampleParams{}); err != nil {
			b.Fatal(err)
		}
	}
	n, wall := timed(b, run)
	b.ReportMetric(float64(n*t)/wall.Seconds(), "tok/s")
	b.ReportMetric(wall.Seconds()*1000/float64(n), "ms/prompt")
	profile(b, gb, "prefill of 128 tokens", 1, run)
}

// BenchmarkVision is the small CLIP tower over one 224² image (197
// tokens) per iteration, f16 weights.
func BenchmarkVision(b *testing.B) {
	benchVision(b, clipBench(), 0, "vision encoder (197 tokens, 5 layers)")
}

// BenchmarkVision3DLayout is the same tower transferred to 3D (8 slices,
// 1,576 tokens, layers 2–4 across slices), run twice side by side: with
// everything in one buffer per activation ("fused"), and with the
// binding limit lowered to one (tokens, Cv) activation so that q, k, v
// are split and the MLP runs in chunks ("split-chunked": the layout a
// full-size tower takes under a 128 MiB limit). The ratio of the two
// ms/volume is the layout's cost.
func BenchmarkVision3DLayout(b *testing.B) {
	cfg := clipBench()
	cfg.Transfer3D = model.Transfer3DConfig{Enabled: true, Slices: 8, LayersFrom: 2, SliceRoPE: true, RoPETheta: 10000}
	one := uint64(cfg.Slices()*cfg.Vision.Tokens()*cfg.Vision.HiddenSize) * 4
	b.Run("fused", func(b *testing.B) { benchVision(b, cfg, 0, "3D vision, fused") })
	b.Run("split-chunked", func(b *testing.B) { benchVision(b, cfg, one, "3D vision, split and chunked") })
}

// benchVision times EncodeVision of cfg's tower alone, f16 weights, with
// the backend's binding limit lowered to limit when nonzero.
func benchVision(b *testing.B, cfg model.Config, limit uint64, what string) {
	// model.RandomWeights divides by the decoder's head count, so it
	// cannot make a tower alone: it makes one with a tiny decoder, whose
	// tensors the tower-only config never loads.
	withLLM := cfg
	withLLM.LLM = model.TinyConfigs()[0].Config.LLM
	withLLM.Projector = model.ProjectorConfig{HiddenAct: "gelu", DepthPool: 1}
	src, err := model.RandomWeights(withLLM, 1, shaders.F16)
	if err != nil {
		b.Fatal(err)
	}
	gb := New(device(b))
	gb.limit = limit
	m, err := model.New(gb, cfg, src)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := gb.Warm(ctx, m); err != nil {
		b.Fatal(err)
	}
	s, err := m.NewState(model.StateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Free()
	px := volume(cfg, 1)
	run := func() {
		if err := m.EncodeVision(ctx, s, px); err != nil {
			b.Fatal(err)
		}
		if err := gb.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	n, wall := timed(b, run)
	b.ReportMetric(wall.Seconds()*1000/float64(n), "ms/volume")
	profile(b, gb, what, 1, run)
}

// timed runs run once to warm up, then under b.Loop, and returns the
// iterations and their wall time (the timer stopped after).
func timed(b *testing.B, run func()) (int, time.Duration) {
	run()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		run()
		n++
	}
	wall := time.Since(start)
	b.StopTimer()
	return n, wall
}

// profile runs f runs times with timing on and logs the GPU time per
// kernel class, reporting each as ms per run ("<class>-ms").
func profile(b *testing.B, gb *Backend, what string, runs int, f func()) {
	if !gb.EnableTiming(true) {
		b.Logf("%s: no timestamp-query on this device; no per-class GPU times", what)
		return
	}
	gb.ResetProfile()
	for range runs {
		f()
	}
	gb.EnableTiming(false)
	p := gb.Profile()
	b.Logf("%s, %d run(s) timed:\n%s", what, runs, p)
	names := make([]string, 0, len(p.Classes))
	for n := range p.Classes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(p.Classes[n].GPU.Seconds()*1000/float64(runs), n+"-ms")
	}
}

// copyBandwidth is the copy kernel's bytes/s (read + write) over a buffer
// of size bytes: the yardstick of the roofline ratio, measured as
// shaders/bench_test.go does (8 dispatches per batch, 8 batches, GPU
// timestamps where the device has them).
func copyBandwidth(b *testing.B, d *wgpu.Device, size int) float64 {
	b.Helper()
	size = min(size, int(d.Info().Limits.MaxStorageBufferBindingSize)) &^ 15
	n4 := uint32(size / 16)
	k := shaders.Copy()
	p, err := d.Pipeline(parity.Spec(k))
	if err != nil {
		b.Fatal(err)
	}
	var bufs []*wgpu.Buffer
	mk := func(label string, size uint64, u wgpu.Usage) *wgpu.Buffer {
		buf, err := d.NewBuffer(label, size, u)
		if err != nil {
			b.Fatal(err)
		}
		bufs = append(bufs, buf)
		return buf
	}
	defer func() {
		for _, buf := range bufs {
			buf.Destroy()
		}
	}()
	pb := mk("copy params", 16, wgpu.Uniform)
	if err := pb.Write(0, shaders.ParamsBytes(shaders.CopyParams{N4: n4})); err != nil {
		b.Fatal(err)
	}
	x, y := mk("copy x", uint64(size), wgpu.Storage), mk("copy y", uint64(size), wgpu.Storage)
	g, err := d.Bind(p, wgpu.Whole(pb), wgpu.Whole(x), wgpu.Whole(y))
	if err != nil {
		b.Fatal(err)
	}
	grid := shaders.CopyGrid(n4)
	batch := func() (time.Duration, bool) {
		bt := d.NewBatch("copy bandwidth")
		timed := bt.EnableTiming()
		for range 8 {
			bt.Dispatch(p, g, grid[0], grid[1], grid[2])
		}
		if _, err := bt.SubmitRead(context.Background(), y, 0, 4); err != nil {
			b.Fatal(err)
		}
		if !timed {
			return 0, false
		}
		ts, err := bt.Timings(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var t time.Duration
		for _, x := range ts {
			t += x.Dur
		}
		return t, true
	}
	batch() // lavapipe compiles on first use
	var gpu time.Duration
	timed := true
	start := time.Now()
	for range 8 {
		t, ok := batch()
		gpu += t
		timed = timed && ok
	}
	per := time.Since(start) / 64
	if timed && gpu > 0 {
		per = gpu / 64
	}
	return float64(2*size) / per.Seconds()
}
