package shaders

import "fmt"

// KVAppendParams is the uniform of the kvappend kernel (all in f32
// elements).
type KVAppendParams struct {
	T         uint32 // rows to append
	Width     uint32 // Hkv·Dh: elements of k (and of v) per row
	SrcStride uint32 // row stride of the fused qkv buffer, (H + 2·Hkv)·Dh
	KSrcOff   uint32 // column of k in a qkv row, H·Dh
	VSrcOff   uint32 // column of v, (H + Hkv)·Dh
	DstStride uint32 // cache row stride, Hkv·Dh
	KDstOff   uint32 // start of this layer's K cache in kc
	VDstOff   uint32 // start of this layer's V cache in vc
	Pos       uint32 // cache row of the first appended row (n_past)
}

// FusedKVAppend is the parameters for appending t rows of a fused qkv
// buffer of h query and hkv key/value heads of dim dh to (max_T, hkv·dh)
// caches at row pos.
func FusedKVAppend(t, h, hkv, dh, pos int) KVAppendParams {
	w := uint32(hkv * dh)
	return KVAppendParams{
		T: uint32(t), Width: w, SrcStride: uint32((h + 2*hkv) * dh),
		KSrcOff: uint32(h * dh), VSrcOff: uint32((h + hkv) * dh),
		DstStride: w, Pos: uint32(pos),
	}
}

const kvappendWG = 256

// KVAppend returns the kvappend kernel. Bindings: params, src, kc, vc.
func KVAppend() Kernel {
	return Kernel{
		Name:   "kvappend/f32/wg256",
		File:   "kvappend.wgsl",
		Source: render(KVAppendParams{}, []Const{{"WG", kvappendWG}}, "", "kvappend.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"src", Read}, {"kc", ReadWrite}, {"vc", ReadWrite},
		},
	}
}

// KVAppendGrid covers T·Width elements, one per thread.
func KVAppendGrid(p KVAppendParams) [3]uint32 { return Grid1D(ceilDiv(p.T*p.Width, kvappendWG)) }

func init() {
	register(family{Name: "kvappend", Files: []string{"kvappend.wgsl"}, Cases: kvappendCases})
}

func kvappendCases() []Case {
	type shape struct {
		t, h, hkv, dh, pos, maxT int
		layerOff                 int // rows of other layers before this one
	}
	shapes := []shape{
		{t: 1, h: 1, hkv: 1, dh: 32, pos: 0, maxT: 4},                // the first decode row
		{t: 1, h: 8, hkv: 2, dh: 96, pos: 37, maxT: 64},              // a decode step, GQA
		{t: 7, h: 4, hkv: 4, dh: 64, pos: 5, maxT: 16, layerOff: 16}, // odd T into a layer's slice
		{t: 33, h: 32, hkv: 32, dh: 96, pos: 0, maxT: 40},            // Phi-3-mini prefill
		{t: 5, h: 2, hkv: 1, dh: 128, pos: 59, maxT: 64},             // up to the last cache row
	}
	var out []Case
	for i, s := range shapes {
		p := FusedKVAppend(s.t, s.h, s.hkv, s.dh, s.pos)
		p.KDstOff = uint32(s.layerOff) * p.DstStride
		p.VDstOff = p.KDstOff
		src := randF32(int64(3000+i), s.t*int(p.SrcStride), 1)
		// The caches start with other values everywhere, so a row written
		// at the wrong place, or a k/v swap, changes an element.
		n := (s.layerOff + s.maxT) * int(p.DstStride)
		kc := randF32(int64(3100+i), n, 5)
		vc := randF32(int64(3200+i), n, 7)
		bufs := []Buffer{{Name: "src", Init: F32Bytes(src)}, {Name: "kc", Init: F32Bytes(kc)}, {Name: "vc", Init: F32Bytes(vc)}}
		KVAppendRef(kc, vc, src, p)
		out = append(out, Case{
			Family:  "kvappend",
			Name:    fmt.Sprintf("f32/wg256/T=%d,H=%d,Hkv=%d,Dh=%d,pos=%d", s.t, s.h, s.hkv, s.dh, s.pos),
			Buffers: bufs,
			Steps:   []Step{{Kernel: KVAppend(), Params: p, Grid: KVAppendGrid(p)}},
			Checks:  []Check{{Buffer: "kc", Want: kc, Tol: Tol{Exact: true}}, {Buffer: "vc", Want: vc, Tol: Tol{Exact: true}}},
		})
	}
	return out
}
