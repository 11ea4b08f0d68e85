package importtest

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"ctlens/tools/phantom/synth"
	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// variants: each alone, and two mixtures.
var variants = []string{
	"", "shuffled", "reversed", "missing", "duplicate", "uneven", "tilt", "unsigned", "slope",
	"padding", "multiframe", "twoseries", "zip",
	"unsigned,slope,padding,tilt,multiframe,twoseries",
	"shuffled,reversed,missing,duplicate,uneven,zip",
}

// sample returns the mean HU over the 3×3 in-plane block around the voxel
// nearest to p, located through the volume's own origin, spacing and
// direction; ok is false outside the volume.
func sample(v *volume.Volume, p [3]float64) (mean float64, ok bool) {
	var idx [3]int
	for a := 0; a < 3; a++ {
		d := 0.0
		for c := 0; c < 3; c++ {
			d += (p[c] - v.Origin[c]) * v.Direction[a][c]
		}
		idx[a] = int(math.Round(d / v.Spacing[a]))
		if idx[a] < 0 || idx[a] >= v.Dims[a] {
			return 0, false
		}
	}
	n := 0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			x, y := idx[0]+dx, idx[1]+dy
			if x >= 0 && y >= 0 && x < v.Dims[0] && y < v.Dims[1] {
				mean += float64(v.At(x, y, idx[2]))
				n++
			}
		}
	}
	return mean / float64(n), true
}

// TestImportEveryVariant imports each variant with dicomread.Import and
// compares with the ground truth: one volume per series, the grid of the
// clean variants exactly, and, for all, organ values read through the
// importer's geometry. Tilted and uneven series are resampled by the
// importer, so their grids are compared by what they must preserve.
func TestImportEveryVariant(t *testing.T) {
	tmp := t.TempDir()
	for i, v := range variants {
		t.Run(strings.ReplaceAll(fmt.Sprintf("%02d_%s", i, v), ",", "+"), func(t *testing.T) {
			vs, err := synth.ParseVariants(v)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(tmp, fmt.Sprintf("v%02d", i))
			var tr *synth.Truth
			err = synth.Generate(context.Background(), out, 1, 1, synth.Options{Seed: 5, Size: synth.Size{Cols: 96, Rows: 96, Slices: 40}, Variants: vs},
				func(r synth.Result) { tr = r.Truth })
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(out, "case0001")
			if vs[synth.Zip] {
				root = out + ".zip"
			}
			fsys, closer, err := dicomread.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			res, err := dicomread.Import(context.Background(), fsys, nil)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			for _, e := range res.Errors {
				t.Errorf("import error: %v", e)
			}
			if len(res.Volumes) != len(tr.Series) {
				t.Fatalf("%d volumes, ground truth has %d series", len(res.Volumes), len(tr.Series))
			}
			for _, s := range tr.Series {
				var vol *volume.Volume
				for _, cand := range res.Volumes {
					if cand != nil && cand.Meta.SeriesInstanceUID == s.InstanceUID {
						vol = cand
					}
				}
				if vol == nil {
					t.Errorf("series %d (%s) not imported", s.Number, s.InstanceUID)
					continue
				}
				g := s.Geometry
				a := s.Anomalies
				clean := !a.Tilted && !a.Uneven && len(a.MissingSlices) == 0
				if clean {
					want := struct {
						dims    [3]int
						spacing [3]float64
					}{[3]int{g.Columns, g.Rows, g.Slices}, [3]float64{g.PixelSpacingMM[1], g.PixelSpacingMM[0], g.SliceSpacingMM}}
					if vol.Dims != want.dims {
						t.Errorf("series %d: dims %v, truth %v", s.Number, vol.Dims, want.dims)
					}
					for k := 0; k < 3; k++ {
						if math.Abs(vol.Spacing[k]-want.spacing[k]) > 1e-4 || math.Abs(vol.Origin[k]-g.OriginLPS[k]) > 1e-4 {
							t.Errorf("series %d: spacing %v origin %v, truth %v %v", s.Number, vol.Spacing, vol.Origin, want.spacing, g.OriginLPS)
							break
						}
					}
					for k := 0; k < 3; k++ {
						if math.Abs(vol.Direction[0][k]-g.ImageOrientationPatient[k]) > 1e-6 || math.Abs(vol.Direction[1][k]-g.ImageOrientationPatient[3+k]) > 1e-6 ||
							math.Abs(vol.Direction[2][k]-g.SliceNormal[k]) > 1e-6 {
							t.Errorf("series %d: direction %v, truth %v normal %v", s.Number, vol.Direction, g.ImageOrientationPatient, g.SliceNormal)
							break
						}
					}
				} else {
					// The stack's extent along the slice axis is kept
					// whatever the importer resamples to.
					// A tilted stack may be resampled along its normal or
					// along the table (Z); either keeps its own extent.
					ext := float64(vol.Dims[2]-1) * vol.Spacing[2]
					along := float64(g.Slices-1) * g.SliceSpacingMM
					table := float64(g.Slices-1) * math.Abs(g.SliceStepLPS[2])
					if math.Abs(ext-along) > vol.Spacing[2]+1e-3 && math.Abs(ext-table) > vol.Spacing[2]+1e-3 {
						t.Errorf("series %d: slice extent %.2f mm, truth %.2f mm along the normal (%.2f along the table)", s.Number, ext, along, table)
					}
					if len(vol.Warnings) == 0 {
						t.Errorf("series %d: no warning for %+v", s.Number, a)
					}
				}
				if s.Number > 1 {
					continue
				}
				tol := 4*tr.Acquisition.NoiseSigmaHU/3 + 4
				checked := 0
				for _, o := range tr.Organs {
					if o.PointLPS == nil || o.Name == "air_outside" {
						continue
					}
					m, ok := sample(vol, *o.PointLPS)
					if !ok {
						if !a.Tilted {
							t.Errorf("organ %s at %v outside the imported volume", o.Name, *o.PointLPS)
						}
						// Resampling a sheared stack onto a box cuts off
						// its corners; points there are not in the box.
						continue
					}
					checked++
					if math.Abs(m-o.HU) > tol {
						t.Errorf("organ %s: %.1f HU through the importer's geometry, truth %.0f ± %.1f", o.Name, m, o.HU, tol)
					}
				}
				if checked < 5 && !a.Tilted || checked < 3 {
					t.Errorf("only %d organs checked", checked)
				}
			}
		})
	}
}
