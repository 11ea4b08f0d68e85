package shaders

import "math"

// f32Key maps float32 bits to a uint32 whose unsigned order is the float
// order (−0 sorts just below +0; NaNs sort outside ±Inf). The routing and
// sampling kernels compare values through it, so a selection is exact and
// identical on every device and here.
func f32Key(f float32) uint32 {
	b := math.Float32bits(f)
	if b>>31 == 1 {
		return ^b
	}
	return b | 0x80000000
}

// keyF32 is the inverse of f32Key.
func keyF32(k uint32) float32 {
	if k>>31 == 1 {
		return math.Float32frombits(k &^ 0x80000000)
	}
	return math.Float32frombits(^k)
}

// expf is the f32 exp of the references: the exact exp rounded to float32.
// WGSL's exp is within a few ulp of it, which tolerances and the cases'
// margins account for.
func expf(x float32) float32 { return float32(math.Exp(float64(x))) }

// MoERouteRef is the reference of the moe_route kernel. logits is
// (T, G·Eg); group is task[0] (clamped to G−1 as the kernel does). It returns
// ids and gates (T, K) in rank order and the group's softmax probs (T, Eg).
// Sums run in float32 in expert order, like the kernel.
func MoERouteRef(logits []float32, group uint32, p MoERouteParams) (ids []uint32, gates, probs []float32) {
	T, G, eg, k := int(p.Tokens), int(p.Groups), int(p.Experts), int(p.K)
	g := min(int(group), G-1)
	ids = make([]uint32, T*k)
	gates = make([]float32, T*k)
	probs = make([]float32, T*eg)
	for t := 0; t < T; t++ {
		l := logits[(t*G+g)*eg : (t*G+g+1)*eg]
		m := l[0]
		for _, v := range l[1:] {
			m = max(m, v)
		}
		var s float32
		for _, v := range l {
			s += expf(v - m)
		}
		for e, v := range l {
			probs[t*eg+e] = expf(v-m) / s
		}
		sel := topKByKey(l, k)
		var ssel float32
		ex := make([]float32, k)
		for j, e := range sel {
			ex[j] = expf(l[e] - m)
			ssel += ex[j]
		}
		den := s
		if p.Renorm != 0 {
			den = ssel
		}
		off := 0
		if p.GlobalIDs != 0 {
			off = g * eg
		}
		for j, e := range sel {
			ids[t*k+j] = uint32(e + off)
			gates[t*k+j] = ex[j] / den
		}
	}
	return ids, gates, probs
}

// topKByKey returns the indices of the k largest values of l ordered by
// (value desc, index asc), comparing f32Key values.
func topKByKey(l []float32, k int) []int {
	sel := make([]int, 0, k)
	used := make([]bool, len(l))
	for j := 0; j < k; j++ {
		best := -1
		for e, v := range l {
			if !used[e] && (best < 0 || f32Key(v) > f32Key(l[best])) {
				best = e
			}
		}
		used[best] = true
		sel = append(sel, best)
	}
	return sel
}

// TaskRouteRef is the reference of the task_route kernel: the task group
// (force when 0 ≤ force < G, else the argmax with ties to the lower index)
// and the softmax over the G logits.
func TaskRouteRef(logits []float32, force int32) (task uint32, probs []float32) {
	m := logits[0]
	for i, v := range logits {
		if f32Key(v) > f32Key(logits[task]) {
			task = uint32(i)
		}
		m = max(m, v)
	}
	var s float32
	for _, v := range logits {
		s += expf(v - m)
	}
	probs = make([]float32, len(logits))
	for i, v := range logits {
		probs[i] = expf(v-m) / s
	}
	if force >= 0 && int(force) < len(logits) {
		task = uint32(force)
	}
	return task, probs
}
