package volume

import (
	"fmt"
	"math"
)

// DefaultMaxVoxels bounds the voxels of one volume (all phases): 2^29 int16
// values, 1 GiB, e.g. 512×512×2048. The DICOM reader refuses headers that
// claim more before anything is allocated (when its Options.MaxVoxels is
// 0), and ModelInput refuses model grids larger than it.
const DefaultMaxVoxels = 1 << 29

// Volume is one CT series as a regular 3D grid of Hounsfield units, with
// the geometry that places every voxel in patient space (LPS, mm).
//
// Voxel (x, y, z) of phase t is Voxels[x + X·(y + Y·(z + Z·t))], with
// Dims = [X, Y, Z]: x runs along a row (the column index of the DICOM
// image), y down the columns (the row index), z across slices.
type Volume struct {
	Dims    [3]int     // X columns, Y rows, Z slices
	Phases  int        // ≥ 1; a 4D series holds Phases volumes one after another
	Spacing [3]float64 // mm between voxel centres along x, y, z
	// Origin is the centre of voxel (0,0,0) in LPS mm.
	Origin [3]float64
	// Direction holds the unit vectors of the x, y and z axes in LPS:
	// Direction[0] is the row direction cosine of Image Orientation
	// (Patient), Direction[1] the column one, Direction[2] their cross
	// product (the slice normal, towards increasing z).
	Direction [3][3]float64
	Voxels    []int16 // HU

	// Windows are the file's own windows (first) then Presets.
	Windows []Window
	// Invert is set for MONOCHROME1 series: the display, not the data, is
	// inverted (PS3.3 C.7.6.3.1.2).
	Invert bool

	Meta             Metadata // study and series description, for display
	TransferSyntaxes []string // names, in the order first met
	Files            int      // files that contributed
	// Instances are the source images, in slice order, each once: what a
	// report about this volume cites as its evidence.
	Instances []InstanceRef
	// PhaseLabels describe each phase (temporal index, trigger time...).
	PhaseLabels []string
	// Resampled is set when the stored slices were resampled onto this
	// grid (gantry tilt, uneven or missing slices); Warnings say why.
	Resampled bool
	Warnings  []string // everything a reader of this volume should know
}

// InstanceRef names one source image (a composite SOP instance).
type InstanceRef struct {
	ClassUID    string `json:"class"` // (0008,0016) SOP Class UID
	InstanceUID string `json:"uid"`   // (0008,0018) SOP Instance UID
}

// Len is the number of voxels of one phase.
func (v *Volume) Len() int { return v.Dims[0] * v.Dims[1] * v.Dims[2] }

// Phase returns the voxels of phase t (a view, not a copy).
func (v *Volume) Phase(t int) []int16 {
	n := v.Len()
	return v.Voxels[t*n : (t+1)*n]
}

// At returns the HU value of voxel (x, y, z) of phase 0.
func (v *Volume) At(x, y, z int) int16 {
	return v.Voxels[x+v.Dims[0]*(y+v.Dims[1]*z)]
}

// VoxelToLPS maps a (fractional) voxel index to patient coordinates in mm:
// origin + Σ index[i]·spacing[i]·direction[i] (PS3.3 C.7.6.2.1.1, eq.
// C.7.6.2.1-1 extended across slices).
func (v *Volume) VoxelToLPS(ijk [3]float64) [3]float64 {
	p := v.Origin
	for a := range 3 {
		p = add(p, scale(v.Direction[a], ijk[a]*v.Spacing[a]))
	}
	return p
}

// LPSToVoxel is the inverse of VoxelToLPS: it returns the fractional voxel
// index of a patient-space point. The direction matrix is inverted in full,
// so it stays right if a caller builds a non-orthogonal Volume.
func (v *Volume) LPSToVoxel(p [3]float64) [3]float64 {
	var m [3][3]float64 // columns are direction·spacing
	for a := range 3 {
		for r := range 3 {
			m[r][a] = v.Direction[a][r] * v.Spacing[a]
		}
	}
	inv, ok := inverse3(m)
	if !ok {
		return [3]float64{math.NaN(), math.NaN(), math.NaN()}
	}
	d := sub(p, v.Origin)
	var ijk [3]float64
	for r := range 3 {
		ijk[r] = inv[r][0]*d[0] + inv[r][1]*d[1] + inv[r][2]*d[2]
	}
	return ijk
}

// String summarises the grid: "512×512×300 (×1 phases) at 0.7×0.7×1.25 mm".
func (v *Volume) String() string {
	return fmt.Sprintf("%d×%d×%d (×%d phases) at %.4g×%.4g×%.4g mm", v.Dims[0], v.Dims[1], v.Dims[2], v.Phases,
		v.Spacing[0], v.Spacing[1], v.Spacing[2])
}

// Stats are HU statistics of a volume.
type Stats struct {
	Min, Max int16   // HU
	Mean     float64 // HU
	// P01 and P99 are the 1st and 99th percentiles.
	P01, P99 int16
	Count    int // voxels counted
}

// Stats computes statistics over all phases with one pass and a histogram
// (int16 has only 65536 values).
func (v *Volume) Stats() Stats { return statsOf(v.Voxels) }

func statsOf(vox []int16) Stats {
	var s Stats
	if len(vox) == 0 {
		return s
	}
	hist := make([]int, 1<<16)
	var sum int64
	for _, x := range vox {
		hist[uint16(x)^0x8000]++ // offset binary: bins in HU order
		sum += int64(x)
	}
	s.Count = len(vox)
	s.Mean = float64(sum) / float64(len(vox))
	lo, hi := int64(len(vox))/100, int64(len(vox))*99/100
	var cum int64
	first := true
	for b, n := range hist {
		if n == 0 {
			continue
		}
		val := int16(uint16(b) ^ 0x8000)
		if first {
			s.Min, first = val, false
		}
		s.Max = val
		if cum <= lo && cum+int64(n) > lo {
			s.P01 = val
		}
		if cum <= hi && cum+int64(n) > hi {
			s.P99 = val
		}
		cum += int64(n)
	}
	return s
}
