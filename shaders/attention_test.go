package shaders

import (
	"math"
	"testing"
)

// naiveAttention is an independent float64 oracle: the full T×Tk
// probability matrix of one (batch 0) head, built with exp without max
// subtraction (inputs here are small), then P·V.
func naiveAttention(q, k, v [][]float64, scale float64, causal bool, qpos int) [][]float64 {
	out := make([][]float64, len(q))
	for t := range q {
		probs := make([]float64, len(k))
		var z float64
		for j := range k {
			if causal && j > qpos+t {
				continue
			}
			var s float64
			for d := range q[t] {
				s += q[t][d] * k[j][d]
			}
			probs[j] = math.Exp(scale * s)
			z += probs[j]
		}
		out[t] = make([]float64, len(v[0]))
		for j := range v {
			for d := range v[j] {
				out[t][d] += probs[j] / z * v[j][d]
			}
		}
	}
	return out
}

// column gathers rows of one head out of a strided buffer as float64.
func column(buf []float32, rows, stride, off, dh int) [][]float64 {
	out := make([][]float64, rows)
	for r := range out {
		out[r] = make([]float64, dh)
		for d := range out[r] {
			out[r][d] = float64(buf[r*stride+off+d])
		}
	}
	return out
}

// The reference agrees with the naive oracle on every head of a GQA layout
// read from a fused qkv buffer, causal with a prefix offset and not.
func TestAttentionRefAgainstNaive(t *testing.T) {
	const dh, h, hkv, T = 8, 6, 2, 9
	for _, causal := range []bool{false, true} {
		p := AttentionParams{T: T, Tk: T, H: h, Hkv: hkv, Scale: 0.4}.Fused(dh)
		if causal {
			// Rows see keys j ≤ 2 + t: the last rows see all of them.
			p.QPos = 2
		}
		qkv := randF32(11, T*int(p.QStride), 1.5)
		out := make([]float32, T*int(p.OStride))
		AttentionRef(out, qkv, qkv, qkv, p, dh, 1, causal)
		for hd := 0; hd < h; hd++ {
			hk := hd / (h / hkv) // heads 0-2 share kv head 0, 3-5 kv head 1
			want := naiveAttention(
				column(qkv, T, int(p.QStride), hd*dh, dh),
				column(qkv, T, int(p.KStride), int(p.KOff)+hk*dh, dh),
				column(qkv, T, int(p.VStride), int(p.VOff)+hk*dh, dh),
				float64(p.Scale), causal, int(p.QPos))
			for r := 0; r < T; r++ {
				for d := 0; d < dh; d++ {
					have := float64(out[r*int(p.OStride)+hd*dh+d])
					if math.Abs(have-want[r][d]) > 1e-6 {
						t.Fatalf("causal=%v head %d row %d dim %d: have %v want %v", causal, hd, r, d, have, want[r][d])
					}
				}
			}
		}
	}
}

// With a single key the softmax weight is 1: out = v exactly.
func TestAttentionRefOneKeyIsV(t *testing.T) {
	const dh = 16
	p := AttentionParams{T: 1, Tk: 1, H: 1, Hkv: 1, QStride: dh, KStride: dh, VStride: dh, OStride: dh, Scale: 3}
	q, k, v := randF32(1, dh, 9), randF32(2, dh, 9), randF32(3, dh, 1)
	out := make([]float32, dh)
	AttentionRef(out, q, k, v, p, dh, 1, false)
	for d := range out {
		if out[d] != v[d] {
			t.Fatalf("dim %d: have %v want v = %v", d, out[d], v[d])
		}
	}
}

// Equal scores (q = 0) give the plain mean of the visible values; a causal
// row t averages only rows 0..t.
func TestAttentionRefUniformScoresGiveMean(t *testing.T) {
	const dh, n = 4, 5
	p := AttentionParams{T: n, Tk: n, H: 1, Hkv: 1, QStride: dh, KStride: dh, VStride: dh, OStride: dh, Scale: 1}
	q := make([]float32, n*dh)
	k, v := randF32(4, n*dh, 3), randF32(5, n*dh, 2)
	for _, causal := range []bool{false, true} {
		out := make([]float32, n*dh)
		AttentionRef(out, q, k, v, p, dh, 1, causal)
		for r := 0; r < n; r++ {
			cnt := n
			if causal {
				cnt = r + 1
			}
			for d := 0; d < dh; d++ {
				var mean float64
				for j := 0; j < cnt; j++ {
					mean += float64(v[j*dh+d])
				}
				mean /= float64(cnt)
				if math.Abs(float64(out[r*dh+d])-mean) > 1e-6 {
					t.Fatalf("causal=%v row %d dim %d: have %v want mean %v", causal, r, d, out[r*dh+d], mean)
				}
			}
		}
	}
}

// A causal row ignores keys after its position (after the prefix offset),
// even huge ones; bidirectional attention does not.
func TestAttentionRefCausalMaskIgnoresFuture(t *testing.T) {
	const dh, T, pos = 8, 4, 3
	p := AttentionParams{T: T, Tk: pos + T, H: 1, Hkv: 1, QStride: dh, KStride: dh, VStride: dh, OStride: dh, QPos: pos, Scale: 0.5}
	q := randF32(6, T*dh, 1)
	k, v := randF32(7, (pos+T)*dh, 1), randF32(8, (pos+T)*dh, 1)
	k2, v2 := append([]float32(nil), k...), append([]float32(nil), v...)
	for i := (pos + 1) * dh; i < len(k2); i++ { // keys 4.. are future to row 0
		k2[i], v2[i] = 50, 1e3
	}
	for _, causal := range []bool{true, false} {
		a, b := make([]float32, T*dh), make([]float32, T*dh)
		AttentionRef(a, q, k, v, p, dh, 1, causal)
		AttentionRef(b, q, k2, v2, p, dh, 1, causal)
		same := true
		for d := 0; d < dh; d++ { // row 0 sees keys 0..3 only
			same = same && a[d] == b[d]
		}
		if same != causal {
			t.Errorf("causal=%v: row 0 unchanged by future keys = %v", causal, same)
		}
	}
}

// Batches are independent: batch 1 of a two-batch call equals a one-batch
// call on batch 1's rows.
func TestAttentionRefBatchesAreIndependent(t *testing.T) {
	const dh, T = 8, 3
	p := AttentionParams{T: T, Tk: T, H: 2, Hkv: 1, Scale: 0.3}.Fused(dh)
	w := int(p.QStride)
	qkv := randF32(9, 2*T*w, 2)
	out2 := make([]float32, 2*T*int(p.OStride))
	AttentionRef(out2, qkv, qkv, qkv, p, dh, 2, true)
	out1 := make([]float32, T*int(p.OStride))
	second := qkv[T*w:]
	AttentionRef(out1, second, second, second, p, dh, 1, true)
	for i, x := range out1 {
		if out2[T*int(p.OStride)+i] != x {
			t.Fatalf("element %d: batch 1 gives %v, alone %v", i, out2[T*int(p.OStride)+i], x)
		}
	}
}

// Decode attention over a cache is the last row of causal prefill over the
// same keys: the two references agree.
func TestAttentionDecodeRefIsLastPrefillRow(t *testing.T) {
	const dh, h, hkv, n = 8, 4, 2, 6
	const kv = hkv * dh
	k, v := randF32(10, n*kv, 2), randF32(11, n*kv, 1)
	q := randF32(12, h*dh, 2)
	dp := AttnDecodeParams{NPast: n - 1, H: h, Hkv: hkv, KStride: kv, VStride: kv, Scale: 0.35}
	dec := make([]float32, h*dh)
	AttnDecodeRef(dec, q, k, v, dp, dh)
	pp := AttentionParams{T: 1, Tk: n, H: h, Hkv: hkv, QStride: h * dh, KStride: kv, VStride: kv, OStride: h * dh, QPos: n - 1, Scale: 0.35}
	pre := make([]float32, h*dh)
	AttentionRef(pre, q, k, v, pp, dh, 1, true)
	for i := range dec {
		if dec[i] != pre[i] {
			t.Fatalf("element %d: decode %v, prefill %v", i, dec[i], pre[i])
		}
	}
}

// The kernels' tile sizes stay inside WebGPU's 16 KiB of workgroup memory
// and the register budget the WGSL header states, for every head dim.
func TestAttentionTileSizes(t *testing.T) {
	for dh := 4; dh <= 256; dh += 4 {
		bc, rq := attnBC(dh), attnRQ(dh)
		if bc < 1 || 2*bc*dh*4 > 16384 || rq*dh > max(128, dh) || rq*bc > 64 {
			t.Errorf("Dh %d: BC %d, RQ %d break the budget", dh, bc, rq)
		}
		if decodeWG/(dh/4) < 1 {
			t.Errorf("Dh %d: decode has no key group", dh)
		}
	}
	if err := (AttentionParams{T: 1, Tk: 1, H: 4, Hkv: 3}).Validate(64); err == nil {
		t.Error("H not a multiple of Hkv accepted")
	}
	if err := (AttentionParams{T: 1, Tk: 1, H: 1, Hkv: 1, QOff: 2}).Validate(64); err == nil {
		t.Error("unaligned offset accepted")
	}
}

// KV append writes exactly rows pos..pos+T−1 of the caches, k from the k
// columns and v from the v columns.
func TestAttentionKVAppendRef(t *testing.T) {
	const T, h, hkv, dh, pos, maxT = 2, 2, 1, 4, 3, 6
	p := FusedKVAppend(T, h, hkv, dh, pos)
	src := make([]float32, T*int(p.SrcStride))
	for i := range src {
		src[i] = float32(i) // value = position in src
	}
	kc, vc := make([]float32, maxT*dh), make([]float32, maxT*dh)
	for i := range kc {
		kc[i], vc[i] = -1, -2
	}
	KVAppendRef(kc, vc, src, p)
	for r := 0; r < maxT; r++ {
		for c := 0; c < dh; c++ {
			wk, wv := float32(-1), float32(-2)
			if t := r - pos; t >= 0 && t < T {
				wk = float32(t*int(p.SrcStride) + h*dh + c)
				wv = float32(t*int(p.SrcStride) + (h+hkv)*dh + c)
			}
			if kc[r*dh+c] != wk || vc[r*dh+c] != wv {
				t.Fatalf("row %d col %d: k %v v %v, want %v %v", r, c, kc[r*dh+c], vc[r*dh+c], wk, wv)
			}
		}
	}
}
