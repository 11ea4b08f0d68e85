package shaders

import (
	"fmt"
	"math"

	"github.com/x448/float16"
)

// dp4Inv127 is 1/127 rounded to f32 once. A block's x scale is
// max|x|·dp4Inv127, a product, because WGSL rounds products correctly on
// every device but lets a division be 2.5 ULP off.
const dp4Inv127 float32 = 1.0 / 127

// dp4MinScale is the smallest normal f32: a block whose x scale falls below
// it quantizes to zeros, since GPUs may flush subnormals to zero.
const dp4MinScale float32 = 0x1p-126

// QuantizeActivations quantizes x (a length that is a multiple of 32)
// exactly as the PackedDot4 gemv does: per block of 32, symmetric, with
// scale s = max|x|·fl(1/127) in f32 and code q ∈ [−127, 127], |q| the
// integer with fl((|q| − ½)·s) ≤ |x| < fl((|q| + ½)·s), signed as x. That is
// round-to-nearest of x/s with the half-way points themselves rounded to
// f32, defined through products alone so that every device agrees on every
// code. A block with s below the smallest normal f32 gets s = 0 and zero
// codes. |x − q·s| ≤ s/2·(1 + 2⁻¹⁵) for every element.
func QuantizeActivations(x []float32) (q []int8, scales []float32) {
	if len(x)%GroupSize != 0 {
		panic(fmt.Sprintf("shaders: quantize %d activations: not a multiple of %d", len(x), GroupSize))
	}
	q = make([]int8, len(x))
	scales = make([]float32, len(x)/GroupSize)
	for g := range scales {
		scales[g] = quantizeBlock(x[g*GroupSize:(g+1)*GroupSize], q[g*GroupSize:(g+1)*GroupSize])
	}
	return q, scales
}

// quantizeBlock fills q with the codes of one block and returns its scale.
func quantizeBlock(x []float32, q []int8) float32 {
	var amax float32
	for _, v := range x {
		amax = max(amax, float32(math.Abs(float64(v))))
	}
	s := amax * dp4Inv127
	if !(s >= dp4MinScale) {
		clear(q)
		return 0
	}
	for j, v := range x {
		a := float32(math.Abs(float64(v)))
		// A guess from a float64 quotient, then the thresholds decide, as
		// in the kernel (whose guess comes from an approximate reciprocal).
		c := min(float32(math.Round(float64(a)/float64(s))), 127)
		for c < 127 && a >= float32(c+0.5)*s {
			c++
		}
		for c > 0 && a < float32(c-0.5)*s {
			c--
		}
		q[j] = int8(c)
		if v < 0 {
			q[j] = -q[j]
		}
	}
	return s
}

// MatMulDP4Ref is the reference of the PackedDot4 gemv: MatMulRef with
// int8 weights and x quantized by QuantizeActivations, row by row. For each
// group g of 32 along K the int8 products are summed exactly in integers,
// d_g, and
//
//	y[m·LdY + YCol + n] = act(Σ_g fl(f32(d_g) · fl(wscale_g · xscale_g)) + b[n])   (+ the old value)
//
// summed in f32 in g order; the kernel computes every d_g and every term
// alike and adds the terms in another order. MatMulDP4Bound bounds how far
// the sum strays from Σ_k x·W(n, k).
func MatMulDP4Ref(y, x []float32, w Weights, b []float32, act Act, accumulate bool, p MatMulParams, seg []uint32) {
	checkDP4Weights(w)
	first, end := MatMulRows(p, seg)
	k := int(p.K)
	for m := first; m < end; m++ {
		xq, xs := QuantizeActivations(x[m*int(p.LdX) : m*int(p.LdX)+k])
		for n := 0; n < int(p.N); n++ {
			i := m*int(p.LdY) + int(p.YCol) + n
			v := matmulOut(dp4Dot(xq, xs, w, n), b, n, act)
			if accumulate {
				v += y[i]
			}
			y[i] = v
		}
	}
}

// MatMulDP4RefAt is one element of MatMulDP4Ref before accumulation.
func MatMulDP4RefAt(x []float32, w Weights, b []float32, act Act, p MatMulParams, m, n int) float32 {
	checkDP4Weights(w)
	k := int(p.K)
	xq, xs := QuantizeActivations(x[m*int(p.LdX) : m*int(p.LdX)+k])
	return matmulOut(dp4Dot(xq, xs, w, n), b, n, act)
}

// MatMulDP4Bound bounds |Σ_g fl(…) − Σ_k x[k]·W(n, k)|, the PackedDot4
// sum of MatMulDP4Ref (before bias and activation) against the exact sum
// with the same dequantized weights, for the K values x of one row:
//
//	Σ_b h_b·Σ_{k∈b} |W(n, k)|  +  1.01·(K/32 + 1)·2⁻²⁴·Σ_k |x̂_k·W(n, k)|
//
// where h_b = max_{k∈b}|x_k| / 254 · (1 + 2⁻¹⁵) is half a quantization step
// of block b (max|x_k| itself for a block quantized to zeros) and x̂ the
// dequantized x. The first term is the activation quantization, the second
// the f32 rounding of the K/32 scaled group sums (two products each, then
// a sum of K/32 terms in any order), so it holds for the kernel too.
func MatMulDP4Bound(x []float32, w Weights, n int) float64 {
	checkDP4Weights(w)
	xq, xs := QuantizeActivations(x)
	var quant, mag float64
	for g, s := range xs {
		var amax, wsum float64
		for j := 0; j < GroupSize; j++ {
			k := g*GroupSize + j
			wv := math.Abs(float64(w.At(n, k)))
			amax = max(amax, math.Abs(float64(x[k])))
			wsum += wv
			mag += math.Abs(float64(xq[k])*float64(s)) * wv
		}
		h := amax
		if s > 0 {
			h = amax / 254 * (1 + 0x1p-15)
		}
		quant += h * wsum
	}
	return quant + 1.01*float64(len(xs)+1)*0x1p-24*mag
}

func checkDP4Weights(w Weights) {
	if w.DType != Int8 {
		panic(fmt.Sprintf("shaders: packed int8 dot products need int8 weights, not %s", w.DType))
	}
}

// dp4Dot is row n of W times the quantized x, group by group as the kernel
// does it.
func dp4Dot(xq []int8, xs []float32, w Weights, n int) float32 {
	var sum float32
	row := n * w.K
	for g, s := range xs {
		var d int32
		for j := 0; j < GroupSize; j++ {
			i := row + g*GroupSize + j
			d += int32(xq[g*GroupSize+j]) * int32(int8(uint8(w.Words[i/4]>>(8*(i%4)))))
		}
		wg := (row + g*GroupSize) / GroupSize
		ws := float16.Frombits(uint16(w.Scales[wg/2] >> (16 * (wg % 2)))).Float32()
		// The conversions round each step to f32 and keep Go from fusing
		// the multiply into the add (the kernel may fuse; that moves the
		// last bit, well inside the parity tolerance).
		sc := float32(ws * s)
		sum += float32(float32(d) * sc)
	}
	return sum
}
