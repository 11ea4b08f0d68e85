package shaders

import (
	"fmt"
	"math"
)

// MergeParams is the uniform of the merge kernel. Make it with
// NewMergeParams, which checks the shape.
type MergeParams struct {
	D    uint32 // slices
	Skip uint32 // leading tokens per slice to drop (1: CLIP's class token)
	H, W uint32 // the token grid, both even
	C    uint32 // channels
}

// NewMergeParams checks a merge shape: h and w even and positive, C ≥ 1,
// and the tensors within 2³² elements (u32 indices).
func NewMergeParams(d, skip, h, w, c int) (MergeParams, error) {
	if d < 1 || c < 1 || skip < 0 || h < 2 || w < 2 || h%2 != 0 || w%2 != 0 {
		return MergeParams{}, fmt.Errorf("shaders: 2×2 merge of a %d×%d grid (D %d, skip %d, C %d): need h and w even and ≥ 2, D and C ≥ 1", h, w, d, skip, c)
	}
	if uint64(d)*uint64(skip+h*w)*uint64(c) > math.MaxUint32 {
		return MergeParams{}, fmt.Errorf("shaders: 2×2 merge of (%d, %d, %d) exceeds 2³² elements", d, skip+h*w, c)
	}
	return MergeParams{D: uint32(d), Skip: uint32(skip), H: uint32(h), W: uint32(w), C: uint32(c)}, nil
}

// Tokens is the number of merged tokens per slice, (h/2)·(w/2).
func (p MergeParams) Tokens() uint32 { return (p.H / 2) * (p.W / 2) }

const mergeWG = 256

// MergeName is the merge kernel's variant name (one variant).
const MergeName = "merge/2x2/wg256"

// Merge returns the 2×2 token-merge kernel. Bindings: params, x, y.
func Merge() Kernel {
	return Kernel{
		Name:     MergeName,
		File:     "merge.wgsl",
		Source:   render(MergeParams{}, []Const{{"WG", mergeWG}}, "", "merge.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"x", Read}, {"y", ReadWrite}},
	}
}

// MergeGrid covers the D·(h/2)·(w/2)·4C outputs, one per thread. It panics
// on an odd grid, which NewMergeParams refuses: the kernel would silently
// drop the last row or column.
func MergeGrid(p MergeParams) [3]uint32 {
	if p.H%2 != 0 || p.W%2 != 0 {
		panic(fmt.Sprintf("shaders: 2×2 merge of an odd %d×%d grid", p.H, p.W))
	}
	return Grid1D(ceilDiv(p.D*p.Tokens()*4*p.C, mergeWG))
}

func init() {
	register(family{Name: "merge", Files: []string{"merge.wgsl"}, Cases: casesOnce(mergeCases)})
}

func mergeCases() []Case {
	var out []Case
	// The smallest grid; no class token; a rectangular grid with odd C;
	// CLIP-L/14 at 336 (24×24 + class token, C = 1024) over 2 slices; C = 1.
	for i, s := range [][5]int{
		{1, 0, 2, 2, 1},
		{1, 1, 2, 2, 3},
		{3, 0, 4, 6, 5},
		{2, 1, 6, 10, 37},
		{2, 1, 24, 24, 1024},
		{1, 1, 8, 4, 1},
	} {
		p, err := NewMergeParams(s[0], s[1], s[2], s[3], s[4])
		if err != nil {
			panic(err)
		}
		x := randF32(int64(800+i), s[0]*(s[1]+s[2]*s[3])*s[4], 2)
		n := int(p.D * p.Tokens() * 4 * p.C)
		y := make([]float32, n)
		MergeRef(y, x, p)
		out = append(out, Case{
			Family:  "merge",
			Name:    fmt.Sprintf("2x2/wg256/D=%d,skip=%d,h=%d,w=%d,C=%d", s[0], s[1], s[2], s[3], s[4]),
			Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "y", Init: poisonF32(n)}},
			Steps:   []Step{{Kernel: Merge(), Params: p, Grid: MergeGrid(p)}},
			// Pure data movement.
			Checks: []Check{{Buffer: "y", Want: y, Tol: Tol{Exact: true}}},
		})
	}
	return out
}
