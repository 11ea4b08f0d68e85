package codec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// The conformance files are third-party test data that must not be copied
// into this repository; they are read in place. CTLENS_CONFORMANCE
// overrides the location; otherwise the checkout's sibling shared/ folder
// (or one inside the repository root) is used.
func conformanceDir(t testing.TB) string {
	t.Helper()
	cands := []string{
		os.Getenv("CTLENS_CONFORMANCE"),
		"../../../shared/testdata/dicom-conformance",
		"../../shared/testdata/dicom-conformance",
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	// The shared conformance files are part of every checkout's workspace
	// (and CI's): their absence is a broken setup, not a reason to pass.
	t.Fatal("conformance files not found beside the checkout (../shared/testdata/dicom-conformance); set CTLENS_CONFORMANCE to their folder")
	return ""
}

func conformanceFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(conformanceDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("missing conformance file %s: %v", rel, err)
	}
	return p
}

// dcmFile is what the tests need from a DICOM file: the pixel attributes
// and either the native pixel bytes or the encapsulated frames.
type dcmFile struct {
	rows, cols, frames, samples     int
	bitsAlloc, bitsStored, pixelRep int
	slope, intercept                float64
	frameData                       [][]byte // encapsulated: one JPEG/RLE stream per frame
	fragments                       []int    // encapsulated: number of fragments of each frame
	native                          []byte   // native: raw little-endian pixel bytes
}

func readDICOM(t testing.TB, path string) *dcmFile {
	t.Helper()
	ds, err := dicom.ParseFile(path, nil, dicom.SkipProcessingPixelDataValue(), dicom.AllowUnknownSpecificCharacterSet())
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	geti := func(tg tag.Tag, def int) int {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			return def
		}
		switch v := e.Value.GetValue().(type) {
		case []int:
			return v[0]
		case []string:
			n, err := strconv.Atoi(strings.TrimSpace(v[0]))
			if err != nil {
				t.Fatalf("%s: %v: %v", path, tg, err)
			}
			return n
		}
		t.Fatalf("%s: unexpected value type for %v", path, tg)
		return 0
	}
	// Enhanced multi-frame objects keep the rescale in a functional group
	// sequence rather than at the top level, hence the nested search.
	getf := func(tg tag.Tag, def float64) float64 {
		e, err := ds.FindElementByTagNested(tg)
		if err != nil {
			return def
		}
		s := dicom.MustGetStrings(e.Value)
		f, err := strconv.ParseFloat(strings.TrimSpace(s[0]), 64)
		if err != nil {
			t.Fatalf("%s: %v: %v", path, tg, err)
		}
		return f
	}
	f := &dcmFile{
		rows:       geti(tag.Rows, 0),
		cols:       geti(tag.Columns, 0),
		frames:     geti(tag.NumberOfFrames, 1),
		samples:    geti(tag.SamplesPerPixel, 1),
		bitsAlloc:  geti(tag.BitsAllocated, 0),
		bitsStored: geti(tag.BitsStored, 0),
		pixelRep:   geti(tag.PixelRepresentation, 0),
		slope:      getf(tag.RescaleSlope, 1),
		intercept:  getf(tag.RescaleIntercept, 0),
	}
	e, err := ds.FindElementByTag(tag.PixelData)
	if err != nil {
		t.Fatalf("%s: no pixel data: %v", path, err)
	}
	info := dicom.MustGetPixelDataInfo(e.Value)
	if !info.IsEncapsulated {
		f.native = info.UnprocessedValueData
		return f
	}
	// The parser returns every fragment after the Basic Offset Table as a
	// "frame". A frame of JPEG data may span several fragments: a new frame
	// starts at a fragment that begins with SOI. RLE frames are always one
	// fragment each (PS3.5 A.4.2).
	var frags [][]byte
	for _, fr := range info.Frames {
		frags = append(frags, fr.EncapsulatedData.Data)
	}
	if len(frags) == f.frames {
		f.frameData = frags
		for range frags {
			f.fragments = append(f.fragments, 1)
		}
		return f
	}
	for _, fr := range frags {
		if len(fr) >= 2 && fr[0] == 0xFF && fr[1] == 0xD8 || len(f.frameData) == 0 {
			f.frameData = append(f.frameData, append([]byte(nil), fr...))
			f.fragments = append(f.fragments, 1)
			continue
		}
		last := len(f.frameData) - 1
		f.frameData[last] = append(f.frameData[last], fr...)
		f.fragments[last]++
	}
	if len(f.frameData) != f.frames {
		t.Fatalf("%s: %d fragments grouped into %d frames, NumberOfFrames is %d", path, len(frags), len(f.frameData), f.frames)
	}
	return f
}

// nativeSamples returns the stored values of frame i of a native 16-bit
// (or 8-bit) little-endian file as raw unsigned numbers, i.e. exactly the
// bits the encoder compressed, whatever PixelRepresentation says.
func (f *dcmFile) nativeSamples(t testing.TB, i int) []uint16 {
	t.Helper()
	n := f.rows * f.cols * f.samples
	bps := f.bitsAlloc / 8
	b := f.native[i*n*bps : (i+1)*n*bps]
	out := make([]uint16, n)
	for j := range out {
		if bps == 2 {
			out[j] = uint16(b[2*j]) | uint16(b[2*j+1])<<8
		} else {
			out[j] = uint16(b[j])
		}
	}
	return out
}

// value interprets a raw stored sample according to PixelRepresentation
// and BitsStored.
func (f *dcmFile) value(raw uint16) float64 {
	if f.pixelRep == 1 && f.bitsStored > 0 && f.bitsStored <= 16 {
		sh := 32 - f.bitsStored
		return float64(int32(uint32(raw)<<sh) >> sh)
	}
	return float64(raw)
}

// modality maps a raw stored sample to Hounsfield units (or whatever the
// rescale gives), the space in which files of different bit depths can be
// compared.
func (f *dcmFile) modality(raw uint16) float64 { return f.value(raw)*f.slope + f.intercept }
