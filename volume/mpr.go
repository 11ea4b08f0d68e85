package volume

import (
	"math"
	"sort"
	"strings"
)

// MPR plane math: which voxel axis a view steps through, which voxel axes
// run across the screen, and the letters on the view's edges.
//
// The viewer cuts the volume along its own voxel axes (no oblique
// resampling): for each plane it takes the voxel axis closest to the
// plane's patient normal and lays the other two out in the radiological
// convention — axial: patient left on screen right, posterior down;
// coronal: left on the right, inferior down; sagittal: posterior on the
// right, inferior down. For a tilted or oblique series the letters show
// the true directions (e.g. "LA"), computed from Direction.

// PlaneKind names an MPR plane.
type PlaneKind int

// The three MPR planes.
const (
	Axial PlaneKind = iota
	Coronal
	Sagittal
)

// String is the plane's lower-case name ("axial"), the viewer's data-view.
func (k PlaneKind) String() string {
	switch k {
	case Axial:
		return "axial"
	case Coronal:
		return "coronal"
	case Sagittal:
		return "sagittal"
	}
	return "unknown"
}

// SlicePlane is how one view cuts a volume: it scrolls through voxel axis
// Normal, and screen right and screen down run along voxel axes U and V
// (each +1 or −1 times the axis: USign, VSign).
type SlicePlane struct {
	Kind         PlaneKind
	Normal, U, V int     // voxel axes: 0 x (columns), 1 y (rows), 2 z (slices)
	USign, VSign float64 // +1: screen right (down) is increasing U (V)
}

// planeConvention gives, per plane, the patient axis (0 L, 1 P, 2 S in LPS)
// of the normal, of screen right and of screen down, with the sign of the
// latter two.
var planeConvention = [3]struct {
	normal, right, down int
	rightSign, downSign float64
}{
	Axial:    {normal: 2, right: 0, rightSign: +1, down: 1, downSign: +1},
	Coronal:  {normal: 1, right: 0, rightSign: +1, down: 2, downSign: -1},
	Sagittal: {normal: 0, right: 1, rightSign: +1, down: 2, downSign: -1},
}

// PatientAxes assigns each voxel axis the patient axis (0 L, 1 P, 2 S) it
// is closest to, as a permutation: the one among the six that maximises
// the summed |cosines|, so an oblique series still gets three distinct
// axes.
func (v *Volume) PatientAxes() [3]int {
	perms := [6][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	best, bestScore := perms[0], -1.0
	for _, p := range perms {
		s := 0.0
		for a := range 3 {
			s += math.Abs(v.Direction[a][p[a]])
		}
		if s > bestScore+1e-9 {
			best, bestScore = p, s
		}
	}
	return best
}

// PlaneFor returns how the view of kind k cuts v.
func (v *Volume) PlaneFor(k PlaneKind) SlicePlane {
	perm := v.PatientAxes()
	voxelAxis := func(patient int) int {
		for a := range 3 {
			if perm[a] == patient {
				return a
			}
		}
		return 0
	}
	c := planeConvention[k]
	sp := SlicePlane{Kind: k, Normal: voxelAxis(c.normal), U: voxelAxis(c.right), V: voxelAxis(c.down)}
	sp.USign = c.rightSign * signOf(v.Direction[sp.U][c.right])
	sp.VSign = c.downSign * signOf(v.Direction[sp.V][c.down])
	return sp
}

func signOf(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

// Basis returns the patient-space (LPS) unit vectors of screen right,
// screen down and the plane normal (towards increasing Normal index).
func (p SlicePlane) Basis(v *Volume) (right, down, normal [3]float64) {
	return scale(v.Direction[p.U], p.USign), scale(v.Direction[p.V], p.VSign), v.Direction[p.Normal]
}

// EdgeLetters are the orientation letters shown on a view's four edges.
type EdgeLetters struct{ Left, Right, Top, Bottom string }

// Letters returns the orientation letters of the plane's edges in v.
func (p SlicePlane) Letters(v *Volume) EdgeLetters {
	r, d, _ := p.Basis(v)
	return EdgeLetters{
		Left: OrientationLetters(scale(r, -1)), Right: OrientationLetters(r),
		Top: OrientationLetters(scale(d, -1)), Bottom: OrientationLetters(d),
	}
}

// OrientationLetters names an LPS direction the way viewers label edges:
// the letter of each patient axis it has a component of at least 0.25
// along (L/R, P/A, S/I), largest first: "L" for (1,0,0), "LA" for a
// direction mostly left and a little anterior. A zero vector gives "".
func OrientationLetters(dir [3]float64) string {
	pos := [3]string{"L", "P", "S"}
	neg := [3]string{"R", "A", "I"}
	idx := []int{0, 1, 2}
	sort.SliceStable(idx, func(i, j int) bool { return math.Abs(dir[idx[i]]) > math.Abs(dir[idx[j]]) })
	var b strings.Builder
	for _, a := range idx {
		c := dir[a]
		if math.Abs(c) < 0.25 {
			continue
		}
		if c > 0 {
			b.WriteString(pos[a])
		} else {
			b.WriteString(neg[a])
		}
	}
	return b.String()
}
