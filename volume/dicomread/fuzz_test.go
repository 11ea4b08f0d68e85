package dicomread

// Fuzz targets for the header and pixel paths. Run briefly in CI:
//
//	go test ./volume -run '^$' -fuzz FuzzReadHeader -fuzztime 20s
//	go test ./volume -run '^$' -fuzz FuzzDecodePixels -fuzztime 20s
//
// The seed corpus is testdata/fuzz/<target>/ (small synthetic files written
// by TestFuzzSeeds -update, never by hand) plus a few of the shared
// conformance files, added by path so they are not copied here.

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus in testdata/fuzz")

// fuzzSeeds are small files covering each layout the parsers handle.
func fuzzSeeds() map[string][]byte {
	p := func(v int) *int { return &v }
	px := func(n int) []int {
		v := make([]int, n)
		for i := range v {
			v[i] = i*37%251 - 100
		}
		return v
	}
	base := slice{sop: "1.2.3.4", rows: 4, cols: 3, stored: px(12), signed: true, pos: [3]float64{1, 2, 3}, window: []float64{40, 400}}
	mf := base
	mf.sopClass = "1.2.840.10008.5.1.4.1.1.2.1"
	mf.frames = [][]int{px(12), px(12), px(12)}
	mf.framePos = [][3]float64{{0, 0, 2}, {0, 0, 0}, {0, 0, 1}}
	seeds := map[string][]byte{}
	for name, s := range map[string]slice{
		"explicit":       base,
		"implicit":       {ts: tsImplicit, sop: "1.2.3.5", rows: 4, cols: 3, stored: px(12)},
		"bigendian":      {ts: tsBig, sop: "1.2.3.6", rows: 4, cols: 3, stored: px(12), signed: true},
		"deflated":       {ts: tsDeflate, sop: "1.2.3.7", rows: 4, cols: 3, stored: px(12)},
		"rle_frag_bot":   {ts: tsRLE, sop: "1.2.3.8", rows: 4, cols: 3, stored: px(12), fragments: 2},
		"encraw_nobot":   {ts: tsEncRaw, sop: "1.2.3.9", rows: 4, cols: 3, stored: px(12), fragments: 2, noBOT: true},
		"padding_12bit":  {sop: "1.2.3.10", rows: 4, cols: 3, stored: px(12), bitsStored: 12, signed: true, highGarbage: true, padding: p(-100), paddingLimit: p(-90)},
		"enhanced":       mf,
		"enhanced_rle":   func() slice { s := mf; s.ts, s.noBOT, s.fragments = tsRLE, true, 2; return s }(),
		"no_pixels":      {sop: "1.2.3.11", noPixels: true, sopClass: "1.2.840.10008.5.1.4.1.1.88.11"},
		"monochrome1_mr": {sop: "1.2.3.12", rows: 2, cols: 2, stored: px(4), photometric: "MONOCHROME1", modality: "MR", noSlope: true},
		"undefined_seq":  {sop: "1.2.3.13", rows: 2, cols: 2, stored: px(4), extra: []wel{{tag: Tag{0x0008, 0x1115}, vr: "SQ", undef: true, items: [][]wel{{{tag: Tag{0x0008, 0x1150}, vr: "UI", val: []byte("1.2\x00")}}}}}},
	} {
		seeds[name] = s.encode()
	}
	return seeds
}

func corpusFile(data []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
}

// TestFuzzSeeds: -update writes testdata/fuzz from fuzzSeeds; otherwise
// every seed must be there and be a valid DICOM file for ReadHeader (so
// the fuzzers start from inputs that reach the deep paths).
func TestFuzzSeeds(t *testing.T) {
	for _, target := range []string{"FuzzReadHeader", "FuzzDecodePixels"} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, data := range fuzzSeeds() {
			path := filepath.Join(dir, "seed_"+name)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, corpusFile(data), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			have, err := os.ReadFile(path)
			if err != nil {
				t.Errorf("%v: go test ./volume -run TestFuzzSeeds -update", err)
				continue
			}
			const head, tail = "go test fuzz v1\n[]byte(", ")\n"
			q, ok := bytes.CutPrefix(have, []byte(head))
			q, ok2 := bytes.CutSuffix(q, []byte(tail))
			raw, err := strconv.Unquote(string(q))
			if !ok || !ok2 || err != nil {
				t.Errorf("%s is not a []byte corpus entry", path)
				continue
			}
			if _, err := ReadHeader(bytes.NewReader([]byte(raw))); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
}

// sharedSeeds adds a few conformance files by path.
func sharedSeeds(f *testing.F) {
	for _, rel := range []string{
		dp + "encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm",
		dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.57.dcm",
		cs + "_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm",
		"cornerstone3D/no-pixel-data.dcm",
	} {
		data, err := os.ReadFile(conf(f, rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkKind: every error is a *FileError around a FormatError or an
// UnsupportedError, never a bare I/O error or a parser's internal one.
func checkKind(t *testing.T, err error) {
	var fe *FormatError
	var ue *UnsupportedError
	var file *FileError
	if !errors.As(err, &file) || !(errors.As(err, &fe) || errors.As(err, &ue)) {
		t.Fatalf("error of unexpected kind %T: %v", err, err)
	}
}

func FuzzReadHeader(f *testing.F) {
	sharedSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data))
		if err != nil {
			checkKind(t, err)
			return
		}
		if h.HasPixelData && h.imageError() == nil {
			if h.Rows < 1 || h.Columns < 1 || len(h.Frames) != h.NumberOfFrames {
				t.Fatalf("accepted header %d×%d with %d frames for %d", h.Columns, h.Rows, len(h.Frames), h.NumberOfFrames)
			}
			for _, fr := range h.Frames {
				if fr.Slope == 0 {
					t.Fatal("slope 0 accepted")
				}
			}
		}
	})
}

// FuzzDecodePixels starts from the small synthetic seeds only: a 512×512
// conformance file costs about a second per run under coverage, which
// would leave the fuzzer nothing to mutate with (the conformance tests
// decode those files exactly).
func FuzzDecodePixels(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data))
		if err != nil || h.imageError() != nil {
			return
		}
		n := h.Rows * h.Columns
		if int64(n)*int64(h.NumberOfFrames) > 1<<16 {
			return // plausible but slow to fuzz: the size checks are fuzzed by FuzzReadHeader
		}
		buf := make([]int16, n)
		calls := map[int]bool{}
		err = DecodePixels(bytes.NewReader(data), h, func(i int) []int16 {
			if i < 0 || i >= h.NumberOfFrames || calls[i] {
				panic(fmt.Sprintf("frame %d requested twice or out of range", i))
			}
			calls[i] = true
			return buf
		})
		if err != nil {
			checkKind(t, err)
			return
		}
		if len(calls) != h.NumberOfFrames {
			t.Fatalf("decoded %d of %d frames without an error", len(calls), h.NumberOfFrames)
		}
	})
}
