package model

import "ctlens/shaders"

// DType is the element type of a backend tensor: the four weight types of
// shaders (f32, f16, int8, int4 — the same order, so a weight type converts
// with WeightDType) and u32 for ids, routing plans and sampled tokens.
// Activations are always F32.
type DType uint8

const (
	F32  DType = DType(shaders.F32)  // activations; also weights stored as f32
	F16  DType = DType(shaders.F16)  // weights only
	Int8 DType = DType(shaders.Int8) // weights only
	Int4 DType = DType(shaders.Int4) // weights only
	U32  DType = 4                   // token ids, expert ids, plans, the task, sampled ids
)

// String is the type's name (f32, f16, int8, int4, u32).
func (d DType) String() string {
	if d == U32 {
		return "u32"
	}
	return shaders.DType(d).String()
}

// WeightDType is d as a shaders weight type; ok is false for U32.
func (d DType) WeightDType() (dt shaders.DType, ok bool) {
	if d > Int4 {
		return 0, false
	}
	return shaders.DType(d), true
}

// Tensor is a backend-owned buffer: the model never sees its memory, only
// its logical shape (row-major) and element type. A weight matrix has shape
// (N, K) — N rows of K, the layout shaders.Weights describes — whatever its
// packing. Tensors are created at load (weights) and by NewState
// (activations, KV cache), never per token.
type Tensor interface {
	Shape() []int
	DType() DType
}

// Numel is the number of elements of t.
func Numel(t Tensor) int {
	n := 1
	for _, s := range t.Shape() {
		n *= s
	}
	return n
}

// MatMulOpts are the optional parts of a MatMul: the kernel variant's
// epilogue (bias, activation, accumulate) and, for the MoE expert GEMMs, the
// segment table.
type MatMulOpts struct {
	Bias       Tensor      // (N) f32 added before the activation; nil: none
	Act        shaders.Act // applied after the bias
	Accumulate bool        // add the result to y instead of overwriting (fused residual)
	Seg        Tensor      // (E, 2) u32 from MoEPlan: rows of segment p.Segment only; nil: rows 0..p.M
}

// Ops is the contract between the forward pass and a backend. The forward
// pass (vision encoder, projector, LLM, generation) is written once against
// it; model/cpu implements it with the Go references of shaders (plain f32,
// the reference), the GPU backend with the shaders kernels through wgpu.
//
// Each kernel method matches one kernel family of shaders and takes that
// kernel's Params struct unchanged, with the same meaning: the reference
// named in each comment is the definition. Strides and offsets live in the
// Params (WebGPU cannot bind a buffer at an arbitrary offset), so there are
// no tensor views; Copy moves rows between tensors.
//
// Ordering: methods take effect in call order, as if each ran to completion
// before the next (a GPU backend records them and submits lazily; it must
// keep that order, including for Write after earlier recorded work). Kernel
// methods return nothing: a backend records the first failure and reports
// it from the next Read, ReadU32 or Sync (as ggml does, so a decode step
// reads like run.c). Only Read/ReadU32 move data to the host; a decode step
// reads back only the sampled id.
//
// Aliasing: an output must be a different tensor from every input unless
// the method says it may alias (WebGPU cannot bind one buffer as both
// read-only and writable storage in a dispatch). Inputs may alias each
// other (q, k, v of one fused qkv tensor).
type Ops interface {
	// Backend names the implementation ("cpu", "gpu/<adapter>").
	Backend() string

	// ---- memory -------------------------------------------------------

	// Alloc returns a zeroed F32 or U32 tensor. name is for profiles and
	// errors (e.g. "llm.kcache").
	Alloc(name string, dt DType, shape ...int) Tensor
	// Upload makes a resident weight matrix of shape (w.N, w.K) in w's
	// packing (shaders.Pack / Weights.At define it).
	Upload(name string, w shaders.Weights) Tensor
	// Write copies v into the F32 tensor t at element off.
	Write(t Tensor, off int, v []float32)
	// WriteU32 copies v into the U32 tensor t at element off.
	WriteU32(t Tensor, off int, v []uint32)
	// Read returns n elements of the F32 tensor t from off, after all
	// earlier work; it reports the first error since the last sync.
	Read(t Tensor, off, n int) ([]float32, error)
	// ReadU32 is Read for U32 tensors.
	ReadU32(t Tensor, off, n int) ([]uint32, error)
	// Sync waits for all earlier work (timings) and reports the first error
	// since the last sync.
	Sync() error
	// Free releases t; using it afterwards is an error.
	Free(t Tensor)
	// Copy copies n elements from src[srcOff:] to dst[dstOff:] (same
	// element type; a GPU buffer-to-buffer copy). dst and src must be
	// different tensors.
	Copy(dst Tensor, dstOff int, src Tensor, srcOff, n int)

	// ---- kernels (one per shaders family) -----------------------------

	// MatMul is gemv/gemm (shaders.MatMulRef): for the rows of p (or of
	// segment p.Segment of o.Seg) and n < p.N,
	//   y[m·LdY + YCol + n] = act(Σ_k x[m·LdX + k]·W[n, k] + b[n])  (+ y)
	// with w an uploaded matrix of any weight type (N = p.N, K = p.K).
	MatMul(y, x, w Tensor, o MatMulOpts, p shaders.MatMulParams)
	// LayerNorm is shaders.LayerNormRef over p.Rows rows of p.Cols: w, b (C).
	LayerNorm(y, x, w, b Tensor, p shaders.LayerNormParams)
	// RMSNorm is shaders.RMSNormRef; with r non-nil it first adds r into x
	// in place (the fused residual variant, which writes x as well as y).
	RMSNorm(y, x, r, w Tensor, p shaders.RMSNormParams)
	// Softmax is shaders.SoftmaxRef: rows of softmax(scale·x).
	Softmax(y, x Tensor, p shaders.SoftmaxParams)
	// Act is shaders.ActApplyRef over p.N elements; y may be x.
	Act(y, x Tensor, a shaders.Act, p shaders.ActParams)
	// SwiGLU is shaders.SwiGLURef: x (T, 2F) gate|up to y (T, F).
	SwiGLU(y, x Tensor, p shaders.SwiGLUParams)
	// Add is shaders.AddRef: y[i] = a[i] + b[i mod NB] for i < p.N; y may be a.
	Add(y, a, b Tensor, p shaders.AddParams)
	// Patchify is shaders.PatchifyRef: pixels (D, Cin, H, W) to patch rows
	// (D, Prefix + Hp·Wp, Cin·p·p), prefix rows zero.
	Patchify(y, x Tensor, p shaders.PatchifyParams)
	// Merge2x2 is shaders.MergeRef: (D, Skip + h·w, C) to (D, h/2·w/2, 4C).
	Merge2x2(y, x Tensor, p shaders.MergeParams)
	// Gather is shaders.GatherRef: y row t = table row ids[t] (zeros when
	// ids[t] ≥ p.Rows). table is a weight matrix of any type (token
	// embeddings) or an F32 activation tensor viewed as (p.Rows, p.C) — the
	// MoE row gather xg[i] = x[perm[i]].
	Gather(y, ids, table Tensor, p shaders.GatherParams)
	// Attention is the flash-attention kernel (shaders.AttentionRef) for
	// variant av (head dim, causal) over `batches` batches; q, k, v may be
	// one fused qkv tensor and k, v the KV cache (strides and offsets in p).
	Attention(out, q, k, v Tensor, av shaders.AttentionVariant, p shaders.AttentionParams, batches int)
	// DecodeAttention is attention of one query row over KV-cache rows
	// 0..p.NPast (shaders.AttnDecodeRef), head dim dh.
	DecodeAttention(out, q, kc, vc Tensor, dh int, p shaders.AttnDecodeParams)
	// KVAppend is shaders.KVAppendRef: k and v columns of rows of src into
	// the caches at row p.Pos.
	KVAppend(kc, vc, src Tensor, p shaders.KVAppendParams)
	// RoPE is shaders.RoPERef: rotate x in place with the inverse
	// frequencies invFreq (F32, RotDim/2; shaders.RoPEInvFreq).
	RoPE(x, invFreq Tensor, p shaders.RoPEParams)
	// TaskRoute is shaders.TaskRouteRef: the task group from G logits into
	// task (1 u32) and its softmax into probs (G).
	TaskRoute(task, probs, logits Tensor, p shaders.TaskRouteParams)
	// MoERoute is shaders.MoERouteRef: per token, top-k experts of the group
	// task[0] from logits (T, G·Eg) into ids, gates (T, K) and the group's
	// softmax into probs (T, Eg).
	MoERoute(ids, gates, probs, logits, task Tensor, p shaders.MoERouteParams)
	// MoEPlan is shaders.MoEPlanRef: the segment table seg (E, 2), the row
	// permutation perm (T·K) and each assignment's slot (T·K) from ids.
	MoEPlan(seg, perm, slot, ids Tensor, p shaders.MoEPlanParams)
	// MoECombine is shaders.MoECombineRef: out[t] += Σ_j gates[t, j]·y[slot[t·K + j]].
	MoECombine(out, gates, slot, y Tensor, p shaders.MoECombineParams)
	// Sample is shaders.SampleRef (greedy when p.InvTemp ≤ 0): the token id
	// of one logits row into out[p.OutIndex] (U32).
	Sample(out, logits Tensor, p shaders.SampleParams)
}

// OpKind says what an Ops method is for the parity tables.
type OpKind uint8

const (
	OpMemory OpKind = iota // allocation and transfer; checked by round trips
	OpKernel               // one shaders kernel family; checked against the CPU backend
)

// OpInfo is one row of OpTable.
type OpInfo struct {
	Method   string   // the Ops method
	Kind     OpKind   // memory or kernel
	Families []string // the shaders kernel families it dispatches
}

// OpTable lists every method of Ops with the kernels behind it. A test
// compares it with the interface's method set, so a method added without a
// row (and so without a backend parity case) fails the build's tests — the
// role of ggml's static_assert on GGML_OP_COUNT.
var OpTable = []OpInfo{
	{"Backend", OpMemory, nil},
	{"Alloc", OpMemory, nil},
	{"Upload", OpMemory, nil},
	{"Write", OpMemory, nil},
	{"WriteU32", OpMemory, nil},
	{"Read", OpMemory, nil},
	{"ReadU32", OpMemory, nil},
	{"Sync", OpMemory, nil},
	{"Free", OpMemory, nil},
	{"Copy", OpMemory, nil},
	{"MatMul", OpKernel, []string{"gemv", "gemm"}},
	{"LayerNorm", OpKernel, []string{"layernorm"}},
	{"RMSNorm", OpKernel, []string{"rmsnorm"}},
	{"Softmax", OpKernel, []string{"softmax"}},
	{"Act", OpKernel, []string{"act"}},
	{"SwiGLU", OpKernel, []string{"swiglu"}},
	{"Add", OpKernel, []string{"add"}},
	{"Patchify", OpKernel, []string{"patchify"}},
	{"Merge2x2", OpKernel, []string{"merge"}},
	{"Gather", OpKernel, []string{"gather"}},
	{"Attention", OpKernel, []string{"attention"}},
	{"DecodeAttention", OpKernel, []string{"attn_decode"}},
	{"KVAppend", OpKernel, []string{"kvappend"}},
	{"RoPE", OpKernel, []string{"rope"}},
	{"TaskRoute", OpKernel, []string{"task_route"}},
	{"MoERoute", OpKernel, []string{"moe_route"}},
	{"MoEPlan", OpKernel, []string{"moe_plan"}},
	{"MoECombine", OpKernel, []string{"moe_combine"}},
	{"Sample", OpKernel, []string{"sample"}},
}
