package synth

import (
	"fmt"
	"math"
	"strings"
)

// Kind is a finding type; its string is the "type" in the ground truth.
type Kind string

// The finding types the generator draws.
const (
	LungNodule      Kind = "lung_nodule"
	PleuralEffusion Kind = "pleural_effusion"
	Pneumothorax    Kind = "pneumothorax"
	Consolidation   Kind = "consolidation"
	Cardiomegaly    Kind = "cardiomegaly"
	LiverLesion     Kind = "liver_lesion"
	KidneyStone     Kind = "kidney_stone"
	RibFracture     Kind = "rib_fracture"
)

// kindTable holds each kind's draw weight and the size range drawn (mm).
// Placement order follows the table: pleural findings take their space
// before the lesions that must avoid them.
var kindTable = []struct {
	kind     Kind
	weight   float64
	min, max float64 // size drawn when not forced
	limit    float64 // largest size a FindingSpec may ask for
	sided    bool    // ParseFindingSpec accepts a side
}{
	{Cardiomegaly, 0.11, 0, 0, 0, false},
	{PleuralEffusion, 0.14, 12, 70, 90, true}, // fluid depth at the lung base
	{Pneumothorax, 0.09, 6, 40, 50, true},     // rim depth
	{Consolidation, 0.13, 30, 70, 90, true},   // blob diameter before clipping to the lobe
	{LungNodule, 0.22, 2, 30, 30, true},       // diameter
	{LiverLesion, 0.12, 8, 50, 60, true},      // diameter; side is the hepatic lobe
	{KidneyStone, 0.10, 2, 15, 20, true},      // diameter
	{RibFracture, 0.09, 2, 6, 12, true},       // gap between fragments
}

// Kinds lists the finding types in placement order.
func Kinds() []Kind {
	out := make([]Kind, len(kindTable))
	for i, k := range kindTable {
		out[i] = k.kind
	}
	return out
}

func kindIndex(k Kind) int {
	for i, t := range kindTable {
		if t.kind == k {
			return i
		}
	}
	return -1
}

// FindingSpec asks for a finding instead of drawing one: the kind, and
// optionally its side ("right" or "left") and size in mm (zero: drawn).
type FindingSpec struct {
	Kind   Kind
	Side   string
	SizeMM float64
}

// ParseFindingSpec reads "kind", "kind:side", "kind:size" or
// "kind:side:size", for example "lung_nodule:right:12".
func ParseFindingSpec(s string) (FindingSpec, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	spec := FindingSpec{Kind: Kind(strings.ToLower(parts[0]))}
	i := kindIndex(spec.Kind)
	if i < 0 {
		var names []string
		for _, k := range Kinds() {
			names = append(names, string(k))
		}
		return spec, fmt.Errorf("unknown finding %q; choose from %s", parts[0], strings.Join(names, ", "))
	}
	for _, p := range parts[1:] {
		switch p = strings.ToLower(p); {
		case p == "right" || p == "left":
			if !kindTable[i].sided {
				return spec, fmt.Errorf("finding %s has no side; drop %q", spec.Kind, p)
			}
			spec.Side = p
		default:
			var v float64
			if _, err := fmt.Sscanf(p, "%g", &v); err != nil || v <= 0 {
				return spec, fmt.Errorf("finding %q: %q is neither a side (right, left) nor a size in mm", s, p)
			}
			if kindTable[i].limit == 0 {
				return spec, fmt.Errorf("finding %s takes no size; drop %q", spec.Kind, p)
			}
			if v > kindTable[i].limit {
				return spec, fmt.Errorf("finding %q: size %g mm is over the %g mm allowed for %s; use a smaller size", s, v, kindTable[i].limit, spec.Kind)
			}
			spec.SizeMM = v
		}
	}
	return spec, nil
}

// Finding is one abnormality in the ground truth. Positions are LPS mm and
// continuous voxel indices (column, row, slice) of the first series' grid;
// see Geometry for that grid.
type Finding struct {
	ID          int        `json:"id"`
	Type        Kind       `json:"type"`
	Side        string     `json:"side,omitempty"` // patient side; for the liver, the hepatic lobe
	Lobe        string     `json:"lobe,omitempty"` // upper, middle, lower
	Segment     string     `json:"segment,omitempty"`
	Rib         int        `json:"rib,omitempty"`
	Aspect      string     `json:"aspect,omitempty"` // rib: posterior/lateral/anterior; kidney: upper pole/interpolar/lower pole
	Location    string     `json:"location"`
	CenterLPS   [3]float64 `json:"center_lps"`
	CenterVoxel [3]float64 `json:"center_voxel"`
	SizeMM      float64    `json:"size_mm"`
	SizeMeasure string     `json:"size_measure"` // what size_mm measures
	VolumeML    float64    `json:"volume_ml,omitempty"`
	HU          float64    `json:"hu"` // the value at the centre, noise aside
	// CenterClean says the noiseless image holds HU (±3) over the 3×3
	// pixels around the centre's nearest voxel and half a slice either
	// way in the first series: a reader averaging that block there sees
	// HU plus noise. False when the finding is small for the grid.
	CenterClean bool `json:"center_clean"`
	// Bounds of the finding: LPS box and the box of continuous voxel
	// indices it spans in the first series' grid ([min, max] each), to
	// tell which slices show it.
	BoundsLPS   [2][3]float64 `json:"bounds_lps"`
	BoundsVoxel [2][3]float64 `json:"bounds_voxel"`
	Severity    string        `json:"severity,omitempty"`
	CTR         float64       `json:"cardiothoracic_ratio,omitempty"`
}

// placed is a finding with what paints it and the space it takes.
type placed struct {
	f      Finding
	center vec3
	bb     box // tight bounds; the region's own when zero
	paint  []layer
	region shape // other findings keep out of it
	cut    *[3]float64
	ribKey [2]int
	valueH bool // hu is read from the model at the centre, not nominal
}

// drawKinds draws how many findings a case has (0–3) and which, each kind
// independently by weight.
func drawKinds(r *rng) []Kind {
	n := 0
	switch u := r.float(); {
	case u < 0.25:
		n = 0
	case u < 0.60:
		n = 1
	case u < 0.85:
		n = 2
	default:
		n = 3
	}
	var total float64
	for _, k := range kindTable {
		total += k.weight
	}
	var out []Kind
	for len(out) < n {
		u := r.float() * total
		for _, k := range kindTable {
			if u -= k.weight; u < 0 {
				out = append(out, k.kind)
				break
			}
		}
		if len(out) > 0 && out[len(out)-1] == Cardiomegaly && count(out, Cardiomegaly) > 1 {
			out = out[:len(out)-1] // a heart is enlarged once
		}
	}
	return out
}

func count(ks []Kind, k Kind) int {
	n := 0
	for _, x := range ks {
		if x == k {
			n++
		}
	}
	return n
}

// placer puts findings into a built anatomy.
type placer struct {
	a      *anatomy
	r      *rng
	placed []*placed
	sides  map[Kind][2]bool // pleural space already taken
}

// keepsOut reports whether a ball of radius rad at p stays clear of every
// finding placed so far.
func (pl *placer) keepsOut(p vec3, rad float64) bool {
	for _, q := range pl.placed {
		if q.region == nil {
			continue
		}
		if d, _ := q.region.sdf(p); d < rad+3 {
			return false
		}
	}
	return true
}

func (pl *placer) side(spec FindingSpec) int {
	switch spec.Side {
	case "right":
		return right
	case "left":
		return left
	}
	return pl.r.intn(2)
}

func (pl *placer) size(spec FindingSpec, log bool) float64 {
	if spec.SizeMM > 0 {
		return spec.SizeMM
	}
	t := kindTable[kindIndex(spec.Kind)]
	if log {
		return round1(pl.r.logUniform(t.min, t.max))
	}
	return round1(pl.r.uniform(t.min, t.max))
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// lobeOf names the lobe of lung side that holds p.
func (a *anatomy) lobeOf(side int, p vec3) string {
	if d, _ := a.oblique[side].sdf(p); d > 0 {
		return "lower"
	}
	if side == right {
		if d, _ := a.horizontal.sdf(p); d < 0 {
			return "middle"
		}
	}
	return "upper"
}

// fissureDistance is how far p lies from the nearest fissure of its lung.
func (a *anatomy) fissureDistance(side int, p vec3) float64 {
	d, _ := a.oblique[side].sdf(p)
	d = math.Abs(d)
	if side == right && a.lobeOf(side, p) != "lower" {
		h, _ := a.horizontal.sdf(p)
		d = math.Min(d, math.Abs(h))
	}
	return d
}

// lobeRegion is the lobe as a shape, for clipping a consolidation.
func (a *anatomy) lobeRegion(side int, lobe string) shape {
	ob := a.oblique[side]
	switch lobe {
	case "lower":
		return newIntersect(a.lung[side], complement{ob})
	case "middle":
		return newIntersect(a.lung[side], ob, a.horizontal)
	}
	if side == right {
		return newIntersect(a.lung[side], ob, complement{a.horizontal})
	}
	return newIntersect(a.lung[side], ob)
}

func (pl *placer) drawLobe(side int) string {
	u := pl.r.float()
	if side == right {
		switch {
		case u < 0.45:
			return "upper"
		case u < 0.6:
			return "middle"
		}
		return "lower"
	}
	if u < 0.55 {
		return "upper"
	}
	return "lower"
}

// sampleIn draws points uniformly in bb until ok accepts one.
func (pl *placer) sampleIn(bb box, tries int, ok func(p vec3) bool) (vec3, bool) {
	for i := 0; i < tries; i++ {
		p := vec3{pl.r.uniform(bb.lo.X, bb.hi.X), pl.r.uniform(bb.lo.Y, bb.hi.Y), pl.r.uniform(bb.lo.Z, bb.hi.Z)}
		if ok(p) {
			return p, true
		}
	}
	return vec3{}, false
}

// randomRot is a uniformly random orientation for lesions.
func (pl *placer) randomRot() mat3 {
	return rotXYZ(pl.r.uniform(0, 2*math.Pi), pl.r.uniform(0, 2*math.Pi), pl.r.uniform(0, 2*math.Pi))
}

// extent is what measure finds out about a region.
type extent struct {
	ml      float64 // volume
	size    float64 // largest axis-aligned extent, mm
	deepest vec3    // the point farthest inside
	depth   float64 // how far inside it is
	bb      box     // tight bounds of the samples inside
}

// measure integrates a region on a grid of step h: its volume, extent and
// bounds, and its deepest point, which becomes the finding's centre so that
// a reader sampling there sees the finding's value and not its edge. A
// coarse pass over blocks of 4×4×4 samples skips blocks whose centre is
// clearly outside; the distance estimates are close to Euclidean near the
// surface, and the 1.5 factor covers their error.
func measure(s shape, h float64) extent {
	bb := s.bounds()
	lo := vec3{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := vec3{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	n := 0
	depth := math.Inf(1)
	var deepest vec3
	const k = 4
	H := h * k
	skip := 1.5*H*math.Sqrt(3)/2 + h
	for bz := bb.lo.Z; bz < bb.hi.Z; bz += H {
		for by := bb.lo.Y; by < bb.hi.Y; by += H {
			for bx := bb.lo.X; bx < bb.hi.X; bx += H {
				if d, _ := s.sdf(vec3{bx + H/2, by + H/2, bz + H/2}); d > skip {
					continue
				}
				for z := bz + h/2; z < min(bz+H, bb.hi.Z); z += h {
					for y := by + h/2; y < min(by+H, bb.hi.Y); y += h {
						for x := bx + h/2; x < min(bx+H, bb.hi.X); x += h {
							p := vec3{x, y, z}
							d, _ := s.sdf(p)
							if d >= 0 {
								continue
							}
							n++
							lo = vec3{min(lo.X, x), min(lo.Y, y), min(lo.Z, z)}
							hi = vec3{max(hi.X, x), max(hi.Y, y), max(hi.Z, z)}
							if d < depth {
								depth, deepest = d, p
							}
						}
					}
				}
			}
		}
	}
	if n == 0 {
		return extent{}
	}
	b := box{lo, hi}.grow(h / 2)
	ext := b.hi.sub(b.lo)
	return extent{ml: float64(n) * h * h * h / 1000, size: max(ext.X, ext.Y, ext.Z), deepest: deepest, depth: -depth, bb: b}
}

func (pl *placer) place(spec FindingSpec) (*placed, error) {
	a := pl.a
	switch spec.Kind {
	case Cardiomegaly:
		f := Finding{Type: Cardiomegaly, Location: "heart", SizeMeasure: "transverse cardiac diameter",
			SizeMM: round1(2 * a.heart.extentX()), CTR: round2(a.p.ctr)}
		switch {
		case a.p.ctr < 0.6:
			f.Severity = "mild"
		case a.p.ctr < 0.65:
			f.Severity = "moderate"
		default:
			f.Severity = "marked"
		}
		return &placed{f: f, center: a.heart.c, valueH: true}, nil

	case PleuralEffusion, Pneumothorax:
		side := pl.side(spec)
		taken := pl.sides[PleuralEffusion][side] || pl.sides[Pneumothorax][side]
		if taken && spec.Side == "" {
			side = 1 - side
			taken = pl.sides[PleuralEffusion][side] || pl.sides[Pneumothorax][side]
		}
		if taken {
			return nil, fmt.Errorf("the %s pleural space already holds an effusion or pneumothorax; put the other one on the other side", sideNames[side])
		}
		depth := pl.size(spec, false)
		var region shape
		f := Finding{Type: spec.Kind, Side: sideNames[side]}
		if spec.Kind == PleuralEffusion {
			// Fluid gathers where the patient is lowest: along the
			// posterior chest wall (the patient is supine) and in the
			// costophrenic recesses. The lung, shifted forwards by the
			// depth and upwards by 0.6 of it, leaves exactly that
			// crescent uncovered; a level rising towards the apex (0.5 mm
			// forward per mm up, from two depths in front of the back
			// wall at the dome) makes the layer thin out and end about
			// four depths above the diaphragm.
			x := a.p.cx + sgn(side)*0.6*a.lungEll[side].r.X
			zb := a.z(-a.p.domeR)
			if side == left {
				zb = a.z(-a.p.domeL)
			}
			yBack := a.p.cy
			for y := a.p.cy + 200; y > a.p.cy-200; y -= 0.5 {
				if d, _ := a.lung[side].sdf(vec3{x, y, zb + 5}); d < 0 {
					yBack = y
					break
				}
			}
			n := vec3{0, -1, 0.5}.unit()
			level := halfspace{n: n, off: n.dot(vec3{0, yBack - 2*depth, zb})}
			region = newIntersect(a.lung[side], complement{translate{a.lung[side], vec3{0, -depth, 0.6 * depth}}}, level)
			f.HU = math.Round(pl.r.uniform(5, 15))
			f.SizeMeasure = "maximal fluid depth"
		} else {
			region = newIntersect(a.lung[side], complement{translate{a.lung[side], vec3{0, depth, 0}}})
			f.HU = airHU
			f.SizeMeasure = "maximal rim depth"
		}
		m := measure(region, 3)
		ml, c := m.ml, m.deepest
		if ml == 0 {
			return nil, fmt.Errorf("%s: empty region (a generator bug: report the seed and case)", spec.Kind)
		}
		f.SizeMM, f.VolumeML, f.Location = depth, math.Round(ml), sideNames[side]+" hemithorax"
		if spec.Kind == PleuralEffusion {
			f.Severity = sev(ml, 300, 1000)
		} else {
			f.Severity = sev(depth, 15, 30)
		}
		s := pl.sides[spec.Kind]
		s[side] = true
		pl.sides[spec.Kind] = s
		return &placed{f: f, center: c, region: region, bb: m.bb, paint: []layer{newLayer(string(spec.Kind), f.HU, region, nil)}}, nil

	case LungNodule, Consolidation:
		side := pl.side(spec)
		diam := pl.size(spec, spec.Kind == LungNodule)
		lobe := pl.drawLobe(side)
		margin := diam/2 + 3
		if spec.Kind == Consolidation {
			margin = 12
		}
		var c vec3
		ok := false
		for attempt := 0; attempt < 3 && !ok; attempt++ {
			c, ok = pl.sampleIn(a.lung[side].bounds(), 3000, func(p vec3) bool {
				d, _ := a.lung[side].sdf(p)
				return d < -margin && a.lobeOf(side, p) == lobe && a.fissureDistance(side, p) > margin && pl.keepsOut(p, diam/2+2)
			})
			if !ok {
				lobe = pl.drawLobe(side)
			}
		}
		if !ok {
			return nil, fmt.Errorf("no room for a %.1f mm %s in the %s lung; ask for a smaller size or the other side", diam, spec.Kind, sideNames[side])
		}
		f := Finding{Type: spec.Kind, Side: sideNames[side], Lobe: lobe, Location: sideNames[side] + " " + lobe + " lobe"}
		semi := vec3{diam / 2, diam / 2 * pl.r.uniform(0.85, 1), diam / 2 * pl.r.uniform(0.85, 1)}
		blob := newEllipsoid(c, semi, pl.randomRot())
		if spec.Kind == LungNodule {
			f.HU, f.SizeMM, f.SizeMeasure = 30, diam, "longest diameter"
			f.VolumeML = round2(4.0 / 3 * math.Pi * semi.X * semi.Y * semi.Z / 1000)
			return &placed{f: f, center: c, region: blob, paint: []layer{newLayer("nodule", f.HU, blob, nil)}}, nil
		}
		region := newIntersect(blob, a.lobeRegion(side, lobe))
		m := measure(region, 2)
		f.HU, f.SizeMM, f.SizeMeasure, f.VolumeML = 35, round1(m.size), "largest extent", math.Round(m.ml)
		return &placed{f: f, center: m.deepest, region: region, bb: m.bb, paint: []layer{newLayer("consolidation", f.HU, region, nil)}}, nil

	case LiverLesion:
		diam := pl.size(spec, false)
		var c vec3
		ok := false
		want := spec.Side
		c, ok = pl.sampleIn(a.liver.bounds(), 5000, func(p vec3) bool {
			d, _ := a.liver.sdf(p)
			return d < -(diam/2+4) && pl.keepsOut(p, diam/2+2) && (want == "" || a.liverSide(p) == want)
		})
		if !ok {
			return nil, fmt.Errorf("no room for a %.1f mm liver lesion; ask for a smaller one", diam)
		}
		seg := a.liverSegment(c)
		semi := vec3{diam / 2, diam / 2 * pl.r.uniform(0.85, 1), diam / 2 * pl.r.uniform(0.85, 1)}
		blob := newEllipsoid(c, semi, pl.randomRot())
		f := Finding{Type: LiverLesion, Side: a.liverSide(c), Segment: seg, Location: "hepatic segment " + seg,
			HU: math.Round(pl.r.uniform(0, 20)), SizeMM: diam, SizeMeasure: "longest diameter",
			VolumeML: round2(4.0 / 3 * math.Pi * semi.X * semi.Y * semi.Z / 1000)}
		return &placed{f: f, center: c, region: blob, paint: []layer{newLayer("liver_lesion", f.HU, blob, nil)}}, nil

	case KidneyStone:
		side := pl.side(spec)
		diam := pl.size(spec, true)
		k := a.kidney[side]
		c, ok := pl.sampleIn(k.bounds(), 5000, func(p vec3) bool {
			d, _ := k.sdf(p)
			return d < -(diam/2+2) && pl.keepsOut(p, diam/2+1)
		})
		if !ok {
			return nil, fmt.Errorf("no room for a %.1f mm stone in the %s kidney; ask for a smaller one", diam, sideNames[side])
		}
		l := k.rot.apply(c.sub(k.c))
		pole := "interpolar region"
		switch {
		case l.Z > 0.33*k.r.Z:
			pole = "upper pole"
		case l.Z < -0.33*k.r.Z:
			pole = "lower pole"
		}
		ball := newEllipsoid(c, vec3{diam / 2, diam / 2, diam / 2}, identity())
		f := Finding{Type: KidneyStone, Side: sideNames[side], Aspect: pole, Location: sideNames[side] + " kidney, " + pole,
			HU: 800, SizeMM: diam, SizeMeasure: "diameter", VolumeML: round2(math.Pi / 6 * diam * diam * diam / 1000)}
		return &placed{f: f, center: c, region: ball, paint: []layer{newLayer("kidney_stone", f.HU, ball, nil)}}, nil

	case RibFracture:
		side := pl.side(spec)
		gap := pl.size(spec, false)
		var n int
		for tries := 0; ; tries++ {
			n = 3 + pl.r.intn(8)
			if !pl.ribTaken(side, n) {
				break
			}
			if tries > 20 {
				return nil, fmt.Errorf("every rib from 3 to 10 on the %s already has a fracture; ask for fewer or use the other side", sideNames[side])
			}
		}
		rp := a.ribs[side][n]
		s := rp.length() * pl.r.uniform(0.2, 0.8)
		c := rp.point(s)
		th := math.Atan2(math.Abs(c.X-a.p.cx), c.Y-a.p.cy) // 0 at the back, π at the front
		aspect := "anterior"
		switch {
		case th < 1.1:
			aspect = "posterior"
		case th < 2.0:
			aspect = "lateral"
		}
		f := Finding{Type: RibFracture, Side: sideNames[side], Rib: n, Aspect: aspect,
			Location: fmt.Sprintf("%s %s rib, %s", sideNames[side], ordinal(n), aspect), SizeMM: gap, SizeMeasure: "fracture gap"}
		cut := [3]float64{float64(n), s - gap/2, s + gap/2}
		return &placed{f: f, center: c, cut: &cut, ribKey: [2]int{side, n}, valueH: true,
			region: newEllipsoid(c, vec3{gap/2 + ribOuterR, gap/2 + ribOuterR, gap/2 + ribOuterR}, identity())}, nil
	}
	return nil, fmt.Errorf("unknown finding kind %q; use one of Kinds()", spec.Kind)
}

func (pl *placer) ribTaken(side, n int) bool {
	for _, q := range pl.placed {
		if q.cut != nil && q.ribKey == [2]int{side, n} {
			return true
		}
	}
	return false
}

func sev(x, a, b float64) string {
	switch {
	case x < a:
		return "small"
	case x < b:
		return "moderate"
	}
	return "large"
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

// liverSegment assigns an approximate Couinaud segment: Cantlie's line
// splits right from left, the falciform ligament splits segment IV from
// II/III, the portal plane splits superior from inferior, and the right lobe
// is split into anterior and posterior halves.
func (a *anatomy) liverSegment(p vec3) string {
	_, _, _, _, caA, _ := a.profile(-290)
	x := p.X - a.p.cx
	sup := p.Z > a.z(-280)
	switch {
	case x > 0.08*caA:
		if sup {
			return "II"
		}
		return "III"
	case x > -0.12*caA:
		return "IV"
	case p.Y < a.liverParts[0].c.Y:
		if sup {
			return "VIII"
		}
		return "V"
	default:
		if sup {
			return "VII"
		}
		return "VI"
	}
}

// liverSide is the hepatic lobe: segments II–IV form the left lobe.
func (a *anatomy) liverSide(p vec3) string {
	switch a.liverSegment(p) {
	case "II", "III", "IV":
		return "left"
	}
	return "right"
}
