package weights

import (
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"ctlens/shaders"
)

// update rewrites the files under testdata (fuzz seeds, the Python
// interop fixture) instead of comparing against them.
var update = flag.Bool("update", false, "rewrite testdata files")

// randValues returns n values uniform in [-scale, scale) from a fixed seed.
func randValues(seed uint64, n int, scale float32) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*r.Float32() - 1) * scale
	}
	return v
}

// pack packs seeded random values, failing the test on error.
func pack(t testing.TB, dt shaders.DType, n, k int, seed uint64) shaders.Weights {
	t.Helper()
	w, err := shaders.Pack(dt, randValues(seed, n*k, 2), n, k)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// sampleTensors is a small model with every kind of tensor: each matrix
// type (int8/int4 with K/32 odd, so row alignment matters), a plain
// vector, a plain 3-D tensor and a scalar.
func sampleTensors(t testing.TB) []Tensor {
	t.Helper()
	return []Tensor{
		Matrix("embed", pack(t, shaders.F16, 10, 64, 1)),
		Plain("norm.weight", []int{64}, randValues(2, 64, 1)),
		Matrix("attn.qkv", pack(t, shaders.Int4, 24, 96, 3)),
		Matrix("attn.out", pack(t, shaders.Int8, 9, 96, 4)),
		Matrix("head", pack(t, shaders.F32, 7, 5, 5)),
		Plain("pos", []int{3, 4, 5}, randValues(6, 60, 1)),
		Plain("theta", nil, []float32{10000}),
	}
}

// equalTensors compares tensors bit for bit.
func equalTensors(t *testing.T, have, want []Tensor) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("%d tensors, want %d", len(have), len(want))
	}
	for i := range want {
		h, w := have[i], want[i]
		if h.Name != w.Name {
			t.Errorf("tensor %d: name %q, want %q", i, h.Name, w.Name)
			continue
		}
		if (h.Weights == nil) != (w.Weights == nil) {
			t.Errorf("%s: matrix %v, want %v", w.Name, h.Weights != nil, w.Weights != nil)
			continue
		}
		if w.Weights != nil {
			hw, ww := *h.Weights, *w.Weights
			if hw.DType != ww.DType || hw.N != ww.N || hw.K != ww.K || !slices.Equal(hw.Words, ww.Words) || !slices.Equal(hw.Scales, ww.Scales) {
				t.Errorf("%s: %s %d×%d (%d words, %d scales) differs from %s %d×%d (%d words, %d scales)",
					w.Name, hw.DType, hw.N, hw.K, len(hw.Words), len(hw.Scales), ww.DType, ww.N, ww.K, len(ww.Words), len(ww.Scales))
			}
			continue
		}
		if !slices.Equal(h.Shape, w.Shape) && !(len(h.Shape) == 0 && len(w.Shape) == 0) {
			t.Errorf("%s: shape %v, want %v", w.Name, h.Shape, w.Shape)
		}
		if !slices.EqualFunc(h.Values, w.Values, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Errorf("%s: values differ", w.Name)
		}
	}
}
