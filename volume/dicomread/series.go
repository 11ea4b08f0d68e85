package dicomread

// Grouping and geometry of the header pass: files → series → sorted stacks
// with a regular output grid (PS3.3 C.7.6.2, Image Plane Module).

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"ctlens/volume"
)

// Series is one image stack found by the header pass (several stacks when
// a series holds phases), with the grid its volume will have. Load turns
// it into a Volume.
type Series struct {
	StudyInstanceUID, SeriesInstanceUID string // the grouping keys
	// Part numbers the stacks a series was split into (orientation, frame
	// of reference or size differ), from 1; 0 when it was not split.
	Part     int
	Meta     volume.Metadata // of the first file, for display
	Modality string          // (0008,0060)
	Rows     int             // of every frame
	Columns  int             // of every frame

	// Slices[t][k] is the input frame at sorted position k of phase t.
	Slices [][]SliceRef
	// Grid is the geometry of the volume Load will return.
	Grid Grid
	// Resample is set when the input slices do not lie on Grid (gantry
	// tilt, uneven or missing slices) and Load interpolates them onto it.
	Resample bool

	TransferSyntaxes []string        // names, of the kept frames
	PhaseLabels      []string        // one per phase when there are several
	Windows          []volume.Window // the files' own, deduplicated
	Invert           bool            // MONOCHROME1: the display inverts
	Warnings         []string        // what the header pass found

	headers map[string]*Header
	src     map[string]opener
}

// SliceRef is one input frame: a file and a frame within it.
type SliceRef struct {
	Path  string // as in Result.Errors and Series.Files
	Frame int    // 0 for single-frame files
	// Position is Image Position (Patient) in LPS mm and Distance its
	// projection on the slice normal, the sort key (PS3.3 C.7.6.2.1.1).
	Position [3]float64
	Distance float64 // mm from the first slice along the normal
	// Instance is the Instance Number, for messages only.
	Instance int
	// in-plane offset from the first slice along the row and column
	// directions (mm), non-zero for tilted stacks.
	offX, offY float64
}

// Grid is a regular sampling of patient space.
type Grid struct {
	Dims      [3]int        // X columns, Y rows, Z slices
	Spacing   [3]float64    // mm
	Origin    [3]float64    // LPS mm, centre of voxel (0,0,0)
	Direction [3][3]float64 // unit x, y, z axes in LPS
}

// Name is a short label for messages: series number, description, UID.
func (s *Series) Name() string {
	var b strings.Builder
	if s.Meta.SeriesNumber != "" {
		fmt.Fprintf(&b, "series %s ", s.Meta.SeriesNumber)
	} else {
		b.WriteString("series ")
	}
	if s.Meta.SeriesDescription != "" {
		fmt.Fprintf(&b, "%q ", s.Meta.SeriesDescription)
	}
	b.WriteString("(" + s.SeriesInstanceUID + ")")
	if s.Part > 0 {
		fmt.Fprintf(&b, " part %d", s.Part)
	}
	return b.String()
}

// Files returns the distinct files of the series in slice order.
func (s *Series) Files() []string {
	seen := map[string]bool{}
	var out []string
	for _, ph := range s.Slices {
		for _, r := range ph {
			if !seen[r.Path] {
				seen[r.Path] = true
				out = append(out, r.Path)
			}
		}
	}
	return out
}

// Instances returns the series' source images in slice order, each once;
// files without SOP Class or Instance UID are left out (they cannot be
// referenced).
func (s *Series) Instances() []volume.InstanceRef {
	seen := map[string]bool{}
	var out []volume.InstanceRef
	for _, p := range s.Files() {
		h := s.headers[p]
		if h == nil || h.SOPClassUID == "" || h.SOPInstanceUID == "" || seen[h.SOPInstanceUID] {
			continue
		}
		seen[h.SOPInstanceUID] = true
		out = append(out, volume.InstanceRef{ClassUID: h.SOPClassUID, InstanceUID: h.SOPInstanceUID})
	}
	return out
}

// frameRef is one frame with its header, before grouping.
type frameRef struct {
	path  string
	h     *Header
	index int
	f     *Frame
}

// Geometry tolerances.
const (
	// samePosition: two frames closer than this along the normal are at
	// one position (phases or duplicates).
	samePosition = 0.005 // mm
	// gapTolerance: a gap differing from the median by more than this
	// fraction is uneven.
	gapTolerance = 0.01
	// shearTolerance: the in-plane drift of slice origins (gantry tilt)
	// is corrected when it exceeds this fraction of a pixel.
	shearTolerance = 0.05
	// parallel: direction cosines agreeing to this dot product are one
	// orientation (about 0.8°).
	parallel = 0.9999
)

// groupSeries builds series from the headers of the image files, in a
// stable order (study, series number, series UID, part).
func groupSeries(files []pathHeader) []*Series {
	type key struct{ study, series string }
	buckets := map[key][]frameRef{}
	var order []key
	for _, fh := range files {
		k := key{fh.h.Meta.StudyInstanceUID, fh.h.Meta.SeriesInstanceUID}
		if _, ok := buckets[k]; !ok {
			order = append(order, k)
		}
		for i := range fh.h.Frames {
			buckets[k] = append(buckets[k], frameRef{fh.path, fh.h, i, &fh.h.Frames[i]})
		}
	}
	var out []*Series
	for _, k := range order {
		stacks := splitStacks(buckets[k])
		for i, st := range stacks {
			s := buildSeries(st.frames)
			if len(stacks) > 1 {
				s.Part = i + 1
				s.Warnings = append([]string{fmt.Sprintf("series split into %d stacks: %s differ", len(stacks), st.why)}, s.Warnings...)
			}
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.StudyInstanceUID != b.StudyInstanceUID {
			return a.StudyInstanceUID < b.StudyInstanceUID
		}
		na, ea := strconv.Atoi(a.Meta.SeriesNumber)
		nb, eb := strconv.Atoi(b.Meta.SeriesNumber)
		if ea == nil && eb == nil && na != nb {
			return na < nb
		}
		if a.SeriesInstanceUID != b.SeriesInstanceUID {
			return a.SeriesInstanceUID < b.SeriesInstanceUID
		}
		return a.Part < b.Part
	})
	return out
}

type stack struct {
	frames []frameRef
	why    string
}

// splitStacks splits one series' frames on what a single grid cannot hold:
// frame of reference, rows/columns, orientation, pixel spacing.
func splitStacks(frames []frameRef) []stack {
	var out []stack
	var whys []string
	compatible := func(a, b frameRef) string {
		switch {
		case a.h.Meta.FrameOfReferenceUID != b.h.Meta.FrameOfReferenceUID:
			return "frames of reference"
		case a.h.Rows != b.h.Rows || a.h.Columns != b.h.Columns:
			return "rows/columns"
		case a.f.HasOrientation != b.f.HasOrientation:
			return "orientations"
		case a.f.HasOrientation && (dot(a.f.row(), b.f.row()) < parallel || dot(a.f.col(), b.f.col()) < parallel):
			// Signed: a mirrored image cannot share the grid either.
			return "orientations"
		case math.Abs(a.f.PixelSpacing[0]-b.f.PixelSpacing[0]) > 1e-3*a.f.PixelSpacing[0] ||
			math.Abs(a.f.PixelSpacing[1]-b.f.PixelSpacing[1]) > 1e-3*a.f.PixelSpacing[1]:
			return "pixel spacings"
		}
		return ""
	}
next:
	for _, f := range frames {
		for i := range out {
			if compatible(out[i].frames[0], f) == "" {
				out[i].frames = append(out[i].frames, f)
				continue next
			}
		}
		if len(out) > 0 {
			whys = append(whys, compatible(out[0].frames[0], f))
		}
		out = append(out, stack{frames: []frameRef{f}})
	}
	why := strings.Join(slices.Compact(slices.Sorted(slices.Values(whys))), ", ")
	for i := range out {
		out[i].why = why
	}
	return out
}

// phaseKeyCompare orders frames at one position by what tells phases
// apart: temporal position index (enhanced), temporal position
// identifier, trigger time, acquisition number, acquisition time. Two
// instances at one position equal in all of these are not two phases but
// one image stored twice (a lossy copy, a re-export).
func phaseKeyCompare(a, b frameRef) int {
	return cmp.Or(
		cmp.Compare(a.f.TemporalIndex, b.f.TemporalIndex),
		cmp.Compare(a.h.TemporalPositionIdentifier, b.h.TemporalPositionIdentifier),
		cmp.Compare(a.h.TriggerTime, b.h.TriggerTime),
		cmp.Compare(a.h.AcquisitionNumber, b.h.AcquisitionNumber),
		cmp.Compare(a.h.AcquisitionTime, b.h.AcquisitionTime),
	)
}

// phaseCompare is phaseKeyCompare made total (instance number, path and
// frame last) so that every sort is stable across runs.
func phaseCompare(a, b frameRef) int {
	return cmp.Or(
		phaseKeyCompare(a, b),
		cmp.Compare(a.h.InstanceNumber, b.h.InstanceNumber),
		cmp.Compare(a.path, b.path),
		cmp.Compare(a.index, b.index),
	)
}

func phaseLabel(f frameRef) string {
	switch {
	case f.f.TemporalIndex != 0:
		return fmt.Sprintf("temporal position index %d", f.f.TemporalIndex)
	case f.h.TemporalPositionIdentifier != 0:
		return fmt.Sprintf("temporal position %d", f.h.TemporalPositionIdentifier)
	case f.h.TriggerTime != 0:
		return fmt.Sprintf("trigger time %g ms", f.h.TriggerTime)
	case f.h.AcquisitionNumber != 0:
		return fmt.Sprintf("acquisition %d", f.h.AcquisitionNumber)
	}
	return fmt.Sprintf("instance %d", f.h.InstanceNumber)
}

func (f frameRef) ref() SliceRef {
	return SliceRef{Path: f.path, Frame: f.index, Position: f.f.Position, Instance: f.h.InstanceNumber}
}

func (f frameRef) name() string {
	if f.h.NumberOfFrames > 1 {
		return fmt.Sprintf("%s frame %d", f.path, f.index+1)
	}
	return f.path
}

// buildSeries sorts one stack's frames along the slice normal, finds
// phases, duplicates, gaps and tilt, and plans the output grid.
func buildSeries(frames []frameRef) *Series {
	first := frames[0]
	h := first.h
	s := &Series{
		StudyInstanceUID:  h.Meta.StudyInstanceUID,
		SeriesInstanceUID: h.Meta.SeriesInstanceUID,
		Meta:              h.Meta,
		Modality:          h.Modality,
		Rows:              h.Rows,
		Columns:           h.Columns,
		Invert:            h.PhotometricInterpretation == "MONOCHROME1",
		headers:           map[string]*Header{},
	}
	warn := func(format string, a ...any) { s.Warnings = append(s.Warnings, fmt.Sprintf(format, a...)) }
	if s.Modality != "" && s.Modality != "CT" {
		warn("modality %s: values are the modality's own units, not HU", s.Modality)
	}
	for _, n := range h.Notes {
		warn("%s", n)
	}
	if s.Invert {
		warn("MONOCHROME1: HU values kept; the display inverts grey levels")
	}

	// Duplicate instances: the same SOP Instance (and frame) read twice,
	// e.g. a file copied into two folders.
	seen := map[string]string{}
	uniq := frames[:0:0]
	var dupInstances []string
	for _, f := range frames {
		id := f.h.SOPInstanceUID + "#" + strconv.Itoa(f.index)
		if f.h.SOPInstanceUID != "" {
			if prev, ok := seen[id]; ok {
				dupInstances = append(dupInstances, fmt.Sprintf("%s (same as %s)", f.name(), prev))
				continue
			}
			seen[id] = f.name()
		}
		uniq = append(uniq, f)
	}
	frames = uniq
	if len(dupInstances) > 0 {
		warn("%d duplicate instance(s) (same SOP Instance UID) ignored: %s", len(dupInstances), examples(dupInstances))
	}

	geometric := true
	for _, f := range frames {
		if !f.f.HasPosition || !f.f.HasOrientation {
			geometric = false
		}
	}
	row, col := [3]float64{1, 0, 0}, [3]float64{0, 1, 0}
	if geometric {
		row, col = first.f.row(), first.f.col()
	}
	normal := unit(cross(row, col))
	dx, dy := 1.0, 1.0
	if first.f.HasSpacing {
		dx, dy = first.f.PixelSpacing[1], first.f.PixelSpacing[0]
	} else {
		warn("(0028,0030) Pixel Spacing absent: 1 mm assumed")
	}

	// Sort along the normal (PS3.3 C.7.6.2.1.1), never by Instance Number
	// or Slice Location. Without positions there is no geometry to sort
	// by, and the files' own numbering is all there is.
	if geometric {
		slices.SortStableFunc(frames, func(a, b frameRef) int {
			return cmp.Or(cmp.Compare(dot(a.f.Position, normal), dot(b.f.Position, normal)), phaseCompare(a, b))
		})
	} else {
		warn("no Image Position/Orientation (Patient): slices ordered by Instance Number, 1 mm apart, axial orientation assumed")
		slices.SortStableFunc(frames, phaseCompare)
	}

	// Cluster frames at one position.
	var groups [][]frameRef
	for i, f := range frames {
		d := dot(f.f.Position, normal)
		if !geometric {
			d = float64(i)
		}
		if n := len(groups); n > 0 && geometric && math.Abs(d-dot(groups[n-1][0].f.Position, normal)) < samePosition {
			groups[n-1] = append(groups[n-1], f)
			continue
		}
		groups = append(groups, []frameRef{f})
	}
	phases := len(groups[0])
	uniform := true
	for _, g := range groups {
		slices.SortStableFunc(g, phaseCompare)
		if len(g) != phases {
			uniform = false
		}
		for i := 1; i < len(g); i++ {
			if phaseKeyCompare(g[i-1], g[i]) == 0 {
				uniform = false // nothing tells these two apart
			}
		}
	}
	if !uniform {
		// Uneven counts, or instances nothing tells apart: not phases but
		// duplicate slices. Keep the first of each position by phase
		// order and say which were dropped.
		var dropped []string
		for i, g := range groups {
			for _, f := range g[1:] {
				dropped = append(dropped, fmt.Sprintf("%s (at %.3f mm, kept %s)", f.name(), dot(g[0].f.Position, normal), g[0].name()))
			}
			groups[i] = g[:1]
		}
		warn("%d duplicate slice(s) (another instance at the same position, nothing telling them apart as phases) ignored: %s",
			len(dropped), examples(dropped))
		phases = 1
	}
	s.Slices = make([][]SliceRef, phases)
	p0 := groups[0][0].f.Position
	for t := range phases {
		for _, g := range groups {
			r := g[t].ref()
			if geometric {
				r.Distance = dot(r.Position, normal) - dot(p0, normal)
				off := sub(r.Position, p0)
				r.offX, r.offY = dot(off, row), dot(off, col)
			} else {
				r.Distance = float64(len(s.Slices[t]))
			}
			s.Slices[t] = append(s.Slices[t], r)
		}
	}
	if phases > 1 {
		for t := range phases {
			s.PhaseLabels = append(s.PhaseLabels, phaseLabel(groups[0][t]))
		}
		warn("%d phases at each of %d positions (4D)", phases, len(groups))
	}
	// What the kept frames come from: headers, syntaxes, windows.
	for _, g := range groups {
		for _, f := range g {
			s.headers[f.path] = f.h
			if !slices.Contains(s.TransferSyntaxes, f.h.TransferSyntax) {
				s.TransferSyntaxes = append(s.TransferSyntaxes, f.h.TransferSyntax)
			}
			for _, w := range f.h.Windows {
				if !slices.ContainsFunc(s.Windows, func(x volume.Window) bool { return x.Center == w.Center && x.Width == w.Width }) {
					s.Windows = append(s.Windows, w)
				}
			}
		}
	}

	s.planGrid(row, col, normal, dx, dy, first.f.SliceThickness, h.GantryTilt, warn)
	return s
}

// planGrid finds the slice spacing (the median gap), reports missing and
// uneven slices and gantry tilt, and chooses the output grid. Its axes are
// the row and column directions and their normal, so the volume is always
// orthogonal; a stack whose slices do not lie on it is resampled.
func (s *Series) planGrid(row, col, normal [3]float64, dx, dy, thickness, tilt float64, warn func(string, ...any)) {
	refs := s.Slices[0]
	m := len(refs)
	g := Grid{
		Dims:      [3]int{s.Columns, s.Rows, m},
		Spacing:   [3]float64{dx, dy, 0},
		Origin:    refs[0].Position,
		Direction: [3][3]float64{row, col, normal},
	}
	if m == 1 {
		g.Spacing[2] = thickness
		if g.Spacing[2] <= 0 {
			g.Spacing[2] = 1
		}
		s.Grid = g
		return
	}
	gaps := make([]float64, m-1)
	for i := range gaps {
		gaps[i] = refs[i+1].Distance - refs[i].Distance
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	med := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		med = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	g.Spacing[2] = med
	tol := math.Max(0.01, gapTolerance*med)
	var missing, uneven int
	var where []string
	for i, gap := range gaps {
		if math.Abs(gap-med) <= tol {
			continue
		}
		if r := gap / med; r > 1.5 && math.Abs(r-math.Round(r)) < 0.1 {
			k := int(math.Round(r)) - 1
			missing += k
			where = append(where, fmt.Sprintf("%d missing after %s", k, refName(refs[i])))
		} else {
			uneven++
			where = append(where, fmt.Sprintf("gap %.3g mm after %s", gap, refName(refs[i])))
		}
	}
	if len(where) > 6 {
		where = append(where[:6], "…")
	}
	if missing > 0 {
		warn("%d slice(s) missing (median gap %.4g mm): %s", missing, med, strings.Join(where, "; "))
	}
	if uneven > 0 {
		warn("uneven slice spacing: %d gap(s) differ from the median %.4g mm by more than %.2g mm: %s", uneven, med, tol, strings.Join(where, "; "))
	}

	// Gantry tilt shows as slice origins drifting in-plane along the
	// stack (the stack direction is not the normal).
	var drift float64
	minX, maxX, minY, maxY := 0.0, 0.0, 0.0, 0.0
	for _, r := range refs {
		drift = math.Max(drift, math.Max(math.Abs(r.offX)/dx, math.Abs(r.offY)/dy))
		minX, maxX = math.Min(minX, r.offX), math.Max(maxX, r.offX)
		minY, maxY = math.Min(minY, r.offY), math.Max(maxY, r.offY)
	}
	sheared := drift > shearTolerance
	if sheared {
		last := refs[m-1]
		stackDir := unit(sub(last.Position, refs[0].Position))
		angle := math.Acos(math.Min(1, math.Abs(dot(stackDir, normal)))) * 180 / math.Pi
		msg := fmt.Sprintf("gantry tilt: slices are sheared by %.2f° from the normal (in-plane drift up to %.2g pixels)", angle, drift)
		if tilt != 0 {
			msg += fmt.Sprintf("; (0018,1120) Gantry/Detector Tilt is %g°", tilt)
		}
		warn("%s", msg)
	} else if tilt != 0 {
		warn("(0018,1120) Gantry/Detector Tilt is %g° but slice positions show no shear: taken as written", tilt)
	}

	if missing > 0 || uneven > 0 || sheared {
		s.Resample = true
		span := refs[m-1].Distance
		// Never past the last slice: the grid stops at or before it.
		g.Dims[2] = int(math.Floor(span/med+0.05)) + 1
		if sheared {
			g.Dims[0] = s.Columns + int(math.Ceil((maxX-minX)/dx-1e-9))
			g.Dims[1] = s.Rows + int(math.Ceil((maxY-minY)/dy-1e-9))
			g.Origin = add(add(refs[0].Position, scale(row, minX)), scale(col, minY))
		}
		warn("resampled onto a regular %d×%d×%d grid at %.4g×%.4g×%.4g mm (trilinear); voxels outside every slice are %d HU",
			g.Dims[0], g.Dims[1], g.Dims[2], dx, dy, med, PaddingHU)
	}
	s.Grid = g
}

// examples lists the first few items of a long list for a warning.
func examples(items []string) string {
	const show = 3
	if len(items) <= show {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:show], "; ") + fmt.Sprintf("; and %d more", len(items)-show)
}

func refName(r SliceRef) string {
	if r.Frame > 0 {
		return fmt.Sprintf("%s frame %d", r.Path, r.Frame+1)
	}
	return r.Path
}
