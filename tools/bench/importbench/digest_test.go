package importbench

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"
)

// TestDigestOf checks the digest against values worked out by hand: the
// sums per slice, and the MD5 of the little-endian bytes written out.
func TestDigestOf(t *testing.T) {
	// 2×1×2: slice 0 = {1, -2}, slice 1 = {300, -32768}.
	vox := []int16{1, -2, 300, -32768}
	d := digestOf(vox, [3]int{2, 1, 2})
	raw := []byte{0x01, 0x00, 0xfe, 0xff, 0x2c, 0x01, 0x00, 0x80}
	sum := md5.Sum(raw)
	if want := hex.EncodeToString(sum[:]); d.MD5 != want {
		t.Errorf("md5 %s, want %s", d.MD5, want)
	}
	if d.SliceSums[0] != -1 || d.SliceSums[1] != -32468 {
		t.Errorf("slice sums %v, want [-1 -32468]", d.SliceSums)
	}
	if have, want := d.Mean(), (-1.0-32468)/4; have != want {
		t.Errorf("mean %v, want %v", have, want)
	}
}

// TestDigestOfLarge crosses the 64 KiB hashing buffer: the digest must not
// depend on where the buffer flushes.
func TestDigestOfLarge(t *testing.T) {
	dims := [3]int{300, 200, 3} // 360 000 bytes: several flushes, a partial tail
	vox := make([]int16, dims[0]*dims[1]*dims[2])
	raw := make([]byte, 0, 2*len(vox))
	for i := range vox {
		vox[i] = int16(i*7919 - 1000)
		raw = append(raw, byte(vox[i]), byte(uint16(vox[i])>>8))
	}
	sum := md5.Sum(raw)
	if have, want := digestOf(vox, dims).MD5, hex.EncodeToString(sum[:]); have != want {
		t.Errorf("md5 %s, want %s", have, want)
	}
}

// TestCompare: the agreement check must name what differs, and say nothing
// only when the volumes are the same.
func TestCompare(t *testing.T) {
	ref := digestOf([]int16{1, 2, 3, 4, 5, 6, 7, 8}, [3]int{2, 2, 2})
	swapped := digestOf([]int16{2, 1, 3, 4, 5, 6, 7, 8}, [3]int{2, 2, 2}) // same sums, other order
	for _, tc := range []struct {
		name string
		have Digest
		want string // "" for no error
	}{
		{"same", ref, ""},
		{"dims", digestOf([]int16{1, 2, 3, 4, 5, 6, 7, 8}, [3]int{4, 1, 2}), "dims"},
		{"one slice", digestOf([]int16{1, 2, 3, 4, 5, 6, 7, 9}, [3]int{2, 2, 2}), "slice 1 HU sum 27, want 26 (+1)"},
		{"within a slice", swapped, "voxels differ within slices"},
		{"no sums", Digest{Dims: ref.Dims, MD5: ref.MD5}, "0 slice sums"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := compare(ref, tc.have)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestMedian covers odd and even counts, unsorted input and no input.
func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		x    []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
		{nil, 0},
	} {
		if have := median(tc.x); have != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.x, have, tc.want)
		}
	}
}
