package dicomread

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"slices"
	"sort"

	"ctlens/volume"
)

// Load runs the pixel pass: it decodes every slice of s into one int16 HU
// buffer, the volume's only copy of its voxels, reading one file at a time.
// A file that fails to decode is reported in the returned file errors and
// its slices are filled with PaddingHU (and a warning says so); err is set
// only when no volume can be made at all (too large, cancelled, no source).
//
// Regular stacks are decoded in place. A stack that needs resampling (gantry
// tilt, uneven or missing slices) is decoded one phase at a time into a
// scratch stack and interpolated onto the grid, so the peak is the volume
// plus one phase of input.
func (s *Series) Load(ctx context.Context, opt *Options) (*volume.Volume, []*FileError, error) {
	g := s.Grid
	phases := len(s.Slices)
	plane := g.Dims[0] * g.Dims[1]
	total := int64(plane) * int64(g.Dims[2]) * int64(phases)
	if total > opt.maxVoxels() || total <= 0 {
		return nil, nil, unsupportedf("%s: %d×%d×%d×%d voxels exceed the limit of %d", s.Name(),
			g.Dims[0], g.Dims[1], g.Dims[2], phases, opt.maxVoxels())
	}
	if s.src == nil {
		return nil, nil, fmt.Errorf("volume: %s was not made by Scan", s.Name())
	}
	v := &volume.Volume{
		Dims:             g.Dims,
		Phases:           phases,
		Spacing:          g.Spacing,
		Origin:           g.Origin,
		Direction:        g.Direction,
		Voxels:           make([]int16, total),
		Windows:          append(slices.Clone(s.Windows), volume.Presets...),
		Invert:           s.Invert,
		Meta:             s.Meta,
		TransferSyntaxes: s.TransferSyntaxes,
		Files:            len(s.Files()),
		Instances:        s.Instances(),
		PhaseLabels:      s.PhaseLabels,
		Resampled:        s.Resample,
		Warnings:         slices.Clone(s.Warnings),
	}
	var ferrs []*FileError
	fail := func(fe *FileError, slots int) {
		ferrs = append(ferrs, fe)
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d slice(s) of %s filled with %d HU: %v", slots, fe.Path, PaddingHU, fe.Err))
	}
	done, nfiles := 0, len(s.Files())
	progress := func() {
		done++
		if opt != nil && opt.Progress != nil {
			opt.Progress("pixels", done, nfiles)
		}
	}

	sc := &scratch{}
	if !s.Resample {
		slot := func(t, k int) []int16 {
			o := (t*g.Dims[2] + k) * plane
			return v.Voxels[o : o+plane]
		}
		if err := s.decodeAll(ctx, slot, fail, progress, sc); err != nil {
			return nil, ferrs, err
		}
		warnClamped(v, sc)
		return v, ferrs, nil
	}

	m := len(s.Slices[0])
	in := make([]int16, m*s.Rows*s.Columns)
	inPlane := s.Rows * s.Columns
	for t := range phases {
		only := t
		slot := func(tt, k int) []int16 {
			if tt != only {
				return nil
			}
			return in[k*inPlane : (k+1)*inPlane]
		}
		if err := s.decodeAll(ctx, slot, fail, progress, sc); err != nil {
			return nil, ferrs, err
		}
		planes := func(z, n int) {
			// A resampled phase is one long loop; the progress hook is where
			// a browser caller yields to the page (a 512×512×64 tilted series
			// held the page for 3.4 s without it).
			if opt != nil && opt.Progress != nil {
				opt.Progress("resample", t*n+z, phases*n)
			}
		}
		s.resample(in, s.Slices[t], v.Phase(t), planes)
	}
	warnClamped(v, sc)
	return v, ferrs, nil
}

// decodeAll decodes every file of s once, sending frame f of a file to
// slot(t, k) for each place (phase t, position k) it has in s.Slices.
func (s *Series) decodeAll(ctx context.Context, slot func(t, k int) []int16, fail func(*FileError, int), progress func(), sc *scratch) error {
	type place struct{ t, k int }
	where := map[string]map[int][]place{}
	var order []string
	for t, ph := range s.Slices {
		for k, r := range ph {
			if where[r.Path] == nil {
				where[r.Path] = map[int][]place{}
				order = append(order, r.Path)
			}
			where[r.Path][r.Frame] = append(where[r.Path][r.Frame], place{t, k})
		}
	}
	for _, p := range order {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("volume: pixel pass: %w", err)
		}
		frames := where[p]
		// Each (file, frame) has one place: duplicates were dropped by
		// buildSeries.
		dst := func(f int) []int16 {
			if pl := frames[f]; len(pl) > 0 {
				return slot(pl[0].t, pl[0].k)
			}
			return nil
		}
		if fe := s.decodeFile(p, dst, sc); fe != nil {
			n := 0
			for _, pl := range frames {
				for _, q := range pl {
					if out := slot(q.t, q.k); out != nil {
						for i := range out {
							out[i] = PaddingHU
						}
						n++
					}
				}
			}
			if n > 0 {
				fail(fe, n)
			}
		}
		progress()
	}
	return nil
}

// warnClamped counts the voxels at the int16 limits when some stored value
// could map beyond them (PS3.3 C.11.1 allows any slope and intercept;
// ctlens keeps HU in int16), and says so.
func warnClamped(v *volume.Volume, sc *scratch) {
	if !sc.clamps {
		return
	}
	n := 0
	for _, x := range v.Voxels {
		if x == math.MaxInt16 || x == math.MinInt16 {
			n++
		}
	}
	if n > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d voxel(s) beyond the int16 range (rescale gives values past -32768..32767) were clamped", n))
	}
}

// decodeFile decodes one file, turning a panic into an error at this
// per-file boundary as a last resort.
func (s *Series) decodeFile(p string, dst func(int) []int16, sc *scratch) (ferr *FileError) {
	defer func() {
		if r := recover(); r != nil {
			ferr = &FileError{Path: p, Err: fmt.Errorf("internal error (please report): %v\n%s", r, debug.Stack())}
		}
	}()
	open := s.src[p]
	f, err := open()
	if err != nil {
		return &FileError{Path: p, Err: err}
	}
	defer f.Close()
	if err := decodeChecked(f, s.headers[p], dst, sc); err != nil {
		return &FileError{Path: p, Err: err}
	}
	return nil
}

// resample interpolates one phase of input slices (in, sorted as refs) onto
// the series grid, writing out. Along the normal it interpolates linearly
// between the two slices that bracket each output plane; within each slice
// it samples bilinearly at the point's in-plane position, which absorbs
// gantry tilt (each slice's origin drifts in-plane) without assuming it is
// uniform. Points outside the slices get PaddingHU.
func (s *Series) resample(in []int16, refs []SliceRef, out []int16, planes func(done, total int)) {
	g := s.Grid
	cols, rows := s.Columns, s.Rows
	plane := cols * rows
	// In-plane position of output column/row 0, relative to slice 0.
	ox := dot(sub(g.Origin, refs[0].Position), g.Direction[0])
	oy := dot(sub(g.Origin, refs[0].Position), g.Direction[1])
	dist := make([]float64, len(refs))
	for i, r := range refs {
		dist[i] = r.Distance
	}
	sheared := g.Dims[0] != cols || g.Dims[1] != rows
	for _, r := range refs {
		if r.offX != 0 || r.offY != 0 {
			sheared = true
		}
	}
	sample := func(k int, u, w float64) (float64, bool) {
		// u, w: mm from slice k's origin along row and column directions.
		x, y := (u-refs[k].offX)/g.Spacing[0], (w-refs[k].offY)/g.Spacing[1]
		if x < -0.5 || y < -0.5 || x > float64(cols)-0.5 || y > float64(rows)-0.5 {
			return 0, false
		}
		x = math.Max(0, math.Min(float64(cols-1), x))
		y = math.Max(0, math.Min(float64(rows-1), y))
		x0, y0 := int(x), int(y)
		x1, y1 := min(x0+1, cols-1), min(y0+1, rows-1)
		fx, fy := x-float64(x0), y-float64(y0)
		sl := in[k*plane : (k+1)*plane]
		a := float64(sl[y0*cols+x0])*(1-fx) + float64(sl[y0*cols+x1])*fx
		b := float64(sl[y1*cols+x0])*(1-fx) + float64(sl[y1*cols+x1])*fx
		return a*(1-fy) + b*fy, true
	}
	for z := range g.Dims[2] {
		planes(z+1, g.Dims[2])
		d := float64(z) * g.Spacing[2]
		k := sort.SearchFloat64s(dist, d) // first slice at or beyond d
		var k0, k1 int
		var f float64
		switch {
		case k < len(dist) && math.Abs(dist[k]-d) < 1e-6:
			k0, k1 = k, k
		case k == 0:
			k0, k1 = 0, 0
		case k >= len(dist):
			k0, k1 = len(dist)-1, len(dist)-1
		default:
			k0, k1 = k-1, k
			f = (d - dist[k0]) / (dist[k1] - dist[k0])
		}
		dst := out[z*g.Dims[0]*g.Dims[1] : (z+1)*g.Dims[0]*g.Dims[1]]
		if !sheared {
			a, b := in[k0*plane:(k0+1)*plane], in[k1*plane:(k1+1)*plane]
			for i := range dst {
				dst[i] = int16(math.Round(float64(a[i])*(1-f) + float64(b[i])*f))
			}
			continue
		}
		for y := range g.Dims[1] {
			w := oy + float64(y)*g.Spacing[1]
			for x := range g.Dims[0] {
				u := ox + float64(x)*g.Spacing[0]
				a, okA := sample(k0, u, w)
				b, okB := sample(k1, u, w)
				if !okA || !okB {
					dst[y*g.Dims[0]+x] = PaddingHU
					continue
				}
				dst[y*g.Dims[0]+x] = int16(math.Round(a*(1-f) + b*f))
			}
		}
	}
}
