package shaders

import (
	"math"
	"testing"
)

// Quantize → dequantize stays within the stated bound for every type.
func TestPackRoundTripBound(t *testing.T) {
	const n, k = 9, 128
	src := randF32(3, n*k, 4)
	src[5] = 0
	src[40] = -4 // a group's extreme
	for _, dt := range DTypes() {
		w, err := Pack(dt, src, n, k)
		if err != nil {
			t.Fatal(err)
		}
		got := w.Dequant()
		for i, v := range src {
			g := i / GroupSize
			var amax float32
			for _, x := range src[g*GroupSize : (g+1)*GroupSize] {
				amax = max(amax, float32(math.Abs(float64(x))))
			}
			if d := float32(math.Abs(float64(got[i] - v))); d > dt.MaxQuantError(amax) {
				t.Fatalf("%s: element %d: |%v − %v| = %v > bound %v", dt, i, got[i], v, d, dt.MaxQuantError(amax))
			}
		}
		if dt == F32 {
			for i := range src {
				if got[i] != src[i] {
					t.Fatalf("f32 not lossless at %d", i)
				}
			}
		}
		if want := dt.Bytes(n, k); len(w.Words)*4+len(w.Scales)*4 != want {
			t.Errorf("%s: %d bytes packed, Bytes() says %d", dt, len(w.Words)*4+len(w.Scales)*4, want)
		}
	}
}

func TestPackRejectsBadK(t *testing.T) {
	if _, err := Pack(Int4, make([]float32, 2*40), 2, 40); err == nil {
		t.Errorf("int4 with K=40 accepted")
	}
	if _, err := Pack(F16, make([]float32, 3), 1, 3); err == nil {
		t.Errorf("f16 with odd K accepted")
	}
	if _, err := Pack(F32, make([]float32, 5), 2, 3); err == nil {
		t.Errorf("wrong length accepted")
	}
}

// Hand-packed words decode to the documented layout.
func TestLayoutByHand(t *testing.T) {
	// int4: nibble j of word 0 is element j, stored q+8; scale 0.5 (f16 0x3800).
	w := Weights{DType: Int4, N: 1, K: 32, Words: make([]uint32, 4), Scales: []uint32{0x3800}}
	w.Words[0] = 0x0000_00F0 // element 0: q=-8 → stored 0; element 1: stored 15 → q=7
	if got := w.At(0, 0); got != -4 {
		t.Errorf("int4 element 0 = %v, want -4", got)
	}
	if got := w.At(0, 1); got != 3.5 {
		t.Errorf("int4 element 1 = %v, want 3.5", got)
	}
	// int8: byte 1 of word 0 is element 1, two's complement.
	w8 := Weights{DType: Int8, N: 1, K: 32, Words: make([]uint32, 8), Scales: []uint32{0x3c00}}
	w8.Words[0] = 0x0000_8100 // element 1 = 0x81 = -127
	if got := w8.At(0, 1); got != -127 {
		t.Errorf("int8 element 1 = %v, want -127", got)
	}
	// f16: element 1 is the high half.
	wh := Weights{DType: F16, N: 1, K: 2, Words: []uint32{0x4000_3c00}}
	if wh.At(0, 0) != 1 || wh.At(0, 1) != 2 {
		t.Errorf("f16 halves = %v, %v; want 1, 2", wh.At(0, 0), wh.At(0, 1))
	}
}
