package synth

import "math"

// Sides are patient sides. In LPS, +X points to the patient's left, so the
// right lung lies at negative X.
const (
	right = 0
	left  = 1
)

var sideNames = [2]string{"right", "left"}

// sgn is −1 for the right side and +1 for the left, the sign of X there.
func sgn(side int) float64 { return float64(2*side - 1) }

// Nominal attenuations in HU. Findings and organs in the ground truth quote
// these values, and the tests compare pixels with them.
const (
	huFat         = -100
	huMuscle      = 40
	huCavityFat   = -90
	huMediastinum = -80
	huLung        = -850
	huFissure     = -700
	huSoftTissue  = 40
	huMyocardium  = 40
	huBloodPlain  = 40
	huLiver       = 60
	huSpleen      = 45
	huKidney      = 30
	huSinusFat    = -40
	huStomach     = 15
	huCortical    = 1000
	huCancellous  = 250
	huDisc        = 90
	huCSF         = 15
	huArch        = 700
	huSternum     = 400
)

// scanExtentMM is the length of patient covered, from above the lung apices
// to the kidneys, whatever the slice count; more slices make them thinner.
const scanExtentMM = 370

// params are a patient's draws: body habitus, organ sizes, acquisition.
type params struct {
	cx, cy   float64 // body axis in LPS (mm)
	zTop     float64 // LPS z of the top of the scanned range
	sx, sy   float64 // lateral and antero-posterior scale of the trunk
	fat      float64 // subcutaneous fat over the chest (mm)
	domeR    float64 // right hemidiaphragm top, mm below zTop
	domeL    float64 // left hemidiaphragm top
	ctr      float64 // cardiothoracic ratio the heart is sized to
	contrast bool    // intravenous contrast: bright blood pool and aorta
	bloodHU  float64
	obl      float64 // oblique fissure slope jitter
}

func drawParams(r *rng, zFirst, dz float64) params {
	p := params{
		cx:    r.uniform(-8, 8),
		cy:    r.uniform(-10, 10),
		zTop:  zFirst + dz/2,
		sx:    r.uniform(0.9, 1.1),
		sy:    r.uniform(0.92, 1.1),
		fat:   r.uniform(8, 28),
		domeR: r.uniform(205, 225),
		ctr:   r.uniform(0.40, 0.48),
		obl:   r.uniform(-0.1, 0.1),
	}
	p.domeL = p.domeR + r.uniform(8, 18)
	p.contrast = r.chance(0.5)
	p.bloodHU = huBloodPlain
	if p.contrast {
		p.bloodHU = math.Round(r.uniform(180, 300))
	}
	return p
}

// anatomy is the built patient: shapes the findings are placed in, and the
// layers that paint it.
type anatomy struct {
	p params

	bodyOuter, cavity *column
	lung              [2]shape
	lungEll           [2]*ellipsoid
	oblique           [2]halfspace // inside: upper (and middle) lobe
	horizontal        halfspace    // right lung; inside: below the fissure
	heart             *ellipsoid
	liver             shape
	liverParts        [2]*ellipsoid
	kidney            [2]*ellipsoid
	spleen            *ellipsoid
	ribs              [2][13]ribPath // [side][1..12]
	spineY            float64        // vertebral body centre (LPS y)
	vertebrae         []float64      // centre z of each vertebral body

	soft []layer // everything but the ribs, in painting order
	refs []organRef
}

// organRef is a place where a reader should find an organ's nominal value;
// candidates are tried in order, since vessels or fissures may cross some.
type organRef struct {
	name       string
	hu         float64
	candidates []vec3
	shape      shape // for the bounds; nil when not reported
	tight      bool  // bounds by integration (clipped organs)
}

// za turns a height below the top of the scan into LPS z.
func (a *anatomy) z(za float64) float64 { return a.p.zTop + za }

// at places a point given relative to the body axis and the scan top.
func (a *anatomy) at(x, y, za float64) vec3 { return vec3{a.p.cx + x, a.p.cy + y, a.p.zTop + za} }

// profile returns the body's semi-axes, the fat and muscle thickness and the
// cavity's semi-axes at height za. The trunk widens slightly at the abdomen,
// the fat thickens there, and shoulder-girdle muscle narrows the cavity at
// the top.
func (a *anatomy) profile(za float64) (ba, bb, fat, mus, ca, cb float64) {
	ab := smoothstep(-230, -300, za)
	ba = a.p.sx * (166 - 8*ab)
	bb = a.p.sy * (112 + 6*ab)
	fat = a.p.fat * (1 + 0.5*ab)
	mus = 14 - 4*ab + 24*(1-smoothstep(-5, -75, za))
	ca, cb = ba-fat-mus, bb-fat-mus
	return
}

// buildAnatomy builds the patient's shapes and painting layers from the
// drawn parameters; r draws the pulmonary vessel trees.
func buildAnatomy(p params, r *rng) *anatomy {
	a := &anatomy{p: p}
	zlo, zhi := a.z(-scanExtentMM-400), a.z(400)
	prof := func(sel int) func(z float64) (float64, float64, float64, float64) {
		return func(z float64) (float64, float64, float64, float64) {
			ba, bb, fat, _, ca, cb := a.profile(z - p.zTop)
			switch sel {
			case 0:
				return p.cx, p.cy, ba, bb
			case 1:
				return p.cx, p.cy, ba - fat, bb - fat
			case 2:
				return p.cx, p.cy, ca, cb
			default: // lungs stop 1 mm short of the chest wall: the pleura
				return p.cx, p.cy, ca - 1, cb - 1
			}
		}
	}
	a.bodyOuter = newColumn(prof(0), true, zlo, zhi)
	muscle := newColumn(prof(1), true, zlo, zhi)
	a.cavity = newColumn(prof(2), false, zlo, zhi)
	pleura := newColumn(prof(3), false, zlo, zhi)

	_, _, _, _, ca0, cb0 := a.profile(-150) // mid-chest cavity
	_, _, _, _, caA, cbA := a.profile(-290) // upper abdomen cavity
	kx, ky := ca0/136, cb0/83               // scale of the nominal 136×83 mm chest

	// Vertebral column geometry, needed by most of what follows.
	rv := func(za float64) float64 { return 15 + 7*smoothstep(0, -scanExtentMM, za) }
	a.spineY = p.cy + 0.62*cb0
	yv := a.spineY - p.cy // relative to body axis

	// Diaphragm: two domes, the right one higher, each lowest at the
	// posterior costophrenic recess.
	dia := func(below bool, off float64) *diaphragm {
		return &diaphragm{
			right: dome{x0: p.cx - 0.45*ca0, y0: p.cy - 10, top: a.z(-p.domeR), ax: 0.55 * ca0, ay: 0.9 * cb0, h: 45},
			left:  dome{x0: p.cx + 0.45*ca0, y0: p.cy - 10, top: a.z(-p.domeL), ax: 0.55 * ca0, ay: 0.9 * cb0, h: 45},
			midX:  p.cx, below: below, off: off,
		}
	}
	thorax := dia(false, 0)
	abdomen := dia(true, -4) // 4 mm of diaphragm muscle between lung and liver

	// Heart: an ellipsoid whose long axis points to the left, anteriorly and
	// down, scaled so that its transverse diameter over the internal thoracic
	// diameter at its centre equals the drawn cardiothoracic ratio.
	hc := a.at(18*kx, -0.3*cb0, -190)
	hrot := rotXYZ(0, 20*math.Pi/180, -35*math.Pi/180)
	_, _, _, _, caH, _ := a.profile(-190)
	heartAt := func(s float64) *ellipsoid {
		return newEllipsoid(hc, vec3{58 * s, 44 * math.Pow(s, 0.6), 52 * math.Pow(s, 0.7)}, hrot)
	}
	lo, hi := 0.3, 3.0
	for it := 0; it < 60; it++ {
		mid := (lo + hi) / 2
		if heartAt(mid).extentX()/caH < p.ctr {
			lo = mid
		} else {
			hi = mid
		}
	}
	a.heart = heartAt((lo + hi) / 2)
	heartGuard := newEllipsoid(hc, a.heart.r.add(vec3{2, 2, 2}), hrot)

	// Mediastinum: an anterior column, narrow above the arch, and a
	// posterior one that holds the spine front, oesophagus and descending
	// aorta.
	antMed := newColumn(func(z float64) (float64, float64, float64, float64) {
		za := z - p.zTop
		_, _, _, _, _, cb := a.profile(za)
		w := (16 + 14*smoothstep(-55, -110, za)) * kx
		return p.cx + 5, p.cy - 0.29*cb, w, 0.72 * cb
	}, true, a.z(-scanExtentMM-50), a.z(10))
	postMed := newColumn(func(z float64) (float64, float64, float64, float64) {
		return p.cx + 6, p.cy + 0.45*cb0, 38 * kx, 26 * ky
	}, false, a.z(-scanExtentMM-50), a.z(10))
	mediastinum := newUnion(antMed, postMed)

	// Lungs: ellipsoids trimmed by the pleura, the diaphragm, the
	// mediastinum and the heart.
	for side := right; side <= left; side++ {
		s := sgn(side)
		a.lungEll[side] = newEllipsoid(a.at(s*0.5*ca0, 0.12*cb0, -150), vec3{0.56 * ca0, 1.05 * cb0, 142}, identity())
		a.lung[side] = newIntersect(a.lungEll[side], pleura, thorax, complement{mediastinum}, complement{heartGuard})
		// Oblique fissure: from high at the back to the diaphragm in front.
		// Its normal lies in the y–z plane; lower lobe is n·p > off.
		slope := 1 + p.obl
		n := vec3{0, 1, -slope}.unit()
		q := a.at(0, 0.9*cb0, -95+10*float64(side))
		a.oblique[side] = halfspace{n: n, off: n.dot(q)}
	}
	a.horizontal = halfspace{n: vec3{0, 0, 1}, off: a.z(-140)}

	// Airways.
	yt := yv - rv(-60) - 9 - 8 - 12
	carina := a.at(0, yt+5, -118)
	var airWalls, airLumens []shape
	tube := func(p0, p1 vec3, lumen float64) {
		airWalls = append(airWalls, capsule{p0, p1, lumen + 1.6})
		airLumens = append(airLumens, capsule{p0, p1, lumen})
	}
	tube(a.at(0, yt, 10), carina, 9)
	rmb := a.at(-28*kx, yt+10, -138)
	bi := a.at(-32*kx, yt+14, -165)
	lmb := a.at(40*kx, yt+12, -150)
	tube(carina, rmb, 6.5)
	tube(rmb, a.at(-58*kx, yt+6, -126), 4)
	tube(rmb, bi, 5)
	tube(bi, a.at(-52*kx, yt-22, -178), 3.5)
	tube(bi, a.at(-42*kx, yt+32, -200), 4.5)
	tube(carina, lmb, 5.5)
	tube(lmb, a.at(62*kx, yt-2, -138), 4)
	tube(lmb, a.at(50*kx, yt+28, -185), 4.5)

	// Great vessels: a Catmull–Rom aorta from the root over the arch down
	// the left front of the spine, the pulmonary trunk, the venae cavae.
	aortaPts := []vec3{
		a.at(8*kx, -0.24*cb0, -178), a.at(2*kx, -0.4*cb0, -140), a.at(2*kx, -0.38*cb0, -108),
		a.at(10*kx, -0.15*cb0, -88), a.at(22*kx, 0.15*cb0, -92), a.at(25*kx, yv-21, -118),
		a.at(24*kx, yv-21, -200), a.at(12*kx, yv-rv(-280)-11, -270), a.at(8*kx, yv-rv(-370)-11, -scanExtentMM-20),
	}
	aortaR := []float64{15, 15, 14.5, 14, 13, 12, 11.5, 10.5, 10}
	var vessels []shape
	for _, c := range spline(aortaPts, aortaR, 6) {
		vessels = append(vessels, c)
	}
	pa := a.at(14*kx, -0.25*cb0, -132)
	vessels = append(vessels,
		capsule{a.at(10*kx, -0.38*cb0, -168), pa, 13},
		capsule{pa, a.at(48*kx, yt+8, -140), 10},
		capsule{pa, a.at(-44*kx, yt+6, -142), 10},
		capsule{a.at(-24*kx, -0.2*cb0, -20), a.at(-22*kx, -0.2*cb0, -160), 9},
		capsule{a.at(-22*kx, yv-30, -scanExtentMM-20), a.at(-22*kx, yv-30, -205), 11},
	)

	// Heart chambers (only visible with contrast), in the heart's frame.
	var chambers []shape
	hr := a.heart.r
	for _, ch := range [][2]vec3{
		{{0.15, 0.15, 0}, {0.5, 0.38, 0.45}},   // left ventricle
		{{0.05, -0.45, 0.1}, {0.45, 0.3, 0.4}}, // right ventricle
		{{-0.55, 0.35, 0.2}, {0.3, 0.3, 0.35}}, // left atrium
		{{-0.45, -0.35, 0.1}, {0.3, 0.3, 0.4}}, // right atrium
	} {
		c := hc.add(hrot.applyT(ch[0].mul(hr)))
		chambers = append(chambers, newEllipsoid(c, ch[1].mul(hr), hrot))
	}

	// Pulmonary vessel trees from each hilum.
	var trees [2][]capsule
	for side := right; side <= left; side++ {
		s := sgn(side)
		hilum := a.at(s*46*kx, yt+10, -146)
		// Roots spread over the directions that point away from the
		// mediastinum (a Fibonacci sphere), stretched along Z because
		// the lung is tallest that way.
		const roots = 16
		for k := 0; k < roots; k++ {
			zc := 1 - 2*(float64(k)+0.5)/roots
			ph := float64(k) * math.Pi * (3 - math.Sqrt(5))
			rr := math.Sqrt(1 - zc*zc)
			d := vec3{math.Abs(rr*math.Cos(ph))*s + 0.15*s, rr * math.Sin(ph), 1.7 * zc}
			growTree(&trees[side], r, hilum, d.unit(), 26, 3.6, 6, hilum)
		}
	}

	// Abdomen.
	a.liverParts[0] = newEllipsoid(a.at(-0.42*caA, 0.05*cbA, -292), vec3{0.56 * caA, 0.85 * cbA, 90}, identity())
	a.liverParts[1] = newEllipsoid(a.at(0.1*caA, -0.5*cbA, -255), vec3{0.45 * caA, 0.32 * cbA, 45}, rotXYZ(0, 0, 0.2))
	a.liver = newIntersect(newUnion(a.liverParts[0], a.liverParts[1]), abdomen, a.cavity)
	a.spleen = newEllipsoid(a.at(0.62*caA, 0.42*cbA, -262), vec3{28, 48, 52}, rotXYZ(0, 0, 35*math.Pi/180))
	stomachC := a.at(0.32*caA, -0.25*cbA, -262)
	stomach := newEllipsoid(stomachC, vec3{42, 34, 48}, identity())
	var kidneySinus [2]*ellipsoid
	for side := right; side <= left; side++ {
		s := sgn(side)
		zk := -318.0
		if side == right {
			zk = -332
		}
		c := a.at(s*0.42*caA, yv+4, zk)
		rot := rotXYZ(-10*math.Pi/180, -s*12*math.Pi/180, 0)
		a.kidney[side] = newEllipsoid(c, vec3{27, 22, 52}, rot)
		kidneySinus[side] = newEllipsoid(c.add(vec3{-s * 11, -5, 0}), vec3{9, 7, 26}, rot)
	}

	// Spine: vertebral bodies with discs, the posterior arch and canal,
	// spinous processes.
	spine := func(grow float64) *column {
		return newColumn(func(z float64) (float64, float64, float64, float64) {
			r := rv(z-p.zTop) + grow
			return p.cx, a.spineY, 1.1 * r, 0.9 * r
		}, false, zlo, zhi)
	}
	canalY := func(z float64) float64 { return a.spineY + 0.9*rv(z-p.zTop) + 9 }
	arch := newColumn(func(z float64) (float64, float64, float64, float64) {
		return p.cx, canalY(z), 13.5, 12
	}, false, zlo, zhi)
	canal := newColumn(func(z float64) (float64, float64, float64, float64) {
		return p.cx, canalY(z), 8, 7.5
	}, false, zlo, zhi)
	var discs, spinous []shape
	for za := 8.0; za > -scanExtentMM-30; za -= 27 + 0.02*za {
		a.vertebrae = append(a.vertebrae, a.z(za))
		zd := a.z(za - 13.5)
		discs = append(discs, newIntersect(spine(0.5), slab{n: vec3{0, 0, 1}, off: zd, half: 2.5}))
		cy := canalY(a.z(za))
		spinous = append(spinous, capsule{vec3{p.cx, cy + 10, a.z(za)}, vec3{p.cx, cy + 26, a.z(za - 12)}, 4})
	}
	sternum := newColumn(func(z float64) (float64, float64, float64, float64) {
		_, _, _, _, _, cb := a.profile(z - p.zTop)
		return p.cx, p.cy - cb - 5, 13, 6
	}, false, a.z(-205), a.z(-45))
	var paraspinal, psoas []shape
	for side := right; side <= left; side++ {
		s := sgn(side)
		paraspinal = append(paraspinal, newColumn(func(z float64) (float64, float64, float64, float64) {
			return p.cx + s*32*kx, a.spineY + 33, 24 * kx, 17
		}, false, zlo, zhi))
		psoas = append(psoas, newColumn(func(z float64) (float64, float64, float64, float64) {
			g := smoothstep(-285, -370, z-p.zTop)
			return p.cx + s*(22+12*g), a.spineY - 4, 6 + 12*g, 6 + 10*g
		}, false, zlo, a.z(-285)))
	}

	// Ribs: twelve pairs, each an elliptic arc in the chest wall starting at
	// the transverse process and sloping down towards the front.
	for side := right; side <= left; side++ {
		for n := 1; n <= 12; n++ {
			a.ribs[side][n] = a.ribPath(side, n, ca0, cb0)
		}
	}

	// Painting order: outside in, then organs, then bone.
	L := func(name string, hu float64, s shape, clip shape) {
		a.soft = append(a.soft, newLayer(name, hu, s, clip))
	}
	L("body", huFat, a.bodyOuter, nil)
	a.soft[0].body = true
	L("muscle", huMuscle, muscle, nil)
	L("cavity", huCavityFat, a.cavity, nil)
	for _, s := range paraspinal {
		L("paraspinal", huMuscle, s, nil)
	}
	for side := right; side <= left; side++ {
		L("lung_"+sideNames[side], huLung, a.lung[side], nil)
	}
	for side := right; side <= left; side++ {
		for _, c := range trees[side] {
			L("pulmonary_vessel", p.bloodHU, c, a.lung[side])
		}
		// Fissures: the oblique one in both lungs, the horizontal one in
		// the right lung's upper part.
		ob := a.oblique[side]
		L("fissure", huFissure, slab{n: ob.n, off: ob.off, half: 0.5}, a.lung[side])
	}
	L("fissure", huFissure, slab{n: a.horizontal.n, off: a.horizontal.off, half: 0.5}, newIntersect(a.lung[right], a.oblique[right]))
	L("mediastinum", huMediastinum, newIntersect(mediastinum, thorax), nil)
	L("oesophagus", huSoftTissue, capsule{a.at(5, yv-rv(-60)-9, 10), a.at(8, yv-rv(-260)-9, -262), 8}, nil)
	L("heart", huMyocardium, newIntersect(a.heart, thorax), nil)
	if p.contrast {
		for _, c := range chambers {
			L("blood_pool", p.bloodHU, c, thorax)
		}
	}
	for _, v := range vessels {
		L("great_vessel", p.bloodHU, v, nil)
	}
	for _, w := range airWalls {
		L("airway_wall", huSoftTissue, w, nil)
	}
	for _, l := range airLumens {
		L("airway", airHU, l, nil)
	}
	L("liver", huLiver, a.liver, nil)
	L("spleen", huSpleen, newIntersect(a.spleen, abdomen, a.cavity), nil)
	L("stomach", huStomach, newIntersect(stomach, abdomen), nil)
	L("stomach_gas", airHU, newIntersect(stomach, abdomen, halfspace{n: vec3{0, 1, 0}, off: stomachC.Y - 14}), nil)
	for side := right; side <= left; side++ {
		L("kidney", huKidney, a.kidney[side], nil)
		L("renal_sinus", huSinusFat, kidneySinus[side], nil)
	}
	for _, s := range psoas {
		L("psoas", huMuscle, s, nil)
	}
	// The inferior vena cava runs through the back of the liver, which was
	// painted over it; paint it again.
	L("ivc", p.bloodHU, vessels[len(vessels)-1], nil)
	L("vertebral_cortex", huCortical, spine(0), nil)
	L("vertebral_body", huCancellous, spine(-1.8), nil)
	for _, d := range discs {
		L("disc", huDisc, d, nil)
	}
	L("vertebral_arch", huArch, arch, nil)
	L("spinal_canal", huCSF, canal, nil)
	for _, s := range spinous {
		L("spinous_process", huArch, s, nil)
	}
	L("sternum", huSternum, sternum, nil)

	// Reference points for the organs.
	ref := func(name string, hu float64, pts ...vec3) {
		a.refs = append(a.refs, organRef{name: name, hu: hu, candidates: pts})
	}
	// cloud returns p and its neighbours 12 mm away along each axis, so
	// that a vessel or an edge near one candidate leaves others.
	cloud := func(ps ...vec3) []vec3 {
		var out []vec3
		for _, p := range ps {
			out = append(out, p)
		}
		for _, p := range ps {
			for _, d := range []vec3{{12, 0, 0}, {-12, 0, 0}, {0, 12, 0}, {0, -12, 0}, {0, 0, 12}, {0, 0, -12}} {
				out = append(out, p.add(d))
			}
		}
		return out
	}
	_, bb0, _, _, _, _ := a.profile(-180)
	ref("air_outside", airHU, a.at(0, -bb0-30, -180), a.at(0, -bb0-20, -120))
	for side := right; side <= left; side++ {
		s := sgn(side)
		var pts []vec3
		for _, za := range []float64{-120, -90, -170, -60, -200} {
			for _, f := range []float64{0.62, 0.75, 0.5} {
				pts = append(pts, a.at(s*f*ca0, 0.05*cb0, za), a.at(s*f*ca0, 0.45*cb0, za), a.at(s*f*ca0, -0.3*cb0, za))
			}
		}
		ref("lung_"+sideNames[side], huLung, pts...)
	}
	if p.contrast {
		lv := hc.add(hrot.applyT(vec3{0.15, 0.15, 0}.mul(hr)))
		ref("heart_blood_pool", p.bloodHU, cloud(lv)...)
	} else {
		ref("heart", huMyocardium, cloud(hc)...)
	}
	ref("aorta", p.bloodHU, a.at(24*kx, yv-21, -160), a.at(24*kx, yv-21, -190), a.at(24*kx, yv-21, -130), a.at(23*kx, yv-21, -220))
	ref("trachea", airHU, a.at(0, yt, -50), a.at(0, yt+2, -80), a.at(0, yt, -30))
	ref("liver", huLiver, cloud(a.at(-0.5*caA, 0.1*cbA, -300), a.at(-0.55*caA, 0.05*cbA, -270), a.at(-0.4*caA, -0.2*cbA, -320))...)
	ref("spleen", huSpleen, cloud(a.spleen.c, a.spleen.c.add(vec3{-5, 5, -25}))...)
	for side := right; side <= left; side++ {
		k := a.kidney[side]
		lat := vec3{sgn(side) * 12, 3, 0}
		ref("kidney_"+sideNames[side], huKidney, k.c.add(lat), k.c.add(lat).add(vec3{0, 0, 15}), k.c.add(lat).add(vec3{0, 0, -15}),
			k.c.add(lat).add(vec3{0, 0, 28}), k.c.add(lat).add(vec3{0, 0, -28}))
	}
	var vb []vec3
	for _, z := range a.vertebrae {
		if z < a.z(-100) && z > a.z(-300) {
			vb = append(vb, vec3{p.cx, a.spineY, z})
		}
	}
	ref("vertebral_body", huCancellous, vb...)
	// Below the lungs, where nothing but muscle surrounds the point.
	ref("paraspinal_muscle", huMuscle, a.at(32*kx, yv+36, -300), a.at(-32*kx, yv+36, -330), a.at(32*kx, yv+33, -340))
	for i := range a.refs {
		o := &a.refs[i]
		switch o.name {
		case "lung_right":
			o.shape, o.tight = a.lung[right], true
		case "lung_left":
			o.shape, o.tight = a.lung[left], true
		case "liver":
			o.shape, o.tight = a.liver, true
		case "heart", "heart_blood_pool":
			o.shape = a.heart
		case "spleen":
			o.shape = a.spleen
		case "kidney_right":
			o.shape = a.kidney[right]
		case "kidney_left":
			o.shape = a.kidney[left]
		}
	}
	return a
}

// spline samples a Catmull–Rom curve through pts into capsules, about step
// mm long, with radii interpolated from rs.
func spline(pts []vec3, rs []float64, step float64) []capsule {
	var out []capsule
	at := func(i int) vec3 { return pts[max(0, min(len(pts)-1, i))] }
	for i := 0; i+1 < len(pts); i++ {
		p0, p1, p2, p3 := at(i-1), at(i), at(i+1), at(i+2)
		n := max(1, int(math.Ceil(p2.sub(p1).norm()/step)))
		prev := p1
		for k := 1; k <= n; k++ {
			t := float64(k) / float64(n)
			t2, t3 := t*t, t*t*t
			q := p0.scale(-0.5*t3 + t2 - 0.5*t).
				add(p1.scale(1.5*t3 - 2.5*t2 + 1)).
				add(p2.scale(-1.5*t3 + 2*t2 + 0.5*t)).
				add(p3.scale(0.5*t3 - 0.5*t2))
			r := rs[i] + (rs[i+1]-rs[i])*t
			out = append(out, capsule{prev, q, r})
			prev = q
		}
	}
	return out
}

// growTree adds a branching vessel: a segment from p along d, then two
// children turned away from each other and from the hilum, shorter and
// thinner, until depth runs out.
func growTree(out *[]capsule, r *rng, p, d vec3, length, radius float64, depth int, hilum vec3) {
	q := p.add(d.scale(length))
	*out = append(*out, capsule{p, q, radius})
	if depth == 0 {
		return
	}
	// A random axis perpendicular to d.
	t := vec3{r.normal(), r.normal(), r.normal()}
	ax := t.sub(d.scale(t.dot(d))).unit()
	out2 := q.sub(hilum).unit()
	for _, sg := range []float64{1, -1} {
		ang := sg * r.uniform(0.35, 0.65)
		nd := d.scale(math.Cos(ang)).add(ax.scale(math.Sin(ang))).add(out2.scale(0.25)).unit()
		growTree(out, r, q, nd, length*r.uniform(0.72, 0.86), radius*0.72, depth-1, hilum)
	}
}

// ribPath is a rib's centreline: points from the spine to its front end with
// their arc length.
type ribPath struct {
	pts []vec3
	s   []float64
}

func (a *anatomy) ribPath(side, n int, ca0, cb0 float64) ribPath {
	s := sgn(side)
	za := -26 - 24.5*float64(n-1)
	// The arc keeps 6 mm outside both the cavity wall and the lung's own
	// cross-section at each height it passes (near the apex the ribs ring
	// the lung tops, not the whole chest).
	radii := func(z float64) (ra, rb float64) {
		_, _, _, _, ca, cb := a.profile(z)
		f := math.Sqrt(math.Max(0, 1-math.Pow((z+150)/142, 2)))
		return math.Min(ca, 0.5*ca0+0.56*ca0*f) + 6, math.Min(cb, 0.12*cb0+1.05*cb0*f) + 6
	}
	end := map[bool]float64{true: 2.7, false: 2.4}[n <= 7]
	switch n {
	case 11:
		end = 1.9
	case 12:
		end = 1.5
	}
	const th0 = 0.32
	const steps = 16
	var rp ribPath
	for k := 0; k <= steps; k++ {
		t := float64(k) / steps
		th := th0 + (end-th0)*t
		zt := za - 48*math.Pow(t, 1.2)
		ra, rb := radii(zt)
		p := vec3{a.p.cx + s*ra*math.Sin(th), a.p.cy + rb*math.Cos(th) + 0.1*cb0, a.z(zt)}
		if k > 0 {
			rp.s = append(rp.s, rp.s[k-1]+p.sub(rp.pts[k-1]).norm())
		} else {
			rp.s = append(rp.s, 0)
		}
		rp.pts = append(rp.pts, p)
	}
	return rp
}

// length is the rib's arc length.
func (rp ribPath) length() float64 { return rp.s[len(rp.s)-1] }

// point returns the centreline point at arc length s.
func (rp ribPath) point(s float64) vec3 {
	for k := 1; k < len(rp.pts); k++ {
		if s <= rp.s[k] || k == len(rp.pts)-1 {
			t := clamp((s-rp.s[k-1])/(rp.s[k]-rp.s[k-1]), 0, 1)
			return rp.pts[k-1].lerp(rp.pts[k], t)
		}
	}
	return rp.pts[len(rp.pts)-1]
}

// pieces returns the capsules of radius r along the rib, leaving out the
// arc lengths in the open intervals cut (a fracture gap).
func (rp ribPath) pieces(r float64, cut [][2]float64) []capsule {
	// Break points: every vertex plus the cut ends.
	ss := append([]float64(nil), rp.s...)
	for _, c := range cut {
		ss = append(ss, c[0], c[1])
	}
	sortFloats(ss)
	var out []capsule
	for k := 1; k < len(ss); k++ {
		s0, s1 := ss[k-1], ss[k]
		if s1-s0 < 1e-6 {
			continue
		}
		mid := (s0 + s1) / 2
		skip := false
		for _, c := range cut {
			if mid > c[0] && mid < c[1] {
				skip = true
			}
		}
		if !skip {
			out = append(out, capsule{rp.point(s0), rp.point(s1), r})
		}
	}
	return out
}

func sortFloats(x []float64) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// Rib cross-section: cortex and marrow radii (mm).
const (
	ribOuterR = 4.2
	ribInnerR = 2.4
)

// ribLayers paints every rib, leaving the gaps in cuts[side][n].
func (a *anatomy) ribLayers(cuts map[[2]int][][2]float64) []layer {
	var out []layer
	for _, pass := range []struct {
		r  float64
		hu float64
	}{{ribOuterR, huCortical}, {ribInnerR, huCancellous}} {
		for side := right; side <= left; side++ {
			for n := 1; n <= 12; n++ {
				rp := a.ribs[side][n]
				cut := cuts[[2]int{side, n}]
				// A capsule's end cap reaches r beyond its end; move the cut
				// ends out by the cortex radius so the gap between bone
				// surfaces is the stated one for both passes.
				var c2 [][2]float64
				for _, c := range cut {
					c2 = append(c2, [2]float64{c[0] - ribOuterR, c[1] + ribOuterR})
				}
				for _, c := range rp.pieces(pass.r, c2) {
					out = append(out, newLayer("rib", pass.hu, c, nil))
				}
			}
		}
	}
	return out
}
