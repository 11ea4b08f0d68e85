package shaders

import (
	"fmt"
	"math"
	"strings"
)

// AttnDecodeVariant selects a decode-attention kernel.
type AttnDecodeVariant struct {
	Dh int // head dim: a multiple of 4 up to 256
	// Split spreads each head's keys over grid y (split-K): every
	// workgroup writes a partial (acc, max, sum) record and
	// AttnDecodeCombine merges them. Use it when H alone gives the device
	// too few workgroups for the context length.
	Split bool
}

func (v AttnDecodeVariant) String() string {
	mode := "single"
	if v.Split {
		mode = "split"
	}
	return fmt.Sprintf("attn_decode/%s/dh%d/wg%d", mode, v.Dh, decodeWG)
}

// AttnDecodeParams is the uniform of the attn_decode kernel. Strides and
// offsets are f32 elements and multiples of 4.
type AttnDecodeParams struct {
	NPast    uint32 // position of the query token: cache rows 0..NPast are valid
	H        uint32 // query heads
	Hkv      uint32 // key/value heads; H is a multiple of Hkv
	QOff     uint32 // head 0 of the query vector in q (a fused qkv row: 0)
	KStride  uint32 // K cache row stride (Hkv·Dh for a (max_T, Hkv·Dh) cache)
	KOff     uint32 // K cache start (e.g. a layer's slice of one big cache)
	VStride  uint32
	VOff     uint32
	OOff     uint32 // single: head 0 of the output in out
	SplitLen uint32 // split: keys per workgroup along grid y
	Scale    float32
}

// Validate reports parameters the kernel cannot honour.
func (p AttnDecodeParams) Validate(dh int) error {
	if p.H == 0 || p.Hkv == 0 || p.H%p.Hkv != 0 {
		return fmt.Errorf("attn_decode: H=%d must be a positive multiple of Hkv=%d", p.H, p.Hkv)
	}
	for _, x := range []uint32{p.QOff, p.KStride, p.KOff, p.VStride, p.VOff, p.OOff} {
		if x%4 != 0 {
			return fmt.Errorf("attn_decode: strides and offsets must be multiples of 4 elements (vec4 loads): %+v", p)
		}
	}
	if !validHeadDim(dh) {
		return fmt.Errorf("attn_decode: head dim %d is not a multiple of 4 in [4, 256]", dh)
	}
	return nil
}

// AttnDecodeCombineParams is the uniform of attn_decode_combine.
type AttnDecodeCombineParams struct {
	H      uint32
	Splits uint32 // S: the grid y the split kernel ran with
	OOff   uint32 // head 0 of the output in out
}

const (
	decodeWG  = 128 // threads per head
	decodeKPT = 4   // keys each thread scores per chunk
)

// AttnDecode returns the kernel for v. Bindings: params, q, k, v, out —
// out is the output (single) or the partial records (split; see
// AttnDecodePartSize). k and v may be one buffer bound twice.
func AttnDecode(v AttnDecodeVariant) Kernel {
	if !validHeadDim(v.Dh) {
		panic(fmt.Sprintf("shaders: attn_decode head dim %d is not a multiple of 4 in [4, 256]", v.Dh))
	}
	consts := []Const{
		{"DH", v.Dh}, {"DH4", v.Dh / 4}, {"WG", decodeWG}, {"KPT", decodeKPT},
		{"CH", decodeWG * decodeKPT}, {"G", decodeWG / (v.Dh / 4)}, {"SPLIT", v.Split},
	}
	out := "out"
	if v.Split {
		out = "part"
	}
	return Kernel{
		Name:   v.String(),
		File:   "attn_decode.wgsl",
		Source: render(AttnDecodeParams{}, consts, "", "attn_decode.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"q", Read}, {"k", Read}, {"v", Read}, {out, ReadWrite},
		},
	}
}

// AttnDecodeCombine returns the kernel merging split partials for head dim
// dh. Bindings: params, part, out.
func AttnDecodeCombine(dh int) Kernel {
	if !validHeadDim(dh) {
		panic(fmt.Sprintf("shaders: attn_decode head dim %d is not a multiple of 4 in [4, 256]", dh))
	}
	return Kernel{
		Name:     fmt.Sprintf("attn_decode/combine/dh%d", dh),
		File:     "attn_decode_combine.wgsl",
		Source:   render(AttnDecodeCombineParams{}, []Const{{"DH", dh}, {"DH4", dh / 4}}, "", "attn_decode_combine.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"part", Read}, {"out", ReadWrite}},
	}
}

// AttnDecodeSplits is the grid y of the split kernel: enough workgroups of
// p.SplitLen keys to cover rows 0..p.NPast.
func AttnDecodeSplits(p AttnDecodeParams) uint32 { return ceilDiv(p.NPast+1, p.SplitLen) }

// AttnDecodePartSize is the size in f32 elements of the partial records of
// the split kernel: H·S records of Dh + 4.
func AttnDecodePartSize(h, splits, dh int) int { return h * splits * (dh + 4) }

// AttnDecodeGrid is one workgroup per head, times splits along y (1 when
// not split). A caller may pass more splits than AttnDecodeSplits (a fixed
// grid while the context grows): the extra ones are empty and weigh 0.
func AttnDecodeGrid(p AttnDecodeParams, splits uint32) [3]uint32 {
	return [3]uint32{p.H, max(splits, 1), 1}
}

func init() {
	register(family{
		Name:  "attn_decode",
		Files: []string{"attn_decode.wgsl", "attn_decode_combine.wgsl"},
		Cases: attnDecodeCases,
	})
}

// decodeShape is one decode parity case: a cache of maxT rows whose rows
// past NPast hold NaN (a kernel reading them fails), a query taken from a
// fused qkv row, and optionally K and V as two slices of one buffer.
type decodeShape struct {
	dh, h, hkv, npast, maxT int
	split, extra            int  // split length (0: single) and extra empty splits
	oneBuffer               bool // K and V in one buffer, at offsets
}

func attnDecodeCases() []Case {
	shapes := []decodeShape{
		{dh: 32, h: 1, hkv: 1, npast: 0, maxT: 4},      // one key: out = v[0]
		{dh: 64, h: 4, hkv: 4, npast: 1, maxT: 8},      // two keys
		{dh: 96, h: 8, hkv: 2, npast: 100, maxT: 128},  // Phi-3 head dim, GQA
		{dh: 128, h: 8, hkv: 2, npast: 511, maxT: 600}, // exactly one chunk of 512
		{dh: 128, h: 4, hkv: 1, npast: 512, maxT: 600}, // one key into the second chunk
		{dh: 80, h: 2, hkv: 2, npast: 1500, maxT: 1600, oneBuffer: true},
		{dh: 64, h: 8, hkv: 2, npast: 1500, maxT: 2048, split: 256},           // 6 splits, the last partial
		{dh: 96, h: 4, hkv: 4, npast: 1099, maxT: 1200, split: 512, extra: 2}, // fixed grid: 2 empty splits
		{dh: 32, h: 2, hkv: 1, npast: 3, maxT: 16, split: 1},                  // one key per split
	}
	var out []Case
	for i, s := range shapes {
		out = append(out, attnDecodeCase(int64(2000+i), s))
	}
	return out
}

func attnDecodeCase(seed int64, s decodeShape) Case {
	kw := s.hkv * s.dh
	qkvW := (s.h + 2*s.hkv) * s.dh
	p := AttnDecodeParams{
		NPast: uint32(s.npast), H: uint32(s.h), Hkv: uint32(s.hkv),
		KStride: uint32(kw), VStride: uint32(kw), Scale: float32(1 / math.Sqrt(float64(s.dh))),
	}
	// The query row of a fused qkv; the output a slice of a wider buffer.
	qkv := randF32(seed, qkvW, 2)
	p.OOff = 8
	outN := s.h*s.dh + 16
	k := randF32(seed+1, s.maxT*kw, 2)
	v := randF32(seed+2, s.maxT*kw, 1)
	nan := float32(math.NaN())
	for i := (s.npast + 1) * kw; i < len(k); i++ {
		k[i], v[i] = nan, nan
	}
	bufs := []Buffer{{Name: "q", Init: F32Bytes(qkv)}, {Name: "out", Size: 4 * outN}}
	kName, vName := "k", "v"
	kAll, vAll := k, v
	if s.oneBuffer {
		// One buffer: 12 spare rows, then K, then V (a layer's slice).
		p.KOff = uint32(12 * kw)
		p.VOff = p.KOff + uint32(s.maxT*kw)
		kv := append(append(randF32(seed+3, 12*kw, 1), k...), v...)
		bufs = append(bufs, Buffer{Name: "kv", Init: F32Bytes(kv)})
		kName, vName = "kv", "kv"
		kAll, vAll = kv, kv
	} else {
		bufs = append(bufs, Buffer{Name: "k", Init: F32Bytes(k)}, Buffer{Name: "v", Init: F32Bytes(v)})
	}
	if err := p.Validate(s.dh); err != nil {
		panic(err)
	}
	want := make([]float32, outN)
	AttnDecodeRef(want, qkv, kAll, vAll, p, s.dh)

	dv := AttnDecodeVariant{Dh: s.dh, Split: s.split > 0}
	name := fmt.Sprintf("npast=%d,H=%d,Hkv=%d", s.npast, s.h, s.hkv)
	var steps []Step
	if s.split > 0 {
		p.SplitLen = uint32(s.split)
		splits := AttnDecodeSplits(p) + uint32(s.extra)
		name += fmt.Sprintf(",split=%d,S=%d", s.split, splits)
		bufs = append(bufs, Buffer{Name: "part", Size: 4 * AttnDecodePartSize(s.h, int(splits), s.dh)})
		cp := AttnDecodeCombineParams{H: p.H, Splits: splits, OOff: p.OOff}
		steps = []Step{
			{Kernel: AttnDecode(dv), Params: p, Bind: []string{"q", kName, vName, "part"}, Grid: AttnDecodeGrid(p, splits)},
			{Kernel: AttnDecodeCombine(s.dh), Params: cp, Grid: [3]uint32{p.H, 1, 1}},
		}
	} else {
		steps = []Step{{Kernel: AttnDecode(dv), Params: p, Bind: []string{"q", kName, vName, "out"}, Grid: AttnDecodeGrid(p, 1)}}
	}
	if s.oneBuffer {
		name += "/kv-one-buffer"
	}
	return Case{
		Family:  "attn_decode",
		Name:    strings.TrimPrefix(dv.String(), "attn_decode/") + "/" + name,
		Buffers: bufs,
		Steps:   steps,
		Checks:  []Check{{Buffer: "out", Want: want, Tol: Tol{NMSE: 1e-10}}},
	}
}
