package model

import (
	"math/rand"
	"slices"
	"testing"

	"ctlens/shaders"
)

// TestStackRows: stacked packed matrices dequantize to the parts' values
// in order, for every type, including int8/int4 parts with an odd
// number of scale groups (a part then ends inside a scale word).
func TestStackRows(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, dt := range shaders.DTypes() {
		for _, rows := range [][]int{{1, 2, 3}, {3, 3}, {2}} {
			k := 32
			var parts []shaders.Weights
			var want []float32
			for _, n := range rows {
				v := make([]float32, n*k)
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
				w, err := shaders.Pack(dt, v, n, k)
				if err != nil {
					t.Fatal(err)
				}
				parts = append(parts, w)
				want = append(want, w.Dequant()...)
			}
			got := stackRows(parts)
			if got.DType != dt || got.K != k || got.N*k != len(want) {
				t.Fatalf("%s %v: stacked %s %d×%d", dt, rows, got.DType, got.N, got.K)
			}
			if have := got.Dequant(); !slices.Equal(have, want) {
				t.Errorf("%s %v: stacked values differ", dt, rows)
			}
		}
	}
	// Mixed types fall back to f32 holding the exact dequantized values.
	a, _ := shaders.Pack(shaders.Int4, make([]float32, 32), 1, 32)
	b, _ := shaders.Pack(shaders.F16, append([]float32{1.5, -2}, make([]float32, 30)...), 1, 32)
	got := stackRows([]shaders.Weights{a, b})
	if got.DType != shaders.F32 || got.At(1, 0) != 1.5 || got.At(1, 1) != -2 {
		t.Errorf("mixed stack: %s, row 1 = %v, %v", got.DType, got.At(1, 0), got.At(1, 1))
	}
}

// TestVisualLayout: Phi-3-V's layout for one sub crop and the global crop:
// 12 rows of 12 tokens and sub_GN, glb_GN, then the same for the global
// crop — 313 tokens.
func TestVisualLayout(t *testing.T) {
	ids := visualLayout(2, 12, true, true)
	if len(ids) != 313 {
		t.Fatalf("%d tokens, want 313", len(ids))
	}
	sub, glb := uint32(2*144), uint32(2*144+1)
	if ids[12] != sub || ids[155] != sub || ids[156] != glb || ids[157] != 144 || ids[312] != sub {
		t.Errorf("separators misplaced: %v … %v", ids[:14], ids[150:160])
	}
	if have := visualLayout(3, 2, false, false); !slices.Equal(have, []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) {
		t.Errorf("no separators: %v", have)
	}
}

// TestSplitProjectionsEqualFused: a Llama-style checkpoint (q_proj, k_proj,
// v_proj, gate_proj, up_proj) loads to the same model as Phi-3's fused
// qkv_proj and gate_up_proj.
func TestSplitProjectionsEqualFused(t *testing.T) {
	cfg := TinyConfigs()[1].Config // GQA
	src, err := RandomWeights(cfg, 3, shaders.F32)
	if err != nil {
		t.Fatal(err)
	}
	split := MapSource{}
	for k, v := range src {
		split[k] = v
	}
	lc := cfg.LLM
	c, dh, f := lc.HiddenSize, lc.Dh(), lc.Intermediate
	rowsOf := func(name string, from, to int) []float32 {
		v := shaders.BytesF32(src[name].Data)
		return v[from*c : to*c]
	}
	for l := 0; l < lc.NumLayers; l++ {
		qkv, gu := LLMLayerName(l, "self_attn.qkv_proj.weight"), LLMLayerName(l, "mlp.gate_up_proj.weight")
		q, kv := lc.NumHeads*dh, lc.NumKVHeads*dh
		split.PutF32(LLMLayerName(l, "self_attn.q_proj.weight"), rowsOf(qkv, 0, q), q, c)
		split.PutF32(LLMLayerName(l, "self_attn.k_proj.weight"), rowsOf(qkv, q, q+kv), kv, c)
		split.PutF32(LLMLayerName(l, "self_attn.v_proj.weight"), rowsOf(qkv, q+kv, q+2*kv), kv, c)
		split.PutF32(LLMLayerName(l, "mlp.gate_proj.weight"), rowsOf(gu, 0, f), f, c)
		split.PutF32(LLMLayerName(l, "mlp.up_proj.weight"), rowsOf(gu, f, 2*f), f, c)
		delete(split, qkv)
		delete(split, gu)
	}
	ops := &hostOps{}
	a, err := LoadWeights(ops, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadWeights(ops, cfg, split)
	if err != nil {
		t.Fatal(err)
	}
	for l := range a.LLM.Layers {
		for _, pair := range [][2]Tensor{{a.LLM.Layers[l].QKV, b.LLM.Layers[l].QKV}, {a.LLM.Layers[l].GateUp, b.LLM.Layers[l].GateUp}} {
			wa, wb := pair[0].(*hostTensor).w, pair[1].(*hostTensor).w
			if !slices.Equal(wa.Dequant(), wb.Dequant()) || wa.N != wb.N {
				t.Errorf("layer %d: stacked projections differ from the fused ones", l)
			}
		}
	}
}

// hostOps records uploads only: enough to inspect what LoadWeights builds
// without a backend (kernel methods are never called by it).
type hostOps struct{ Ops }

type hostTensor struct {
	shape []int
	dt    DType
	w     shaders.Weights
}

func (h *hostTensor) Shape() []int { return h.shape }
func (h *hostTensor) DType() DType { return h.dt }

func (*hostOps) Alloc(name string, dt DType, shape ...int) Tensor {
	return &hostTensor{shape: shape, dt: dt}
}
func (*hostOps) Upload(name string, w shaders.Weights) Tensor {
	return &hostTensor{shape: []int{w.N, w.K}, dt: DType(w.DType), w: w}
}
func (*hostOps) Write(Tensor, int, []float32) {}
func (*hostOps) Sync() error                  { return nil }
