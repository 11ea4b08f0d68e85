package shaders

import (
	"math"
	"testing"
)

// The f32 reference agrees with a float64 oracle.
func TestMoECombineRefAgainstFloat64(t *testing.T) {
	const T, C, K, E = 37, 50, 2, 4
	ids := randRouting(1, T, K, E)
	_, _, slot := MoEPlanRef(ids, T, K, E)
	gates := randF32(2, T*K, 1)
	y := randF32(3, T*K*C, 4)
	out := randF32(4, T*C, 2)
	want := make([]float64, len(out))
	for tk := 0; tk < T; tk++ {
		for c := 0; c < C; c++ {
			v := float64(out[tk*C+c])
			for j := 0; j < K; j++ {
				v += float64(gates[tk*K+j]) * float64(y[int(slot[tk*K+j])*C+c])
			}
			want[tk*C+c] = v
		}
	}
	MoECombineRef(out, gates, slot, y, T, C, K)
	for i := range out {
		if d := math.Abs(float64(out[i]) - want[i]); d > 1e-5*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("[%d] have %v want %v", i, out[i], want[i])
		}
	}
}

// With one expert, k = 1 and its gate exactly 1, the MoE layer is the dense
// FFN: routing gives gate 1, the plan is the identity, and the combine adds
// the expert output exactly.
func TestMoEOneExpertIsDense(t *testing.T) {
	const T, C = 9, 6
	p := MoERouteParams{Tokens: T, Groups: 1, Experts: 1, K: 1, Renorm: 1}
	for _, renorm := range []uint32{0, 1} {
		p.Renorm = renorm
		ids, gates, probs := MoERouteRef(randF32(5, T, 30), 0, p)
		for i := 0; i < T; i++ {
			if ids[i] != 0 || gates[i] != 1 || probs[i] != 1 {
				t.Fatalf("one expert: id %d gate %v prob %v, want 0, 1, 1", ids[i], gates[i], probs[i])
			}
		}
		seg, perm, slot := MoEPlanRef(ids, T, 1, 1)
		if seg[0] != 0 || seg[1] != T {
			t.Fatalf("seg = %v", seg)
		}
		for i := 0; i < T; i++ {
			if perm[i] != uint32(i) || slot[i] != uint32(i) {
				t.Fatalf("one expert: perm %v slot %v, want the identity", perm, slot)
			}
		}
		dense := randF32(6, T*C, 3) // the FFN output, rows in token order
		res := randF32(7, T*C, 3)
		out := append([]float32(nil), res...)
		MoECombineRef(out, gates, slot, dense, T, C, 1)
		for i := range out {
			if out[i] != res[i]+dense[i] {
				t.Fatalf("[%d] %v, want residual + FFN = %v", i, out[i], res[i]+dense[i])
			}
		}
	}
}

// The plan-based layer (route, plan, gather, per-expert FFN over the
// segments, combine) equals the per-token definition
// out[t] = res[t] + Σ_j gate[t,j] · FFN_{id[t,j]}(x[t]).
func TestMoEPlannedLayerEqualsPerTokenDefinition(t *testing.T) {
	const T, G, Eg, K, C = 101, 3, 4, 2, 5
	E := G * Eg
	p := MoERouteParams{Tokens: T, Groups: G, Experts: Eg, K: K, Renorm: 1, GlobalIDs: 1}
	ids, gates, _ := MoERouteRef(randF32(8, T*G*Eg, 3), 1, p)
	ffn := func(e int, x float32) float32 { return float32(e+1)*x - float32(e) }
	x := randF32(9, T*C, 1)
	res := randF32(10, T*C, 1)

	seg, perm, slot := MoEPlanRef(ids, T, K, E)
	y := make([]float32, T*K*C)
	for e := 0; e < E; e++ { // a segmented GEMM: rows of segment e use expert e
		if seg[2*e+1] > 0 && (e < Eg || e >= 2*Eg) {
			t.Fatalf("expert %d of another group has %d rows", e, seg[2*e+1])
		}
		for r := seg[2*e]; r < seg[2*e]+seg[2*e+1]; r++ {
			for c := 0; c < C; c++ {
				y[int(r)*C+c] = ffn(e, x[int(perm[r])*C+c]) // the row gather
			}
		}
	}
	out := append([]float32(nil), res...)
	MoECombineRef(out, gates, slot, y, T, C, K)
	for tk := 0; tk < T; tk++ {
		for c := 0; c < C; c++ {
			var s float32
			for j := 0; j < K; j++ {
				s += gates[tk*K+j] * ffn(int(ids[tk*K+j]), x[tk*C+c])
			}
			if want := res[tk*C+c] + s; out[tk*C+c] != want {
				t.Fatalf("token %d col %d: %v, want %v", tk, c, out[tk*C+c], want)
			}
		}
	}
}
