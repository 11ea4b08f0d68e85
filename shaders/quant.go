package shaders

import (
	"fmt"
	"math"

	"github.com/x448/float16"
)

// DType is how a weight matrix is stored on the GPU. Activations are always
// f32; weights are dequantized inside the kernels that read them.
type DType uint8

const (
	F32  DType = iota // one f32 per element
	F16               // two f16 per u32, element k in the low half when k is even
	Int8              // four int8 per u32 (byte j = element 4w+j), f16 scale per group of 32
	Int4              // eight int4 per u32 (nibble j = element 8w+j, stored as q+8), f16 scale per group of 32
)

// GroupSize is the number of consecutive elements along K that share one
// scale in the quantized types.
const GroupSize = 32

// dtypeInfo is one row of the weight-type table; code reads the table rather
// than switching on names.
type dtypeInfo struct {
	name       string
	bitsPerElt int    // storage bits per weight, scales excluded
	scaled     bool   // has a per-group f16 scale (symmetric quantization)
	kMultiple  int    // K must be a multiple of this
	qmax       int    // largest |q| used by the quantizer
	file       string // WGSL load functions
}

var dtypes = [...]dtypeInfo{
	F32:  {"f32", 32, false, 1, 0, "wload_f32.wgsl"},           // reference precision
	F16:  {"f16", 16, false, 2, 0, "wload_f16.wgsl"},           // vision tower default
	Int8: {"int8", 8, true, GroupSize, 127, "wload_int8.wgsl"}, // q ∈ [−127, 127]
	Int4: {"int4", 4, true, GroupSize, 7, "wload_int4.wgsl"},   // q ∈ [−7, 7] stored +8; LLM default
}

// DTypes lists every weight type.
func DTypes() []DType { return []DType{F32, F16, Int8, Int4} }

func (d DType) String() string { return dtypes[d].name }

// ParseDType is the inverse of String.
func ParseDType(s string) (DType, error) {
	for i, t := range dtypes {
		if t.name == s {
			return DType(i), nil
		}
	}
	return 0, fmt.Errorf("shaders: unknown weight dtype %q (want f32, f16, int8 or int4)", s)
}

// Scaled reports whether the type carries per-group scales.
func (d DType) Scaled() bool { return dtypes[d].scaled }

// KMultiple is what the reduction length K must be a multiple of.
func (d DType) KMultiple() int { return dtypes[d].kMultiple }

// Bytes is the storage of an N×K matrix of this type, scales included.
func (d DType) Bytes(n, k int) int {
	b := n * k * dtypes[d].bitsPerElt / 8
	if dtypes[d].scaled {
		b += (n*k/GroupSize + 1) / 2 * 4
	}
	return b
}

// Weights is a matrix (N rows of K) packed for the GPU.
type Weights struct {
	DType  DType
	N, K   int
	Words  []uint32 // the packed elements (f32 bits for F32)
	Scales []uint32 // f16 scales, two per word, group g in half g%2 of word g/2
}

// Pack stores w (N×K, row-major) as dtype dt, quantizing symmetrically per
// group of 32 for Int8 and Int4.
func Pack(dt DType, w []float32, n, k int) (Weights, error) {
	if len(w) != n*k {
		return Weights{}, fmt.Errorf("shaders: pack %s: %d values for %d×%d", dt, len(w), n, k)
	}
	if k%dt.KMultiple() != 0 {
		return Weights{}, fmt.Errorf("shaders: pack %s: K=%d is not a multiple of %d", dt, k, dt.KMultiple())
	}
	out := Weights{DType: dt, N: n, K: k}
	switch dt {
	case F32:
		out.Words = make([]uint32, len(w))
		for i, v := range w {
			out.Words[i] = math.Float32bits(v)
		}
	case F16:
		out.Words = make([]uint32, len(w)/2)
		for i := range out.Words {
			out.Words[i] = uint32(float16.Fromfloat32(w[2*i]).Bits()) | uint32(float16.Fromfloat32(w[2*i+1]).Bits())<<16
		}
	case Int8, Int4:
		qmax := float32(dtypes[dt].qmax)
		groups := len(w) / GroupSize
		out.Scales = make([]uint32, (groups+1)/2)
		per := 32 / dtypes[dt].bitsPerElt
		out.Words = make([]uint32, len(w)/per)
		for g := 0; g < groups; g++ {
			grp := w[g*GroupSize : (g+1)*GroupSize]
			var amax float32
			for _, v := range grp {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			// The scale actually used is the f16-rounded one, so quantize
			// against it: dequantization then reproduces q·scale exactly.
			s16 := float16.Fromfloat32(amax / qmax)
			out.Scales[g/2] |= uint32(s16.Bits()) << (16 * (g % 2))
			s := s16.Float32()
			for j, v := range grp {
				var q int
				if s > 0 {
					q = int(math.Round(float64(v / s)))
				}
				q = max(-int(qmax), min(int(qmax), q))
				i := g*GroupSize + j
				if dt == Int8 {
					out.Words[i/4] |= uint32(uint8(int8(q))) << (8 * (i % 4))
				} else {
					out.Words[i/8] |= uint32(q+8) << (4 * (i % 8))
				}
			}
		}
	}
	return out, nil
}

// At is the dequantized element (n, k), exactly what the kernels compute.
func (w Weights) At(n, k int) float32 {
	i := n*w.K + k
	switch w.DType {
	case F32:
		return math.Float32frombits(w.Words[i])
	case F16:
		return float16.Frombits(uint16(w.Words[i/2] >> (16 * (i % 2)))).Float32()
	}
	g := i / GroupSize
	s := float16.Frombits(uint16(w.Scales[g/2] >> (16 * (g % 2)))).Float32()
	if w.DType == Int8 {
		return float32(int8(uint8(w.Words[i/4]>>(8*(i%4))))) * s
	}
	return float32(int((w.Words[i/8]>>(4*(i%8)))&15)-8) * s
}

// Dequant returns the whole matrix as f32 (N×K).
func (w Weights) Dequant() []float32 {
	out := make([]float32, w.N*w.K)
	for n := 0; n < w.N; n++ {
		for k := 0; k < w.K; k++ {
			out[n*w.K+k] = w.At(n, k)
		}
	}
	return out
}

// MaxQuantError bounds |Dequant − w| for this type: half a quantization step
// (plus the f16 rounding of the scale) for Int8/Int4, f16's relative
// precision for F16.
func (d DType) MaxQuantError(groupAbsMax float32) float32 {
	switch d {
	case F16:
		return groupAbsMax * (1.0 / 2048)
	case Int8, Int4:
		step := groupAbsMax / float32(dtypes[d].qmax)
		return step*0.5 + groupAbsMax*(1.0/1024)
	}
	return 0
}

// Buffers returns the case buffers holding these weights, named name and
// name+"scale" (the latter only for scaled types).
func (w Weights) Buffers(name string) []Buffer {
	bs := []Buffer{{Name: name, Init: U32Bytes(w.Words)}}
	if w.DType.Scaled() {
		bs = append(bs, Buffer{Name: name + "scale", Init: U32Bytes(w.Scales)})
	}
	return bs
}

// weightSource declares the weight bindings (w at binding, wscale at
// binding+1 for scaled types) and appends the dtype's load functions:
//
//	fn w_load(i: u32) -> f32            element at flat index i = n·K + k
//	fn w_load4(i: u32) -> vec4<f32>     elements i..i+3 (i % 4 == 0)
func weightSource(dt DType, binding int) string {
	elt := "u32"
	if dt == F32 {
		elt = "f32"
	}
	s := fmt.Sprintf("@group(0) @binding(%d) var<storage, read> w: array<%s>;\n", binding, elt)
	if dt.Scaled() {
		s += fmt.Sprintf("@group(0) @binding(%d) var<storage, read> wscale: array<u32>;\n", binding+1)
	}
	src, err := sources.ReadFile(dtypes[dt].file)
	if err != nil {
		panic("shaders: missing " + dtypes[dt].file)
	}
	return s + string(src)
}

// weightBindings are the Binding entries weightSource declares.
func weightBindings(dt DType) []Binding {
	if dt.Scaled() {
		return []Binding{{"w", Read}, {"wscale", Read}}
	}
	return []Binding{{"w", Read}}
}

// weightFiles names the load-function file of a dtype (for the registry).
func weightFiles() []string {
	var out []string
	for _, t := range dtypes {
		out = append(out, t.file)
	}
	return out
}
