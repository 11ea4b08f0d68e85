package shaders

import (
	"cmp"
	"math"
	"slices"
)

// SampleWG is the sampler's workgroup size. It is part of the sampler's
// definition, not only a tuning knob: the float sums that decide top-p and
// the draw are split over SampleWG threads (strided for top-p, contiguous
// chunks for the draw) and combined in a fixed order that SampleRef repeats.
const SampleWG = 256

// pcgHash is the PCG hash of Jarzynski & Olano, "Hash Functions for GPU
// Rendering" (JCGT 2020), identical in sample.wgsl.
func pcgHash(v uint32) uint32 {
	s := v*747796405 + 2891336453
	w := ((s >> ((s >> 28) + 4)) ^ s) * 277803737
	return (w >> 22) ^ w
}

// SampleUniform is the sampler's random number for (seed, step): 24 bits of
// pcg(seed ^ pcg(step)) scaled into [0, 1), exact in float32.
func SampleUniform(seed, step uint32) float32 {
	return float32(pcgHash(seed^pcgHash(step))>>8) * (1.0 / 16777216.0)
}

// sampleTrace is the reference's state for one logits row: the thresholds
// and kept weights, prepared once, then the id of the latest draw.
type sampleTrace struct {
	id      uint32
	greedy  bool
	m       float32 // max z
	thrK    uint32  // top-k key threshold (0: off)
	thr     uint32  // final key threshold
	w       []float32
	total   float32
	target  float32
	running []float32 // the running sum after each kept i (kernel order), NaN elsewhere
}

// SampleRef is the reference of the sample kernel (see sample.wgsl for the
// exact definition): the token id it writes for one row of V logits.
func SampleRef(logits []float32, p SampleParams) uint32 {
	tr := samplePrepare(logits, p, false)
	tr.draw(p.Seed, p.Step)
	return tr.id
}

// sampleChunks returns the [i0, i1) ranges the kernel's threads own.
func sampleChunks(v int) [][2]int {
	n := (v + SampleWG - 1) / SampleWG
	out := make([][2]int, SampleWG)
	for c := range out {
		i0 := min(c*n, v)
		out[c] = [2]int{i0, min(i0+n, v)}
	}
	return out
}

// treeSumF32 sums per-thread partials with the kernel's pairing.
func treeSumF32(part []float32) float32 {
	p := append([]float32(nil), part...)
	for s := len(p) / 2; s > 0; s /= 2 {
		for l := 0; l < s; l++ {
			p[l] += p[l+s]
		}
	}
	return p[0]
}

// samplePrepare computes everything but the draw, which depends on the
// random number only: the thresholds and the kept weights. greedy forces
// the argmax path (the GREEDY variant).
func samplePrepare(logits []float32, p SampleParams, greedy bool) *sampleTrace {
	v := int(p.Vocab)
	l := logits[p.LogitsOffset : int(p.LogitsOffset)+v]
	tr := &sampleTrace{greedy: greedy || p.InvTemp <= 0}
	if tr.greedy {
		for i := range l {
			if f32Key(l[i]) > f32Key(l[tr.id]) {
				tr.id = uint32(i)
			}
		}
		return tr
	}
	chunks := sampleChunks(v)
	z := make([]float32, v)
	keys := make([]uint32, v)
	var mk uint32
	for i := range l {
		z[i] = l[i] * p.InvTemp
		keys[i] = f32Key(z[i])
		mk = max(mk, keys[i])
	}
	tr.m = keyF32(mk)
	if p.TopK > 0 && int(p.TopK) < v {
		var c uint32
		for b := 0; b < 32; b++ {
			cand := c | 0x80000000>>b
			n := 0
			for _, k := range keys {
				if k >= cand {
					n++
				}
			}
			if n >= int(p.TopK) {
				c = cand
			}
		}
		tr.thrK = c
	}
	tr.thr = tr.thrK
	// exp(z − m) does not depend on the cut: compute it once. Adding a
	// masked-out +0 leaves a float32 sum unchanged, so summing only the
	// kept terms in index order is the kernel's sum.
	e := make([]float32, v)
	for i := range z {
		e[i] = expf(z[i] - tr.m)
	}
	// mass is M(cut): per-thread sums over i ≡ thread (mod WG) in index
	// order, then the tree.
	part := make([]float32, SampleWG)
	mass := func(cut uint32) float32 {
		clear(part)
		for i, k := range keys {
			if k >= cut {
				part[i%SampleWG] += e[i]
			}
		}
		return treeSumF32(part)
	}
	if p.TopP > 0 && p.TopP < 1 {
		goal := p.TopP * mass(tr.thrK)
		var c uint32
		for b := 0; b < 32; b++ {
			cand := c | 0x80000000>>b
			if mass(max(cand, tr.thrK)) >= goal {
				c = cand
			}
		}
		tr.thr = max(tr.thr, c)
	}
	tr.w = make([]float32, v)
	tr.running = make([]float32, v)
	for _, ch := range chunks {
		run := tr.total // the exclusive prefix of the chunk sums, thread 0's loop
		var cs float32
		for i := ch[0]; i < ch[1]; i++ {
			tr.running[i] = float32(math.NaN())
			if keys[i] >= tr.thr {
				tr.w[i] = e[i]
				cs += e[i]
				if e[i] > 0 {
					run += e[i]
					tr.running[i] = run
				}
			}
		}
		tr.total += cs
	}
	return tr
}

// draw picks the token for (seed, step): the first kept index whose running
// sum exceeds u·total, else the last one with a positive weight.
func (tr *sampleTrace) draw(seed, step uint32) {
	if tr.greedy {
		return
	}
	tr.target = SampleUniform(seed, step) * tr.total
	tr.id = 0
	last := -1
	for i, r := range tr.running {
		if tr.w[i] > 0 {
			if r > tr.target {
				tr.id = uint32(i)
				return
			}
			last = i
		}
	}
	if last >= 0 {
		tr.id = uint32(last)
	}
}

// sampleOracle computes the same draws as SampleRef independently, in
// float64 over sorted values instead of the kernel's chunked float32 order,
// and reports how far each decision was from a boundary (see draw). kept is
// the kept token distribution; where the margin is well above float32
// summation error, every device and SampleRef must pick the oracle's id.
type sampleOracle struct {
	kept    []float64 // normalised kept distribution
	argmax  uint32    // the answer when greedy
	greedy  bool      // InvTemp ≤ 0
	marginP float64   // smallest |cumulative fraction − top_p| over distinct values
}

func newSampleOracle(logits []float32, p SampleParams) *sampleOracle {
	v := int(p.Vocab)
	l := logits[p.LogitsOffset : int(p.LogitsOffset)+v]
	o := &sampleOracle{marginP: math.Inf(1)}
	if p.InvTemp <= 0 {
		o.greedy = true
		for i := range l {
			if f32Key(l[i]) > f32Key(l[o.argmax]) {
				o.argmax = uint32(i)
			}
		}
		return o
	}
	z := make([]float64, v)
	order := make([]int, v)
	m := math.Inf(-1)
	for i := range l {
		z[i] = float64(l[i] * p.InvTemp) // the kernel's float32 product
		order[i] = i
		m = max(m, z[i])
	}
	topK := p.TopK > 0 && int(p.TopK) < v
	topP := p.TopP > 0 && p.TopP < 1
	if topK || topP {
		// Descending values, ties by index: a total order, so an unstable
		// sort is deterministic.
		slices.SortFunc(order, func(a, b int) int {
			if c := cmp.Compare(z[b], z[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	cut := math.Inf(-1)
	if topK {
		cut = z[order[p.TopK-1]]
	}
	w := func(i int) float64 {
		if z[i] < cut {
			return 0
		}
		return math.Exp(z[i] - m)
	}
	if topP {
		var total float64
		for i := range z {
			total += w(i)
		}
		var cum float64
		newCut := math.Inf(-1)
		for n, i := range order {
			cum += w(i)
			if n+1 < v && z[order[n+1]] == z[i] {
				continue // the mass only changes between distinct values
			}
			if w(i) == 0 {
				break // below the top-k cut: the mass no longer grows
			}
			o.marginP = min(o.marginP, math.Abs(cum/total-float64(p.TopP)))
			if cum/total >= float64(p.TopP) && math.IsInf(newCut, -1) {
				newCut = z[i]
			}
		}
		cut = max(cut, newCut)
	}
	o.kept = make([]float64, v)
	var total float64
	for i := range z {
		o.kept[i] = w(i)
		total += o.kept[i]
	}
	for i := range o.kept {
		o.kept[i] /= total
	}
	return o
}

// draw returns the oracle's token for (seed, step) and the margin of the
// whole draw: the smaller of marginP and the distance of u from the ends of
// the chosen token's interval, both as fractions of the kept mass.
func (o *sampleOracle) draw(seed, step uint32) (id uint32, margin float64) {
	if o.greedy {
		return o.argmax, math.Inf(1)
	}
	u := float64(SampleUniform(seed, step))
	var cum float64
	for i, k := range o.kept {
		if k == 0 {
			continue
		}
		before := cum
		cum += k
		if cum > u {
			return uint32(i), min(o.marginP, u-before, cum-u)
		}
	}
	return 0, 0 // unreachable: u < 1 = Σ kept
}
