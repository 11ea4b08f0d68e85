// Package cpu is the reference backend of model.Ops: every kernel method
// calls the Go reference of its shaders kernel (the *_ref.go files), in
// plain f32 on the host, so the CPU backend computes by definition what the
// kernels are specified to compute. It also enforces the rules the GPU
// backend lives under (no output aliasing an input, the kernels' parameter
// limits), so a forward pass that runs here does not fail there for those
// reasons.
//
// Errors are sticky, as on the GPU: a failing op records the first error
// (a recovered panic of a reference on a bad shape included) and the next
// Read, ReadU32 or Sync reports it.
package cpu

import (
	"fmt"
	"math"
	"slices"

	"ctlens/model"
	"ctlens/shaders"
)

// Backend is the CPU implementation of model.Ops.
type Backend struct {
	err error
}

// New returns a CPU backend.
func New() *Backend { return &Backend{} }

var _ model.Ops = (*Backend)(nil)

// tensor is a host buffer: f for F32, u for U32, w for uploaded weights.
type tensor struct {
	name  string
	shape []int
	dt    model.DType
	f     []float32
	u     []uint32
	w     *shaders.Weights
	freed bool
}

// Shape implements model.Tensor.
func (t *tensor) Shape() []int { return t.shape }

// DType implements model.Tensor.
func (t *tensor) DType() model.DType { return t.dt }

// Backend implements model.Ops.
func (b *Backend) Backend() string { return "cpu" }

// fail records the first error.
func (b *Backend) fail(op string, format string, a ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("cpu: %s: %s", op, fmt.Sprintf(format, a...))
	}
}

// run executes one op, turning a reference's panic (an index out of range
// on a misshapen call) into the sticky error; after an error nothing runs.
func (b *Backend) run(op string, f func()) {
	if b.err != nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			b.fail(op, "%v", r)
		}
	}()
	f()
}

// get unwraps a tensor of this backend; nil stays nil.
func (b *Backend) get(t model.Tensor) *tensor {
	if t == nil {
		return nil
	}
	ct, ok := t.(*tensor)
	if !ok {
		panic(fmt.Sprintf("tensor of another backend (%T)", t))
	}
	if ct.freed {
		panic(fmt.Sprintf("tensor %q used after Free", ct.name))
	}
	return ct
}

// f32 returns t's f32 storage: an activation, or an f32 weight's words
// reinterpreted (biases and tables may be either).
func (b *Backend) f32(t *tensor) []float32 {
	if t == nil {
		return nil
	}
	if t.dt != model.F32 {
		panic(fmt.Sprintf("tensor %q is %s, want f32", t.name, t.dt))
	}
	if t.w != nil {
		return t.w.Dequant()
	}
	return t.f
}

func (b *Backend) u32(t *tensor) []uint32 {
	if t.dt != model.U32 {
		panic(fmt.Sprintf("tensor %q is %s, want u32", t.name, t.dt))
	}
	return t.u
}

// distinct panics when an output is also an input: WebGPU cannot bind one
// buffer as read-only and writable storage in one dispatch.
func distinct(out *tensor, ins ...*tensor) {
	for _, in := range ins {
		if in != nil && in == out {
			panic(fmt.Sprintf("output %q is also an input (not allowed for this op on the GPU)", out.name))
		}
	}
}

// weights views t as shaders.Weights: an uploaded matrix as is, an f32
// activation as an f32 matrix of rows×cols (the MoE row gather).
func (b *Backend) weights(t *tensor, rows, cols int) shaders.Weights {
	if t.w != nil {
		return *t.w
	}
	f := b.f32(t)
	if rows*cols > len(f) {
		panic(fmt.Sprintf("tensor %q has %d values, viewed as %d×%d", t.name, len(f), rows, cols))
	}
	words := make([]uint32, rows*cols)
	for i := range words {
		words[i] = math.Float32bits(f[i])
	}
	return shaders.Weights{DType: shaders.F32, N: rows, K: cols, Words: words}
}

// ---- memory ----------------------------------------------------------------

// Alloc implements model.Ops.
func (b *Backend) Alloc(name string, dt model.DType, shape ...int) model.Tensor {
	t := &tensor{name: name, shape: slices.Clone(shape), dt: dt}
	n := 1
	for _, s := range shape {
		if s < 0 {
			b.fail("Alloc", "tensor %q: negative dimension in %v", name, shape)
			s = 0
		}
		n *= s
	}
	switch dt {
	case model.F32:
		t.f = make([]float32, n)
	case model.U32:
		t.u = make([]uint32, n)
	default:
		b.fail("Alloc", "tensor %q: %s is a weight type (use Upload)", name, dt)
	}
	return t
}

// Upload implements model.Ops.
func (b *Backend) Upload(name string, w shaders.Weights) model.Tensor {
	w.Words = slices.Clone(w.Words)
	w.Scales = slices.Clone(w.Scales)
	return &tensor{name: name, shape: []int{w.N, w.K}, dt: model.DType(w.DType), w: &w}
}

// Write implements model.Ops.
func (b *Backend) Write(t model.Tensor, off int, v []float32) {
	b.run("Write", func() {
		ct := b.get(t)
		if ct.w != nil || ct.dt != model.F32 {
			panic(fmt.Sprintf("tensor %q is not an f32 activation", ct.name))
		}
		copy(ct.f[off:off+len(v)], v)
	})
}

// WriteU32 implements model.Ops.
func (b *Backend) WriteU32(t model.Tensor, off int, v []uint32) {
	b.run("WriteU32", func() {
		ct := b.get(t)
		copy(b.u32(ct)[off:off+len(v)], v)
	})
}

// Read implements model.Ops.
func (b *Backend) Read(t model.Tensor, off, n int) ([]float32, error) {
	var out []float32
	b.run("Read", func() {
		out = slices.Clone(b.f32(b.get(t))[off : off+n])
	})
	return out, b.Sync()
}

// ReadU32 implements model.Ops.
func (b *Backend) ReadU32(t model.Tensor, off, n int) ([]uint32, error) {
	var out []uint32
	b.run("ReadU32", func() {
		out = slices.Clone(b.u32(b.get(t))[off : off+n])
	})
	return out, b.Sync()
}

// Sync implements model.Ops: work is already done; it reports and clears
// the sticky error.
func (b *Backend) Sync() error {
	err := b.err
	b.err = nil
	return err
}

// Free implements model.Ops.
func (b *Backend) Free(t model.Tensor) {
	b.run("Free", func() {
		ct := b.get(t)
		ct.f, ct.u, ct.w, ct.freed = nil, nil, nil, true
	})
}

// Copy implements model.Ops.
func (b *Backend) Copy(dst model.Tensor, dstOff int, src model.Tensor, srcOff, n int) {
	b.run("Copy", func() {
		d, s := b.get(dst), b.get(src)
		distinct(d, s)
		if d.w != nil {
			panic(fmt.Sprintf("copy into weights %q", d.name))
		}
		if d.dt == model.U32 {
			copy(b.u32(d)[dstOff:dstOff+n], b.u32(s)[srcOff:srcOff+n])
			return
		}
		copy(b.f32(d)[dstOff:dstOff+n], b.f32(s)[srcOff:srcOff+n])
	})
}

// ---- kernels -----------------------------------------------------------------

// MatMul implements model.Ops with shaders.MatMulRef.
func (b *Backend) MatMul(y, x, w model.Tensor, o model.MatMulOpts, p shaders.MatMulParams) {
	b.run("MatMul", func() {
		ct, cx, cw := b.get(y), b.get(x), b.get(w)
		distinct(ct, cx, cw, b.get(o.Bias))
		if cw.w == nil {
			panic(fmt.Sprintf("%q is not an uploaded weight matrix", cw.name))
		}
		if cw.w.N != int(p.N) || cw.w.K != int(p.K) {
			panic(fmt.Sprintf("weights %q are %d×%d, params say N=%d K=%d", cw.name, cw.w.N, cw.w.K, p.N, p.K))
		}
		if err := p.Validate(cw.w.DType); err != nil {
			panic(err)
		}
		var seg []uint32
		if o.Seg != nil {
			seg = b.u32(b.get(o.Seg))
		}
		shaders.MatMulRef(b.f32(ct), b.f32(cx), *cw.w, b.f32(b.get(o.Bias)), o.Act, o.Accumulate, p, seg)
	})
}

// LayerNorm implements model.Ops with shaders.LayerNormRef.
func (b *Backend) LayerNorm(y, x, w, bias model.Tensor, p shaders.LayerNormParams) {
	b.run("LayerNorm", func() {
		cy, cx := b.get(y), b.get(x)
		distinct(cy, cx)
		shaders.LayerNormRef(b.f32(cy), b.f32(cx), b.f32(b.get(w)), b.f32(b.get(bias)), int(p.Rows), int(p.Cols), p.Eps)
	})
}

// RMSNorm implements model.Ops with shaders.RMSNormRef.
func (b *Backend) RMSNorm(y, x, r, w model.Tensor, p shaders.RMSNormParams) {
	b.run("RMSNorm", func() {
		cy, cx, cr := b.get(y), b.get(x), b.get(r)
		distinct(cy, cx, cr)
		if cr != nil {
			distinct(cx, cr)
		}
		shaders.RMSNormRef(b.f32(cy), b.f32(cx), b.f32(cr), b.f32(b.get(w)), int(p.Rows), int(p.Cols), p.Eps)
	})
}

// Softmax implements model.Ops with shaders.SoftmaxRef.
func (b *Backend) Softmax(y, x model.Tensor, p shaders.SoftmaxParams) {
	b.run("Softmax", func() {
		cy, cx := b.get(y), b.get(x)
		distinct(cy, cx)
		shaders.SoftmaxRef(b.f32(cy), b.f32(cx), int(p.Rows), int(p.Cols), p.Scale)
	})
}

// Act implements model.Ops with shaders.ActApplyRef (in place allowed).
func (b *Backend) Act(y, x model.Tensor, a shaders.Act, p shaders.ActParams) {
	b.run("Act", func() {
		shaders.ActApplyRef(a, b.f32(b.get(y)), b.f32(b.get(x))[:p.N])
	})
}

// SwiGLU implements model.Ops with shaders.SwiGLURef.
func (b *Backend) SwiGLU(y, x model.Tensor, p shaders.SwiGLUParams) {
	b.run("SwiGLU", func() {
		cy, cx := b.get(y), b.get(x)
		distinct(cy, cx)
		shaders.SwiGLURef(b.f32(cy), b.f32(cx), int(p.Rows), int(p.F))
	})
}

// Add implements model.Ops with shaders.AddRef (y may be a).
func (b *Backend) Add(y, a, bb model.Tensor, p shaders.AddParams) {
	b.run("Add", func() {
		cy, cb := b.get(y), b.get(bb)
		distinct(cy, cb)
		if p.NB == 0 {
			panic("NB = 0")
		}
		shaders.AddRef(b.f32(cy), b.f32(b.get(a))[:p.N], b.f32(cb)[:p.NB])
	})
}

// Patchify implements model.Ops with shaders.PatchifyRef.
func (b *Backend) Patchify(y, x model.Tensor, p shaders.PatchifyParams) {
	b.run("Patchify", func() {
		cy, cx := b.get(y), b.get(x)
		distinct(cy, cx)
		shaders.PatchifyRef(b.f32(cy), b.f32(cx), p)
	})
}

// Merge2x2 implements model.Ops with shaders.MergeRef.
func (b *Backend) Merge2x2(y, x model.Tensor, p shaders.MergeParams) {
	b.run("Merge2x2", func() {
		cy, cx := b.get(y), b.get(x)
		distinct(cy, cx)
		shaders.MergeRef(b.f32(cy), b.f32(cx), p)
	})
}

// Gather implements model.Ops with shaders.GatherRef.
func (b *Backend) Gather(y, ids, table model.Tensor, p shaders.GatherParams) {
	b.run("Gather", func() {
		cy, ci, ct := b.get(y), b.get(ids), b.get(table)
		distinct(cy, ct)
		w := b.weights(ct, int(p.Rows), int(p.C))
		if w.N != int(p.Rows) || w.K != int(p.C) {
			panic(fmt.Sprintf("table %q is %d×%d, params say %d×%d", ct.name, w.N, w.K, p.Rows, p.C))
		}
		if int(p.C)%w.DType.KMultiple() != 0 {
			panic(fmt.Sprintf("C = %d is not a multiple of %d for %s", p.C, w.DType.KMultiple(), w.DType))
		}
		shaders.GatherPieceRef(b.f32(cy)[:int(p.T)*int(p.C)], b.u32(ci)[:p.T], w, p.Row0, p.Keep != 0)
	})
}

// Attention implements model.Ops with shaders.AttentionRef.
func (b *Backend) Attention(out, q, k, v model.Tensor, av shaders.AttentionVariant, p shaders.AttentionParams, batches int) {
	b.run("Attention", func() {
		co, cq, ck, cv := b.get(out), b.get(q), b.get(k), b.get(v)
		distinct(co, cq, ck, cv)
		if err := p.Validate(av.Dh); err != nil {
			panic(err)
		}
		shaders.AttentionRef(b.f32(co), b.f32(cq), b.f32(ck), b.f32(cv), p, av.Dh, batches, av.Causal)
	})
}

// DecodeAttention implements model.Ops with shaders.AttnDecodeRef.
func (b *Backend) DecodeAttention(out, q, kc, vc model.Tensor, dh int, p shaders.AttnDecodeParams) {
	b.run("DecodeAttention", func() {
		co, cq, ck, cv := b.get(out), b.get(q), b.get(kc), b.get(vc)
		distinct(co, cq, ck, cv)
		if err := p.Validate(dh); err != nil {
			panic(err)
		}
		shaders.AttnDecodeRef(b.f32(co), b.f32(cq), b.f32(ck), b.f32(cv), p, dh)
	})
}

// KVAppend implements model.Ops with shaders.KVAppendRef.
func (b *Backend) KVAppend(kc, vc, src model.Tensor, p shaders.KVAppendParams) {
	b.run("KVAppend", func() {
		ck, cv, cs := b.get(kc), b.get(vc), b.get(src)
		distinct(ck, cs)
		distinct(cv, cs)
		shaders.KVAppendRef(b.f32(ck), b.f32(cv), b.f32(cs), p)
	})
}

// RoPE implements model.Ops with shaders.RoPERef (in place).
func (b *Backend) RoPE(x, invFreq model.Tensor, p shaders.RoPEParams) {
	b.run("RoPE", func() {
		cx, cf := b.get(x), b.get(invFreq)
		distinct(cx, cf)
		if err := p.Validate(); err != nil {
			panic(err)
		}
		shaders.RoPERef(b.f32(cx), b.f32(cf), p)
	})
}

// TaskRoute implements model.Ops with shaders.TaskRouteRef.
func (b *Backend) TaskRoute(task, probs, logits model.Tensor, p shaders.TaskRouteParams) {
	b.run("TaskRoute", func() {
		ct, cp, cl := b.get(task), b.get(probs), b.get(logits)
		distinct(cp, cl)
		id, pr := shaders.TaskRouteRef(b.f32(cl)[:p.Groups], p.Force)
		b.u32(ct)[0] = id
		copy(b.f32(cp), pr)
	})
}

// MoERoute implements model.Ops with shaders.MoERouteRef.
func (b *Backend) MoERoute(ids, gates, probs, logits, task model.Tensor, p shaders.MoERouteParams) {
	b.run("MoERoute", func() {
		ci, cg, cp, cl, ct := b.get(ids), b.get(gates), b.get(probs), b.get(logits), b.get(task)
		distinct(cg, cl)
		distinct(cp, cl)
		if err := p.Validate(); err != nil {
			panic(err)
		}
		id, g, pr := shaders.MoERouteRef(b.f32(cl), b.u32(ct)[0], p)
		copy(b.u32(ci), id)
		copy(b.f32(cg), g)
		copy(b.f32(cp), pr)
	})
}

// MoEPlan implements model.Ops with shaders.MoEPlanRef.
func (b *Backend) MoEPlan(seg, perm, slot, ids model.Tensor, p shaders.MoEPlanParams) {
	b.run("MoEPlan", func() {
		cs, cp, cl, ci := b.get(seg), b.get(perm), b.get(slot), b.get(ids)
		distinct(cs, ci)
		distinct(cp, ci)
		distinct(cl, ci)
		if err := p.Validate(); err != nil {
			panic(err)
		}
		sg, pm, sl := shaders.MoEPlanRef(b.u32(ci), int(p.Tokens), int(p.K), int(p.Experts))
		copy(b.u32(cs), sg)
		copy(b.u32(cp), pm)
		copy(b.u32(cl), sl)
	})
}

// MoECombine implements model.Ops with shaders.MoECombineRef.
func (b *Backend) MoECombine(out, gates, slot, y model.Tensor, p shaders.MoECombineParams) {
	b.run("MoECombine", func() {
		co, cg, cs, cy := b.get(out), b.get(gates), b.get(slot), b.get(y)
		distinct(co, cg, cy)
		shaders.MoECombineRef(b.f32(co), b.f32(cg), b.u32(cs), b.f32(cy), int(p.Tokens), int(p.Cols), int(p.K))
	})
}

// Sample implements model.Ops with shaders.SampleRef.
func (b *Backend) Sample(out, logits model.Tensor, p shaders.SampleParams) {
	b.run("Sample", func() {
		co, cl := b.get(out), b.get(logits)
		b.u32(co)[p.OutIndex] = shaders.SampleRef(b.f32(cl), p)
	})
}
