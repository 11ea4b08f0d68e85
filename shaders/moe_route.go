package shaders

import (
	"fmt"
	"strings"
)

// MoERouteParams is the uniform of the moe_route kernel (see moe_route.wgsl).
type MoERouteParams struct {
	Tokens  uint32 // T
	Groups  uint32 // G task groups in each logits row
	Experts uint32 // Eg experts per group
	K       uint32 // experts per token, 1..MoEMaxK, ≤ Eg
	// Renorm != 0 divides the top-k gates by their own sum (they sum to
	// one) instead of the group's full softmax sum.
	Renorm uint32
	// GlobalIDs != 0 numbers experts across groups (g·Eg + e), the ids
	// moe_plan and the expert GEMM use with E = G·Eg.
	GlobalIDs uint32 `wgsl:"global_ids"`
}

// Validate reports parameters the kernel does not support.
func (p MoERouteParams) Validate() error {
	switch {
	case p.Groups == 0 || p.Experts == 0:
		return fmt.Errorf("moe_route: groups %d and experts %d must be ≥ 1", p.Groups, p.Experts)
	case p.K == 0 || p.K > MoEMaxK || p.K > p.Experts:
		return fmt.Errorf("moe_route: k = %d must be in 1..min(%d, experts %d)", p.K, MoEMaxK, p.Experts)
	}
	return nil
}

// MoEMaxK is the largest top-k moe_route supports (its private arrays).
const MoEMaxK = 8

const moeRouteWG = 64

// MoERoute returns the token-routing kernel. Bindings: params, logits, task,
// ids, gates, probs.
func MoERoute() Kernel {
	return Kernel{
		Name:   "moe_route/topk/wg64",
		File:   "moe_route.wgsl",
		Source: render(MoERouteParams{}, []Const{{"WG", moeRouteWG}, {"KMAX", MoEMaxK}}, "", "moe_route.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"logits", Read}, {"task", Read},
			{"ids", ReadWrite}, {"gates", ReadWrite}, {"probs", ReadWrite},
		},
	}
}

// MoERouteGrid is one thread per token.
func MoERouteGrid(p MoERouteParams) [3]uint32 { return Grid1D(ceilDiv(p.Tokens, moeRouteWG)) }

// TaskRouteParams is the uniform of the task_route kernel.
type TaskRouteParams struct {
	Groups uint32 // G
	// Force selects group Force when 0 ≤ Force < G (the app's manual task
	// choice); a negative value takes the router's argmax.
	Force int32
}

// TaskRoute returns the task-router kernel. Bindings: params, logits, task,
// task_probs.
func TaskRoute() Kernel {
	return Kernel{
		Name:   "task_route/argmax/wg1",
		File:   "moe_task.wgsl",
		Source: render(TaskRouteParams{}, nil, "", "moe_task.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"logits", Read}, {"task", ReadWrite}, {"task_probs", ReadWrite},
		},
	}
}

// TaskRouteGrid is a single thread.
func TaskRouteGrid() [3]uint32 { return [3]uint32{1, 1, 1} }

func init() {
	register(family{Name: "moe_route", Files: []string{"moe_route.wgsl"}, Cases: moeRouteCases})
	register(family{Name: "task_route", Files: []string{"moe_task.wgsl"}, Cases: taskRouteCases})
}

// moeRouteCase builds one moe_route case; steps before it (task_route)
// may be prepended by the caller.
func moeRouteCase(name string, logits []float32, group uint32, p MoERouteParams) Case {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	ids, gates, probs := MoERouteRef(logits, group, p)
	T, k, eg := int(p.Tokens), int(p.K), int(p.Experts)
	return Case{
		Family: "moe_route",
		Name:   strings.TrimPrefix(MoERoute().Name, "moe_route/") + "/" + name,
		Buffers: []Buffer{
			{Name: "logits", Init: F32Bytes(logits)}, {Name: "task", Init: U32Bytes([]uint32{group})},
			{Name: "ids", Size: 4 * T * k}, {Name: "gates", Size: 4 * T * k}, {Name: "probs", Size: 4 * T * eg},
		},
		Steps: []Step{{Kernel: MoERoute(), Params: p, Grid: MoERouteGrid(p)}},
		Checks: []Check{
			{Buffer: "ids", WantU32: ids, Tol: Tol{Exact: true}},
			// exp and division are within a few ulp of the reference's.
			{Buffer: "gates", Want: gates, Tol: Tol{NMSE: 1e-10}},
			{Buffer: "probs", Want: probs, Tol: Tol{NMSE: 1e-10}},
		},
	}
}

func moeRouteCases() []Case {
	var out []Case
	type shape struct{ t, g, eg, k int }
	// Odd T (1, below and above the workgroup, the 3D encoder's size);
	// E in {1, 4, 8}; k in {1, 2}; one and three task groups.
	shapes := []shape{
		{1, 1, 1, 1}, {7, 1, 4, 1}, {7, 1, 4, 2}, {65, 3, 8, 2}, {333, 3, 4, 1},
		{333, 1, 8, 2}, {1001, 3, 8, 8}, {20001, 3, 8, 2},
	}
	for i, s := range shapes {
		for _, flags := range [][2]uint32{{1, 1}, {0, 0}} {
			p := MoERouteParams{Tokens: uint32(s.t), Groups: uint32(s.g), Experts: uint32(s.eg), K: uint32(s.k), Renorm: flags[0], GlobalIDs: flags[1]}
			logits := randF32(int64(300+i), s.t*s.g*s.eg, 4)
			group := uint32(s.g - 1)
			out = append(out, moeRouteCase(fmt.Sprintf("renorm=%d,global=%d/T=%d,G=%d,Eg=%d,k=%d,g=%d", flags[0], flags[1], s.t, s.g, s.eg, s.k, group), logits, group, p))
		}
	}
	// Ties: every logit equal picks experts 0..k−1 with equal gates; pairs
	// of equal logits must go to the lower index in the same order on the
	// GPU and in the reference.
	pt := MoERouteParams{Tokens: 5, Groups: 2, Experts: 8, K: 3, Renorm: 1, GlobalIDs: 1}
	ties := make([]float32, 5*2*8)
	for i := range ties {
		if i >= 16 {
			ties[i] = float32((i*7)%4) - 1 // values −1..2, many repeated within a row
		}
	}
	out = append(out, moeRouteCase("ties/T=5,G=2,Eg=8,k=3", ties, 0, pt))
	out = append(out, moeRouteCase("ties/T=5,G=2,Eg=8,k=3,g=1", ties, 1, pt))
	// Large logits: without the max subtraction exp overflows to Inf.
	big := randF32(41, 9*4, 90)
	out = append(out, moeRouteCase("large-logits/T=9,G=1,Eg=4,k=2", big, 0, MoERouteParams{Tokens: 9, Groups: 1, Experts: 4, K: 2, Renorm: 1}))
	// A group id past the last group (a corrupt or stale task buffer) is
	// clamped to the last group instead of reading past the row.
	pc := MoERouteParams{Tokens: 3, Groups: 3, Experts: 4, K: 2, GlobalIDs: 1}
	out = append(out, moeRouteCase("clamped-group/T=3,G=3,Eg=4,k=2,g=9", randF32(42, 3*3*4, 2), 9, pc))

	// The group chosen on the GPU drives the routing: task_route then
	// moe_route in one batch, nothing read back between them.
	text := []float32{0.5, -1, 2.25}
	grp, tprobs := TaskRouteRef(text, -1)
	pr := MoERouteParams{Tokens: 129, Groups: 3, Experts: 4, K: 2, Renorm: 1, GlobalIDs: 1}
	c := moeRouteCase("after-task-route/T=129,G=3,Eg=4,k=2", randF32(43, 129*3*4, 3), grp, pr)
	c.Buffers[1] = Buffer{Name: "task", Init: U32Bytes([]uint32{0})} // written by the first step
	c.Buffers = append(c.Buffers, Buffer{Name: "text_logits", Init: F32Bytes(text)}, Buffer{Name: "task_probs", Size: 4 * len(text)})
	tp := TaskRouteParams{Groups: 3, Force: -1}
	c.Steps = append([]Step{{Kernel: TaskRoute(), Params: tp, Bind: []string{"text_logits", "task", "task_probs"}, Grid: TaskRouteGrid()}}, c.Steps...)
	c.Checks = append(c.Checks, Check{Buffer: "task", WantU32: []uint32{grp}, Tol: Tol{Exact: true}}, Check{Buffer: "task_probs", Want: tprobs, Tol: Tol{NMSE: 1e-10}})
	out = append(out, c)
	return out
}

func taskRouteCases() []Case {
	var out []Case
	mk := func(name string, logits []float32, force int32) {
		task, probs := TaskRouteRef(logits, force)
		p := TaskRouteParams{Groups: uint32(len(logits)), Force: force}
		out = append(out, Case{
			Family: "task_route",
			Name:   "argmax/wg1/" + name,
			Buffers: []Buffer{
				{Name: "logits", Init: F32Bytes(logits)}, {Name: "task", Size: 4}, {Name: "task_probs", Size: 4 * len(logits)},
			},
			Steps: []Step{{Kernel: TaskRoute(), Params: p, Grid: TaskRouteGrid()}},
			Checks: []Check{
				{Buffer: "task", WantU32: []uint32{task}, Tol: Tol{Exact: true}},
				{Buffer: "task_probs", Want: probs, Tol: Tol{NMSE: 1e-10}},
			},
		})
	}
	mk("G=1", []float32{-3}, -1)
	mk("G=3", []float32{0.1, 1.5, -2}, -1)
	mk("G=3,last", []float32{-1, 0, 7}, -1)
	mk("G=3,tie", []float32{2, -1, 2}, -1) // tie → group 0
	mk("G=3,force=2", []float32{5, 0, -5}, 2)
	mk("G=3,force=7", []float32{-5, 0, 5}, 7) // out of range: argmax
	mk("G=3,large", []float32{-100, 88, 87.5}, -1)
	mk("G=64", randF32(44, 64, 3), -1)
	return out
}
