package gpu

import (
	"ctlens/model"
	"ctlens/shaders"
)

// Each kernel method checks what model/cpu checks (aliasing, the kernel's
// Validate, dtypes) plus the extents a GPU would clamp silently, picks the
// variant from its Params and the device, and records one dispatch (two
// for split decode attention). The descriptors in shaders own every
// variant, grid and binding name; nothing here restates them.

// gemvMaxRows is the largest M that MatMul runs as a GEMV. GEMV reads the
// weights once per tile of up to 4 rows of x (shaders.GEMVRows), so up to
// 4 rows it reads W exactly once, as the 64-row GEMM tile would, without
// the GEMM's idle rows; beyond that GEMM's tiles reuse each weight across
// 64 rows.
const gemvMaxRows = 4

// weightBinds binds an uploaded matrix (words and, when scaled, scales).
func weightBinds(w *tensor) []bind {
	return []bind{{name: "w", buf: w.buf, t: w}, {name: "wscale", buf: w.scale, t: w}}
}

// MatMul implements model.Ops: GEMV for up to gemvMaxRows rows (the decode
// step; variant by shaders.GEMVPick for the device's features), GEMM above;
// once per piece for weights split into row pieces (pieces.go).
func (b *Backend) MatMul(y, x, w model.Tensor, o model.MatMulOpts, p shaders.MatMulParams) {
	b.run("MatMul", func() {
		cy, cx, cw, cb := b.f32(y), b.f32(x), b.get(w), b.f32(o.Bias)
		distinct(cy, cx, cw, cb)
		if !cw.weight {
			refuse("%q is not an uploaded weight matrix", cw.name)
		}
		if cw.shape[0] != int(p.N) || cw.shape[1] != int(p.K) {
			refuse("weights %q are %d×%d, params say N=%d K=%d", cw.name, cw.shape[0], cw.shape[1], p.N, p.K)
		}
		check(p.Validate(cw.wdt))
		cs := b.u32(o.Seg)
		need(cx, span(p.M, p.LdX, p.K), "x")
		need(cy, span(p.M, p.LdY, p.YCol+p.N), "y")
		need(cb, uint64(p.N), "bias")
		if cw.pieces != nil {
			b.matmulPieces(cy, cx, cw, cb, cs, o, p)
			return
		}
		binds := append(weightBinds(cw), bt("x", cx), bt("b", cb), bt("seg", cs), bt("y", cy))
		b.matmul1(cw.wdt, cb != nil, cs != nil, o, p, binds)
	})
}

// matmul1 records one GEMV or GEMM dispatch of weights of type dt.
func (b *Backend) matmul1(dt shaders.DType, bias, seg bool, o model.MatMulOpts, p shaders.MatMulParams, binds []bind) {
	if int(p.M) <= gemvMaxRows {
		v := shaders.GEMVPick(dt, int(p.M), b.feats)
		v.Bias, v.Act, v.Accumulate, v.Segmented = bias, o.Act, o.Accumulate, seg
		k := b.kernel(v, func() shaders.Kernel { return shaders.GEMV(v) })
		b.dispatch(k, p, shaders.GEMVGrid(v, p), binds...)
		return
	}
	v := shaders.GEMMVariant{DType: dt, Bias: bias, Act: o.Act, Accumulate: o.Accumulate, Segmented: seg}
	k := b.kernel(v, func() shaders.Kernel { return shaders.GEMM(v) })
	b.dispatch(k, p, shaders.GEMMGrid(p), binds...)
}

// LayerNorm implements model.Ops.
func (b *Backend) LayerNorm(y, x, w, bias model.Tensor, p shaders.LayerNormParams) {
	b.run("LayerNorm", func() {
		cy, cx, cw, cb := b.f32(y), b.f32(x), b.f32(w), b.f32(bias)
		distinct(cy, cx, cw, cb)
		n := uint64(p.Rows) * uint64(p.Cols)
		need(cx, n, "x")
		need(cy, n, "y")
		need(cw, uint64(p.Cols), "weight")
		need(cb, uint64(p.Cols), "bias")
		k := b.kernel(keyLayerNorm, shaders.LayerNorm)
		b.dispatch(k, p, shaders.LayerNormGrid(p), bt("x", cx), bt("w", cw), bt("b", cb), bt("y", cy))
	})
}

// RMSNorm implements model.Ops; with r the residual variant adds r into x
// first (x is then written too).
func (b *Backend) RMSNorm(y, x, r, w model.Tensor, p shaders.RMSNormParams) {
	b.run("RMSNorm", func() {
		cy, cx, cr, cw := b.f32(y), b.f32(x), b.f32(r), b.f32(w)
		distinct(cy, cx, cr, cw)
		if cr != nil {
			distinct(cx, cr, cw)
		}
		n := uint64(p.Rows) * uint64(p.Cols)
		need(cx, n, "x")
		need(cy, n, "y")
		need(cr, n, "residual")
		need(cw, uint64(p.Cols), "weight")
		v := shaders.RMSNormVariant{Residual: cr != nil}
		k := b.kernel(v, func() shaders.Kernel { return shaders.RMSNorm(v) })
		b.dispatch(k, p, shaders.RMSNormGrid(p), bt("x", cx), bt("r", cr), bt("w", cw), bt("y", cy))
	})
}

// Softmax implements model.Ops, with the 32-thread variant for short rows.
func (b *Backend) Softmax(y, x model.Tensor, p shaders.SoftmaxParams) {
	b.run("Softmax", func() {
		cy, cx := b.f32(y), b.f32(x)
		distinct(cy, cx)
		n := uint64(p.Rows) * uint64(p.Cols)
		need(cx, n, "x")
		need(cy, n, "y")
		v := shaders.SoftmaxVariantFor(int(p.Cols))
		k := b.kernel(v, func() shaders.Kernel { return shaders.Softmax(v) })
		b.dispatch(k, p, shaders.SoftmaxGrid(p), bt("x", cx), bt("y", cy))
	})
}

// Act implements model.Ops; y == x runs the in-place variant.
func (b *Backend) Act(y, x model.Tensor, a shaders.Act, p shaders.ActParams) {
	b.run("Act", func() {
		cy, cx := b.f32(y), b.f32(x)
		need(cx, uint64(p.N), "x")
		need(cy, uint64(p.N), "y")
		v := shaders.ActVariant{Act: a, InPlace: cy == cx}
		k := b.kernel(v, func() shaders.Kernel { return shaders.Activation(v) })
		if v.InPlace {
			b.dispatch(k, p, shaders.ActGrid(p.N), bt("x", cx))
			return
		}
		b.dispatch(k, p, shaders.ActGrid(p.N), bt("x", cx), bt("y", cy))
	})
}

// SwiGLU implements model.Ops.
func (b *Backend) SwiGLU(y, x model.Tensor, p shaders.SwiGLUParams) {
	b.run("SwiGLU", func() {
		cy, cx := b.f32(y), b.f32(x)
		distinct(cy, cx)
		need(cx, 2*uint64(p.Rows)*uint64(p.F), "x")
		need(cy, uint64(p.Rows)*uint64(p.F), "y")
		k := b.kernel(keySwiGLU, shaders.SwiGLU)
		b.dispatch(k, p, shaders.SwiGLUGrid(p), bt("x", cx), bt("y", cy))
	})
}

// Add implements model.Ops; y == a runs the in-place variant.
func (b *Backend) Add(y, a, bb model.Tensor, p shaders.AddParams) {
	b.run("Add", func() {
		cy, ca, cb := b.f32(y), b.f32(a), b.f32(bb)
		distinct(cy, cb)
		if p.NB == 0 {
			refuse("NB = 0")
		}
		need(ca, uint64(p.N), "a")
		need(cy, uint64(p.N), "y")
		need(cb, uint64(p.NB), "b")
		v := shaders.AddVariant{InPlace: cy == ca}
		k := b.kernel(v, func() shaders.Kernel { return shaders.Add(v) })
		b.dispatch(k, p, shaders.AddGrid(p), bt("a", ca), bt("b", cb), bt("y", cy))
	})
}

// Patchify implements model.Ops.
func (b *Backend) Patchify(y, x model.Tensor, p shaders.PatchifyParams) {
	b.run("Patchify", func() {
		cy, cx := b.f32(y), b.f32(x)
		distinct(cy, cx)
		need(cx, uint64(p.D)*uint64(p.Cin)*uint64(p.H)*uint64(p.W), "pixels")
		need(cy, uint64(p.D)*uint64(p.Rows())*uint64(p.K()), "patches")
		k := b.kernel(keyPatchify, shaders.Patchify)
		b.dispatch(k, p, shaders.PatchifyGrid(p), bt("x", cx), bt("y", cy))
	})
}

// Merge2x2 implements model.Ops.
func (b *Backend) Merge2x2(y, x model.Tensor, p shaders.MergeParams) {
	b.run("Merge2x2", func() {
		cy, cx := b.f32(y), b.f32(x)
		distinct(cy, cx)
		if p.H%2 != 0 || p.W%2 != 0 {
			refuse("2×2 merge of an odd %d×%d grid", p.H, p.W)
		}
		need(cx, uint64(p.D)*uint64(p.Skip+p.H*p.W)*uint64(p.C), "x")
		need(cy, uint64(p.D)*uint64(p.Tokens())*4*uint64(p.C), "y")
		k := b.kernel(keyMerge, shaders.Merge)
		b.dispatch(k, p, shaders.MergeGrid(p), bt("x", cx), bt("y", cy))
	})
}

// Gather implements model.Ops: the table is an uploaded matrix of any type
// (its packing picks the variant) or an f32 activation read as f32 rows;
// a table split into row pieces goes through gatherPieces (pieces.go).
func (b *Backend) Gather(y, ids, table model.Tensor, p shaders.GatherParams) {
	b.run("Gather", func() {
		cy, ci, ct := b.f32(y), b.u32(ids), b.get(table)
		distinct(cy, ct)
		dt := shaders.F32
		if ct.weight {
			dt = ct.wdt
			if ct.shape[0] != int(p.Rows) || ct.shape[1] != int(p.C) {
				refuse("table %q is %d×%d, params say %d×%d", ct.name, ct.shape[0], ct.shape[1], p.Rows, p.C)
			}
		} else {
			b.f32(table)
			need(ct, uint64(p.Rows)*uint64(p.C), "table")
		}
		if int(p.C)%dt.KMultiple() != 0 {
			refuse("C = %d is not a multiple of %d for %s", p.C, dt.KMultiple(), dt)
		}
		need(ci, uint64(p.T), "ids")
		need(cy, uint64(p.T)*uint64(p.C), "y")
		if ct.pieces != nil {
			b.gatherPieces(cy, ci, ct, p)
			return
		}
		k := b.kernel(gatherKey(dt), func() shaders.Kernel { return shaders.Gather(dt) })
		binds := append(weightBinds(ct), bt("ids", ci), bt("y", cy))
		b.dispatch(k, p, shaders.GatherGrid(p), binds...)
	})
}

// Attention implements model.Ops with the flash-attention kernel.
func (b *Backend) Attention(out, q, k, v model.Tensor, av shaders.AttentionVariant, p shaders.AttentionParams, batches int) {
	b.run("Attention", func() {
		co, cq, ck, cv := b.f32(out), b.f32(q), b.f32(k), b.f32(v)
		distinct(co, cq, ck, cv)
		check(p.Validate(av.Dh))
		kr := b.kernel(av, func() shaders.Kernel { return shaders.Attention(av) })
		b.dispatch(kr, p, shaders.AttentionGrid(p, av.Dh, batches), bt("q", cq), bt("k", ck), bt("v", cv), bt("out", co))
	})
}

// DecodeAttention implements model.Ops. From b.splitMin keys on it runs
// split-K: each head's keys in up to decodeMaxSplits ranges of about
// b.splitKeys, then the combine kernel (p.SplitLen is the backend's
// choice; the caller's value is ignored). In Warm's dry mode it compiles
// both paths, since the context grows into the split one after load.
func (b *Backend) DecodeAttention(out, q, kc, vc model.Tensor, dh int, p shaders.AttnDecodeParams) {
	b.run("DecodeAttention", func() {
		co, cq, ck, cv := b.f32(out), b.f32(q), b.f32(kc), b.f32(vc)
		distinct(co, cq, ck, cv)
		check(p.Validate(dh))
		keys := int(p.NPast) + 1
		split := b.splitMin > 0 && keys >= b.splitMin
		if b.dry || !split {
			v := shaders.AttnDecodeVariant{Dh: dh}
			kr := b.kernel(v, func() shaders.Kernel { return shaders.AttnDecode(v) })
			b.dispatch(kr, p, shaders.AttnDecodeGrid(p, 1), bt("q", cq), bt("k", ck), bt("v", cv), bt("out", co))
		}
		if !b.dry && !split {
			return
		}
		v := shaders.AttnDecodeVariant{Dh: dh, Split: true}
		kr := b.kernel(v, func() shaders.Kernel { return shaders.AttnDecode(v) })
		comb := b.kernel(combineKey(dh), func() shaders.Kernel { return shaders.AttnDecodeCombine(dh) })
		part := b.partials(int(p.H), dh)
		splits := min(decodeMaxSplits, (keys+b.splitKeys-1)/b.splitKeys)
		p.SplitLen = uint32((keys + splits - 1) / splits)
		s := shaders.AttnDecodeSplits(p)
		b.dispatch(kr, p, shaders.AttnDecodeGrid(p, s), bt("q", cq), bt("k", ck), bt("v", cv), bind{name: "part", buf: part})
		cp := shaders.AttnDecodeCombineParams{H: p.H, Splits: s, OOff: p.OOff}
		b.dispatch(comb, cp, [3]uint32{p.H, 1, 1}, bind{name: "part", buf: part}, bt("out", co))
	})
}

// partials returns the split-K partials buffer for H heads of dh,
// allocated once for decodeMaxSplits.
func (b *Backend) partials(h, dh int) *buffer {
	key := [2]int{h, dh}
	if buf, ok := b.parts[key]; ok {
		return buf
	}
	buf, err := b.newBuffer("gpu.attn_decode_partials", uint64(4*shaders.AttnDecodePartSize(h, decodeMaxSplits, dh)))
	check(err)
	b.parts[key] = buf
	return buf
}

// KVAppend implements model.Ops.
func (b *Backend) KVAppend(kc, vc, src model.Tensor, p shaders.KVAppendParams) {
	b.run("KVAppend", func() {
		ck, cv, cs := b.f32(kc), b.f32(vc), b.f32(src)
		distinct(ck, cs)
		distinct(cv, cs)
		k := b.kernel(keyKVAppend, shaders.KVAppend)
		b.dispatch(k, p, shaders.KVAppendGrid(p), bt("src", cs), bt("kc", ck), bt("vc", cv))
	})
}

// RoPE implements model.Ops (in place).
func (b *Backend) RoPE(x, invFreq model.Tensor, p shaders.RoPEParams) {
	b.run("RoPE", func() {
		cx, cf := b.f32(x), b.f32(invFreq)
		distinct(cx, cf)
		check(p.Validate())
		need(cf, uint64(p.RotDim/2), "inverse frequencies")
		k := b.kernel(keyRoPE, shaders.RoPE)
		b.dispatch(k, p, shaders.RoPEGrid(p), bt("x", cx), bt("inv_freq", cf))
	})
}

// TaskRoute implements model.Ops.
func (b *Backend) TaskRoute(task, probs, logits model.Tensor, p shaders.TaskRouteParams) {
	b.run("TaskRoute", func() {
		ct, cp, cl := b.u32(task), b.f32(probs), b.f32(logits)
		distinct(cp, cl)
		if p.Groups == 0 {
			refuse("no task groups")
		}
		need(cl, uint64(p.Groups), "logits")
		need(cp, uint64(p.Groups), "probs")
		k := b.kernel(keyTaskRoute, shaders.TaskRoute)
		b.dispatch(k, p, shaders.TaskRouteGrid(), bt("logits", cl), bt("task", ct), bt("task_probs", cp))
	})
}

// MoERoute implements model.Ops.
func (b *Backend) MoERoute(ids, gates, probs, logits, task model.Tensor, p shaders.MoERouteParams) {
	b.run("MoERoute", func() {
		ci, cg, cp, cl, ct := b.u32(ids), b.f32(gates), b.f32(probs), b.f32(logits), b.u32(task)
		distinct(cg, cl)
		distinct(cp, cl)
		check(p.Validate())
		k := b.kernel(keyMoERoute, shaders.MoERoute)
		b.dispatch(k, p, shaders.MoERouteGrid(p), bt("logits", cl), bt("task", ct), bt("ids", ci), bt("gates", cg), bt("probs", cp))
	})
}

// MoEPlan implements model.Ops.
func (b *Backend) MoEPlan(seg, perm, slot, ids model.Tensor, p shaders.MoEPlanParams) {
	b.run("MoEPlan", func() {
		cs, cp, cl, ci := b.u32(seg), b.u32(perm), b.u32(slot), b.u32(ids)
		distinct(cs, ci)
		distinct(cp, ci)
		distinct(cl, ci)
		check(p.Validate())
		k := b.kernel(keyMoEPlan, shaders.MoEPlan)
		b.dispatch(k, p, shaders.MoEPlanGrid(), bt("ids", ci), bt("seg", cs), bt("perm", cp), bt("slot", cl))
	})
}

// MoECombine implements model.Ops, with the vec4 variant when C % 4 == 0.
func (b *Backend) MoECombine(out, gates, slot, y model.Tensor, p shaders.MoECombineParams) {
	b.run("MoECombine", func() {
		co, cg, cs, cy := b.f32(out), b.f32(gates), b.u32(slot), b.f32(y)
		distinct(co, cg, cy)
		v := shaders.MoECombineVariantFor(p.Cols)
		k := b.kernel(v, func() shaders.Kernel { return shaders.MoECombine(v) })
		b.dispatch(k, p, shaders.MoECombineGrid(p), bt("gates", cg), bt("slot", cs), bt("y", cy), bt("out", co))
	})
}

// Sample implements model.Ops: argmax when p.InvTemp ≤ 0, else top-k/top-p
// sampling. In Warm's dry mode it compiles both: a request picks its
// sampler after load.
func (b *Backend) Sample(out, logits model.Tensor, p shaders.SampleParams) {
	b.run("Sample", func() {
		co, cl := b.u32(out), b.f32(logits)
		need(cl, uint64(p.LogitsOffset)+uint64(p.Vocab), "logits")
		need(co, uint64(p.OutIndex)+1, "out")
		greedy := p.InvTemp <= 0
		for _, g := range []bool{greedy, !greedy} {
			v := shaders.SampleVariant{Greedy: g}
			k := b.kernel(v, func() shaders.Kernel { return shaders.Sample(v) })
			if g == greedy {
				b.dispatch(k, p, shaders.SampleGrid(), bt("logits", cl), bt("out", co))
			}
			if !b.dry {
				return
			}
		}
	})
}
