package shaders

import (
	"fmt"
	"testing"
)

// Hand-checked on a 4×4 grid of 1-channel tokens numbered 10·row + col,
// after a class token (-1) that must be dropped: merged token (0, 1) is the
// block rows 0–1, columns 2–3 in the order (0,0), (0,1), (1,0), (1,1).
func TestMergeRefByHand(t *testing.T) {
	x := []float32{-1}
	for r := 0; r < 4; r++ {
		for c := 0; c < 4; c++ {
			x = append(x, float32(10*r+c))
		}
	}
	p, err := NewMergeParams(1, 1, 4, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, 16)
	MergeRef(y, x, p)
	want := []float32{
		0, 1, 10, 11, // (0, 0)
		2, 3, 12, 13, // (0, 1)
		20, 21, 30, 31, // (1, 0)
		22, 23, 32, 33, // (1, 1)
	}
	if fmt.Sprint(y) != fmt.Sprint(want) {
		t.Errorf("merge = %v\nwant    %v", y, want)
	}
}

// The reference equals HF's reshape(N, h/2, 2, w/2, 2, C).permute(0, 1, 3,
// 2, 4, 5).reshape(N, h/2·w/2, 4C), written out as index arithmetic on the
// 6-d view, with several channels and slices.
func TestMergeRefIsHFPermute(t *testing.T) {
	const d, skip, h, w, c = 2, 1, 6, 4, 3
	x := randF32(9, d*(skip+h*w)*c, 1)
	p, _ := NewMergeParams(d, skip, h, w, c)
	y := make([]float32, d*(h/2)*(w/2)*4*c)
	MergeRef(y, x, p)
	// Output index (n, i, j, a, b, ch) of the permuted view, row-major, reads
	// input (n, i, a, j, b, ch) of the reshaped one.
	o := 0
	for n := 0; n < d; n++ {
		for i := 0; i < h/2; i++ {
			for j := 0; j < w/2; j++ {
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						for ch := 0; ch < c; ch++ {
							in := n*(skip+h*w)*c + skip*c + ((((i*2+a)*(w/2)+j)*2+b)*c + ch)
							if y[o] != x[in] {
								t.Fatalf("output %d = %v, want input %d = %v", o, y[o], in, x[in])
							}
							o++
						}
					}
				}
			}
		}
	}
}

func TestNewMergeParamsRejectsOddGrids(t *testing.T) {
	for _, s := range [][5]int{{1, 1, 3, 4, 8}, {1, 1, 4, 5, 8}, {1, 0, 0, 0, 8}, {1, 0, 2, 2, 0}} {
		if _, err := NewMergeParams(s[0], s[1], s[2], s[3], s[4]); err == nil {
			t.Errorf("%v accepted", s)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("MergeGrid of an odd grid did not panic")
		}
	}()
	MergeGrid(MergeParams{D: 1, H: 3, W: 4, C: 8})
}
