package viewer

import (
	"fmt"
	"math"

	"ctlens/volume"
)

// Measurements are computed in Go from the CPU copy of the volume: exact
// voxels, testable without a GPU.

// LengthMM is the patient-space distance between two voxel-space points.
func LengthMM(v *volume.Volume, a, b [3]float64) float64 {
	pa, pb := v.VoxelToLPS(a), v.VoxelToLPS(b)
	d := [3]float64{pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]}
	return math.Sqrt(d[0]*d[0] + d[1]*d[1] + d[2]*d[2])
}

// Ellipse is an ellipse ROI drawn on an MPR view: centred at voxel-space
// Center, with semi-axes RU and RV mm along the plane's U and V voxel axes,
// on the slice of index Center[plane.Normal] (rounded).
type Ellipse struct {
	Plane  volume.SlicePlane
	Center [3]float64
	RU, RV float64 // mm
}

// ROIStats are the HU statistics of the voxels whose centres lie inside an
// ellipse.
type ROIStats struct {
	Count         int
	Mean, SD      float64 // HU; SD is the population standard deviation
	Min, Max      int16   // HU
	AreaMM2       float64 // π·RU·RV, the drawn ellipse's area
	PixelsAreaMM2 float64 // Count voxels' in-plane area
	SliceIndex    int
	OutsideVolume bool // the slice is outside the volume
}

// String is the label drawn beside the ROI.
func (s ROIStats) String() string {
	if s.Count == 0 {
		return fmt.Sprintf("no voxels · %.1f mm²", s.AreaMM2)
	}
	return fmt.Sprintf("%.1f ± %.1f HU · min %d · max %d · %.1f mm²", s.Mean, s.SD, s.Min, s.Max, s.AreaMM2)
}

// Stats computes the ROI's statistics over phase 0 of v, visiting only the
// ellipse's bounding box.
func (e Ellipse) Stats(v *volume.Volume) ROIStats {
	p := e.Plane
	k := int(math.Round(e.Center[p.Normal]))
	st := ROIStats{AreaMM2: math.Pi * e.RU * e.RV, SliceIndex: k}
	if k < 0 || k >= v.Dims[p.Normal] || e.RU <= 0 || e.RV <= 0 {
		st.OutsideVolume = k < 0 || k >= v.Dims[p.Normal]
		return st
	}
	su, sv := v.Spacing[p.U], v.Spacing[p.V]
	cu, cv := e.Center[p.U], e.Center[p.V]
	u0 := max(0, int(math.Ceil(cu-e.RU/su)))
	u1 := min(v.Dims[p.U]-1, int(math.Floor(cu+e.RU/su)))
	v0 := max(0, int(math.Ceil(cv-e.RV/sv)))
	v1 := min(v.Dims[p.V]-1, int(math.Floor(cv+e.RV/sv)))
	var sum, sum2 float64
	var idx [3]int
	idx[p.Normal] = k
	for j := v0; j <= v1; j++ {
		dv := (float64(j) - cv) * sv / e.RV
		for i := u0; i <= u1; i++ {
			du := (float64(i) - cu) * su / e.RU
			if du*du+dv*dv > 1 {
				continue
			}
			idx[p.U], idx[p.V] = i, j
			hu := v.At(idx[0], idx[1], idx[2])
			if st.Count == 0 || hu < st.Min {
				st.Min = hu
			}
			if st.Count == 0 || hu > st.Max {
				st.Max = hu
			}
			x := float64(hu)
			sum += x
			sum2 += x * x
			st.Count++
		}
	}
	if st.Count > 0 {
		n := float64(st.Count)
		st.Mean = sum / n
		st.SD = math.Sqrt(math.Max(0, sum2/n-st.Mean*st.Mean))
		st.PixelsAreaMM2 = n * su * sv
	}
	return st
}

// Measurement is one measurement in the list: a length or an ellipse.
type Measurement struct {
	ID     int
	Kind   string // "length" or "ellipse"
	View   volume.PlaneKind
	A, B   [3]float64 // voxel-space end points (length) or centre and a corner (ellipse)
	Length float64    // mm
	ROI    ROIStats
}

// Label is the measurement's value and unit.
func (m Measurement) Label() string {
	if m.Kind == "length" {
		return fmt.Sprintf("%.1f mm", m.Length)
	}
	return m.ROI.String()
}

// ellipseFrom makes an ellipse ROI from a drag on plane p, from voxel
// point a (the centre) to b (a corner of its bounding box).
func ellipseFrom(v *volume.Volume, p volume.SlicePlane, a, b [3]float64) Ellipse {
	return Ellipse{Plane: p, Center: a,
		RU: math.Abs(b[p.U]-a[p.U]) * v.Spacing[p.U],
		RV: math.Abs(b[p.V]-a[p.V]) * v.Spacing[p.V]}
}
