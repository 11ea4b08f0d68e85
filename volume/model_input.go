package volume

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// NormKind names an intensity normalisation for model input.
type NormKind string

// The normalisations a model's config can name.
const (
	// NormWindow maps the HU window [C−W/2, C+W/2] onto [0,1], clamping.
	NormWindow NormKind = "window"
	// NormWindowSigned maps the same window onto [−1,1].
	NormWindowSigned NormKind = "window-signed"
	// NormMinMax maps the volume's own min..max onto [0,1] (M3D's choice).
	NormMinMax NormKind = "minmax"
)

// Norm is the normalisation of a model's config.
type Norm struct {
	Kind          NormKind // which mapping
	Center, Width float64  // HU, for the window kinds
}

// ParseNorm reads a normalisation written as "minmax", "window:C:W" or
// "window-signed:C:W" (C, W in HU), the form model configs use.
func ParseNorm(s string) (Norm, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	n := Norm{Kind: NormKind(parts[0])}
	switch n.Kind {
	case NormMinMax:
		if len(parts) != 1 {
			return n, fmt.Errorf("volume: normalisation %q: minmax takes no values", s)
		}
		return n, nil
	case NormWindow, NormWindowSigned:
		if len(parts) != 3 {
			return n, fmt.Errorf("volume: normalisation %q: want %s:CENTER:WIDTH", s, n.Kind)
		}
		var err1, err2 error
		n.Center, err1 = strconv.ParseFloat(parts[1], 64)
		n.Width, err2 = strconv.ParseFloat(parts[2], 64)
		if err1 != nil || err2 != nil || !(n.Width > 0) {
			return n, fmt.Errorf("volume: normalisation %q: center and a positive width in HU", s)
		}
		return n, nil
	}
	return n, fmt.Errorf("volume: normalisation %q: want minmax, window:C:W or window-signed:C:W", s)
}

// axisMap holds, for each output index along one axis, the two input
// indices and the weight of the second (trilinear = three of these).
type axisMap struct {
	i0, i1 []int
	f      []float32
}

// newAxisMap maps out samples onto in samples with centres aligned
// (PyTorch's align_corners=False): input coordinate (o+½)·in/out − ½,
// clamped to the edge.
func newAxisMap(in, out int) axisMap {
	m := axisMap{make([]int, out), make([]int, out), make([]float32, out)}
	for o := range out {
		x := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
		x = math.Max(0, math.Min(float64(in-1), x))
		i := int(x)
		m.i0[o], m.i1[o], m.f[o] = i, min(i+1, in-1), float32(x-float64(i))
	}
	return m
}

// ModelInput resamples phase t of v onto a d×h×w grid (slices × rows ×
// columns, trilinear, the grid stretched over the whole volume as a resize
// does) and normalises it as n says. The result is laid out (d, h, w) with
// w fastest, ready for a model's input tensor. Anisotropic spacing is not
// corrected: a model trained on resized volumes expects exactly this.
func ModelInput(v *Volume, t, d, h, w int, n Norm) ([]float32, error) {
	if d <= 0 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("volume: model grid %d×%d×%d is empty", d, h, w)
	}
	if t < 0 || t >= v.Phases {
		return nil, fmt.Errorf("volume: phase %d of %d", t, v.Phases)
	}
	if int64(d)*int64(h)*int64(w) > DefaultMaxVoxels {
		return nil, fmt.Errorf("volume: model grid %d×%d×%d is larger than %d voxels", d, h, w, DefaultMaxVoxels)
	}
	vox := v.Phase(t)
	var scale, offset float32 // out = hu·scale + offset, then clamped
	lo, hi := float32(0), float32(1)
	switch n.Kind {
	case NormWindow, NormWindowSigned:
		if !(n.Width > 0) {
			return nil, fmt.Errorf("volume: window width %v", n.Width)
		}
		scale = float32(1 / n.Width)
		offset = float32(-(n.Center - n.Width/2) / n.Width)
		if n.Kind == NormWindowSigned {
			scale, offset, lo = 2*scale, 2*offset-1, -1
		}
	case NormMinMax:
		st := statsOf(vox)
		if st.Max == st.Min {
			scale, offset = 0, 0
		} else {
			scale = 1 / float32(st.Max-st.Min)
			offset = -float32(st.Min) * scale
		}
	default:
		return nil, fmt.Errorf("volume: unknown normalisation %q", n.Kind)
	}
	X, Y := v.Dims[0], v.Dims[1]
	mz, my, mx := newAxisMap(v.Dims[2], d), newAxisMap(Y, h), newAxisMap(X, w)
	out := make([]float32, d*h*w)
	at := func(x, y, z int) float32 { return float32(vox[x+X*(y+Y*z)]) }
	for k := range d {
		z0, z1, fz := mz.i0[k], mz.i1[k], mz.f[k]
		for j := range h {
			y0, y1, fy := my.i0[j], my.i1[j], my.f[j]
			row := out[(k*h+j)*w : (k*h+j+1)*w]
			for i := range w {
				x0, x1, fx := mx.i0[i], mx.i1[i], mx.f[i]
				c00 := at(x0, y0, z0)*(1-fx) + at(x1, y0, z0)*fx
				c10 := at(x0, y1, z0)*(1-fx) + at(x1, y1, z0)*fx
				c01 := at(x0, y0, z1)*(1-fx) + at(x1, y0, z1)*fx
				c11 := at(x0, y1, z1)*(1-fx) + at(x1, y1, z1)*fx
				c0 := c00*(1-fy) + c10*fy
				c1 := c01*(1-fy) + c11*fy
				val := (c0*(1-fz)+c1*fz)*scale + offset
				row[i] = min(hi, max(lo, val))
			}
		}
	}
	return out, nil
}
