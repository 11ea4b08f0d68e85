package synth

import (
	"fmt"
	"math"
)

func r2v(v vec3) [3]float64 { return [3]float64{round2(v.X), round2(v.Y), round2(v.Z)} }

// buildTruth fills c.truth from the plan.
func (c *Case) buildTruth() {
	t := &c.truth
	st := c.studyTime()
	pr := stream(c.seed, "patient")
	sex := []string{"F", "M"}[pr.intn(2)]
	birth := st.AddDate(-(35 + pr.intn(50)), 0, -pr.intn(365))
	age := st.Year() - birth.Year()
	if st.YearDay() < birth.YearDay() {
		age--
	}
	*t = Truth{
		Format: TruthFormat, Version: TruthVersion, Generator: "ctlens tools/phantom",
		Seed: c.opts.Seed, Case: c.Index, CaseSeed: fmt.Sprintf("%016x", c.seed), Variants: c.opts.Variants.List(),
		Patient: Patient{
			Name: fmt.Sprintf("PHANTOM^%04d", c.Index), ID: fmt.Sprintf("PHANTOM-%d-%04d", c.opts.Seed, c.Index),
			Sex: sex, BirthDate: birth.Format("20060102"), AgeYears: age,
		},
		Study: Study{
			InstanceUID: deriveUID(c.seed, "study"), ID: fmt.Sprintf("%d", c.Index%1000000),
			AccessionNumber: fmt.Sprintf("SYN%08d", pr.intn(100000000)),
			Date:            st.Format("20060102"), Time: st.Format("150405"),
			Description: "CT CHEST ABDOMEN SYNTHETIC",
		},
		Acquisition: Acquisition{KVP: c.kvp, NoiseSigmaHU: c.noise, Contrast: c.anat.p.contrast, BloodHU: c.anat.p.bloodHU, ScanExtentMM: scanExtentMM},
	}
	for _, s := range c.series {
		t.Series = append(t.Series, c.seriesTruth(s))
	}

	// Organs: the first candidate whose neighbourhood is clean.
	s1 := c.series[0]
	probe := s1.plane(framePlan{})
	for _, o := range c.anat.refs {
		org := Organ{Name: o.name, HU: o.hu}
		if o.shape != nil {
			bb := o.shape.bounds()
			if o.tight {
				bb = measure(o.shape, 5).bb
			}
			lps, vox := s1.boxes(bb)
			org.BoundsLPS, org.BoundsVoxel = &lps, &vox
		}
		for _, p := range o.candidates {
			if c.clean(&probe, p, o.hu, 1) {
				lps, vox := r2v(p), r2v(s1.voxel(p))
				org.PointLPS, org.CenterVoxel = &lps, &vox
				break
			}
		}
		t.Organs = append(t.Organs, org)
	}

	a := c.anat
	_, _, fat, _, caH, _ := a.profile(a.heart.c.Z - a.p.zTop)
	t.Measurements = Measurements{
		CardiothoracicRatio: round2(a.heart.extentX() / caH),
		HeartWidthMM:        round1(2 * a.heart.extentX()),
		ThoraxWidthMM:       round1(2 * caH),
		SubcutaneousFatMM:   round1(fat),
	}

	// A fine plane reads the model's own value at a point, free of partial
	// volume: that is the HU a finding without a nominal value states.
	fine := plane{r: vec3{1, 0, 0}, c: vec3{0, 1, 0}, n: vec3{0, 0, 1}, ps: 0.05, thk: 0.05}
	present := map[Kind]bool{}
	for i, q := range c.placed {
		q.f.ID = i + 1
		q.f.CenterLPS = r2v(q.center)
		q.f.CenterVoxel = r2v(s1.voxel(q.center))
		if q.valueH {
			q.f.HU = math.Round(valueAt(c.layers, &fine, q.center))
		}
		q.f.CenterClean = c.clean(&probe, q.center, q.f.HU, 0.5)
		bb := q.bb
		if bb == (box{}) {
			switch {
			case q.region != nil:
				bb = q.region.bounds()
			case q.f.Type == Cardiomegaly:
				bb = c.anat.heart.bounds()
			}
		}
		q.f.BoundsLPS, q.f.BoundsVoxel = s1.boxes(bb)
		t.Findings = append(t.Findings, q.f)
		present[q.f.Type] = true
	}
	if t.Findings == nil {
		t.Findings = []Finding{}
	}
	t.Normal = len(t.Findings) == 0
	t.Absent = []Kind{}
	for _, k := range Kinds() {
		if !present[k] {
			t.Absent = append(t.Absent, k)
		}
	}
	t.Report = writeReport(stream(c.seed, "report"), t.Findings)
}

// clean reports whether the model holds hu (±3) over the block a reader
// would average around p: ±1.5 pixels in plane, which covers the nearest
// voxel's 3×3 neighbourhood, and ±slices slice spacings along the normal
// (½ for the nearest slice of a regular series; 1 also covers jittered and
// missing slices).
func (c *Case) clean(pl *plane, p vec3, hu, slices float64) bool {
	// The block must lie inside the first series' grid, one slice and two
	// pixels from its faces.
	s := c.series[0]
	v := s.voxel(p)
	if v.X < 2 || v.Y < 2 || v.Z < 1 || v.X > float64(s.cols-3) || v.Y > float64(s.rows-3) || v.Z > float64(s.slices-2) {
		return false
	}
	step := s.step.norm() * slices
	for _, a := range []float64{-1.5, -0.75, 0, 0.75, 1.5} {
		for _, b := range []float64{-1.5, -0.75, 0, 0.75, 1.5} {
			for _, k := range []float64{-1, 0, 1} {
				q := p.add(pl.r.scale(a * pl.ps)).add(pl.c.scale(b * pl.ps)).add(pl.n.scale(k * step))
				if math.Abs(valueAt(c.layers, pl, q)-hu) > 3 {
					return false
				}
			}
		}
	}
	return true
}

func (c *Case) seriesTruth(s *seriesPlan) Series {
	e := s.enc
	pr := 1
	if !e.signed {
		pr = 0
	}
	sop := ctImageStorage
	if s.multi {
		sop = enhancedCTImageStorage
	}
	g := Geometry{
		Columns: s.cols, Rows: s.rows, Slices: s.slices,
		PixelSpacingMM:          [2]float64{s.ps, s.ps},
		SliceThicknessMM:        s.thk,
		ImageOrientationPatient: [6]float64{s.r.X, s.r.Y, s.r.Z, s.c.X, s.c.Y, s.c.Z},
		SliceNormal:             [3]float64{nm(s.n.X), nm(s.n.Y), nm(s.n.Z)},
		OriginLPS:               s.origin.arr(),
		SliceStepLPS:            s.step.arr(),
		SliceSpacingMM:          nm(math.Abs(s.step.dot(s.n))),
		GantryTiltDeg:           s.tiltDeg,
	}
	cols := [4]vec3{s.r.scale(s.ps), s.c.scale(s.ps), s.step, s.origin}
	for row := 0; row < 3; row++ {
		for col := 0; col < 4; col++ {
			g.Affine[row][col] = nm(cols[col].arr()[row])
		}
	}
	g.Affine[3] = [4]float64{0, 0, 0, 1}
	out := Series{
		Number: s.number, InstanceUID: s.uid, Description: s.desc, SOPClassUID: sop,
		FrameOfReferenceUID: deriveUID(c.seed, "frame-of-reference"),
		Encoding: Encoding{
			TransferSyntaxUID: explicitVRLittleEndian, PixelRepresentation: pr, BitsAllocated: 16,
			BitsStored: e.bitsStored, HighBit: e.bitsStored - 1, RescaleSlope: e.slope, RescaleIntercept: e.intercept,
			PixelPaddingValue: e.padding, Multiframe: s.multi,
		},
		Geometry:  g,
		Anomalies: s.anomaly,
	}
	if out.Anomalies.MissingSlices == nil {
		out.Anomalies.MissingSlices = []int{}
	}
	if out.Anomalies.DuplicateSlices == nil {
		out.Anomalies.DuplicateSlices = []int{}
	}
	for _, f := range s.files {
		tf := File{Path: c.Name + "/" + f.name, SOPInstanceUID: f.sopUID, InstanceNumber: f.instance}
		if f.dupOf != "" {
			tf.DuplicateOf = c.Name + "/" + f.dupOf
		}
		for i, fr := range f.frames {
			tf.Frames = append(tf.Frames, Frame{Number: i + 1, GridSlice: fr.k, PositionLPS: fr.pos.arr()})
		}
		out.Files = append(out.Files, tf)
	}
	return out
}

// boxes returns bb in LPS and as the box of continuous voxel indices its
// corners map to in the series grid.
func (s *seriesPlan) boxes(bb box) (lps, vox [2][3]float64) {
	lps = [2][3]float64{r2v(bb.lo), r2v(bb.hi)}
	lo := vec3{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := vec3{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := 0; i < 8; i++ {
		p := bb.lo
		if i&1 != 0 {
			p.X = bb.hi.X
		}
		if i&2 != 0 {
			p.Y = bb.hi.Y
		}
		if i&4 != 0 {
			p.Z = bb.hi.Z
		}
		v := s.voxel(p)
		lo = vec3{min(lo.X, v.X), min(lo.Y, v.Y), min(lo.Z, v.Z)}
		hi = vec3{max(hi.X, v.X), max(hi.Y, v.Y), max(hi.Z, v.Z)}
	}
	return lps, [2][3]float64{r2v(lo), r2v(hi)}
}

// Truth returns the case's ground truth.
func (c *Case) Truth() *Truth { return &c.truth }
