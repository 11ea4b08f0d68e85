package shaders

import (
	"fmt"
	"math"
)

// PatchifyParams is the uniform of the patchify kernel. Make it with
// NewPatchifyParams, which checks the shape and fills Hp and Wp.
type PatchifyParams struct {
	D, Cin, H, W uint32 // input slices (D, Cin, H, W)
	Patch        uint32 `wgsl:"ps"` // p: kernel size and stride (`patch` is reserved in WGSL)
	Prefix       uint32 // 0, or 1 to leave a zero class-token row per slice
	Hp, Wp       uint32 // ⌊H/p⌋, ⌊W/p⌋: the patch grid
}

// NewPatchifyParams checks a patchify shape: p ≥ 1, H and W at least p
// (trailing pixels beyond a whole patch are dropped, as the conv does),
// prefix 0 or 1, and the output within 2³² elements (u32 indices).
func NewPatchifyParams(d, cin, h, w, patch, prefix int) (PatchifyParams, error) {
	if d < 1 || cin < 1 || patch < 1 || h < patch || w < patch {
		return PatchifyParams{}, fmt.Errorf("shaders: patchify of (%d, %d, %d, %d) with patch %d: need D, Cin ≥ 1 and H, W ≥ patch ≥ 1", d, cin, h, w, patch)
	}
	if prefix != 0 && prefix != 1 {
		return PatchifyParams{}, fmt.Errorf("shaders: patchify prefix %d (want 0 or 1)", prefix)
	}
	p := PatchifyParams{D: uint32(d), Cin: uint32(cin), H: uint32(h), W: uint32(w), Patch: uint32(patch),
		Prefix: uint32(prefix), Hp: uint32(h / patch), Wp: uint32(w / patch)}
	if n := uint64(d) * uint64(p.Rows()) * uint64(p.K()); n > math.MaxUint32 || uint64(d*cin*h*w) > math.MaxUint32 {
		return PatchifyParams{}, fmt.Errorf("shaders: patchify of (%d, %d, %d, %d) exceeds 2³² elements", d, cin, h, w)
	}
	return p, nil
}

// K is the length of an output row, Cin·p·p: the GEMM's reduction length.
func (p PatchifyParams) K() uint32 { return p.Cin * p.Patch * p.Patch }

// Rows is the number of output rows per slice, Prefix + Hp·Wp.
func (p PatchifyParams) Rows() uint32 { return p.Prefix + p.Hp*p.Wp }

const patchifyWG = 256

// PatchifyName is the patchify kernel's variant name (one variant).
const PatchifyName = "patchify/wg256"

// Patchify returns the im2col kernel of the patch embedding. Bindings:
// params, x, y.
func Patchify() Kernel {
	return Kernel{
		Name:     PatchifyName,
		File:     "patchify.wgsl",
		Source:   render(PatchifyParams{}, []Const{{"WG", patchifyWG}}, "", "patchify.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"x", Read}, {"y", ReadWrite}},
	}
}

// PatchifyGrid covers the D·Rows·K outputs, one per thread.
func PatchifyGrid(p PatchifyParams) [3]uint32 {
	return Grid1D(ceilDiv(p.D*p.Rows()*p.K(), patchifyWG))
}

func init() {
	register(family{Name: "patchify", Files: []string{"patchify.wgsl"}, Cases: casesOnce(patchifyCases)})
}

func patchifyCases() []Case {
	var out []Case
	// Size 1; one patch with the class row; channels and a shape that
	// does not divide by the patch (dropped edges) with a patch not a
	// divisor of the workgroup; CLIP-L/14 at 336 on RGB (577 rows of 588);
	// CT slices as one channel at 224.
	for i, s := range [][6]int{
		{1, 1, 1, 1, 1, 0},
		{1, 1, 5, 5, 5, 1},
		{3, 3, 30, 29, 7, 0},
		{2, 3, 17, 23, 4, 1},
		{2, 3, 336, 336, 14, 1},
		{4, 1, 224, 224, 14, 1},
	} {
		p, err := NewPatchifyParams(s[0], s[1], s[2], s[3], s[4], s[5])
		if err != nil {
			panic(err)
		}
		x := randF32(int64(700+i), s[0]*s[1]*s[2]*s[3], 2)
		n := int(p.D * p.Rows() * p.K())
		y := make([]float32, n)
		PatchifyRef(y, x, p)
		out = append(out, Case{
			Family: "patchify",
			Name:   fmt.Sprintf("wg256/D=%d,Cin=%d,H=%d,W=%d,p=%d,prefix=%d", s[0], s[1], s[2], s[3], s[4], s[5]),
			// y starts as garbage: the class rows must be written as zeros.
			Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "y", Init: poisonF32(n)}},
			Steps:   []Step{{Kernel: Patchify(), Params: p, Grid: PatchifyGrid(p)}},
			// Pure data movement.
			Checks: []Check{{Buffer: "y", Want: y, Tol: Tol{Exact: true}}},
		})
	}
	return out
}
