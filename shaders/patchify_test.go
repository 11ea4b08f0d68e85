package shaders

import (
	"math"
	"testing"
)

// conv2d64 is a direct conv2d (kernel p, stride p, no padding, no bias) of
// x (D, Cin, H, W) with w (Cout, Cin, p, p) in float64: out (D, Cout, Hp, Wp).
func conv2d64(x, w []float32, d, cin, h, wd, cout, p int) []float64 {
	hp, wp := h/p, wd/p
	out := make([]float64, d*cout*hp*wp)
	for s := 0; s < d; s++ {
		for o := 0; o < cout; o++ {
			for py := 0; py < hp; py++ {
				for px := 0; px < wp; px++ {
					var acc float64
					for c := 0; c < cin; c++ {
						for ky := 0; ky < p; ky++ {
							for kx := 0; kx < p; kx++ {
								acc += float64(w[((o*cin+c)*p+ky)*p+kx]) * float64(x[((s*cin+c)*h+py*p+ky)*wd+px*p+kx])
							}
						}
					}
					out[((s*cout+o)*hp+py)*wp+px] = acc
				}
			}
		}
	}
	return out
}

// PatchifyRef followed by a plain matmul with the conv weight flattened to
// (Cout, Cin·p·p) is the conv2d, token t = py·Wp + px after the prefix rows
// (HF CLIP's flatten(2).transpose(1, 2)), and the prefix rows are zero.
func TestPatchifyRefMatmulIsConv2d(t *testing.T) {
	for _, s := range [][7]int{
		// D, Cin, H, W, p, prefix, Cout
		{1, 1, 4, 4, 2, 0, 1},
		{2, 3, 30, 29, 7, 1, 5},
		{3, 2, 17, 23, 4, 0, 3},
		{1, 3, 28, 28, 14, 1, 8},
	} {
		d, cin, h, wd, ps, pre, cout := s[0], s[1], s[2], s[3], s[4], s[5], s[6]
		p, err := NewPatchifyParams(d, cin, h, wd, ps, pre)
		if err != nil {
			t.Fatal(err)
		}
		x := randF32(int64(h*wd), d*cin*h*wd, 1)
		w := randF32(int64(cout), cout*cin*ps*ps, 1)
		k, rows := int(p.K()), int(p.Rows())
		cols := make([]float32, d*rows*k)
		for i := range cols {
			cols[i] = float32(math.NaN()) // every element must be written
		}
		PatchifyRef(cols, x, p)
		want := conv2d64(x, w, d, cin, h, wd, cout, ps)
		hp, wp := h/ps, wd/ps
		for sl := 0; sl < d; sl++ {
			for r := 0; r < rows; r++ {
				row := cols[(sl*rows+r)*k : (sl*rows+r+1)*k]
				for o := 0; o < cout; o++ {
					var acc float64 // the GEMM: row · W[o, :]
					for j := 0; j < k; j++ {
						acc += float64(row[j]) * float64(w[o*k+j])
					}
					if r < pre {
						if acc != 0 || math.IsNaN(acc) {
							t.Fatalf("%v: slice %d class row: %v, want 0", s, sl, acc)
						}
						continue
					}
					tok := r - pre
					c := want[((sl*cout+o)*hp+tok/wp)*wp+tok%wp]
					if math.Abs(acc-c) > 1e-12*float64(k) {
						t.Fatalf("%v: slice %d token %d out %d: matmul %v, conv %v", s, sl, tok, o, acc, c)
					}
				}
			}
		}
	}
}

func TestNewPatchifyParams(t *testing.T) {
	p, err := NewPatchifyParams(2, 3, 336, 336, 14, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hp != 24 || p.Wp != 24 || p.K() != 588 || p.Rows() != 577 {
		t.Errorf("CLIP-L/14 at 336: %+v, K %d, rows %d", p, p.K(), p.Rows())
	}
	for _, bad := range [][6]int{
		{1, 1, 13, 14, 14, 0}, // H < p
		{1, 1, 14, 14, 0, 0},  // p = 0
		{0, 1, 14, 14, 14, 0}, // no slices
		{1, 1, 14, 14, 14, 2}, // prefix 2
	} {
		if _, err := NewPatchifyParams(bad[0], bad[1], bad[2], bad[3], bad[4], bad[5]); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
