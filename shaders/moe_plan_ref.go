package shaders

// MoEPlanRef is the reference of the moe_plan kernel: a stable counting sort
// of the T·K assignments by expert. seg is (E, 2) (offset, count), perm the
// token of each row of the gathered matrix, slot the row of each (t, j).
// Ids ≥ E count as E−1, as in the kernel.
func MoEPlanRef(ids []uint32, tokens, k, experts int) (seg, perm, slot []uint32) {
	n := tokens * k
	expert := func(i int) int { return min(int(ids[i]), experts-1) }
	seg = make([]uint32, 2*experts)
	for i := 0; i < n; i++ {
		seg[2*expert(i)+1]++
	}
	var off uint32
	for e := 0; e < experts; e++ {
		seg[2*e] = off
		off += seg[2*e+1]
	}
	next := make([]uint32, experts)
	for e := range next {
		next[e] = seg[2*e]
	}
	perm = make([]uint32, n)
	slot = make([]uint32, n)
	for i := 0; i < n; i++ { // i = t·K + j: token order, then rank order
		e := expert(i)
		perm[next[e]] = uint32(i / k)
		slot[i] = next[e]
		next[e]++
	}
	return seg, perm, slot
}
