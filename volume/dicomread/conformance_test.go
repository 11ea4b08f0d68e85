package dicomread

// The third-party conformance files (../shared/testdata/dicom-conformance,
// read in place, never copied): every lossless variant decodes to exactly
// the pixels of its uncompressed twin, lossy ones agree with dcmtk's own
// decoder, each multi-frame fragment layout gives the right frames, and
// the syntaxes without a decoder are UnsupportedErrors naming the syntax,
// the file and the series.

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// conformanceDir finds the shared conformance files: $CTLENS_CONFORMANCE,
// or ../shared beside the repository. Missing files fail the test (they
// are part of this project's test data), with a hint.
func conformanceDir(t testing.TB) string {
	t.Helper()
	for _, c := range []string{os.Getenv("CTLENS_CONFORMANCE"), "../../../shared/testdata/dicom-conformance", "../../shared/testdata/dicom-conformance"} {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	t.Fatalf("conformance files not found: set CTLENS_CONFORMANCE to shared/testdata/dicom-conformance")
	return ""
}

func conf(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(conformanceDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("conformance file %s: %v", rel, err)
	}
	return p
}

// decodePath reads a file's header and decodes all its frames into HU.
func decodePath(t testing.TB, path string) (*Header, [][]int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(f)
	f.Close()
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	f, _ = os.Open(path)
	defer f.Close()
	frames := make([][]int16, h.NumberOfFrames)
	calls := 0
	err = DecodePixels(f, h, func(i int) []int16 {
		calls++
		frames[i] = make([]int16, h.Rows*h.Columns)
		return frames[i]
	})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	if calls != h.NumberOfFrames {
		t.Fatalf("%s: %d frames decoded, Number of Frames is %d", filepath.Base(path), calls, h.NumberOfFrames)
	}
	return h, frames
}

func equalFrames(t *testing.T, name string, have, want [][]int16) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("%s: %d frames, want %d", name, len(have), len(want))
	}
	for k := range want {
		diff := 0
		for i := range want[k] {
			if have[k][i] != want[k][i] {
				if diff < 3 {
					t.Errorf("%s frame %d pixel %d: have %d HU, want %d", name, k, i, have[k][i], want[k][i])
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s frame %d: %d of %d pixels differ", name, k, diff, len(want[k]))
		}
	}
}

const (
	cs = "cornerstone3D/CTImage.dcm"
	dp = "dicomParser/"
)

func TestConformanceLosslessTwins(t *testing.T) {
	cases := []struct{ file, twin string }{
		{cs + "_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm", cs},
		{cs + "_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm", cs},
		{cs + "_BigEndianExplicitTransferSyntax_1.2.840.10008.1.2.2.dcm", cs},
		{cs + "_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm", cs},
		{cs + "_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm", cs},
		{cs + "_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm", cs},
		{cs + "_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm", cs},
		{dp + "CT1_UNC.implicit_little_endian.dcm", dp + "CT1_UNC.explicit_little_endian.dcm"},
		{dp + "CT1_UNC.explicit_big_endian.dcm", dp + "CT1_UNC.explicit_little_endian.dcm"},
		{dp + "encapsulated__single-frame__CT1_UNC.explicit_little_endian.dcm", dp + "CT1_UNC.explicit_little_endian.dcm"},
		{dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.57.dcm", dp + "encapsulated__multi-frame__CT0012.explicit_little_endian.dcm"},
		{dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.70.dcm", dp + "encapsulated__multi-frame__CT0012.explicit_little_endian.dcm"},
		{dp + "encapsulated__multi-frame__CT0012.not_fragmented_bot_rle.dcm", dp + "encapsulated__multi-frame__CT0012.explicit_little_endian.dcm"},
		{dp + "encapsulated__multi-frame__CT0012.not_fragmented_no_bot_rle.dcm", dp + "encapsulated__multi-frame__CT0012.explicit_little_endian.dcm"},
	}
	twins := map[string][][]int16{}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			want, ok := twins[c.twin]
			if !ok {
				_, want = decodePath(t, conf(t, c.twin))
				twins[c.twin] = want
			}
			h, have := decodePath(t, conf(t, c.file))
			equalFrames(t, filepath.Base(c.file), have, want)
			if strings.Contains(c.file, "CT0012") && (h.NumberOfFrames != 2 || len(have) != 2) {
				t.Errorf("CT0012 has 2 frames, have %d", len(have))
			}
			// The two frames of CT0012 are different images: a frame
			// assembled from the wrong fragments would not be.
			if len(have) == 2 && equalSlices(have[0], have[1]) {
				t.Errorf("frames 1 and 2 are identical")
			}
		})
	}
}

func equalSlices(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// dcmtk is the oracle for lossy JPEG: dcmdjpeg decompresses the same file
// with libijg, and our decode must agree to one stored unit (the IDCTs may
// round differently), that is slope+1 HU after the rescale. The error
// against the original lossless image is also bounded: these are the
// stated errors of the lossy files (dcmtk re-quantised CTImage to 8 bits,
// slope 32.1, for .50 and to 12 bits, slope 2.0, for the others).
func TestConformanceLossyAgainstDcmtk(t *testing.T) {
	dcmdjpeg := needTool(t, "dcmdjpeg", "dcmtk")
	cases := []struct {
		file, original string
		meanVsOriginal float64 // HU, mean absolute error
	}{
		{cs + "_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm", cs, 22},
		{cs + "_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm", cs, 4.5},
		{cs + "_JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm", cs, 4.5},
		{cs + "_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm", cs, 4.5},
		{dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_baseline.51.dcm", "", 0},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "d.dcm")
			if b, err := exec.Command(dcmdjpeg, conf(t, c.file), out).CombinedOutput(); err != nil {
				t.Fatalf("dcmdjpeg: %v\n%s", err, b)
			}
			h, have := decodePath(t, conf(t, c.file))
			_, ref := decodePath(t, out)
			limit := int(math.Ceil(math.Abs(h.Frames[0].Slope))) + 1
			maxd := 0
			for k := range ref {
				for i := range ref[k] {
					maxd = max(maxd, abs(int(have[k][i])-int(ref[k][i])))
				}
			}
			t.Logf("max |ours − dcmtk| = %d HU", maxd)
			if maxd > limit {
				t.Errorf("max difference from dcmtk %d HU > one stored unit (%d HU)", maxd, limit)
			}
			if c.original == "" {
				return
			}
			_, orig := decodePath(t, conf(t, c.original))
			var sum float64
			for i := range orig[0] {
				sum += math.Abs(float64(have[0][i]) - float64(orig[0][i]))
			}
			mae := sum / float64(len(orig[0]))
			t.Logf("mean |ours − original| = %.3f HU", mae)
			if mae > c.meanVsOriginal {
				t.Errorf("mean absolute error %.3f HU against the lossless original > %g", mae, c.meanVsOriginal)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// needTool returns the path of an oracle tool or fails with the Debian
// package that provides it: a missing oracle must not pass silently.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("oracle %s not found: apt-get install %s", name, pkg)
	}
	return p
}

func TestConformanceUnsupported(t *testing.T) {
	cases := []struct{ file, uid, name string }{
		{cs + "_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{cs + "_JPEGLSLossyTransferSyntax_1.2.840.10008.1.2.4.81.dcm", "1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
		{cs + "_JPEG2000LosslessOnlyTransferSyntax_1.2.840.10008.1.2.4.90.dcm", "1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"},
		{cs + "_JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91.dcm", "1.2.840.10008.1.2.4.91", "JPEG 2000"},
		{"cornerstone3D/CT1_J2KR", "1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"},
		{"cornerstone3D/CT2_J2KR", "1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless"},
		{dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_ls.81.dcm", "1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless"},
		{dp + "encapsulated__multi-frame__CT0012.not_fragmented_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__multi-frame__CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__single-frame__CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__single-frame__CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__single-frame__CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
		{dp + "encapsulated__single-frame__CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm", "1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			data, err := os.ReadFile(conf(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			// Through an import, so the message carries the file and the
			// series as a user sees it.
			res, err := Import(context.Background(), fstest.MapFS{"in/" + filepath.Base(c.file): {Data: data}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Series) != 0 || len(res.Errors) != 1 {
				t.Fatalf("series %d, errors %v: want one error and no series", len(res.Series), res.Errors)
			}
			e := res.Errors[0]
			var ue *UnsupportedError
			if !errors.As(e, &ue) {
				t.Fatalf("error %T %v, want UnsupportedError", e.Err, e)
			}
			msg := e.Error()
			for _, want := range []string{c.uid, c.name, "in/" + filepath.Base(c.file), "(0002,0010)", "series"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not name %q", msg, want)
				}
			}
			// And decoding directly refuses too, before reading pixels.
			h, err := ReadHeader(strings.NewReader(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			err = DecodePixels(strings.NewReader(string(data)), h, func(int) []int16 { t.Fatal("frame requested"); return nil })
			if !errors.As(err, &ue) {
				t.Errorf("DecodePixels: %v, want UnsupportedError", err)
			}
		})
	}
}

func TestConformanceNonImages(t *testing.T) {
	cases := []struct {
		file        string
		unsupported bool
		want        string
	}{
		{"cornerstone3D/no-pixel-data.dcm", true, "Basic Text SR is not an image"},
		{"cornerstone3D/no-pixel-spacing.dcm", true, "PALETTE COLOR"},
		{"cornerstone3D/TestPattern_JPEG-Lossless_RGB.dcm", true, "RGB"},
		{dp + "encapsulated__multi-frame__IM00001.fragmented_no_bot_jpeg_baseline.50.dcm", true, "YBR_FULL"},
		{"cornerstone3D/createAllTransferSyntaxes.sh", false, "not a DICOM file"},
		{"cornerstone3D/no-pixel-spacing.ts", false, "not a DICOM file"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			data, _ := os.ReadFile(conf(t, c.file))
			res := importFS(t, fstest.MapFS{"x": {Data: data}})
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), c.want) {
				t.Fatalf("errors %v, want one saying %q", res.Errors, c.want)
			}
			var ue *UnsupportedError
			var fe *FormatError
			if c.unsupported && !errors.As(res.Errors[0], &ue) || !c.unsupported && !errors.As(res.Errors[0], &fe) {
				t.Errorf("error kind %T", res.Errors[0].Err)
			}
		})
	}
}
