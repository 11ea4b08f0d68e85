package shaders

import (
	"fmt"
	"strings"
)

// MoECombineVariant selects a moe_combine kernel.
type MoECombineVariant struct {
	Vec4 bool // bind y and out as vec4<f32>; needs C % 4 == 0
}

func (v MoECombineVariant) String() string {
	if v.Vec4 {
		return "moe_combine/vec4/wg256"
	}
	return "moe_combine/f32/wg256"
}

// MoECombineVariantFor is the fastest variant for rows of C columns.
func MoECombineVariantFor(cols uint32) MoECombineVariant {
	return MoECombineVariant{Vec4: cols%4 == 0}
}

// MoECombineParams is the uniform of the moe_combine kernel.
type MoECombineParams struct {
	Tokens uint32 // T
	Cols   uint32 // C, in floats whatever the variant
	K      uint32 // experts per token
}

const moeCombineWG = 256

// MoECombine returns the combine kernel for v. Bindings: params, gates,
// slot, y, out.
func MoECombine(v MoECombineVariant) Kernel {
	vt, vw := "f32", 1
	if v.Vec4 {
		vt, vw = "vec4<f32>", 4
	}
	bind := strings.ReplaceAll(`@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> gates: array<f32>;
@group(0) @binding(2) var<storage, read> slot: array<u32>;
@group(0) @binding(3) var<storage, read> y: array<VT>;
@group(0) @binding(4) var<storage, read_write> out: array<VT>;
`, "VT", vt)
	return Kernel{
		Name:   v.String(),
		File:   "moe_combine.wgsl",
		Source: render(MoECombineParams{}, []Const{{"WG", moeCombineWG}, {"VW", vw}}, "", bind, "moe_combine.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"gates", Read}, {"slot", Read}, {"y", Read}, {"out", ReadWrite},
		},
	}
}

// MoECombineGrid is one workgroup per token.
func MoECombineGrid(p MoECombineParams) [3]uint32 { return Grid1D(p.Tokens) }

func init() {
	register(family{Name: "moe_combine", Files: []string{"moe_combine.wgsl"}, Cases: moeCombineCases})
}

func moeCombineCases() []Case {
	var out []Case
	type shape struct{ t, c, k, e int }
	// C of 1, odd, below the workgroup, ViT-L's 1024 and a wide 4100; odd T
	// up to the 3D encoder's token count.
	shapes := []shape{{1, 1, 1, 1}, {3, 7, 2, 4}, {7, 64, 1, 4}, {65, 100, 2, 8}, {333, 1024, 2, 8}, {5, 4100, 2, 4}, {20001, 16, 2, 8}, {1001, 1024, 2, 8}}
	for i, s := range shapes {
		ids := randRouting(int64(700+i), s.t, s.k, s.e)
		_, _, slot := MoEPlanRef(ids, s.t, s.k, s.e)
		gates := randF32(int64(710+i), s.t*s.k, 1)
		y := randF32(int64(720+i), s.t*s.k*s.c, 3)
		res := randF32(int64(730+i), s.t*s.c, 2)
		for _, v := range []MoECombineVariant{{}, {Vec4: true}} {
			if v.Vec4 && s.c%4 != 0 {
				continue
			}
			want := append([]float32(nil), res...)
			MoECombineRef(want, gates, slot, y, s.t, s.c, s.k)
			p := MoECombineParams{Tokens: uint32(s.t), Cols: uint32(s.c), K: uint32(s.k)}
			out = append(out, Case{
				Family: "moe_combine",
				Name:   fmt.Sprintf("%s/T=%d,C=%d,k=%d,E=%d", strings.TrimPrefix(v.String(), "moe_combine/"), s.t, s.c, s.k, s.e),
				Buffers: []Buffer{
					{Name: "gates", Init: F32Bytes(gates)}, {Name: "slot", Init: U32Bytes(slot)},
					{Name: "y", Init: F32Bytes(y)}, {Name: "out", Init: F32Bytes(res)},
				},
				Steps:  []Step{{Kernel: MoECombine(v), Params: p, Grid: MoECombineGrid(p)}},
				Checks: []Check{{Buffer: "out", Want: want, Tol: Tol{NMSE: 1e-10}}},
			})
		}
	}
	out = append(out, moePipelineCase(255, 3, 4, 2, 64), moePipelineCase(1001, 3, 8, 1, 100))
	return out
}

// moePipelineCase runs the GPU side of a TGH-MoE layer's routing end to end
// in one batch: task_route → moe_route (the group read from the GPU) →
// moe_plan → moe_combine. The expert outputs y, produced between plan and
// combine by the row gather and expert GEMMs, stand in as a toy expert
// y_i = (e+1)·x[perm[i]] + e computed from the reference plan, which is
// exact, so y is the same buffer the real chain would produce.
func moePipelineCase(tokens, groups, eg, k, cols int) Case {
	text := randF32(int64(800+tokens), groups, 2)
	grp, tprobs := TaskRouteRef(text, -1)
	rp := MoERouteParams{Tokens: uint32(tokens), Groups: uint32(groups), Experts: uint32(eg), K: uint32(k), Renorm: 1, GlobalIDs: 1}
	logits := randF32(int64(801+tokens), tokens*groups*eg, 3)
	ids, gates, probs := MoERouteRef(logits, grp, rp)
	ne := groups * eg
	pp := MoEPlanParams{Tokens: uint32(tokens), K: uint32(k), Experts: uint32(ne)}
	seg, perm, slot := MoEPlanRef(ids, tokens, k, ne)
	x := randF32(int64(802+tokens), tokens*cols, 1)
	y := make([]float32, tokens*k*cols)
	for e := 0; e < ne; e++ {
		for i := seg[2*e]; i < seg[2*e]+seg[2*e+1]; i++ {
			for c := 0; c < cols; c++ {
				y[int(i)*cols+c] = float32(e+1)*x[int(perm[i])*cols+c] + float32(e)
			}
		}
	}
	res := randF32(int64(803+tokens), tokens*cols, 1)
	want := append([]float32(nil), res...)
	MoECombineRef(want, gates, slot, y, tokens, cols, k)
	cp := MoECombineParams{Tokens: uint32(tokens), Cols: uint32(cols), K: uint32(k)}
	cv := MoECombineVariantFor(uint32(cols))
	return Case{
		Family: "moe_combine",
		Name:   fmt.Sprintf("pipeline/T=%d,G=%d,Eg=%d,k=%d,C=%d", tokens, groups, eg, k, cols),
		Buffers: []Buffer{
			{Name: "text_logits", Init: F32Bytes(text)}, {Name: "task", Size: 4}, {Name: "task_probs", Size: 4 * groups},
			{Name: "logits", Init: F32Bytes(logits)}, {Name: "ids", Size: 4 * tokens * k}, {Name: "gates", Size: 4 * tokens * k},
			{Name: "probs", Size: 4 * tokens * eg}, {Name: "seg", Size: 8 * ne}, {Name: "perm", Size: 4 * tokens * k},
			{Name: "slot", Size: 4 * tokens * k}, {Name: "y", Init: F32Bytes(y)}, {Name: "out", Init: F32Bytes(res)},
		},
		Steps: []Step{
			{Kernel: TaskRoute(), Params: TaskRouteParams{Groups: uint32(groups), Force: -1}, Bind: []string{"text_logits", "task", "task_probs"}, Grid: TaskRouteGrid()},
			{Kernel: MoERoute(), Params: rp, Grid: MoERouteGrid(rp)},
			{Kernel: MoEPlan(), Params: pp, Grid: MoEPlanGrid()},
			{Kernel: MoECombine(cv), Params: cp, Grid: MoECombineGrid(cp)},
		},
		Checks: []Check{
			{Buffer: "task", WantU32: []uint32{grp}, Tol: Tol{Exact: true}},
			{Buffer: "task_probs", Want: tprobs, Tol: Tol{NMSE: 1e-10}},
			{Buffer: "ids", WantU32: ids, Tol: Tol{Exact: true}},
			{Buffer: "gates", Want: gates, Tol: Tol{NMSE: 1e-10}},
			{Buffer: "probs", Want: probs, Tol: Tol{NMSE: 1e-10}},
			{Buffer: "seg", WantU32: seg, Tol: Tol{Exact: true}},
			{Buffer: "perm", WantU32: perm, Tol: Tol{Exact: true}},
			{Buffer: "slot", WantU32: slot, Tol: Tol{Exact: true}},
			{Buffer: "out", Want: want, Tol: Tol{NMSE: 1e-10}},
		},
	}
}
