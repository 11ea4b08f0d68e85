package dicomread

// Bad input: each case is one broken file in a folder with a good series.
// The broken file must give one clear, per-file error of the right kind
// naming what is wrong, the good series must still load, nothing may
// panic, and nothing may be allocated from a forged size.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
)

func goodSeries() []slice {
	return stackOf(4, slice{series: uid("good"), rows: 8, cols: 8}, axial(0, 2))
}

// patch replaces the first occurrence of old in b (which must exist).
func patch(t *testing.T, b []byte, old, new []byte) []byte {
	t.Helper()
	i := bytes.Index(b, old)
	if i < 0 {
		t.Fatalf("pattern %x not found", old)
	}
	out := bytes.Clone(b)
	copy(out[i:], new)
	return out
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// withRaw builds a file whose data set is the good slice's elements plus
// raw bytes inserted at the start of the data set.
func withRaw(raw []byte) []byte {
	s := slice{sop: uid("raw"), rows: 4, cols: 4, stored: make([]int, 16)}
	b := s.encode()
	i := bytes.Index(b, []byte{0x08, 0x00, 0x16, 0x00}) // (0008,0016), the first element
	return append(append(bytes.Clone(b[:i]), raw...), b[i:]...)
}

func TestBadInput(t *testing.T) {
	good := slice{sop: uid("bad", 1), series: uid("bad"), rows: 16, cols: 16, stored: make([]int, 256)}
	enc := good.encode()
	// An explicit-VR element header: tag, VR, 2-byte length.
	elem := func(g, e uint16, vr string, n uint16) []byte {
		b := append(le16(g), le16(e)...)
		return append(append(b, vr...), le16(n)...)
	}
	deep := []byte{}
	for range 40 {
		deep = append(deep, 0x08, 0x00, 0x15, 0x11, 'S', 'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF)
	}
	cases := []struct {
		name        string
		data        []byte
		unsupported bool
		want        []string
	}{
		{"empty file", nil, false, []string{"not a DICOM file"}},
		{"text file", []byte(strings.Repeat("patient list\n", 20)), false, []string{"not a DICOM file"}},
		{"truncated in the meta group", enc[:150], false, []string{"truncated"}},
		{"truncated in the data set", enc[:bytes.Index(enc, []byte{0x28, 0x00, 0x10, 0x00})+3], false, []string{"truncated"}},
		{"truncated in the pixels", enc[:len(enc)-100], false, []string{"(7FE0,0010) Pixel Data", "truncated"}},
		{"pixel data too short", slice{sop: uid("short"), rows: 16, cols: 16, stored: make([]int, 256), pixelLengthOverride: 100}.encode(),
			false, []string{"(7FE0,0010) Pixel Data", "100 bytes, want 512"}},
		{"4 GiB element in a small file", withRaw(append(append(le16(0x0008), le16(0x0012)...), 'O', 'B', 0, 0, 0xF0, 0xFF, 0xFF, 0xFF)),
			false, []string{"runs past the end of the file"}},
		{"element longer than its item", withRaw(append(append(append(le16(0x0008), le16(0x1115)...), 'S', 'Q', 0, 0, 16, 0, 0, 0, 0xFE, 0xFF, 0x00, 0xE0, 8, 0, 0, 0),
			elem(0x0008, 0x1150, "UI", 200)...)), false, []string{"runs past its item"}},
		{"sequences nested 40 deep", withRaw(deep), false, []string{"nested deeper"}},
		{"invalid VR", withRaw([]byte{0x08, 0x00, 0x12, 0x00, 0x01, 0x02, 4, 0, 'a', 'b', 'c', 'd'}), false, []string{"invalid value representation"}},
		{"item at the top level", withRaw([]byte{0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0}), false, []string{"(FFFE,E000)", "top level"}},
		{"rows 0", patch(t, enc, append(elem(0x28, 0x10, "US", 2), le16(16)...), append(elem(0x28, 0x10, "US", 2), le16(0)...)),
			false, []string{"(0028,0010) Rows: invalid DICOM: 0 is not a valid number of rows"}},
		{"slope 0", slice{sop: uid("s0"), rows: 4, cols: 4, stored: make([]int, 16), slope: 1e-300}.encode(), false, []string{"(0028,1053) Rescale Slope", "slope 0"}},
		{"orientation not orthogonal", slice{sop: uid("o"), rows: 4, cols: 4, stored: make([]int, 16), iop: [6]float64{1, 0, 0, 1, 0, 0}}.encode(),
			false, []string{"(0020,0037) Image Orientation (Patient)", "orthogonal"}},
		{"not a number", slice{sop: uid("nan"), rows: 4, cols: 4, stored: make([]int, 16),
			extra: []wel{{tag: tSliceThickness, vr: "DS", val: []byte("abc ")}}}.encode(), false, []string{"(0018,0050) Slice Thickness", `"abc"`}},
		{"absurd size", slice{sop: uid("big"), rows: 65535, cols: 65535, stored: make([]int, 16), ts: tsRLE}.encode(),
			false, []string{"cannot hold 65535×65535×1 pixels"}},
		{"absurd frame count", slice{sop: uid("frames"), rows: 512, cols: 512, stored: make([]int, 16), ts: tsRLE,
			extra: []wel{{tag: tFrames, vr: "IS", val: []byte("99999999")}}}.encode(), false, []string{"cannot hold 512×512×99999999"}},
		{"SR", slice{sop: uid("sr"), noPixels: true, sopClass: "1.2.840.10008.5.1.4.1.1.88.11"}.encode(), true, []string{"(7FE0,0010) Pixel Data", "Basic Text SR is not an image"}},
		{"RTSTRUCT", slice{sop: uid("rt"), noPixels: true, sopClass: "1.2.840.10008.5.1.4.1.1.481.3"}.encode(), true, []string{"RT Structure Set is not an image"}},
		{"JPEG-LS", slice{sop: uid("ls"), rows: 4, cols: 4, stored: make([]int, 16), ts: tsJPEGLS}.encode(), true, []string{"(0002,0010)", "JPEG-LS Lossless", "1.2.840.10008.1.2.4.80"}},
	}
	// "slope 0" is written as a number that parses to a tiny non-zero
	// value by strconv but 0 by nobody; make it a true zero.
	for i := range cases {
		if cases[i].name == "slope 0" {
			cases[i].data = patch(t, cases[i].data, []byte("1e-300"), []byte("0     "))
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := mapFS(goodSeries(), func(k int) string { return fmt.Sprintf("ok/%d", k) })
			fsys["broken"] = &fstest.MapFile{Data: c.data}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			res := importFS(t, fsys)
			runtime.ReadMemStats(&m1)
			if len(res.Series) != 1 || res.Volumes[0] == nil || res.Volumes[0].Dims != [3]int{8, 8, 4} {
				t.Errorf("the good series did not survive: %d series", len(res.Series))
			}
			if len(res.Errors) != 1 || res.Errors[0].Path != "broken" {
				t.Fatalf("errors %v: want one, for the broken file", res.Errors)
			}
			msg := res.Errors[0].Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if !strings.HasPrefix(msg, "volume: broken: ") {
				t.Errorf("message %q does not start with the room and the file", msg)
			}
			var ue *UnsupportedError
			var fe *FormatError
			if c.unsupported && !errors.As(res.Errors[0], &ue) || !c.unsupported && !errors.As(res.Errors[0], &fe) {
				t.Errorf("error kind: %T", res.Errors[0].Err)
			}
			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 32<<20 {
				t.Errorf("import allocated %d MiB", grew>>20)
			}
		})
	}
}

// A file that changes between the header and the pixel pass is an error
// of that file, not a crash or garbage.
func TestDecodePixelsHeaderMismatch(t *testing.T) {
	a := slice{sop: uid("m", 1), rows: 4, cols: 4, stored: make([]int, 16)}.encode()
	b := slice{sop: uid("m", 2), rows: 4, cols: 4, stored: make([]int, 16), ts: tsRLE}.encode()
	h, err := ReadHeader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	err = DecodePixels(bytes.NewReader(b), h, func(int) []int16 { return make([]int16, 16) })
	if err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("have %v, want an error saying the file changed", err)
	}
	err = DecodePixels(bytes.NewReader(a), h, func(int) []int16 { return make([]int16, 3) })
	if err == nil || !strings.Contains(err.Error(), "has 3 values, want 16") {
		t.Errorf("short destination: %v", err)
	}
}
