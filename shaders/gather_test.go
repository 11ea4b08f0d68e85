package shaders

import (
	"math"
	"testing"
)

// Rows come out of the table in id order, dequantized exactly as Weights.At
// says, and out-of-range ids give zero rows.
func TestGatherRef(t *testing.T) {
	tab := []float32{
		1, 2, // row 0
		3, 4, // row 1
		5, 6, // row 2
	}
	w, err := Pack(F32, tab, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	y := []float32{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	GatherRef(y, []uint32{2, 0, 3, 2, math.MaxUint32}, w)
	want := []float32{5, 6, 1, 2, 0, 0, 5, 6, 0, 0}
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("gather = %v, want %v", y, want)
		}
	}
	for _, dt := range DTypes() {
		src := randF32(int64(dt), 4*64, 3)
		q, err := Pack(dt, src, 4, 64)
		if err != nil {
			t.Fatal(err)
		}
		deq := q.Dequant()
		g := make([]float32, 2*64)
		GatherRef(g, []uint32{3, 1}, q)
		for c := 0; c < 64; c++ {
			if g[c] != deq[3*64+c] || g[64+c] != deq[64+c] {
				t.Fatalf("%s: channel %d: %v %v, want %v %v", dt, c, g[c], g[64+c], deq[3*64+c], deq[64+c])
			}
		}
	}
}

func TestNewGatherParams(t *testing.T) {
	if _, err := NewGatherParams(Int4, 5, 3072, 32064); err != nil {
		t.Errorf("Phi-3 embedding refused: %v", err)
	}
	for _, c := range []struct {
		dt DType
		c  int
	}{{Int4, 48}, {Int8, 16}, {F16, 3}, {F32, 0}} {
		if _, err := NewGatherParams(c.dt, 1, c.c, 10); err == nil {
			t.Errorf("%s with C=%d accepted", c.dt, c.c)
		}
	}
}
