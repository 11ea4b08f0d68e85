package shaders

import "fmt"

// MoEPlanParams is the uniform of the moe_plan kernel (see moe_plan.wgsl).
type MoEPlanParams struct {
	Tokens  uint32 // T
	K       uint32 // assignments per token
	Experts uint32 // E, 1..MoEMaxExperts (G·Eg with moe_route's global ids)
}

// Validate reports parameters the kernel does not support.
func (p MoEPlanParams) Validate() error {
	if p.Experts == 0 || p.Experts > MoEMaxExperts || p.K == 0 {
		return fmt.Errorf("moe_plan: experts %d must be in 1..%d and k %d ≥ 1", p.Experts, MoEMaxExperts, p.K)
	}
	return nil
}

// MoEMaxExperts is the largest E moe_plan supports: its per-thread private
// counters and its totals in workgroup memory.
const MoEMaxExperts = 64

const (
	moePlanWG = 256
	moePlanEB = 8 // experts staged per scan block: EB·WG·4 = 8 KiB of workgroup memory
)

// MoEPlan returns the plan kernel. Bindings: params, ids, seg, perm, slot.
func MoEPlan() Kernel {
	return Kernel{
		Name:   "moe_plan/scan/wg256",
		File:   "moe_plan.wgsl",
		Source: render(MoEPlanParams{}, []Const{{"WG", moePlanWG}, {"EB", moePlanEB}, {"EMAX", MoEMaxExperts}, {"STAGE", moePlanEB * moePlanWG}}, "", "moe_plan.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"ids", Read}, {"seg", ReadWrite}, {"perm", ReadWrite}, {"slot", ReadWrite},
		},
	}
}

// MoEPlanGrid is a single workgroup whatever T.
func MoEPlanGrid() [3]uint32 { return [3]uint32{1, 1, 1} }

func init() {
	register(family{Name: "moe_plan", Files: []string{"moe_plan.wgsl"}, Cases: moePlanCases})
}

func moePlanCase(name string, ids []uint32, p MoEPlanParams) Case {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	seg, perm, slot := MoEPlanRef(ids, int(p.Tokens), int(p.K), int(p.Experts))
	n := len(ids)
	return Case{
		Family: "moe_plan",
		Name:   "scan/wg256/" + name,
		Buffers: []Buffer{
			{Name: "ids", Init: U32Bytes(ids)}, {Name: "seg", Size: 8 * int(p.Experts)},
			{Name: "perm", Size: 4 * n}, {Name: "slot", Size: 4 * n},
		},
		Steps: []Step{{Kernel: MoEPlan(), Params: p, Grid: MoEPlanGrid()}},
		Checks: []Check{
			{Buffer: "seg", WantU32: seg, Tol: Tol{Exact: true}},
			{Buffer: "perm", WantU32: perm, Tol: Tol{Exact: true}},
			{Buffer: "slot", WantU32: slot, Tol: Tol{Exact: true}},
		},
	}
}

// randRouting returns ids (T, K) as top-k routing makes them: K distinct
// experts per token out of E, skewed so that experts get unequal loads.
func randRouting(seed int64, tokens, k, experts int) []uint32 {
	r := randF32(seed, tokens*experts, 1)
	ids := make([]uint32, 0, tokens*k)
	for t := 0; t < tokens; t++ {
		l := r[t*experts : (t+1)*experts]
		for e := range l {
			l[e] += float32(e) * 0.15 // later experts are popular
		}
		for _, e := range topKByKey(l, k) {
			ids = append(ids, uint32(e))
		}
	}
	return ids
}

func moePlanCases() []Case {
	var out []Case
	type shape struct{ t, k, e int }
	// Odd T, below/at/above the workgroup and its chunking (T < WG leaves
	// threads without tokens), E in {1, 4, 8} and the largest, k in {1, 2}.
	shapes := []shape{{1, 1, 1}, {3, 1, 4}, {7, 2, 4}, {255, 2, 8}, {257, 1, 8}, {1001, 2, 24}, {4097, 2, 64}, {20001, 2, 8}, {20001, 1, 1}, {40001, 2, 64}}
	for i, s := range shapes {
		ids := randRouting(int64(500+i), s.t, s.k, s.e)
		out = append(out, moePlanCase(fmt.Sprintf("T=%d,k=%d,E=%d", s.t, s.k, s.e), ids, MoEPlanParams{Tokens: uint32(s.t), K: uint32(s.k), Experts: uint32(s.e)}))
	}
	// Every token on one expert of eight: the others' segments are empty
	// (count 0) and one segment holds everything.
	one := make([]uint32, 999)
	for i := range one {
		one[i] = 5
	}
	out = append(out, moePlanCase("all-on-one/T=999,k=1,E=8", one, MoEPlanParams{Tokens: 999, K: 1, Experts: 8}))
	// Global ids of group 2 of three groups of four: segments 0..7 empty.
	grp := randRouting(510, 301, 2, 4)
	for i := range grp {
		grp[i] += 8
	}
	out = append(out, moePlanCase("group-2-of-3/T=301,k=2,E=12", grp, MoEPlanParams{Tokens: 301, K: 2, Experts: 12}))
	// Out-of-range ids are clamped to E−1 rather than written out of bounds.
	bad := []uint32{0, 9, 3, 1, 70, 2}
	out = append(out, moePlanCase("clamped-ids/T=3,k=2,E=4", bad, MoEPlanParams{Tokens: 3, K: 2, Experts: 4}))
	return out
}
