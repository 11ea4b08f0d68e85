package dicomread

// Third-party oracles on the same files: pydicom (Debian python3-pydicom)
// for HU values and geometry, dcmdump (dcmtk) and gdcmdump (libgdcm-tools)
// for the attributes as other parsers read them. A missing oracle fails the
// test with the package to install: it must never pass silently.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"ctlens/volume"
)

// pydicomScript prints, for each file, what pydicom reads: geometry per
// frame (from the functional groups for enhanced objects) and HU
// statistics computed the way ctlens defines them: stored × slope +
// intercept rounded half away from zero, pixel padding set to -1024.
const pydicomScript = `
import sys, json, numpy as np, pydicom
def fg(ds, i, seq, attr):
    groups = []
    if 'PerFrameFunctionalGroupsSequence' in ds: groups.append(ds.PerFrameFunctionalGroupsSequence[i])
    if 'SharedFunctionalGroupsSequence' in ds: groups.append(ds.SharedFunctionalGroupsSequence[0])
    for g in groups:
        if seq in g and attr in g[seq][0]: return g[seq][0][attr].value
    return ds.get(attr)
out = []
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    a = ds.pixel_array
    n = int(ds.get('NumberOfFrames', 1) or 1)
    if n == 1: a = a[np.newaxis]
    r = {'rows': int(ds.Rows), 'cols': int(ds.Columns), 'frames': n, 'ipp': [], 'iop': [], 'spacing': [], 'frame_mean': []}
    hu_all = []
    for i in range(n):
        ipp = fg(ds, i, 'PlanePositionSequence', 'ImagePositionPatient')
        iop = fg(ds, i, 'PlaneOrientationSequence', 'ImageOrientationPatient')
        ps = fg(ds, i, 'PixelMeasuresSequence', 'PixelSpacing')
        slope = fg(ds, i, 'PixelValueTransformationSequence', 'RescaleSlope')
        icpt = fg(ds, i, 'PixelValueTransformationSequence', 'RescaleIntercept')
        slope = 1.0 if slope is None else float(slope)
        icpt = 0.0 if icpt is None else float(icpt)
        gfov = ds.get('GridFrameOffsetVector')
        if gfov is not None and 'PerFrameFunctionalGroupsSequence' not in ds:
            # RT Dose (PS3.3 C.8.8.3.2): offsets along the normal.
            p, o = np.array([float(x) for x in ipp]), [float(x) for x in iop]
            nrm = np.cross(o[:3], o[3:])
            d = float(gfov[i]) if float(gfov[0]) == 0 else float(gfov[i]) - float(p @ nrm)
            ipp = list(p + d * nrm)
        r['ipp'].append([float(x) for x in ipp] if ipp is not None else None)
        r['iop'].append([float(x) for x in iop] if iop is not None else None)
        r['spacing'].append([float(x) for x in ps] if ps is not None else None)
        f = a[i].astype(np.float64)
        hu = np.sign(f * slope + icpt) * np.floor(np.abs(f * slope + icpt) + 0.5)
        pad = ds.get('PixelPaddingValue')
        if pad is not None:
            hu[a[i] == pad] = -1024
        hu = np.clip(hu, -32768, 32767)
        r['frame_mean'].append(float(hu.mean()))
        hu_all.append(hu)
    hu = np.stack(hu_all)
    r['min'], r['max'], r['mean'] = float(hu.min()), float(hu.max()), float(hu.mean())
    # LPS of the far corner pixel of frame 0 (column c-1, row r-1), by the
    # Image Plane Module formula (PS3.3 C.7.6.2.1.1, eq. C.7.6.2.1-1).
    if r['ipp'][0] is not None:
        S, X, Y = np.array(r['ipp'][0]), np.array(r['iop'][0][:3]), np.array(r['iop'][0][3:])
        di, dj = r['spacing'][0][1], r['spacing'][0][0]
        r['corner'] = list(S + X * di * (r['cols'] - 1) + Y * dj * (r['rows'] - 1))
    out.append(r)
print(json.dumps(out))
`

type pyResult struct {
	Rows, Cols, Frames int
	IPP                [][]float64
	IOP                [][]float64
	Spacing            [][]float64
	FrameMean          []float64 `json:"frame_mean"`
	Min, Max, Mean     float64
	Corner             []float64
}

func pydicom(t *testing.T, paths ...string) []pyResult {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("oracle %s not found: apt-get install python3-pydicom python3-numpy", py)
	}
	cmd := exec.Command(py, append([]string{"-c", pydicomScript}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		hint := ""
		if strings.Contains(stderr.String(), "No module named") {
			hint = "\nhint: apt-get install python3-pydicom python3-numpy"
		}
		t.Fatalf("pydicom oracle: %v\n%s%s", err, stderr.String(), hint)
	}
	var res []pyResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("pydicom oracle output: %v\n%s", err, out)
	}
	return res
}

const pydicomData = "/usr/lib/python3/dist-packages/pydicom/data/test_files/"

// TestOraclePydicom compares HU statistics, per-frame positions,
// orientation, spacing and the patient position of a corner voxel with
// pydicom reading the same file.
func TestOraclePydicom(t *testing.T) {
	files := []string{
		conf(t, cs),
		conf(t, cs+"_DeflatedExplicitVRLittleEndianTransferSyntax_1.2.840.10008.1.2.1.99.dcm"),
		conf(t, dp+"CT1_UNC.explicit_little_endian.dcm"),
		conf(t, dp+"CT1_UNC.explicit_big_endian.dcm"),
		conf(t, dp+"encapsulated__multi-frame__CT0012.explicit_little_endian.dcm"),
		pydicomData + "CT_small.dcm",
		pydicomData + "MR_small.dcm",
		pydicomData + "MR_small_bigendian.dcm",
		pydicomData + "rtdose.dcm",     // 32-bit, clamped; Grid Frame Offset Vector
		pydicomData + "rtdose_rle.dcm", // the same with attributes written as UN
	}
	want := pydicom(t, files...)
	for i, path := range files {
		w := want[i]
		t.Run(filepath.Base(path), func(t *testing.T) {
			h, frames := decodePath(t, path)
			if h.Rows != w.Rows || h.Columns != w.Cols || h.NumberOfFrames != w.Frames {
				t.Fatalf("size %d×%d×%d, pydicom %d×%d×%d", h.Columns, h.Rows, h.NumberOfFrames, w.Cols, w.Rows, w.Frames)
			}
			var all []int16
			for k, f := range frames {
				all = append(all, f...)
				st := statsOf(f)
				if math.Abs(st.Mean-w.FrameMean[k]) > 1e-9 {
					t.Errorf("frame %d mean %.6f HU, pydicom %.6f", k, st.Mean, w.FrameMean[k])
				}
				fr := h.Frames[k]
				if w.IPP[k] != nil && !near(fr.Position[:], w.IPP[k], 1e-9) {
					t.Errorf("frame %d position %v, pydicom %v", k, fr.Position, w.IPP[k])
				}
				if w.IOP[k] != nil && !near(fr.Orientation[:], w.IOP[k], 1e-5) {
					t.Errorf("frame %d orientation %v, pydicom %v", k, fr.Orientation, w.IOP[k])
				}
				if w.Spacing[k] != nil && !near(fr.PixelSpacing[:], w.Spacing[k], 1e-9) {
					t.Errorf("frame %d spacing %v, pydicom %v", k, fr.PixelSpacing, w.Spacing[k])
				}
			}
			st := statsOf(all)
			t.Logf("HU min %d max %d mean %.4f; pydicom %g %g %.4f", st.Min, st.Max, st.Mean, w.Min, w.Max, w.Mean)
			if float64(st.Min) != w.Min || float64(st.Max) != w.Max || math.Abs(st.Mean-w.Mean) > 1e-9 {
				t.Errorf("HU min/max/mean %d/%d/%.6f, pydicom %g/%g/%.6f", st.Min, st.Max, st.Mean, w.Min, w.Max, w.Mean)
			}
			if w.Corner == nil {
				return
			}
			// The same file as a one-slice volume: its far corner voxel
			// must sit where pydicom's attributes put it.
			data, _ := os.ReadFile(path)
			res, err := Import(context.Background(), fstest.MapFS{"f": {Data: data}}, nil)
			if err != nil || len(res.Volumes) == 0 || res.Volumes[0] == nil {
				t.Fatalf("import: %v %v", err, res.Errors)
			}
			v := res.Volumes[0]
			if h.NumberOfFrames > 1 {
				return // frame 0 is not voxel z=0 after sorting; positions checked above
			}
			p := v.VoxelToLPS([3]float64{float64(v.Dims[0] - 1), float64(v.Dims[1] - 1), 0})
			if !near(p[:], w.Corner, 1e-6) {
				t.Errorf("corner voxel at %v, pydicom %v", p, w.Corner)
			}
			back := v.LPSToVoxel(p)
			if !near(back[:], []float64{float64(v.Dims[0] - 1), float64(v.Dims[1] - 1), 0}, 1e-9) {
				t.Errorf("LPSToVoxel(VoxelToLPS(corner)) = %v", back)
			}
		})
	}
}

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

var dsValues = regexp.MustCompile(`\(0020,0032\) DS \[([^\]]*)\]`)

// TestOracleDcmtkGdcmPositions reads the per-frame Image Position
// (Patient) of the enhanced CT with dcmdump and gdcmdump and compares them
// with the functional-group resolution of ReadHeader, in frame order.
func TestOracleDcmtkGdcmPositions(t *testing.T) {
	path := conf(t, dp+"encapsulated__multi-frame__CT0012.fragmented_no_bot_jpeg_lossless.57.dcm")
	f, _ := os.Open(path)
	h, err := ReadHeader(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []struct{ cmd, pkg, pattern string }{
		{"dcmdump", "dcmtk", `\(0020,0032\) DS \[([^\]]*)\]`},
		{"gdcmdump", "libgdcm-tools", `\(0020,0032\) DS \[([^\]]*)\]`},
	} {
		t.Run(tool.cmd, func(t *testing.T) {
			bin := needTool(t, tool.cmd, tool.pkg)
			out, err := exec.Command(bin, path).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", tool.cmd, err, out)
			}
			m := regexp.MustCompile(tool.pattern).FindAllStringSubmatch(string(out), -1)
			if len(m) != h.NumberOfFrames {
				t.Fatalf("%s lists %d positions, header has %d frames", tool.cmd, len(m), h.NumberOfFrames)
			}
			for k, mm := range m {
				var want []float64
				for _, s := range strings.Split(mm[1], `\`) {
					x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
					if err != nil {
						t.Fatalf("%s value %q", tool.cmd, mm[1])
					}
					want = append(want, x)
				}
				if !near(h.Frames[k].Position[:], want, 1e-12) {
					t.Errorf("frame %d position %v, %s %v", k, h.Frames[k].Position, tool.cmd, want)
				}
			}
		})
	}
}

// TestOraclePydicomFiles: pydicom's own sample files that ctlens must
// refuse, each with the right kind of error.
func TestOraclePydicomFiles(t *testing.T) {
	cases := []struct {
		file        string
		unsupported bool
		want        string
	}{
		{"MR_truncated.dcm", false, "truncated"},
		{"liver_1frame.dcm", true, "1-bit"},
		{"rtstruct.dcm", true, "RT Structure Set is not an image"},
		{"test-SR.dcm", true, "Comprehensive SR is not an image"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(pydicomData + c.file)
			if err != nil {
				t.Fatalf("%v (apt-get install python3-pydicom provides the file)", err)
			}
			res := importFS(t, fstest.MapFS{c.file: {Data: data}})
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

// statsOf is volume's histogram statistics of a bare voxel slice.
func statsOf(vox []int16) volume.Stats { return (&volume.Volume{Voxels: vox}).Stats() }
