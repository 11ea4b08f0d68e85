package shaders

import (
	"fmt"
	"math"
)

// RoPEParams is the uniform of the rope kernel (sizes in f32 elements).
type RoPEParams struct {
	Rows      uint32 // rows (tokens) to rotate
	RowStride uint32 // row stride of x
	ColOff    uint32 // column of head 0
	NHeads    uint32 // heads per row: H for q, Hkv for k, H + Hkv for both in a fused qkv
	HeadDim   uint32
	RotDim    uint32  // even, ≤ HeadDim; dims past it are not rotated (partial rotary)
	PosOffset uint32  // position of row 0 (n_past when decoding)
	PosDiv    uint32  // ≥ 1: row r is at PosOffset + r/PosDiv (tokens per slice for the 3D vision rotary)
	MScale    float32 `wgsl:"mscale"` // LongRoPE attention scaling of cos and sin (1 for plain RoPE)
}

// Validate reports parameters the kernel cannot honour.
func (p RoPEParams) Validate() error {
	if p.RotDim == 0 || p.RotDim%2 != 0 || p.RotDim > p.HeadDim || p.PosDiv == 0 {
		return fmt.Errorf("rope: need an even rot_dim ≤ head_dim and pos_div ≥ 1: %+v", p)
	}
	if last := p.PosOffset + (max(p.Rows, 1)-1)/p.PosDiv; last >= ropeMaxPos {
		return fmt.Errorf("rope: position %d is past the %d the kernel's angle reduction is exact for", last, ropeMaxPos)
	}
	return nil
}

// ropeMaxPos bounds positions so that the angle (≤ pos, inv_freq[0] = 1 for
// factors ≥ 1) stays under 2e5, where the kernel's reduction is exact.
const ropeMaxPos = 1 << 17

const ropeWG = 256

// ropeReduction splits π/2 into RP1..RP3 of 7 significant bits each (so k·RPn
// is exact in f32 for integers k < 2^17) and RP4, the f32 rest: a Cody–Waite
// reduction good to ~45 bits of π/2.
func ropeReduction() [4]float32 {
	rem := math.Pi / 2
	var parts [4]float32
	for n := 0; n < 3; n++ {
		ulp := math.Exp2(math.Floor(math.Log2(rem)) - 6)
		p := math.Floor(rem/ulp) * ulp
		parts[n] = float32(p)
		rem -= p
	}
	parts[3] = float32(rem)
	return parts
}

// RoPE returns the rope kernel. Bindings: params, x, inv_freq.
func RoPE() Kernel {
	rp := ropeReduction()
	consts := []Const{{"WG", ropeWG}, {"RP1", rp[0]}, {"RP2", rp[1]}, {"RP3", rp[2]}, {"RP4", rp[3]}}
	return Kernel{
		Name:     "rope/neox/wg256",
		File:     "rope.wgsl",
		Source:   render(RoPEParams{}, consts, "", "rope.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"x", ReadWrite}, {"inv_freq", Read}},
	}
}

// RoPEGrid is one thread per (row, pair).
func RoPEGrid(p RoPEParams) [3]uint32 { return Grid1D(ceilDiv(p.Rows*(p.RotDim/2), ropeWG)) }

func init() {
	register(family{Name: "rope", Files: []string{"rope.wgsl"}, Cases: ropeCases})
}

// ropeShape is one rope parity case: rows of width w holding nHeads heads
// from column off (the rest of each row must come back untouched).
type ropeShape struct {
	name                 string
	rows, w, off, nHeads int
	dh, rot              int
	pos, posDiv          int
	theta                float64
	longFactors          bool // LongRoPE-style factors in [1, 40] and mscale ≠ 1
}

func ropeCases() []Case {
	const phiQKV = (32 + 2*32) * 96 // Phi-3-mini fused qkv row
	shapes := []ropeShape{
		{name: "phi3-prefill-fused-qk", rows: 7, w: phiQKV, nHeads: 64, dh: 96, rot: 96, theta: 10000},
		{name: "gqa-fused-qk", rows: 5, w: (8 + 2*2) * 128, nHeads: 10, dh: 128, rot: 128, pos: 17, theta: 500000},
		{name: "decode-longrope-pos100000", rows: 1, w: (4 + 2*4) * 96, nHeads: 8, dh: 96, rot: 96, pos: 100000, theta: 10000, longFactors: true},
		{name: "positions-near-128k", rows: 64, w: 2 * 128, nHeads: 2, dh: 128, rot: 128, pos: 131000, theta: 10000},
		{name: "partial-rotary", rows: 5, w: 3 * 64, off: 64, nHeads: 1, dh: 64, rot: 32, pos: 3, theta: 10000},
		{name: "vision-slices", rows: 4 * 9, w: 2*64 + 8, off: 4, nHeads: 2, dh: 64, rot: 64, posDiv: 9, theta: 10000},
		{name: "rot2", rows: 3, w: 8, nHeads: 2, dh: 4, rot: 2, pos: 1, theta: 10000},
	}
	var out []Case
	for i, s := range shapes {
		p := RoPEParams{
			Rows: uint32(s.rows), RowStride: uint32(s.w), ColOff: uint32(s.off), NHeads: uint32(s.nHeads),
			HeadDim: uint32(s.dh), RotDim: uint32(s.rot), PosOffset: uint32(s.pos), PosDiv: uint32(max(s.posDiv, 1)),
			MScale: 1,
		}
		var factor []float32
		if s.longFactors {
			factor = randF32(int64(4100+i), s.rot/2, 19.5)
			for j := range factor {
				factor[j] += 20.5 // [1, 40)
			}
			// Phi-3-mini-128k's scaling: sqrt(1 + ln(32)/ln(4096)).
			p.MScale = float32(math.Sqrt(1 + math.Log(32)/math.Log(4096)))
		}
		if err := p.Validate(); err != nil {
			panic(err)
		}
		inv := RoPEInvFreq(s.theta, s.rot, factor)
		x := randF32(int64(4000+i), s.rows*s.w, 2)
		want := append([]float32(nil), x...)
		RoPERef(want, inv, p)
		// Elements the kernel must not touch: outside the heads' rotary dims.
		var keep []int
		var kept []float32
		for r := 0; r < s.rows; r++ {
			for c := 0; c < s.w; c++ {
				rel := c - s.off
				if rel >= 0 && rel < s.nHeads*s.dh && rel%s.dh < s.rot {
					continue
				}
				keep = append(keep, r*s.w+c)
				kept = append(kept, x[r*s.w+c])
			}
		}
		checks := []Check{{
			Buffer: "x", Want: want, Tol: Tol{NMSE: 1e-10, MaxAbs: 1e-5},
			Why: "the kernel's own sin/cos are within ~2e-7 of float64 for any angle < 2e5; |x| ≤ 2·mscale",
		}}
		if len(keep) > 0 {
			checks = append(checks, Check{Buffer: "x", Want: kept, Index: keep, Tol: Tol{Exact: true}})
		}
		out = append(out, Case{
			Family: "rope",
			Name: fmt.Sprintf("neox/wg256/%s/rows=%d,heads=%d,Dh=%d,rot=%d,pos=%d,div=%d",
				s.name, s.rows, s.nHeads, s.dh, s.rot, s.pos, p.PosDiv),
			Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "inv_freq", Init: F32Bytes(inv)}},
			Steps:   []Step{{Kernel: RoPE(), Params: p, Grid: RoPEGrid(p)}},
			Checks:  checks,
		})
	}
	return out
}
