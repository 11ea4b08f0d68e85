package shaders

import (
	"fmt"
	"math"
	"math/rand"
	"strings"

	"github.com/x448/float16"
)

// MatMulParams is the uniform of the gemv and gemm kernels, which compute,
// for rows m of x and y and n < N,
//
//	y[m·LdY + YCol + n] = act(Σ_k x[m·LdX + k]·W[n, k] + b[n])   (+ the old value when accumulating)
//
// Row strides and the column offset let a kernel read a slice of a wider
// activation and write into a slice of a fused output (q|k|v, gate|up).
// MatMulDims gives the dense layout.
type MatMulParams struct {
	M    uint32 // rows of x and y; with Segmented, the bound the grid covers
	N    uint32 // output features: rows of W
	K    uint32 // reduction length: columns of W
	LdX  uint32 `wgsl:"ldx"`  // elements between rows of x (≥ K)
	LdY  uint32 `wgsl:"ldy"`  // elements between rows of y (≥ YCol + N)
	YCol uint32 `wgsl:"ycol"` // first column of y written
	// Segment is the expert e of a Segmented variant: the rows processed are
	// [seg[2e], seg[2e] + seg[2e+1]) of x and y, a count of at most M.
	Segment uint32
}

// MatMulDims is the dense layout: x (M, K), y (M, N), no offset.
func MatMulDims(m, n, k int) MatMulParams {
	return MatMulParams{M: uint32(m), N: uint32(n), K: uint32(k), LdX: uint32(k), LdY: uint32(n)}
}

// Validate reports a shape the kernels cannot run for weights of type dt.
func (p MatMulParams) Validate(dt DType) error {
	switch {
	case p.N == 0 || p.K == 0:
		return fmt.Errorf("shaders: matmul with N=%d K=%d", p.N, p.K)
	case int(p.K)%dt.KMultiple() != 0:
		return fmt.Errorf("shaders: matmul %s: K=%d is not a multiple of %d", dt, p.K, dt.KMultiple())
	case p.LdX < p.K:
		return fmt.Errorf("shaders: matmul: x row stride %d < K=%d", p.LdX, p.K)
	case p.LdY < p.YCol+p.N:
		return fmt.Errorf("shaders: matmul: y row stride %d < column offset %d + N=%d", p.LdY, p.YCol, p.N)
	}
	return nil
}

// matmulFeatures are the variant fields gemv and gemm share.
type matmulFeatures struct {
	DType      DType
	Bias       bool
	Act        Act
	Accumulate bool
	Segmented  bool
}

// name renders the shared fields as path parts: dtype, then only the
// features that are on, so the common variants have short names.
func (f matmulFeatures) name() string {
	parts := []string{f.DType.String()}
	if f.Bias {
		parts = append(parts, "bias")
	}
	if f.Act != ActNone {
		parts = append(parts, f.Act.String())
	}
	if f.Accumulate {
		parts = append(parts, "acc")
	}
	if f.Segmented {
		parts = append(parts, "seg")
	}
	return strings.Join(parts, "/")
}

// consts are the WGSL constants every matmul kernel reads.
func (f matmulFeatures) consts() []Const {
	return []Const{actConst(f.Act), {"ACCUM", f.Accumulate}}
}

// source declares the bindings in order — P, x, w (+ wscale), [b], [seg],
// y — and the two helpers whose bodies depend on the variant, so that the
// kernels never name a binding the variant lacks:
//
//	fn bias_at(n: u32) -> f32     b[n], or 0
//	fn row_range() -> vec2<u32>   [first, end) rows: (0, M), or segment P.segment of seg
func (f matmulFeatures) source() (string, []Binding) {
	var b strings.Builder
	bs := []Binding{{"params", Uniform}, {"x", Read}}
	b.WriteString("@group(0) @binding(0) var<uniform> P: Params;\n")
	b.WriteString("@group(0) @binding(1) var<storage, read> x: array<f32>;\n")
	b.WriteString(weightSource(f.DType, 2))
	bs = append(bs, weightBindings(f.DType)...)
	if f.Bias {
		fmt.Fprintf(&b, "@group(0) @binding(%d) var<storage, read> b: array<f32>;\n", len(bs))
		b.WriteString("fn bias_at(n: u32) -> f32 { return b[n]; }\n")
		bs = append(bs, Binding{"b", Read})
	} else {
		b.WriteString("fn bias_at(n: u32) -> f32 { return 0.0; }\n")
	}
	if f.Segmented {
		fmt.Fprintf(&b, "@group(0) @binding(%d) var<storage, read> seg: array<u32>;\n", len(bs))
		b.WriteString("fn row_range() -> vec2<u32> {\n    let first = seg[2u * P.segment];\n    return vec2<u32>(first, first + seg[2u * P.segment + 1u]);\n}\n")
		bs = append(bs, Binding{"seg", Read})
	} else {
		b.WriteString("fn row_range() -> vec2<u32> { return vec2<u32>(0u, P.m); }\n")
	}
	fmt.Fprintf(&b, "@group(0) @binding(%d) var<storage, read_write> y: array<f32>;\n", len(bs))
	bs = append(bs, Binding{"y", ReadWrite})
	return b.String(), bs
}

// matmulFiles are the WGSL files every matmul kernel includes.
var matmulFiles = []string{"act.wgsl", "matmul.wgsl"}

// xKind is the activation input of a matmul case.
type xKind uint8

const (
	xRand    xKind = iota // uniform in [-1, 1)
	xZeros                // y = act(b): the sum must not invent anything
	xImpulse              // one 1 per row: y is a column of W, bit for bit
	xLarge                // ±1e4: no overflow or loss in the f32 sums
)

var xKindNames = [...]string{"", "zeros", "impulse", "large"}

// mmCase describes one gemv or gemm parity case; gemv() and gemm() turn it
// into a Case for that family.
type mmCase struct {
	dt             DType
	m, n, k        int
	bias           bool
	act            Act
	acc            bool
	rows           uint8 // gemv only
	sg             bool  // gemv only
	dp4            bool  // gemv only: PackedDot4, checked against MatMulDP4Ref
	ldx, ldy, ycol int   // 0: dense
	seg            []uint32
	expert         int
	x              xKind
	heavy          bool
}

func (c mmCase) params() MatMulParams {
	p := MatMulDims(c.m, c.n, c.k)
	if c.ldx > 0 {
		p.LdX = uint32(c.ldx)
	}
	if c.ldy > 0 {
		p.LdY = uint32(c.ldy)
	}
	p.YCol = uint32(c.ycol)
	p.Segment = uint32(c.expert)
	return p
}

// build makes the Case running step (one gemv or gemm dispatch with c's
// params) and checking all of y against MatMulRef, or for heavy shapes a
// sample of y against MatMulRefAt. y starts as noise: the residual when
// accumulating, garbage to overwrite otherwise, and the untouched rows and
// columns must keep it.
//
// Heavy cases check one output per block of sample[0] rows × sample[1]
// columns (the kernel's workgroup tile).
func (c mmCase) build(family, variant string, step Step, sample [2]int) Case {
	p := step.Params.(MatMulParams)
	if err := p.Validate(c.dt); err != nil {
		panic(err)
	}
	name := fmt.Sprintf("%s/M=%d,N=%d,K=%d", variant, c.m, c.n, c.k)
	if c.ldx > 0 || c.ldy > 0 || c.ycol > 0 {
		name += fmt.Sprintf(",ldx=%d,ldy=%d,ycol=%d", p.LdX, p.LdY, p.YCol)
	}
	if c.seg != nil {
		name += fmt.Sprintf(",e=%d", c.expert)
	}
	if c.x != xRand {
		name += "/" + xKindNames[c.x]
	}
	seed := int64(c.m)*1_000_003 + int64(c.n)*10_007 + int64(c.k)*101 + int64(c.dt)*7 + int64(c.act)*3 + int64(c.x)
	rows := int(p.M)

	w := matmulWeights(c.dt, c.n, c.k, seed, c.heavy)
	x := randF32(seed+1, rows*int(p.LdX), 1)
	switch c.x {
	case xZeros:
		clear(x)
	case xImpulse:
		clear(x)
		for m := 0; m < rows; m++ {
			x[m*int(p.LdX)+(7*m+3)%c.k] = 1
		}
	case xLarge:
		for i := range x {
			x[i] *= 1e4
		}
	}
	var b []float32
	if c.bias {
		b = randF32(seed+2, c.n, 1)
	}
	y0 := randF32(seed+3, rows*int(p.LdY), 1)

	bufs := append([]Buffer{{Name: "x", Init: F32Bytes(x)}}, w.Buffers("w")...)
	if c.bias {
		bufs = append(bufs, Buffer{Name: "b", Init: F32Bytes(b)})
	}
	if c.seg != nil {
		bufs = append(bufs, Buffer{Name: "seg", Init: U32Bytes(c.seg)})
	}
	bufs = append(bufs, Buffer{Name: "y", Init: F32Bytes(y0)})

	// The kernels add the same products as the reference in another order
	// (vec4 dots, strided lanes, a tree): f32 rounding, NMSE ~1e-13 here.
	ch := Check{Buffer: "y", Tol: Tol{NMSE: 1e-10}}
	ref, refAt := MatMulRef, MatMulRefAt
	if c.dp4 {
		// The packed kernel and MatMulDP4Ref agree on every code and every
		// i32 group sum; only the f32 sum of K/32 scaled groups runs in
		// another order, so the tolerance is tighter than the f32 paths'.
		ch.Tol = Tol{NMSE: 1e-12}
		ref, refAt = MatMulDP4Ref, MatMulDP4RefAt
	}
	if c.x == xImpulse && c.act == ActNone {
		// One nonzero product per sum: no rounding anywhere.
		ch.Tol = Tol{Exact: true}
	}
	if c.heavy {
		first, end := MatMulRows(p, c.seg)
		for _, mn := range sampleOutputs(seed, first, end, c.n, sample[0], sample[1]) {
			i := mn[0]*int(p.LdY) + int(p.YCol) + mn[1]
			v := refAt(x, w, b, c.act, p, mn[0], mn[1])
			if c.acc {
				v += y0[i]
			}
			ch.Index = append(ch.Index, i)
			ch.Want = append(ch.Want, v)
		}
	} else {
		ch.Want = append([]float32(nil), y0...)
		ref(ch.Want, x, w, b, c.act, c.acc, p, c.seg)
	}
	return Case{Family: family, Name: name, Buffers: bufs, Steps: []Step{step}, Checks: []Check{ch}, Heavy: c.heavy}
}

// matmulWeights returns an N×K matrix of type dt with entries of order
// 1/√K, so sums are of order 1 and activations see their curved part.
// Large f16 and quantized matrices are drawn already packed — random codes,
// f16 values and scales from small tables — because quantizing tens of
// millions of floats would make every Cases() call slow, and the kernels
// read packed words either way.
func matmulWeights(dt DType, n, k int, seed int64, large bool) Weights {
	scale := 2 / float32(math.Sqrt(float64(k)))
	if !large || dt == F32 {
		w, err := Pack(dt, randF32(seed, n*k, scale), n, k)
		if err != nil {
			panic(err)
		}
		return w
	}
	r := xorshift(seed | 1)
	// table holds 256 f16 values spread over (0, top].
	table := func(top float32) (t [256]uint16) {
		for j := range t {
			t[j] = float16.Fromfloat32(top * float32(j+1) / 256).Bits()
		}
		return t
	}
	w := Weights{DType: dt, N: n, K: k, Words: make([]uint32, n*k*dtypes[dt].bitsPerElt/32)}
	if dt == F16 {
		t := table(scale)
		for i := range w.Words {
			b := r.next()
			// Two halves: a magnitude from the table and a sign bit each.
			w.Words[i] = uint32(t[b&255]) | uint32(b>>8&1)<<15 | (uint32(t[b>>16&255])|uint32(b>>24&1)<<15)<<16
		}
		return w
	}
	for i := range w.Words {
		w.Words[i] = r.next()
	}
	t := table(scale / float32(dtypes[dt].qmax))
	w.Scales = make([]uint32, (n*k/GroupSize+1)/2)
	for i := range w.Scales {
		b := r.next()
		w.Scales[i] = uint32(t[128+b&127]) | uint32(t[128+b>>8&127])<<16
	}
	return w
}

// xorshift is a fast deterministic generator for bulk test data.
type xorshift uint64

func (x *xorshift) next() uint32 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return uint32(*x >> 32)
}

// sampleOutputs picks one random (m, n) output in each bm×bn block of rows
// [first, end) and columns [0, n) — one per workgroup of the kernel, so a
// workgroup that goes wrong is caught — and the four corners, where bounds
// bugs live.
func sampleOutputs(seed int64, first, end, n, bm, bn int) [][2]int {
	if first >= end {
		return nil
	}
	out := [][2]int{{first, 0}, {first, n - 1}, {end - 1, 0}, {end - 1, n - 1}}
	r := rand.New(rand.NewSource(seed))
	for m0 := first; m0 < end; m0 += bm {
		for n0 := 0; n0 < n; n0 += bn {
			out = append(out, [2]int{m0 + r.Intn(min(bm, end-m0)), n0 + r.Intn(min(bn, n-n0))})
		}
	}
	return out
}
