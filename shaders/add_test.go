package shaders

import "testing"

// Broadcast by repetition, checked by hand: a residual (nb = n), a bias
// (nb = C) and a position table repeated over slices, in and out of place.
func TestAddRef(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6}
	for _, c := range []struct {
		b    []float32
		want []float32
	}{
		{[]float32{10, 20, 30, 40, 50, 60}, []float32{11, 22, 33, 44, 55, 66}},
		{[]float32{100}, []float32{101, 102, 103, 104, 105, 106}},
		{[]float32{10, 20, 30}, []float32{11, 22, 33, 14, 25, 36}}, // (D=2, 3) + (3)
		{[]float32{1, -1, 0, 0}, []float32{2, 1, 3, 4, 6, 5}},      // nb does not divide n
	} {
		y := make([]float32, len(a))
		AddRef(y, a, c.b)
		for i := range y {
			if y[i] != c.want[i] {
				t.Fatalf("b=%v: y = %v, want %v", c.b, y, c.want)
			}
		}
		in := append([]float32(nil), a...)
		AddRef(in, in, c.b)
		for i := range in {
			if in[i] != c.want[i] {
				t.Fatalf("b=%v in place: %v, want %v", c.b, in, c.want)
			}
		}
	}
}
