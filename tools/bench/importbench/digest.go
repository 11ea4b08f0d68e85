package importbench

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Digest identifies a volume's HU values, so that readers in three languages
// can be shown to produce the same volume without shipping it between
// processes. Every reader computes it the same way: Dims is (X columns,
// Y rows, Z slices); SliceSums[z] is the sum of slice z's HU; MD5 is the MD5
// of all voxels as little-endian int16 in (z, y, x) order, x fastest, with z
// ascending along the slice normal (ctlens's order, PS3.3 C.7.6.2.1.1). MD5
// is a checksum here, not a security measure: it is the one hash that Go,
// Python's hashlib and GDCM (gdcm::MD5) all have.
type Digest struct {
	Dims      [3]int  `json:"dims"`
	SliceSums []int64 `json:"slice_sums"`
	MD5       string  `json:"md5"`
}

// digestOf computes the digest of a (Z, Y, X) int16 volume.
func digestOf(vox []int16, dims [3]int) Digest {
	d := Digest{Dims: dims, SliceSums: make([]int64, dims[2])}
	plane := dims[0] * dims[1]
	h := md5.New()
	// Hash through a small buffer rather than a byte copy of the volume,
	// so that digesting does not raise the peak memory being measured.
	buf := make([]byte, 0, 64<<10)
	for z := range dims[2] {
		var s int64
		for _, v := range vox[z*plane : (z+1)*plane] {
			s += int64(v)
			buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		d.SliceSums[z] = s
	}
	h.Write(buf)
	d.MD5 = hex.EncodeToString(h.Sum(nil))
	return d
}

// Voxels is the number of voxels the digest covers.
func (d Digest) Voxels() int { return d.Dims[0] * d.Dims[1] * d.Dims[2] }

// Mean is the mean HU.
func (d Digest) Mean() float64 {
	var s int64
	for _, v := range d.SliceSums {
		s += v
	}
	if d.Voxels() == 0 {
		return 0
	}
	return float64(s) / float64(d.Voxels())
}

// compare returns an error describing how have differs from want (the
// reference reader's digest): dims, the first slices whose sums differ,
// then the hash, which catches a difference the sums cancel out.
func compare(want, have Digest) error {
	if have.Dims != want.Dims {
		return fmt.Errorf("dims %v, want %v", have.Dims, want.Dims)
	}
	if len(have.SliceSums) != want.Dims[2] || len(want.SliceSums) != want.Dims[2] {
		return fmt.Errorf("%d slice sums for %d slices (reference has %d)", len(have.SliceSums), want.Dims[2], len(want.SliceSums))
	}
	var diff []string
	for z := range want.SliceSums {
		if have.SliceSums[z] != want.SliceSums[z] {
			if len(diff) == 5 {
				diff = append(diff, "…")
				break
			}
			// Sums, not means: one voxel off by 1 HU must show.
			diff = append(diff, fmt.Sprintf("slice %d HU sum %d, want %d (%+d)", z,
				have.SliceSums[z], want.SliceSums[z], have.SliceSums[z]-want.SliceSums[z]))
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("mean %.6f HU, want %.6f; %s", have.Mean(), want.Mean(), strings.Join(diff, "; "))
	}
	if have.MD5 != want.MD5 {
		return fmt.Errorf("same slice sums but md5 %s, want %s: voxels differ within slices", have.MD5, want.MD5)
	}
	return nil
}
