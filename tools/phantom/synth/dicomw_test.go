package synth

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// TestWriterRoundTrip writes a small data set with every VR the generator
// uses, a sequence and 2×3 signed pixels, and reads it back with
// github.com/suyashkumar/dicom, an independent parser.
func TestWriterRoundTrip(t *testing.T) {
	pix := []int16{-1024, -1, 0, 1, 40, 3071}
	var pb bytes.Buffer
	binary.Write(&pb, binary.LittleEndian, pix)
	els := []elem{
		str(tg(0x0008, 0x0016), "UI", ctImageStorage),
		str(tg(0x0008, 0x0018), "UI", "2.25.1"), // odd length: NUL padded
		str(tg(0x0010, 0x0010), "PN", "PHANTOM^0007"),
		str(tg(0x0008, 0x0008), "CS", "ORIGINAL", "PRIMARY", "AXIAL"),
		ds(tg(0x0020, 0x0032), -199.609375, 0.5, -1234.25),
		is(tg(0x0020, 0x0013), 17),
		num(tg(0x0028, 0x0010), "US", 2),
		num(tg(0x0028, 0x0011), "US", 3),
		num(tg(0x0028, 0x0002), "US", 1),
		str(tg(0x0028, 0x0004), "CS", "MONOCHROME2"),
		num(tg(0x0028, 0x0100), "US", 16),
		num(tg(0x0028, 0x0101), "US", 16),
		num(tg(0x0028, 0x0102), "US", 15),
		num(tg(0x0028, 0x0103), "US", 1),
		num(tg(0x0028, 0x0120), "SS", -2000),
		num(tg(0x0018, 0x9073), "FD", 10.25),
		sq(tg(0x0020, 0x9113), []elem{ds(tg(0x0020, 0x0032), 1, 2, 3)}, []elem{ds(tg(0x0020, 0x0032), 4, 5, 6)}),
		at(tg(0x0020, 0x9165), tg(0x0020, 0x9057)),
	}
	hdr, err := fileHeader(ctImageStorage, "2.25.1", els, pb.Len())
	if err != nil {
		t.Fatal(err)
	}
	file := append(hdr, pb.Bytes()...)
	if string(file[128:132]) != "DICM" {
		t.Fatalf("no DICM magic at 128")
	}
	d, err := dicom.Parse(bytes.NewReader(file), int64(len(file)), nil)
	if err != nil {
		t.Fatalf("suyashkumar/dicom cannot parse our output: %v", err)
	}
	get := func(tt tag.Tag) *dicom.Element {
		t.Helper()
		e, err := d.FindElementByTag(tt)
		if err != nil {
			t.Fatalf("%v: %v", tt, err)
		}
		return e
	}
	for _, c := range []struct {
		tag  tag.Tag
		want []string
	}{
		{tag.SOPInstanceUID, []string{"2.25.1"}},
		{tag.PatientName, []string{"PHANTOM^0007"}},
		{tag.ImageType, []string{"ORIGINAL", "PRIMARY", "AXIAL"}},
		{tag.ImagePositionPatient, []string{"-199.609375", "0.5", "-1234.25"}},
		{tag.InstanceNumber, []string{"17"}},
		{tag.TransferSyntaxUID, []string{explicitVRLittleEndian}},
	} {
		have := dicom.MustGetStrings(get(c.tag).Value)
		if len(have) != len(c.want) {
			t.Errorf("%v: have %q, want %q", c.tag, have, c.want)
			continue
		}
		for i := range have {
			// suyashkumar keeps the padding byte of odd-length UIs.
			if h := string(bytes.TrimRight([]byte(have[i]), "\x00 ")); h != c.want[i] {
				t.Errorf("%v[%d]: have %q, want %q", c.tag, i, h, c.want[i])
			}
		}
	}
	if have := dicom.MustGetInts(get(tag.PixelPaddingValue).Value); int16(have[0]) != -2000 {
		t.Errorf("PixelPaddingValue: have %d, want -2000", int16(have[0]))
	}
	if have := dicom.MustGetFloats(get(tag.Tag{Group: 0x0018, Element: 0x9073}).Value); have[0] != 10.25 {
		t.Errorf("FD: have %v, want 10.25", have)
	}
	seq := get(tag.Tag{Group: 0x0020, Element: 0x9113})
	if items := seq.Value.GetValue().([]*dicom.SequenceItemValue); len(items) != 2 {
		t.Errorf("sequence: have %d items, want 2", len(items))
	}
	info := dicom.MustGetPixelDataInfo(get(tag.PixelData).Value)
	if len(info.Frames) != 1 {
		t.Fatalf("pixel data: %d frames, want 1", len(info.Frames))
	}
	nf, err := info.Frames[0].GetNativeFrame()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range pix {
		x, y := i%3, i/3
		have, _ := nf.GetPixel(x, y)
		if int16(have[0]) != want {
			t.Errorf("pixel (%d,%d): have %d, want %d", x, y, int16(have[0]), want)
		}
	}
}

func TestWriterRejects(t *testing.T) {
	long := make([]byte, 70000)
	for i := range long {
		long[i] = 'A'
	}
	for name, els := range map[string][]elem{
		"duplicate tag":     {is(tg(0x0020, 0x0013), 1), is(tg(0x0020, 0x0013), 2)},
		"short VR too long": {str(tg(0x0008, 0x0018), "UI", string(long))},
	} {
		if _, err := fileHeader(ctImageStorage, "2.25.1", els, 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := fileHeader(ctImageStorage, "2.25.1", nil, 3); err == nil {
		t.Errorf("odd pixel length: no error")
	}
}

func TestFmtDS(t *testing.T) {
	for _, v := range []float64{0, 1, -1024, 0.78125, -199.609375, 2.3125, 1e-7, 123456789.123456, -0.000001} {
		s := fmtDS(v)
		if len(s) > 16 {
			t.Errorf("fmtDS(%v) = %q: longer than 16 characters", v, s)
		}
	}
	if s := fmtDS(-199.609375); s != "-199.609375" {
		t.Errorf("fmtDS(-199.609375) = %q, want the exact decimal", s)
	}
}
