package shaders

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync"
)

// AttentionVariant selects a flash-attention kernel (prefill and the vision
// encoder; decode has its own kernel, AttnDecode).
type AttentionVariant struct {
	Dh     int  // head dim: a multiple of 4 up to 256 (the models use 32, 64, 80, 96, 128)
	Causal bool // key j is visible to query row t iff j ≤ QPos + t
}

func (v AttentionVariant) String() string {
	mask := "full"
	if v.Causal {
		mask = "causal"
	}
	return fmt.Sprintf("attention/%s/dh%d/br%d/bc%d", mask, v.Dh, attnBR(v.Dh), attnBC(v.Dh))
}

// AttentionParams is the uniform of the attention kernel. Strides and
// offsets are in f32 elements and must be multiples of 4; row r of q/out is
// b·T + t and row r of k/v is b·Tk + j for batch b = the grid's z.
type AttentionParams struct {
	T       uint32 // query rows per batch
	Tk      uint32 // key/value rows per batch (≥ 1)
	H       uint32 // query heads
	Hkv     uint32 // key/value heads; H is a multiple of Hkv (grouped-query attention)
	QStride uint32 // q row stride
	QOff    uint32 // column of head 0 of q
	KStride uint32
	KOff    uint32
	VStride uint32
	VOff    uint32
	OStride uint32
	OOff    uint32
	QPos    uint32  // causal only: position of query row 0 (the cached prefix length)
	Scale   float32 // softmax scale, usually 1/√Dh
}

// Fused sets q, k and v to the three parts of a fused qkv buffer
// (rows, (H + 2·Hkv)·dh) — q heads, then k heads, then v heads, as HF's
// qkv_proj — and out to a contiguous (rows, H·dh).
func (p AttentionParams) Fused(dh int) AttentionParams {
	w := (p.H + 2*p.Hkv) * uint32(dh)
	p.QStride, p.KStride, p.VStride = w, w, w
	p.QOff, p.KOff, p.VOff = 0, p.H*uint32(dh), (p.H+p.Hkv)*uint32(dh)
	p.OStride, p.OOff = p.H*uint32(dh), 0
	return p
}

// Validate reports parameters the kernel cannot honour.
func (p AttentionParams) Validate(dh int) error {
	if p.T == 0 || p.Tk == 0 || p.H == 0 || p.Hkv == 0 || p.H%p.Hkv != 0 {
		return fmt.Errorf("attention: need T, Tk ≥ 1 and H a multiple of Hkv (T=%d Tk=%d H=%d Hkv=%d)", p.T, p.Tk, p.H, p.Hkv)
	}
	for _, x := range []uint32{p.QStride, p.QOff, p.KStride, p.KOff, p.VStride, p.VOff, p.OStride, p.OOff} {
		if x%4 != 0 {
			return fmt.Errorf("attention: strides and offsets must be multiples of 4 elements (vec4 loads): %+v", p)
		}
	}
	if !validHeadDim(dh) {
		return fmt.Errorf("attention: head dim %d is not a multiple of 4 in [4, 256]", dh)
	}
	return nil
}

// attnNT is the threads per workgroup.
const attnNT = 64

// attnRQ is the query rows each thread owns: every K/V element it reads from
// workgroup memory feeds RQ rows. RQ·Dh ≤ 128 keeps q and acc within 256
// registers; it is 4 at Dh 32, 2 at Dh 64 and 1 from Dh 96 up.
func attnRQ(dh int) int { return max(1, 128/dh) }

// attnBR is the query rows per workgroup.
func attnBR(dh int) int { return attnNT * attnRQ(dh) }

// attnBC is the key tile: K and V tiles of BC·Dh f32 each fill at most the
// 16 KiB of workgroup memory WebGPU guarantees, and RQ·BC ≤ 64 bounds the
// per-thread score registers.
func attnBC(dh int) int { return min(64/attnRQ(dh), 16384/(2*4*dh)) }

func validHeadDim(dh int) bool { return dh >= 4 && dh <= 256 && dh%4 == 0 }

// Attention returns the kernel for v. Bindings: params, q, k, v, out (bind
// one fused qkv buffer to q, k and v).
func Attention(v AttentionVariant) Kernel {
	if !validHeadDim(v.Dh) {
		panic(fmt.Sprintf("shaders: attention head dim %d is not a multiple of 4 in [4, 256]", v.Dh))
	}
	bc, rq := attnBC(v.Dh), attnRQ(v.Dh)
	// Array sizes are injected whole: old naga takes only a literal or a
	// named constant there, not an expression.
	consts := []Const{
		{"DH", v.Dh}, {"DH4", v.Dh / 4}, {"NT", attnNT}, {"RQ", rq}, {"BR", attnBR(v.Dh)},
		{"BC", bc}, {"TILE4", bc * v.Dh / 4}, {"QA", rq * v.Dh / 4}, {"SA", rq * bc},
		{"CAUSAL", v.Causal},
	}
	return Kernel{
		Name:   v.String(),
		File:   "attention.wgsl",
		Source: render(AttentionParams{}, consts, "", "attention.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"q", Read}, {"k", Read}, {"v", Read}, {"out", ReadWrite},
		},
	}
}

// AttentionGrid is (query blocks, heads, batches) for head dim dh.
func AttentionGrid(p AttentionParams, dh, batches int) [3]uint32 {
	return [3]uint32{ceilDiv(p.T, uint32(attnBR(dh))), p.H, uint32(max(batches, 1))}
}

func init() {
	register(family{Name: "attention", Files: []string{"attention.wgsl"}, Cases: attentionCases})
}

// attnShape is one attention parity case. Layout "fused" reads q, k, v from
// one qkv buffer (Tk = T); "split" uses separate q, k, v buffers and writes
// into a wider out at a column offset, as a prefill after a cached prefix
// does (k, v are then the cache).
type attnShape struct {
	dh, h, hkv, t, tk, qpos, batches int
	causal                           bool
	fused                            bool
	qkScale                          float32 // q and k uniform in ±qkScale
	tag                              string  // extra name part for special inputs
}

func attentionCases() []Case {
	// Query blocks are 256 rows at Dh 32, 128 at Dh 64 and 64 above (64
	// threads owning 4, 2 or 1 rows each); key tiles are 16, 32, 21, 25, 16
	// keys at Dh 32, 64, 96, 80, 128.
	shapes := []attnShape{
		{dh: 32, h: 1, hkv: 1, t: 1, fused: true},                            // a single token sees only itself
		{dh: 32, h: 2, hkv: 2, t: 7, causal: true, fused: true},              // odd T
		{dh: 32, h: 1, hkv: 1, t: 130, tk: 300},                              // more keys than queries, rows of 3 owners
		{dh: 32, h: 2, hkv: 1, t: 300, causal: true, fused: true},            // two blocks, the second partial
		{dh: 64, h: 8, hkv: 2, t: 33, fused: true},                           // GQA, Tk not a multiple of BC
		{dh: 64, h: 4, hkv: 4, t: 130, causal: true, fused: true},            // two blocks, 2 rows in the second
		{dh: 64, h: 1, hkv: 1, t: 1, tk: 1},                                  // one key: out = v
		{dh: 64, h: 2, hkv: 2, t: 40, batches: 2, causal: true, fused: true}, // batches with a mask
		{dh: 96, h: 8, hkv: 2, t: 33, causal: true, fused: true},             // Phi-3 head dim, GQA
		{dh: 96, h: 2, hkv: 1, t: 100, tk: 100},                              // separate buffers, MQA
		{dh: 80, h: 2, hkv: 2, t: 33, batches: 3, fused: true},               // per-slice vision attention
		{dh: 80, h: 4, hkv: 1, t: 1, qpos: 200, causal: true},                // one query over a long prefix
		{dh: 128, h: 8, hkv: 2, t: 7, qpos: 50, causal: true},                // prefill after a 50-token prefix
		{dh: 128, h: 2, hkv: 2, t: 65, fused: true},                          // one row past a query block
		{dh: 32, h: 2, hkv: 1, t: 50, fused: true, causal: true, qkScale: 12, tag: "peaked"},
		{dh: 128, h: 1, hkv: 1, t: 20, qpos: 30, causal: true, qkScale: 8, tag: "peaked"},
	}
	var out []Case
	for i, s := range shapes {
		out = append(out, attentionCase(int64(1000+i), s))
	}
	out = append(out, attentionHeavy())
	return out
}

// attnBuffers builds the inputs of shape s: the parameters, the buffers and
// the host copies of q, k, v (aliases of one slice when fused).
func attnBuffers(seed int64, s attnShape) (AttentionParams, []Buffer, []string, []float32, []float32, []float32, []float32) {
	b := max(s.batches, 1)
	qk := s.qkScale
	if qk == 0 {
		// Scores with a standard deviation of about 1.3 after the 1/√Dh
		// scale: softmax neither uniform nor one-hot.
		qk = 2
	}
	p := AttentionParams{T: uint32(s.t), H: uint32(s.h), Hkv: uint32(s.hkv), Scale: float32(1 / math.Sqrt(float64(s.dh)))}
	if s.causal {
		p.QPos = uint32(s.qpos)
	}
	if s.fused {
		p.Tk = p.T
		p = p.Fused(s.dh)
		qkv := randF32(seed, b*s.t*int(p.QStride), 1)
		w := int(p.QStride)
		for r := 0; r < b*s.t; r++ {
			for c := 0; c < (s.h+s.hkv)*s.dh; c++ {
				qkv[r*w+c] *= qk
			}
		}
		outN := b * s.t * int(p.OStride)
		bufs := []Buffer{{Name: "qkv", Init: F32Bytes(qkv)}, {Name: "out", Size: 4 * outN}}
		return p, bufs, []string{"qkv", "qkv", "qkv", "out"}, qkv, qkv, qkv, make([]float32, outN)
	}
	p.Tk = uint32(max(s.tk, s.qpos+s.t))
	p.QStride, p.KStride, p.VStride = uint32(s.h*s.dh), uint32(s.hkv*s.dh), uint32(s.hkv*s.dh)
	// out is a column slice of a wider buffer: columns outside it must stay 0.
	p.OStride, p.OOff = uint32(s.h*s.dh+8), 4
	q := randF32(seed, b*s.t*int(p.QStride), qk)
	k := randF32(seed+1, b*int(p.Tk)*int(p.KStride), qk)
	v := randF32(seed+2, b*int(p.Tk)*int(p.VStride), 1)
	outN := b * s.t * int(p.OStride)
	bufs := []Buffer{
		{Name: "q", Init: F32Bytes(q)}, {Name: "k", Init: F32Bytes(k)},
		{Name: "v", Init: F32Bytes(v)}, {Name: "out", Size: 4 * outN},
	}
	return p, bufs, nil, q, k, v, make([]float32, outN)
}

func attentionCase(seed int64, s attnShape) Case {
	av := AttentionVariant{Dh: s.dh, Causal: s.causal}
	p, bufs, bind, q, k, v, want := attnBuffers(seed, s)
	if err := p.Validate(s.dh); err != nil {
		panic(err)
	}
	b := max(s.batches, 1)
	AttentionRef(want, q, k, v, p, s.dh, b, s.causal)
	name := fmt.Sprintf("T=%d,Tk=%d,H=%d,Hkv=%d", p.T, p.Tk, p.H, p.Hkv)
	if b > 1 {
		name += fmt.Sprintf(",B=%d", b)
	}
	if p.QPos > 0 {
		name += fmt.Sprintf(",pos=%d", p.QPos)
	}
	if s.fused {
		name += "/fused"
	} else {
		name += "/split"
	}
	if s.tag != "" {
		name += "/" + s.tag
	}
	return Case{
		Family:  "attention",
		Name:    strings.TrimPrefix(av.String(), "attention/") + "/" + name,
		Buffers: bufs,
		Steps:   []Step{{Kernel: Attention(av), Params: p, Bind: bind, Grid: AttentionGrid(p, s.dh, b)}},
		Checks:  []Check{{Buffer: "out", Want: want, Tol: Tol{NMSE: 1e-10}}},
	}
}

// attentionHeavy is one 3D vision layer's sequence: 20,000 tokens attending
// to each other (bidirectional), checked on a sample of query rows whose
// reference alone is computed. Built once: every test asks for Cases.
var attentionHeavy = sync.OnceValue(func() Case {
	s := attnShape{dh: 64, h: 1, hkv: 1, t: 20000, fused: true}
	av := AttentionVariant{Dh: s.dh}
	p, bufs, bind, q, k, v, _ := attnBuffers(77, s)
	rng := rand.New(rand.NewSource(78))
	// The first and last rows, both sides of a query-block boundary and
	// random rows.
	br := attnBR(s.dh)
	rows := []int{0, 1, attnNT - 1, attnNT, br - 1, br, s.t - br - 1, s.t - 2, s.t - 1}
	for len(rows) < 40 {
		rows = append(rows, rng.Intn(s.t))
	}
	var idx []int
	var want []float32
	row := make([]float32, s.dh)
	for _, t := range rows {
		for h := 0; h < s.h; h++ {
			AttentionRowRef(row, q, k, v, p, s.dh, 0, t, h, false)
			o := t*int(p.OStride) + int(p.OOff) + h*s.dh
			for d := range row {
				idx = append(idx, o+d)
			}
			want = append(want, row...)
		}
	}
	return Case{
		Family:  "attention",
		Name:    strings.TrimPrefix(av.String(), "attention/") + fmt.Sprintf("/T=%d,Tk=%d,H=%d,Hkv=%d/fused/sampled", p.T, p.Tk, p.H, p.Hkv),
		Buffers: bufs,
		Steps:   []Step{{Kernel: Attention(av), Params: p, Bind: bind, Grid: AttentionGrid(p, s.dh, 1)}},
		Checks:  []Check{{Buffer: "out", Want: want, Index: idx, Tol: Tol{NMSE: 1e-10}}},
		Heavy:   true,
	}
})
