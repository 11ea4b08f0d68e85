package dicomread

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ctlens/volume"
)

// field is positive over the test stacks so that unsigned pixels hold it.
var field = linearField{grad: [3]float64{1.5, -2, 3}, bias: 1000}

// stackOf builds n slices of base at the positions pos(k), filled with the
// linear field; slice k gets SOP Instance UID uid(k) and instance k+1.
func stackOf(n int, base slice, pos func(k int) [3]float64) []slice {
	var out []slice
	for k := range n {
		s := base
		if s.rows == 0 {
			s.rows, s.cols = 12, 16
		}
		s.pos = pos(k)
		s.sop = uid(base.series, "i", k)
		s.instance = k + 1
		s.stored = field.fill(s)
		out = append(out, s)
	}
	return out
}

func axial(z0, dz float64) func(int) [3]float64 {
	return func(k int) [3]float64 { return [3]float64{-5, 7, z0 + dz*float64(k)} }
}

// mapFS writes slices under names from name(k), in a shuffled order of
// names so that the file order says nothing about the geometry.
func mapFS(slices []slice, name func(k int) string) fstest.MapFS {
	m := fstest.MapFS{}
	for k, s := range slices {
		m[name(k)] = &fstest.MapFile{Data: s.encode()}
	}
	return m
}

func shuffledName(seed uint64, n int) func(int) string {
	perm := rand.New(rand.NewPCG(seed, 1)).Perm(n)
	return func(k int) string { return fmt.Sprintf("d/IM%04d", perm[k]) }
}

func importFS(t *testing.T, fsys fs.FS) *Result {
	t.Helper()
	res, err := Import(context.Background(), fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// only returns the one volume of res, failing on anything else.
func only(t *testing.T, res *Result) (*Series, *volume.Volume) {
	t.Helper()
	for _, e := range res.Errors {
		t.Errorf("unexpected file error: %v", e)
	}
	if len(res.Series) != 1 || res.Volumes[0] == nil {
		t.Fatalf("have %d series, want 1 loaded", len(res.Series))
	}
	return res.Series[0], res.Volumes[0]
}

// checkField compares every voxel with the linear field at its LPS position
// (VoxelToLPS), so sorting, origin, spacing, direction and resampling are
// all checked at once. Voxels at PaddingHU are counted apart. Voxels next to
// padding or the grid's edge were sampled within half a pixel of a slice's
// border, where the sample is clamped to the edge pixel; they are held to
// edgeTol instead of tol.
func checkField(t *testing.T, v *volume.Volume, f linearField, tol float64, edgeTol ...float64) (checked, padded int) {
	t.Helper()
	et := tol
	if len(edgeTol) > 0 {
		et = edgeTol[0]
	}
	edge := func(x, y, z int) bool {
		for _, d := range [][3]int{{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}} {
			a, b, c := x+d[0], y+d[1], z+d[2]
			if a < 0 || b < 0 || c < 0 || a >= v.Dims[0] || b >= v.Dims[1] || c >= v.Dims[2] || v.At(a, b, c) == PaddingHU {
				return true
			}
		}
		return false
	}
	bad := 0
	for z := range v.Dims[2] {
		for y := range v.Dims[1] {
			for x := range v.Dims[0] {
				have := float64(v.At(x, y, z))
				if have == float64(PaddingHU) {
					padded++
					continue
				}
				want := f.at(v.VoxelToLPS([3]float64{float64(x), float64(y), float64(z)}))
				lim := tol
				if edge(x, y, z) {
					lim = et
				}
				if math.Abs(have-want) > lim {
					if bad < 5 {
						t.Errorf("voxel (%d,%d,%d): have %v HU, want %.2f", x, y, z, have, want)
					}
					bad++
				}
				checked++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d voxels off the field", bad, checked)
	}
	return checked, padded
}

func hasWarning(v []string, sub string) bool {
	for _, w := range v {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestGeometryRegularStacks(t *testing.T) {
	oblique := [6]float64{math.Cos(0.3), math.Sin(0.3), 0, -math.Sin(0.3) * math.Cos(0.2), math.Cos(0.3) * math.Cos(0.2), -math.Sin(0.2)}
	cases := []struct {
		name string
		base slice
		pos  func(int) [3]float64
		tol  float64 // HU: 0.5 from rounding the written values, more for slope 0.5
	}{
		{"axial ascending", slice{}, axial(-20, 2.5), 0},
		{"axial descending (reversed)", slice{}, axial(20, -2.5), 0},
		{"sagittal", slice{iop: [6]float64{0, 1, 0, 0, 0, -1}}, func(k int) [3]float64 { return [3]float64{3 * float64(k), -10, 20} }, 0},
		{"oblique", slice{iop: oblique}, func(k int) [3]float64 {
			n := cross([3]float64{oblique[0], oblique[1], oblique[2]}, [3]float64{oblique[3], oblique[4], oblique[5]})
			return add([3]float64{1, 2, 3}, scale(n, 1.25*float64(k)))
		}, 0},
		{"implicit VR", slice{ts: tsImplicit}, axial(0, 1), 0},
		{"big endian", slice{ts: tsBig}, axial(0, 1), 0},
		{"deflated", slice{ts: tsDeflate}, axial(0, 1), 0},
		{"signed, slope 0.5", slice{signed: true, slope: 0.5, intercept: -2000}, axial(0, 1), 0.76},
		{"12 bits stored, garbage above", slice{bitsStored: 12, signed: true, highGarbage: true}, axial(0, 1), 0},
		{"RLE, 3 fragments per frame", slice{ts: tsRLE, fragments: 3}, axial(0, 1), 0},
		{"encapsulated uncompressed", slice{ts: tsEncRaw, fragments: 2}, axial(0, 1), 0},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.base.series = uid("s", i)
			sl := stackOf(9, c.base, c.pos)
			s, v := only(t, importFS(t, mapFS(sl, shuffledName(uint64(i), len(sl)))))
			if v.Dims != [3]int{16, 12, 9} || v.Phases != 1 || v.Resampled {
				t.Fatalf("have dims %v phases %d resampled %v", v.Dims, v.Phases, v.Resampled)
			}
			checkField(t, v, field, max(c.tol, 0.51))
			// The first voxel is the lowest slice along the normal.
			lowest := sl[0].pos
			if dot(sl[len(sl)-1].pos, v.Direction[2]) < dot(lowest, v.Direction[2]) {
				lowest = sl[len(sl)-1].pos
			}
			if norm(sub(v.Origin, lowest)) > 1e-6 {
				t.Errorf("origin %v, want %v", v.Origin, lowest)
			}
			if len(s.Warnings) != 0 {
				t.Errorf("warnings on a regular stack: %q", s.Warnings)
			}
		})
	}
}

func TestGeometryIrregularStacks(t *testing.T) {
	skip := func(missing ...int) func(int) [3]float64 {
		return func(k int) [3]float64 {
			for _, m := range missing {
				if k >= m {
					k++
				}
			}
			return [3]float64{-5, 7, 2 * float64(k)}
		}
	}
	uneven := func(k int) [3]float64 { return [3]float64{-5, 7, []float64{0, 2, 4, 5, 7, 9, 11.6, 13, 15}[k]} }
	// Gantry tilt: the image plane is tilted about x while the table moves
	// along z, so slice origins slide along the column direction and the
	// stack is sheared (PS3.3 C.7.6.2.1.1: positions are still exact).
	tilt := 20.0 * math.Pi / 180
	tiltIOP := [6]float64{1, 0, 0, 0, math.Cos(tilt), -math.Sin(tilt)}
	tilted := func(k int) [3]float64 { return [3]float64{-5, 7, 3 * float64(k)} }
	tiltRows := 12 + int(math.Ceil(8*3*math.Sin(tilt)/0.7))
	cases := []struct {
		name     string
		base     slice
		pos      func(int) [3]float64
		wantDims [3]int
		warning  string
	}{
		{"one missing slice", slice{}, skip(4), [3]int{16, 12, 10}, "1 slice(s) missing"},
		{"two missing slices", slice{}, skip(2, 6), [3]int{16, 12, 11}, "2 slice(s) missing"},
		{"uneven gaps", slice{}, uneven, [3]int{16, 12, 8}, "uneven slice spacing"},
		{"gantry tilt 20°", slice{gantryTilt: 20, iop: tiltIOP}, tilted, [3]int{16, tiltRows, 9}, "gantry tilt"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.base.series = uid("irr", i)
			sl := stackOf(9, c.base, c.pos)
			var planes []string
			opt := &Options{Progress: func(pass string, done, total int) {
				if pass == "resample" {
					planes = append(planes, fmt.Sprintf("%d/%d", done, total))
				}
			}}
			res, err := Import(context.Background(), mapFS(sl, shuffledName(uint64(i), len(sl))), opt)
			if err != nil {
				t.Fatal(err)
			}
			s, v := only(t, res)
			// The resampling loop reports each output plane (a browser yields there).
			if n := v.Dims[2]; len(planes) != n || planes[n-1] != fmt.Sprintf("%d/%d", n, n) {
				t.Errorf("resample progress %q, want 1/%d … %d/%d", planes, n, n, n)
			}
			if !v.Resampled || !hasWarning(v.Warnings, c.warning) || !hasWarning(v.Warnings, "resampled") {
				t.Errorf("resampled %v, warnings %q: want %q and a resampling warning", v.Resampled, v.Warnings, c.warning)
			}
			if v.Dims != c.wantDims {
				t.Errorf("dims %v, want %v", v.Dims, c.wantDims)
			}
			// Directions stay orthonormal after resampling.
			for a := range 3 {
				for b := range 3 {
					want := 0.0
					if a == b {
						want = 1
					}
					if d := dot(v.Direction[a], v.Direction[b]); math.Abs(d-want) > 1e-9 {
						t.Errorf("direction %d·%d = %v", a, b, d)
					}
				}
			}
			// Inside: 0.5 from writing, 0.5 from rounding the interpolation.
			// At a slice border: plus half a pixel of the steepest
			// in-plane gradient (|∇|·0.7 mm/2 < 1.3 HU).
			checked, padded := checkField(t, v, field, 1.01, 2.3)
			if checked < 16*12*8 {
				t.Errorf("only %d voxels inside the slices", checked)
			}
			if strings.Contains(c.name, "tilt") && padded == 0 {
				t.Errorf("a sheared stack resampled onto a box must leave voxels outside every slice")
			}
			_ = s
		})
	}
}

func TestGeometryDuplicatesAndPhases(t *testing.T) {
	t.Run("same instance twice", func(t *testing.T) {
		sl := stackOf(5, slice{series: uid("dup1")}, axial(0, 2))
		fsys := mapFS(sl, func(k int) string { return fmt.Sprintf("a/%d", k) })
		fsys["b/copy"] = &fstest.MapFile{Data: sl[2].encode()}
		_, v := only(t, importFS(t, fsys))
		if v.Dims[2] != 5 || !hasWarning(v.Warnings, "duplicate instance") || v.Resampled {
			t.Errorf("dims %v warnings %q", v.Dims, v.Warnings)
		}
		checkField(t, v, field, 0.51)
	})
	t.Run("second instance at one position", func(t *testing.T) {
		sl := stackOf(5, slice{series: uid("dup2")}, axial(0, 2))
		extra := sl[3]
		extra.sop, extra.instance = uid("dup2", "extra"), 99
		sl = append(sl, extra)
		_, v := only(t, importFS(t, mapFS(sl, shuffledName(7, len(sl)))))
		if v.Dims[2] != 5 || v.Phases != 1 || !hasWarning(v.Warnings, "duplicate slice") {
			t.Errorf("dims %v phases %d warnings %q", v.Dims, v.Phases, v.Warnings)
		}
	})
	t.Run("every slice twice, nothing telling them apart", func(t *testing.T) {
		// A lossy copy of a series keeps positions and acquisition but
		// gets new UIDs: duplicates, not two phases.
		sl := stackOf(4, slice{series: uid("dup3")}, axial(0, 2))
		for k := range 4 {
			c := sl[k]
			c.sop = uid("dup3", "copy", k)
			sl = append(sl, c)
		}
		_, v := only(t, importFS(t, mapFS(sl, shuffledName(5, len(sl)))))
		if v.Phases != 1 || v.Dims[2] != 4 || !hasWarning(v.Warnings, "duplicate slice") {
			t.Errorf("phases %d dims %v warnings %q", v.Phases, v.Dims, v.Warnings)
		}
		checkField(t, v, field, 0.51)
	})
	t.Run("phases", func(t *testing.T) {
		var sl []slice
		for ph := 1; ph <= 3; ph++ {
			st := stackOf(4, slice{series: uid("4d"), temporal: ph}, axial(0, 2))
			for k := range st {
				st[k].sop = uid("4d", ph, k)
				// Phase ph is the field plus 100·ph HU.
				for i := range st[k].stored {
					st[k].stored[i] += 100 * ph
				}
			}
			sl = append(sl, st...)
		}
		_, v := only(t, importFS(t, mapFS(sl, shuffledName(3, len(sl)))))
		if v.Phases != 3 || v.Dims[2] != 4 || len(v.Voxels) != 3*v.Len() {
			t.Fatalf("phases %d dims %v voxels %d", v.Phases, v.Dims, len(v.Voxels))
		}
		for ph := range 3 {
			p := v.VoxelToLPS([3]float64{2, 3, 1})
			have := float64(v.Phase(ph)[2+v.Dims[0]*(3+v.Dims[1]*1)])
			if want := field.at(p) + 100*float64(ph+1); math.Abs(have-want) > 0.51 {
				t.Errorf("phase %d: have %v, want %v (label %q)", ph, have, want, v.PhaseLabels[ph])
			}
		}
	})
}

func TestGroupingSeries(t *testing.T) {
	t.Run("two series in one folder", func(t *testing.T) {
		a := stackOf(4, slice{series: uid("A"), seriesNumber: 2, description: "A"}, axial(0, 1))
		b := stackOf(6, slice{series: uid("B"), seriesNumber: 1, description: "B", rows: 8, cols: 8}, axial(0, 3))
		res := importFS(t, mapFS(append(a, b...), shuffledName(11, 10)))
		if len(res.Series) != 2 || len(res.Errors) != 0 {
			t.Fatalf("series %d errors %v", len(res.Series), res.Errors)
		}
		// Ordered by series number.
		if res.Series[0].Meta.SeriesDescription != "B" || res.Volumes[0].Dims != [3]int{8, 8, 6} || res.Volumes[1].Dims != [3]int{16, 12, 4} {
			t.Errorf("have %s %v, %s %v", res.Series[0].Name(), res.Volumes[0].Dims, res.Series[1].Name(), res.Volumes[1].Dims)
		}
	})
	t.Run("localizer split by orientation", func(t *testing.T) {
		sl := stackOf(5, slice{series: uid("L")}, axial(0, 1))
		loc := stackOf(1, slice{series: uid("L"), iop: [6]float64{1, 0, 0, 0, 0, -1}}, func(int) [3]float64 { return [3]float64{0, 0, 50} })
		loc[0].sop = uid("L", "loc")
		res := importFS(t, mapFS(append(sl, loc...), shuffledName(2, 6)))
		if len(res.Series) != 2 || res.Series[0].Part == 0 || !hasWarning(res.Series[0].Warnings, "orientations differ") {
			t.Fatalf("series %d, part %d, warnings %q", len(res.Series), res.Series[0].Part, res.Series[0].Warnings)
		}
	})
	t.Run("frames of reference split", func(t *testing.T) {
		sl := stackOf(4, slice{series: uid("F")}, axial(0, 1))
		sl[3].frameOfRef = uid("otherFoR")
		res := importFS(t, mapFS(sl, shuffledName(4, 4)))
		if len(res.Series) != 2 || !hasWarning(res.Series[0].Warnings, "frames of reference differ") {
			t.Fatalf("series %d warnings %q", len(res.Series), res.Series[0].Warnings)
		}
	})
}

func TestEnhancedMultiFrame(t *testing.T) {
	// Frames stored out of order, with per-frame rescale: the volume must
	// follow the Plane Position of each frame (PS3.3 C.7.6.16.2.3).
	base := slice{series: uid("mf"), sop: uid("mf", 1), rows: 10, cols: 11, sopClass: "1.2.840.10008.5.1.4.1.1.2.1"}.defaults()
	order := []int{3, 0, 4, 1, 2}
	for _, ts := range []string{tsExplicit, tsImplicit, tsRLE} {
		t.Run(ts, func(t *testing.T) {
			s := base
			s.ts = ts
			for _, k := range order {
				f := s
				f.pos = [3]float64{1, 2, -4 + 1.5*float64(k)}
				f.slope, f.intercept = 1+float64(k%2), float64(-1000+k)
				s.frames = append(s.frames, field.fill(f))
				s.framePos = append(s.framePos, f.pos)
				s.frameRescale = append(s.frameRescale, [2]float64{f.slope, f.intercept})
			}
			_, v := only(t, importFS(t, fstest.MapFS{"mf.dcm": {Data: s.encode()}}))
			if v.Dims != [3]int{11, 10, 5} || v.Spacing[2] != 1.5 {
				t.Fatalf("dims %v spacing %v", v.Dims, v.Spacing)
			}
			checkField(t, v, field, 1.01)
		})
	}
}

func TestContainers(t *testing.T) {
	sl := stackOf(6, slice{series: uid("zip")}, axial(0, 2))
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for k, s := range sl {
		w, _ := zw.Create(fmt.Sprintf("PATIENT/STUDY/SER%d/IM%d", k%2, k))
		w.Write(s.encode())
	}
	w, _ := zw.Create("DICOMDIR")
	w.Write(slice{sop: "1.2.3", noPixels: true, sopClass: "1.2.840.10008.1.3.10"}.encode())
	w, _ = zw.Create("README.TXT")
	w.Write([]byte("burned by the acquisition workstation\n"))
	zw.Close()

	check := func(t *testing.T, res *Result, wantErrPath string) {
		t.Helper()
		if len(res.Series) != 1 || res.Volumes[0] == nil || res.Volumes[0].Dims[2] != 6 {
			t.Fatalf("series %d", len(res.Series))
		}
		checkField(t, res.Volumes[0], field, 0.51)
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), wantErrPath) {
			t.Errorf("errors %v: want one for %s", res.Errors, wantErrPath)
		}
		var fe *FormatError
		if !errors.As(res.Errors[0], &fe) {
			t.Errorf("README error is %T, want FormatError", res.Errors[0].Err)
		}
		if !hasWarning(res.Skipped, "DICOMDIR") {
			t.Errorf("DICOMDIR not skipped: %q", res.Skipped)
		}
	}
	t.Run("zip fs", func(t *testing.T) {
		zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		check(t, importFS(t, zr), "README.TXT")
	})
	t.Run("zip inside a folder", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "in"), 0o755)
		os.WriteFile(filepath.Join(dir, "in", "study.zip"), zbuf.Bytes(), 0o644)
		check(t, importFS(t, os.DirFS(dir)), "in/study.zip/README.TXT")
	})
	t.Run("Open on a zip path", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "s.zip")
		os.WriteFile(p, zbuf.Bytes(), 0o644)
		fsys, c, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(t, importFS(t, fsys), "README.TXT")
	})
	t.Run("Open on one file", func(t *testing.T) {
		dir := t.TempDir()
		for k, s := range sl {
			os.WriteFile(filepath.Join(dir, fmt.Sprint(k)), s.encode(), 0o644)
		}
		fsys, c, err := Open(filepath.Join(dir, "3"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, v := only(t, importFS(t, fsys))
		if v.Dims[2] != 1 || v.Origin != sl[3].pos {
			t.Errorf("dims %v origin %v", v.Dims, v.Origin)
		}
	})
}

func TestNoGeometryAndSingleSlice(t *testing.T) {
	t.Run("no position or orientation", func(t *testing.T) {
		fsys := fstest.MapFS{}
		for k := range 3 {
			s := slice{series: uid("nogeo"), sop: uid("nogeo", k), instance: 3 - k, rows: 2, cols: 2, stored: []int{k, k, k, k}}
			b := s.encode()
			// Drop Image Position and Orientation by renaming their tags
			// to private ones (same length, so the file stays valid).
			b = patch(t, b, []byte{0x20, 0x00, 0x32, 0x00}, []byte{0x21, 0x00, 0x32, 0x10})
			b = patch(t, b, []byte{0x20, 0x00, 0x37, 0x00}, []byte{0x21, 0x00, 0x37, 0x10})
			fsys[fmt.Sprint(k)] = &fstest.MapFile{Data: b}
		}
		_, v := only(t, importFS(t, fsys))
		if v.Dims != [3]int{2, 2, 3} || !hasWarning(v.Warnings, "ordered by Instance Number") {
			t.Fatalf("dims %v warnings %q", v.Dims, v.Warnings)
		}
		// Instance numbers 3, 2, 1 hold stored values 0, 1, 2.
		if v.At(0, 0, 0) != 2 || v.At(0, 0, 2) != 0 {
			t.Errorf("slices not in instance order: %d … %d", v.At(0, 0, 0), v.At(0, 0, 2))
		}
	})
	t.Run("one slice: spacing from Slice Thickness", func(t *testing.T) {
		sl := stackOf(1, slice{series: uid("one"), thickness: 1.25}, axial(0, 1))
		_, v := only(t, importFS(t, mapFS(sl, func(int) string { return "x" })))
		if v.Spacing[2] != 1.25 || v.Dims[2] != 1 {
			t.Errorf("spacing %v dims %v", v.Spacing, v.Dims)
		}
	})
}

func TestImportProgressCancelAndLimits(t *testing.T) {
	sl := stackOf(5, slice{series: uid("p")}, axial(0, 1))
	fsys := mapFS(sl, func(k int) string { return fmt.Sprint(k) })
	var calls []string
	opt := &Options{Progress: func(pass string, done, total int) { calls = append(calls, fmt.Sprintf("%s %d/%d", pass, done, total)) }}
	if _, err := Import(context.Background(), fsys, opt); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 10 || calls[4] != "headers 5/5" || calls[9] != "pixels 5/5" {
		t.Errorf("progress %q", calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Import(ctx, fsys, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled import: %v", err)
	}

	// Each file is within the limit, the series is not: the series is
	// refused at load with an UnsupportedError, nothing allocated for it.
	res, err := Import(context.Background(), fsys, &Options{MaxVoxels: 16 * 12 * 3})
	if err != nil {
		t.Fatal(err)
	}
	var ue *UnsupportedError
	if res.Volumes[0] != nil || len(res.Errors) != 1 || !errors.As(res.Errors[0], &ue) || !strings.Contains(res.Errors[0].Error(), "exceed the limit") {
		t.Errorf("volumes %v errors %v", res.Volumes, res.Errors)
	}

	// HeadersOnly: series and grids, no volumes.
	res, err = Import(context.Background(), fsys, &Options{HeadersOnly: true})
	if err != nil || len(res.Series) != 1 || res.Volumes[0] != nil || res.Series[0].Grid.Dims != [3]int{16, 12, 5} {
		t.Errorf("headers only: %v %+v", err, res)
	}
}

// TestInstances: a volume lists its source images in slice order (not file
// order), each once even when a file was imported twice, with their SOP
// Class and Instance UIDs: what a report cites as its evidence.
func TestInstances(t *testing.T) {
	sl := stackOf(6, slice{series: uid("inst")}, axial(0, 2))
	fsys := mapFS(sl, shuffledName(11, len(sl)))
	fsys["copy/again"] = &fstest.MapFile{Data: sl[4].encode()}
	_, v := only(t, importFS(t, fsys))
	if len(v.Instances) != len(sl) {
		t.Fatalf("%d instances, want %d: %+v", len(v.Instances), len(sl), v.Instances)
	}
	for k, in := range v.Instances {
		if in.InstanceUID != sl[k].sop || in.ClassUID != ctImage {
			t.Errorf("instance %d = %+v, want %s of class %s", k, in, sl[k].sop, ctImage)
		}
	}
}
