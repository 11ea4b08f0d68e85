package main

// End-to-end tests: the command writes real files, and third-party readers
// (pydicom, dciodvfy from dicom3tools, github.com/suyashkumar/dicom) check
// them against the ground truth the command wrote beside them.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ctlens/tools/phantom/synth"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// generate runs the command with -out out and args.
func generate(t *testing.T, out string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"-out", out}, args...), io.Discard, &stderr); err != nil {
		t.Fatalf("phantom %v: %v\n%s", args, err, stderr.String())
	}
}

func readTruth(t *testing.T, out, name string) *synth.Truth {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr synth.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Format != synth.TruthFormat || tr.Version != synth.TruthVersion {
		t.Fatalf("%s: format %q version %d", name, tr.Format, tr.Version)
	}
	return &tr
}

// ---------------------------------------------------------------- pydicom

type rbFile struct {
	Path                string       `json:"path"`
	SOPClassUID         string       `json:"sop_class_uid"`
	SOPInstanceUID      string       `json:"sop_instance_uid"`
	SeriesUID           string       `json:"series_uid"`
	TransferSyntaxUID   string       `json:"transfer_syntax_uid"`
	InstanceNumber      int          `json:"instance_number"`
	Rows                int          `json:"rows"`
	Columns             int          `json:"columns"`
	PixelRepresentation int          `json:"pixel_representation"`
	BitsStored          int          `json:"bits_stored"`
	Padding             *int         `json:"padding"`
	PatientName         string       `json:"patient_name"`
	StoredMin           int          `json:"stored_min"`
	StoredMax           int          `json:"stored_max"`
	Slope               float64      `json:"slope"`
	Intercept           float64      `json:"intercept"`
	Orientation         []float64    `json:"orientation"`
	PixelSpacing        []float64    `json:"pixel_spacing"`
	SliceThickness      float64      `json:"slice_thickness"`
	GantryTilt          *float64     `json:"gantry_tilt"`
	Positions           [][]float64  `json:"positions"`
	HUSamples           [][]*float64 `json:"hu_samples"`
}

type rbSample struct {
	HU             float64 `json:"hu"`
	Mean3x3        float64 `json:"mean3x3"`
	Stored         int     `json:"stored"`
	NormalDistance float64 `json:"normal_distance"`
}

type rbResult struct {
	Files   []rbFile               `json:"files"`
	Samples map[string][]*rbSample `json:"samples"`
}

type rbJob struct {
	Root   string       `json:"root"`
	Points [][3]float64 `json:"points"`
}

const python = "/usr/bin/python3"

// readBack runs testdata/readback.py (pydicom) over the jobs.
func readBack(t *testing.T, jobs []rbJob) []rbResult {
	t.Helper()
	if err := exec.Command(python, "-c", "import pydicom, numpy").Run(); err != nil {
		// scripts/test.sh installs the oracles: their absence is a broken setup.
		t.Fatalf("pydicom not available (%v); install it with apt-get install -y python3-pydicom python3-numpy, or run scripts/test.sh", err)
	}
	jf := filepath.Join(t.TempDir(), "jobs.json")
	b, _ := json.Marshal(jobs)
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, "testdata/readback.py", jf)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pydicom could not read the output: %v\n%s", err, stderr.String())
	}
	var res []rbResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// --------------------------------------------------------------- dciodvfy

// dciodvfy validates one file against its IOD; it returns the error and
// warning lines.
func dciodvfy(t *testing.T, path string) (errs, warns []string) {
	t.Helper()
	bin, err := exec.LookPath("dciodvfy")
	if err != nil {
		t.Fatal("dciodvfy not installed; apt-get install -y dicom3tools, or run scripts/test.sh")
	}
	out, _ := exec.Command(bin, path).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(l, "Error"):
			errs = append(errs, l)
		case strings.HasPrefix(l, "Warning"):
			warns = append(warns, l)
		}
	}
	return errs, warns
}

// ------------------------------------------------------------------ tests

func TestCLIErrors(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string // a part of the message that names the fix
	}{
		{[]string{}, "-out is required"},
		{[]string{"-out", "o", "-n", "0"}, "use -n 1 or more"},
		{[]string{"-out", "o", "-start", "0"}, "use -start 1"},
		{[]string{"-out", "o", "-size", "64x64"}, "COLUMNSxROWSxSLICES such as 512x512x160"},
		{[]string{"-out", "o", "-size", "64x64x1"}, "slices must lie in"},
		{[]string{"-out", "o", "-variant", "tilted"}, "choose from shuffled"},
		{[]string{"-out", "o", "-variant", "signed,unsigned"}, "pick one"},
		{[]string{"-out", "o", "-findings", "nodule"}, "choose from"},
		{[]string{"-out", "o", "-findings", "lung_nodule:99"}, "use a smaller size"},
		{[]string{"-out", "o", "-workers", "-1"}, "use 0"},
		{[]string{"-out", "o", "-seed", "abc"}, "invalid value"},
		{[]string{"-out", "o", "extra"}, "every option is a flag"},
		{[]string{"-out", full, "-size", "32x32x4"}, "choose a new folder or delete this one"},
	} {
		var stderr bytes.Buffer
		err := run(context.Background(), c.args, io.Discard, &stderr)
		msg := stderr.String()
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, c.want) {
			t.Errorf("phantom %q: error %v (%q), want one mentioning %q", c.args, err, stderr.String(), c.want)
		}
	}
}

// variantRuns are the variant sets the read-back test writes: each variant
// alone, and two combinations.
var variantRuns = []string{
	"", "shuffled", "reversed", "missing", "duplicate", "uneven", "tilt", "signed", "unsigned", "slope",
	"padding", "multiframe", "twoseries", "zip",
	"unsigned,slope,padding,tilt,multiframe,twoseries",
	"shuffled,reversed,missing,duplicate,uneven,zip",
}

// TestVariantsReadBack writes every variant and checks, with pydicom, that
// each file carries what the ground truth says (UIDs, geometry, encoding,
// frames), that organs read their nominal HU at the ground truth's points
// through the files' own geometry, and, with dciodvfy, that the files are
// valid.
func TestVariantsReadBack(t *testing.T) {
	tmp := t.TempDir()
	var jobs []rbJob
	var truths []*synth.Truth
	var outs []string
	for i, v := range variantRuns {
		out := filepath.Join(tmp, fmt.Sprintf("v%02d", i))
		generate(t, out, "-n", "1", "-seed", "5", "-size", "96x96x40", "-variant", v)
		tr := readTruth(t, out, "case0001")
		root := out
		if strings.Contains(v, "zip") {
			root = out + ".zip"
			if _, err := os.Stat(filepath.Join(out, "case0001")); err == nil {
				t.Errorf("%q: DICOM files written beside the zip", v)
			}
		}
		var pts [][3]float64
		for _, o := range tr.Organs {
			if o.PointLPS != nil {
				pts = append(pts, *o.PointLPS)
			}
		}
		jobs = append(jobs, rbJob{Root: root, Points: pts})
		truths = append(truths, tr)
		outs = append(outs, out)
	}
	res := readBack(t, jobs)
	warnings := map[string]int{}
	for i, v := range variantRuns {
		tr, rb := truths[i], res[i]
		name := fmt.Sprintf("variant %q", v)
		byPath := map[string]rbFile{}
		for _, f := range rb.Files {
			byPath[f.Path] = f
		}
		nFiles := 0
		for _, s := range tr.Series {
			g, e := s.Geometry, s.Encoding
			for _, f := range s.Files {
				nFiles++
				r, ok := byPath[f.Path]
				if !ok {
					t.Errorf("%s: %s in the ground truth but not read", name, f.Path)
					continue
				}
				where := name + " " + f.Path
				if r.SOPClassUID != s.SOPClassUID || r.SOPInstanceUID != f.SOPInstanceUID || r.SeriesUID != s.InstanceUID ||
					r.InstanceNumber != f.InstanceNumber || r.TransferSyntaxUID != e.TransferSyntaxUID {
					t.Errorf("%s: identity %s/%s/%s #%d, truth %s/%s/%s #%d", where, r.SOPClassUID, r.SOPInstanceUID, r.SeriesUID, r.InstanceNumber,
						s.SOPClassUID, f.SOPInstanceUID, s.InstanceUID, f.InstanceNumber)
				}
				if r.Rows != g.Rows || r.Columns != g.Columns || r.PixelSpacing[0] != g.PixelSpacingMM[0] || r.PixelSpacing[1] != g.PixelSpacingMM[1] ||
					r.SliceThickness != g.SliceThicknessMM {
					t.Errorf("%s: %dx%d spacing %v thickness %v, truth %dx%d %v %v", where, r.Columns, r.Rows, r.PixelSpacing, r.SliceThickness,
						g.Columns, g.Rows, g.PixelSpacingMM, g.SliceThicknessMM)
				}
				for k := 0; k < 6; k++ {
					if r.Orientation[k] != g.ImageOrientationPatient[k] {
						t.Errorf("%s: orientation %v, truth %v", where, r.Orientation, g.ImageOrientationPatient)
						break
					}
				}
				if r.PixelRepresentation != e.PixelRepresentation || r.BitsStored != e.BitsStored || r.Slope != e.RescaleSlope ||
					r.Intercept != e.RescaleIntercept || (r.Padding == nil) != (e.PixelPaddingValue == nil) ||
					r.Padding != nil && *r.Padding != *e.PixelPaddingValue {
					t.Errorf("%s: encoding PR %d bits %d slope %v intercept %v padding %v; truth %+v", where,
						r.PixelRepresentation, r.BitsStored, r.Slope, r.Intercept, r.Padding, e)
				}
				if r.StoredMin < -(1<<15) || e.PixelRepresentation == 0 && r.StoredMax >= 1<<e.BitsStored {
					t.Errorf("%s: stored values [%d, %d] exceed %d bits", where, r.StoredMin, r.StoredMax, e.BitsStored)
				}
				if len(r.Positions) != len(f.Frames) {
					t.Errorf("%s: %d frames, truth %d", where, len(r.Positions), len(f.Frames))
					continue
				}
				for k, fr := range f.Frames {
					for a := 0; a < 3; a++ {
						if math.Abs(r.Positions[k][a]-fr.PositionLPS[a]) > 1e-9 {
							t.Errorf("%s frame %d: position %v, truth %v", where, k+1, r.Positions[k], fr.PositionLPS)
							break
						}
					}
				}
				if r.GantryTilt != nil && *r.GantryTilt != g.GantryTiltDeg {
					t.Errorf("%s: gantry tilt %v, truth %v", where, *r.GantryTilt, g.GantryTiltDeg)
				}
				if !strings.HasPrefix(r.PatientName, "PHANTOM^") {
					t.Errorf("%s: patient name %q is not clearly synthetic", where, r.PatientName)
				}
				if f.DuplicateOf != "" && !strings.Contains(v, "zip") && hashFile(t, filepath.Join(outs[i], f.Path)) != hashFile(t, filepath.Join(outs[i], f.DuplicateOf)) {
					t.Errorf("%s: not byte-identical to %s", where, f.DuplicateOf)
				}
			}
			// Organs, sampled by pydicom through the files' geometry.
			samples := rb.Samples[s.InstanceUID]
			checked, k := 0, 0
			sigma := tr.Acquisition.NoiseSigmaHU
			tol := 4*sigma/3 + 3 + e.RescaleSlope
			for _, o := range tr.Organs {
				if o.PointLPS == nil {
					continue
				}
				smp := samples[k]
				k++
				if smp == nil {
					t.Errorf("%s series %d: organ %s outside the image", name, s.Number, o.Name)
					continue
				}
				if o.Name == "air_outside" && e.PixelPaddingValue != nil {
					if smp.Stored != *e.PixelPaddingValue {
						t.Errorf("%s: outside the body stored %d, want padding %d", name, smp.Stored, *e.PixelPaddingValue)
					}
					continue
				}
				if s.Number > 1 {
					continue // points were checked on the first series' grid
				}
				checked++
				if math.Abs(smp.NormalDistance) > g.SliceSpacingMM+1e-6 {
					t.Errorf("%s: %s lies %.2f mm from the nearest slice", name, o.Name, smp.NormalDistance)
				}
				if math.Abs(smp.Mean3x3-o.HU) > tol {
					t.Errorf("%s: %s reads %.1f HU (3×3 mean), truth %.0f ± %.1f", name, o.Name, smp.Mean3x3, o.HU, tol)
				}
			}
			if s.Number == 1 && checked < 4 {
				t.Errorf("%s: only %d organs could be checked", name, checked)
			}
		}
		if nFiles != len(rb.Files) {
			t.Errorf("%s: %d files read, %d in the ground truth", name, len(rb.Files), nFiles)
		}
		// dciodvfy on the first file of each series (they differ only in
		// position and UIDs) and on every multi-frame object.
		if strings.Contains(v, "zip") {
			continue
		}
		for _, s := range tr.Series {
			errs, warns := dciodvfy(t, filepath.Join(outs[i], s.Files[0].Path))
			for _, e := range errs {
				t.Errorf("%s: dciodvfy %s: %s", name, s.Files[0].Path, e)
			}
			for _, w := range warns {
				warnings[w]++
			}
		}
	}
	for w, n := range warnings {
		t.Logf("dciodvfy warning (%d files): %s", n, w)
	}

	// The variants of one seed hold the same image: after rescale, every
	// pixel of a grid slice must match the plain series, exactly, or within
	// half a step of the coarser slope, padding aside.
	plain := huByGridSlice(truths[0].Series[0], res[0])
	for i, v := range variantRuns {
		if strings.Contains(v, "uneven") || strings.Contains(v, "tilt") || v == "" {
			continue // other planes, other pixels
		}
		have := huByGridSlice(truths[i].Series[0], res[i])
		// round(h) and round(2h)/2 differ by at most 0.5 + 0.25.
		tol := 0.0
		if truths[i].Series[0].Encoding.RescaleSlope != 1 {
			tol = 0.75
		}
		compared, padded := 0, 0
		for k, want := range plain {
			got, ok := have[k]
			if !ok {
				continue // the missing slice
			}
			for p := range want {
				switch {
				case got[p] == nil:
					padded++
				case math.Abs(*got[p]-*want[p]) > tol:
					t.Fatalf("variant %q grid slice %d sample %d: %v HU, plain series %v", v, k, p, *got[p], *want[p])
				default:
					compared++
				}
			}
		}
		if compared == 0 || padded > 0 && truths[i].Series[0].Encoding.PixelPaddingValue == nil {
			t.Errorf("variant %q: %d pixels compared, %d padded", v, compared, padded)
		}
		if truths[i].Series[0].Encoding.PixelPaddingValue != nil && padded == 0 {
			t.Errorf("variant %q: no padded pixel among the samples", v)
		}
	}
}

// huByGridSlice maps a series' grid slices to the HU samples pydicom read.
func huByGridSlice(s synth.Series, rb rbResult) map[int][]*float64 {
	byPath := map[string]rbFile{}
	for _, f := range rb.Files {
		byPath[f.Path] = f
	}
	out := map[int][]*float64{}
	for _, f := range s.Files {
		for i, fr := range f.Frames {
			out[fr.GridSlice] = byPath[f.Path].HUSamples[i]
		}
	}
	return out
}

// TestFindingHU writes two cases holding every finding kind, large enough to
// be measured on a 160×160×80 grid, and reads with pydicom the HU at each
// finding's ground-truth centre.
func TestFindingHU(t *testing.T) {
	out := filepath.Join(t.TempDir(), "hu")
	cases := []string{
		"lung_nodule:right:20,pleural_effusion:left:45,consolidation:right,liver_lesion:30,kidney_stone:left:20",
		"pneumothorax:right:30,cardiomegaly,rib_fracture:left:12,lung_nodule:left:22",
	}
	var jobs []rbJob
	var truths []*synth.Truth
	for i, f := range cases {
		generate(t, out, "-n", "1", "-start", fmt.Sprint(i+1), "-seed", "3", "-size", "160x160x80", "-findings", f)
		tr := readTruth(t, out, fmt.Sprintf("case%04d", i+1))
		var pts [][3]float64
		for _, f := range tr.Findings {
			pts = append(pts, f.CenterLPS)
		}
		jobs = append(jobs, rbJob{Root: filepath.Join(out, fmt.Sprintf("case%04d", i+1)), Points: pts})
		truths = append(truths, tr)
		os.Rename(out, out+fmt.Sprint(i)) // the next run needs an empty folder
		jobs[i].Root = filepath.Join(out+fmt.Sprint(i), fmt.Sprintf("case%04d", i+1))
	}
	res := readBack(t, jobs)
	kinds := map[synth.Kind]bool{}
	for i, tr := range truths {
		samples := res[i].Samples[tr.Series[0].InstanceUID]
		tol := 4*tr.Acquisition.NoiseSigmaHU/3 + 3
		for k, f := range tr.Findings {
			kinds[f.Type] = true
			smp := samples[k]
			where := fmt.Sprintf("%s %s", f.Type, f.Location)
			if smp == nil {
				t.Errorf("%s: centre outside the image", where)
				continue
			}
			if f.Type == synth.RibFracture {
				// The gap: soft tissue, not bone, at the centre voxel.
				if smp.HU > 200 {
					t.Errorf("%s: %.0f HU at the fracture gap, want no bone", where, smp.HU)
				}
				continue
			}
			if !f.CenterClean {
				t.Errorf("%s (%.1f mm): not clean on this grid; the forced sizes are chosen to be", where, f.SizeMM)
				continue
			}
			if math.Abs(smp.Mean3x3-f.HU) > tol {
				t.Errorf("%s: %.1f HU (3×3 mean) at the centre, truth %.0f ± %.1f", where, smp.Mean3x3, f.HU, tol)
			}
		}
	}
	for _, k := range synth.Kinds() {
		if !kinds[k] {
			t.Errorf("kind %s not exercised", k)
		}
	}
}

// hashTree hashes every file under root (and root.zip when present).
func hashTree(t *testing.T, root string) map[string]string {
	t.Helper()
	h := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			h[rel] = hashFile(t, p)
		}
		return nil
	})
	if _, err := os.Stat(root + ".zip"); err == nil {
		h["<zip>"] = hashFile(t, root+".zip")
	}
	return h
}

func hashFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDeterministic: the same seed gives byte-identical output whatever the
// number of workers; another seed gives different files.
func TestDeterministic(t *testing.T) {
	tmp := t.TempDir()
	for _, v := range []string{"shuffled,tilt,duplicate", "multiframe,twoseries,zip,unsigned,padding,uneven"} {
		dirs := []string{filepath.Join(tmp, "a"+v), filepath.Join(tmp, "b"+v), filepath.Join(tmp, "c"+v)}
		generate(t, dirs[0], "-n", "2", "-seed", "9", "-size", "48x48x16", "-variant", v, "-workers", "1")
		generate(t, dirs[1], "-n", "2", "-seed", "9", "-size", "48x48x16", "-variant", v, "-workers", "3")
		generate(t, dirs[2], "-n", "2", "-seed", "10", "-size", "48x48x16", "-variant", v, "-workers", "2")
		a, b, c := hashTree(t, dirs[0]), hashTree(t, dirs[1]), hashTree(t, dirs[2])
		if len(a) < 4 {
			t.Fatalf("%q: only %d files", v, len(a))
		}
		keys := make([]string, 0, len(a))
		for k := range a {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if a[k] != b[k] {
				t.Errorf("%q: %s differs between runs with the same seed", v, k)
			}
		}
		if len(a) != len(b) {
			t.Errorf("%q: %d files, then %d", v, len(a), len(b))
		}
		same := 0
		for k := range a {
			if c[k] == a[k] {
				same++
			}
		}
		if same > 0 {
			t.Errorf("%q: %d files identical under another seed", v, same)
		}
	}
}

// TestSuyashkumarReadsBack reads a single-frame series and the same series
// as one Enhanced CT object with github.com/suyashkumar/dicom, a second
// independent parser, and checks that both hold the same pixels for each
// grid slice, as the ground truth maps them.
func TestSuyashkumarReadsBack(t *testing.T) {
	tmp := t.TempDir()
	single, multi := filepath.Join(tmp, "single"), filepath.Join(tmp, "multi")
	generate(t, single, "-n", "1", "-seed", "4", "-size", "48x40x12", "-variant", "shuffled,unsigned")
	generate(t, multi, "-n", "1", "-seed", "4", "-size", "48x40x12", "-variant", "shuffled,unsigned,multiframe")
	pixels := func(out string) map[int][]int {
		tr := readTruth(t, out, "case0001")
		got := map[int][]int{}
		for _, f := range tr.Series[0].Files {
			ds, err := dicom.ParseFile(filepath.Join(out, f.Path), nil)
			if err != nil {
				t.Fatalf("suyashkumar/dicom: %s: %v", f.Path, err)
			}
			e, err := ds.FindElementByTag(tag.PixelData)
			if err != nil {
				t.Fatalf("%s: %v", f.Path, err)
			}
			info := dicom.MustGetPixelDataInfo(e.Value)
			if len(info.Frames) != len(f.Frames) {
				t.Fatalf("%s: %d frames, truth %d", f.Path, len(info.Frames), len(f.Frames))
			}
			for i, fr := range info.Frames {
				nf, err := fr.GetNativeFrame()
				if err != nil {
					t.Fatal(err)
				}
				if nf.Rows() != tr.Series[0].Geometry.Rows || nf.Cols() != tr.Series[0].Geometry.Columns {
					t.Fatalf("%s frame %d: %dx%d", f.Path, i, nf.Cols(), nf.Rows())
				}
				var v []int
				for y := 0; y < nf.Rows(); y++ {
					for x := 0; x < nf.Cols(); x++ {
						p, _ := nf.GetPixel(x, y)
						v = append(v, p[0])
					}
				}
				got[f.Frames[i].GridSlice] = v
			}
		}
		return got
	}
	a, b := pixels(single), pixels(multi)
	if len(a) != 12 || len(b) != 12 {
		t.Fatalf("%d and %d slices, want 12", len(a), len(b))
	}
	for k := range a {
		for i := range a[k] {
			if a[k][i] != b[k][i] {
				t.Fatalf("grid slice %d pixel %d: %d single-frame, %d multi-frame", k, i, a[k][i], b[k][i])
			}
		}
	}
}
