package shaders

import (
	"slices"
	"testing"
)

// A hand-checked plan: ids [[1 0] [1 2] [0 1]], E = 3.
func TestMoEPlanRefHandChecked(t *testing.T) {
	seg, perm, slot := MoEPlanRef([]uint32{1, 0, 1, 2, 0, 1}, 3, 2, 3)
	if want := []uint32{0, 2, 2, 3, 5, 1}; !slices.Equal(seg, want) {
		t.Errorf("seg = %v, want %v", seg, want)
	}
	if want := []uint32{0, 2, 0, 1, 2, 1}; !slices.Equal(perm, want) {
		t.Errorf("perm = %v, want %v", perm, want)
	}
	if want := []uint32{2, 0, 3, 5, 1, 4}; !slices.Equal(slot, want) {
		t.Errorf("slot = %v, want %v", slot, want)
	}
}

// checkPlan verifies the format moe_plan promises: perm and slot are
// inverse (perm[slot[t·K+j]] = t, slot a permutation), segments tile
// 0..T·K in expert order, every row of segment e is an assignment to e,
// and tokens increase within a segment.
func checkPlan(t *testing.T, ids []uint32, tokens, k, experts int, seg, perm, slot []uint32) {
	t.Helper()
	n := tokens * k
	seen := make([]bool, n)
	for i := 0; i < n; i++ {
		s := slot[i]
		if int(s) >= n || seen[s] {
			t.Fatalf("slot[%d] = %d: out of range or repeated", i, s)
		}
		seen[s] = true
		if int(perm[s]) != i/k {
			t.Fatalf("perm[slot[%d]] = %d, want token %d", i, perm[s], i/k)
		}
	}
	var off uint32
	for e := 0; e < experts; e++ {
		if seg[2*e] != off {
			t.Fatalf("segment %d starts at %d, want %d", e, seg[2*e], off)
		}
		for r := seg[2*e]; r < seg[2*e]+seg[2*e+1]; r++ {
			if r > seg[2*e] && perm[r] <= perm[r-1] {
				t.Fatalf("segment %d: tokens not increasing at row %d", e, r)
			}
		}
		off += seg[2*e+1]
	}
	if int(off) != n {
		t.Fatalf("segments cover %d rows, want %d", off, n)
	}
	for i := 0; i < n; i++ {
		e := min(int(ids[i]), experts-1)
		if s := slot[i]; s < seg[2*e] || s >= seg[2*e]+seg[2*e+1] {
			t.Fatalf("assignment %d to expert %d lands in row %d, outside its segment", i, e, s)
		}
	}
}

func TestMoEPlanRefConsistent(t *testing.T) {
	for _, s := range [][3]int{{1, 1, 1}, {5, 2, 4}, {300, 2, 8}, {1001, 8, 64}} {
		ids := randRouting(int64(s[0]), s[0], s[1], s[2])
		seg, perm, slot := MoEPlanRef(ids, s[0], s[1], s[2])
		checkPlan(t, ids, s[0], s[1], s[2], seg, perm, slot)
	}
}

// moePlanChunked repeats moe_plan.wgsl's algorithm step by step (threads
// owning token chunks, per-thread counts, the blocked scan over threads):
// it must equal the plain counting sort for every T, in particular T below
// the workgroup, not a multiple of it, and E not a multiple of the block.
func moePlanChunked(ids []uint32, tokens, k, experts int) (seg, perm, slot []uint32) {
	const wg, eb, emax = moePlanWG, moePlanEB, MoEMaxExperts
	l := (tokens + wg - 1) / wg
	cnt := make([][emax]uint32, wg)
	for c := 0; c < wg; c++ {
		t0 := min(c*l, tokens)
		for tk := t0; tk < min(t0+l, tokens); tk++ {
			for j := 0; j < k; j++ {
				cnt[c][min(int(ids[tk*k+j]), experts-1)]++
			}
		}
	}
	var totals [emax]uint32
	for b := 0; b < emax; b += eb {
		if b >= experts {
			continue
		}
		for i := 0; i < eb; i++ {
			var run uint32
			for c := 0; c < wg; c++ {
				v := cnt[c][b+i]
				cnt[c][b+i] = run
				run += v
			}
			totals[b+i] = run
		}
	}
	seg = make([]uint32, 2*experts)
	var off uint32
	for e := 0; e < experts; e++ {
		seg[2*e], seg[2*e+1] = off, totals[e]
		totals[e] = off
		off += seg[2*e+1]
	}
	perm = make([]uint32, tokens*k)
	slot = make([]uint32, tokens*k)
	for c := 0; c < wg; c++ {
		t0 := min(c*l, tokens)
		for tk := t0; tk < min(t0+l, tokens); tk++ {
			for j := 0; j < k; j++ {
				e := min(int(ids[tk*k+j]), experts-1)
				pos := totals[e] + cnt[c][e]
				cnt[c][e]++
				perm[pos] = uint32(tk)
				slot[tk*k+j] = pos
			}
		}
	}
	return seg, perm, slot
}

func TestMoEPlanChunkedAlgorithmEqualsRef(t *testing.T) {
	for i, s := range [][3]int{{1, 1, 1}, {3, 2, 5}, {255, 2, 9}, {256, 1, 8}, {257, 2, 64}, {777, 3, 17}, {5000, 2, 8}} {
		ids := randRouting(int64(50+i), s[0], s[1], s[2])
		seg, perm, slot := moePlanChunked(ids, s[0], s[1], s[2])
		ws, wp, wsl := MoEPlanRef(ids, s[0], s[1], s[2])
		if !slices.Equal(seg, ws) || !slices.Equal(perm, wp) || !slices.Equal(slot, wsl) {
			t.Errorf("T=%d k=%d E=%d: the kernel's algorithm differs from the counting sort", s[0], s[1], s[2])
		}
		checkPlan(t, ids, s[0], s[1], s[2], seg, perm, slot)
	}
}

func TestMoEPlanParamsValidate(t *testing.T) {
	if err := (MoEPlanParams{Tokens: 1, K: 2, Experts: 64}).Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []MoEPlanParams{{Tokens: 1, K: 2, Experts: 65}, {Tokens: 1, K: 2}, {Tokens: 1, Experts: 4}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
