package dicomread

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"ctlens/volume"
)

// decodeBytes reads a header and decodes every frame of an in-memory file.
func decodeBytes(t *testing.T, b []byte) (*Header, [][]int16) {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]int16, h.NumberOfFrames)
	err = DecodePixels(bytes.NewReader(b), h, func(i int) []int16 {
		out[i] = make([]int16, h.Rows*h.Columns)
		return out[i]
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, out
}

func i16(v ...int) []int16 {
	out := make([]int16, len(v))
	for i, x := range v {
		out[i] = int16(x)
	}
	return out
}

// TestModalityLUT covers PS3.3 C.11.1 and C.7.6.3.1: representation, bits
// stored, rescale, padding and clamping, one row per rule.
func TestModalityLUT(t *testing.T) {
	p := func(v int) *int { return &v }
	cases := []struct {
		name   string
		s      slice
		stored []int
		want   []int16
	}{
		{"unsigned, intercept -1024", slice{intercept: -1024}, []int{0, 1024, 3000, 65535}, i16(-1024, 0, 1976, 32767-0*64511)},
		{"signed", slice{signed: true}, []int{-2000, -1, 0, 1500}, i16(-2000, -1, 0, 1500)},
		{"12 bits stored, unsigned, high bits set", slice{bitsStored: 12, highGarbage: true, intercept: -1024}, []int{0, 4095, 2048, 1}, i16(-1024, 3071, 1024, -1023)},
		{"12 bits stored, signed (sign-extended from bit 11)", slice{bitsStored: 12, signed: true, highGarbage: true}, []int{-2048, -1, 2047, 5}, i16(-2048, -1, 2047, 5)},
		{"slope 0.5, rounding half away from zero", slice{signed: true, slope: 0.5, intercept: 0}, []int{3, -3, 4, -5}, i16(2, -2, 2, -3)},
		{"slope 2.5 intercept -1024.5", slice{slope: 2.5, intercept: -1024.5}, []int{0, 1, 410, 1000}, i16(-1025, -1022, 1, 1476)},
		{"clamped to int16", slice{slope: 100}, []int{0, 327, 328, 60000}, i16(0, 32700, 32767, 32767)},
		{"padding value (signed)", slice{signed: true, padding: p(-2000), intercept: -1024}, []int{-2000, -1999, 0, 100}, i16(int(PaddingHU), -3023, -1024, -924)},
		{"padding range", slice{signed: true, padding: p(-3000), paddingLimit: p(-2000), intercept: 0}, []int{-3000, -2500, -2000, -1999}, i16(int(PaddingHU), int(PaddingHU), int(PaddingHU), -1999)},
		{"padding value (unsigned, as written by GE)", slice{padding: p(63536), intercept: -1024}, []int{63536, 0, 2000, 63535}, i16(int(PaddingHU), -1024, 976, 32767)},
		{"no rescale: stored values", slice{noSlope: true, signed: true}, []int{-5, 7, 0, 1}, i16(-5, 7, 0, 1)},
	}
	for _, c := range cases {
		for _, ts := range []string{tsExplicit, tsBig, tsRLE} {
			t.Run(c.name+"/"+ts, func(t *testing.T) {
				s := c.s
				s.ts, s.sop, s.rows, s.cols, s.stored = ts, uid("lut"), 2, 2, c.stored
				h, have := decodeBytes(t, s.encode())
				if !slices.Equal(have[0], c.want) {
					t.Errorf("stored %v: have %v HU, want %v", c.stored, have[0], c.want)
				}
				if c.s.noSlope != slices.ContainsFunc(h.Notes, func(n string) bool { return strings.Contains(n, "Rescale Slope") }) {
					t.Errorf("notes %q: a missing slope is noted, a present one is not", h.Notes)
				}
			})
		}
	}
}

func TestMonochrome1AndNotes(t *testing.T) {
	sl := stackOf(3, slice{series: uid("m1"), photometric: "MONOCHROME1", noSlope: true}, axial(0, 1))
	_, v := only(t, importFS(t, mapFS(sl, func(k int) string { return string(rune('a' + k)) })))
	if !v.Invert {
		t.Error("MONOCHROME1 volume not marked for inverted display")
	}
	// HU are not inverted: the field is intact.
	checkField(t, v, field, 0.51)
	for _, w := range []string{"MONOCHROME1", "Rescale Slope"} {
		if !hasWarning(v.Warnings, w) {
			t.Errorf("warnings %q lack %q", v.Warnings, w)
		}
	}
}

func TestClampWarning(t *testing.T) {
	sl := stackOf(2, slice{series: uid("clamp"), slope: 100}, axial(0, 1))
	for k := range sl {
		sl[k].stored[0] = 1000 // 100000 HU
	}
	_, v := only(t, importFS(t, mapFS(sl, func(k int) string { return string(rune('a' + k)) })))
	if !hasWarning(v.Warnings, "clamped") || v.At(0, 0, 0) != 32767 {
		t.Errorf("warnings %q, voxel %d", v.Warnings, v.At(0, 0, 0))
	}
	sl = stackOf(2, slice{series: uid("noclamp")}, axial(0, 1))
	_, v = only(t, importFS(t, mapFS(sl, func(k int) string { return string(rune('a' + k)) })))
	if hasWarning(v.Warnings, "clamped") {
		t.Errorf("clamp warning without clamping: %q", v.Warnings)
	}
}

// TestFrameBoundaries: encapsulated frames cut into fragments decode the
// same with a Basic Offset Table, without one (frame headers tell), and
// with a broken one (ignored); a wrong frame count is an error.
func TestFrameBoundaries(t *testing.T) {
	base := slice{series: uid("fb"), sop: uid("fb", 1), rows: 6, cols: 5, sopClass: "1.2.840.10008.5.1.4.1.1.2.1"}.defaults()
	for k := range 3 {
		f := base
		f.pos = [3]float64{0, 0, float64(k)}
		base.frames = append(base.frames, field.fill(f))
		base.framePos = append(base.framePos, f.pos)
	}
	var want [][]int16
	for _, c := range []struct {
		name  string
		ts    string
		frags int
		bot   bool
	}{
		{"native", tsExplicit, 1, false},
		{"RLE 1 fragment per frame, BOT", tsRLE, 1, true},
		{"RLE 1 fragment per frame, no BOT", tsRLE, 1, false},
		{"RLE 3 fragments per frame, BOT", tsRLE, 3, true},
		{"RLE 3 fragments per frame, no BOT", tsRLE, 3, false},
		{"uncompressed 4 fragments per frame, BOT", tsEncRaw, 4, true},
		{"uncompressed 4 fragments per frame, no BOT", tsEncRaw, 4, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := base
			s.ts, s.fragments, s.noBOT = c.ts, c.frags, !c.bot
			h, have := decodeBytes(t, s.encode())
			if len(have) != 3 || h.NumberOfFrames != 3 {
				t.Fatalf("%d frames", len(have))
			}
			if want == nil {
				want = have
				return
			}
			for k := range want {
				if !slices.Equal(have[k], want[k]) {
					t.Errorf("frame %d differs from the native decode", k)
				}
			}
		})
	}
	t.Run("broken BOT is ignored", func(t *testing.T) {
		s := base
		s.ts, s.fragments = tsRLE, 2
		b := s.encode()
		// The BOT is the first item after the Pixel Data header; make its
		// offsets decrease so it cannot be trusted.
		i := bytes.Index(b, []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 12, 0, 0, 0})
		if i < 0 {
			t.Fatal("BOT not found")
		}
		binary.LittleEndian.PutUint32(b[i+20+4:], 0xFFFFFF00)
		_, have := decodeBytes(t, b)
		for k := range want {
			if !slices.Equal(have[k], want[k]) {
				t.Errorf("frame %d differs", k)
			}
		}
	})
	t.Run("frame count mismatch", func(t *testing.T) {
		s := base
		s.ts, s.noBOT = tsRLE, true
		b := patch(t, s.encode(), []byte("IS\x02\x003 "), []byte("IS\x02\x004 "))
		b = bytes.Replace(b, []byte{0x20, 0x00, 0x13, 0x91}, []byte{0x20, 0x00, 0x13, 0x91}, 1)
		h, err := ReadHeader(bytes.NewReader(b))
		if err == nil {
			// 4 frames declared, 3 per-frame items: a format error, or,
			// were it read, a frame-count error. Either must name it.
			err = DecodePixels(bytes.NewReader(b), h, func(int) []int16 { return make([]int16, 30) })
		}
		if err == nil || !(strings.Contains(err.Error(), "3 items for 4 frames") || strings.Contains(err.Error(), "want 4")) {
			t.Errorf("have %v", err)
		}
	})
}

func TestVoxelLPSRoundTrip(t *testing.T) {
	v := &volume.Volume{Dims: [3]int{4, 5, 6}, Spacing: [3]float64{0.5, 0.7, 2.5}, Origin: [3]float64{-100, 20, 33}}
	c, s := math.Cos(0.4), math.Sin(0.4)
	v.Direction = [3][3]float64{{c, s, 0}, {-s, c, 0}, {0, 0, 1}}
	for _, ijk := range [][3]float64{{0, 0, 0}, {3, 4, 5}, {1.5, -2, 7.25}} {
		p := v.VoxelToLPS(ijk)
		back := v.LPSToVoxel(p)
		if !near(back[:], ijk[:], 1e-12) {
			t.Errorf("%v → %v → %v", ijk, p, back)
		}
	}
	// Voxel (1,0,0) is one column step along the row direction.
	p := v.VoxelToLPS([3]float64{1, 0, 0})
	if want := add(v.Origin, scale(v.Direction[0], 0.5)); !near(p[:], want[:], 1e-12) {
		t.Errorf("have %v, want %v", p, want)
	}
	_ = fstest.MapFS{}
}
