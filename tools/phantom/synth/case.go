package synth

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is a series' pixel grid: columns × rows × slices.
type Size struct{ Cols, Rows, Slices int }

// Size limits: small enough to allocate, large enough for anatomy to show.
const (
	minInPlane, maxInPlane = 16, 2048
	minSlices, maxSlices   = 4, 2000
)

// ParseSize reads "COLSxROWSxSLICES", e.g. "512x512x160".
func ParseSize(s string) (Size, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "x")
	if len(parts) != 3 {
		return Size{}, fmt.Errorf("size %q: want COLUMNSxROWSxSLICES such as 512x512x160", s)
	}
	var v [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return Size{}, fmt.Errorf("size %q: %q is not a whole number; want COLUMNSxROWSxSLICES such as 512x512x160", s, p)
		}
		v[i] = n
	}
	sz := Size{v[0], v[1], v[2]}
	return sz, sz.validate()
}

func (s Size) validate() error {
	if s.Cols < minInPlane || s.Cols > maxInPlane || s.Rows < minInPlane || s.Rows > maxInPlane {
		return fmt.Errorf("size %s: columns and rows must lie in [%d, %d]", s, minInPlane, maxInPlane)
	}
	if s.Slices < minSlices || s.Slices > maxSlices {
		return fmt.Errorf("size %s: slices must lie in [%d, %d]", s, minSlices, maxSlices)
	}
	return nil
}

// String formats the size as ParseSize reads it.
func (s Size) String() string { return fmt.Sprintf("%dx%dx%d", s.Cols, s.Rows, s.Slices) }

// Options say what to generate.
type Options struct {
	Seed     uint64
	Size     Size
	Variants Variants
	// Findings, when not nil, replaces the random draw: exactly these
	// findings (an empty, non-nil slice gives a normal case).
	Findings []FindingSpec
	// Workers bounds the goroutines rendering slices; 0 means GOMAXPROCS.
	// The output does not depend on it.
	Workers int
}

// fovMM is the reconstruction diameter across the smaller in-plane size.
const fovMM = 400

// Case is one planned patient: anatomy, findings, series and their files,
// everything but the pixels, which Write renders.
type Case struct {
	Index int
	Name  string // folder and file stem, e.g. "case0007"

	seed   uint64
	opts   Options
	anat   *anatomy
	layers []layer
	placed []*placed
	series []*seriesPlan
	noise  float64
	kvp    int
	truth  Truth
}

// seriesPlan is one series to write.
type seriesPlan struct {
	number   int
	uid      string
	desc     string
	kernel   string
	enc      encoding
	multi    bool
	cols     int
	rows     int
	slices   int     // grid slices
	ps, thk  float64 // pixel spacing, slice thickness
	r, c, n  vec3    // row and column directions, normal
	origin   vec3    // centre of grid voxel (0,0,0)
	step     vec3    // grid slice k → k+1
	tiltDeg  float64
	files    []filePlan // in write order
	anomaly  Anomalies
	dimOrgID string
	eventUID string
}

// filePlan is one file: its frames, in the order they are stored.
type filePlan struct {
	name     string
	sopUID   string
	instance int
	frames   []framePlan
	dupOf    string
}

// framePlan is one image plane.
type framePlan struct {
	k   int  // grid slice
	pos vec3 // Image Position (Patient)
	key int  // noise key: equal keys give equal pixels
}

// nm rounds to a nanometre so that every coordinate is a short decimal that
// survives the round trip through a DS string exactly.
func nm(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func nmv(v vec3) vec3 { return vec3{nm(v.X), nm(v.Y), nm(v.Z)} }

// caseSeed derives a case's seed from the run seed and the case number, so
// case 7 is the same whether it is generated alone or among a thousand.
func caseSeed(seed uint64, index int) uint64 { return stream(seed, "case", index).u64() }

// NewCase plans case number index (1-based) of a run: it draws the patient,
// the findings and the series layout, and fills in the ground truth and the
// report. Nothing is written.
func NewCase(opts Options, index int) (*Case, error) {
	if err := opts.Size.validate(); err != nil {
		return nil, err
	}
	if opts.Variants == nil {
		opts.Variants = Variants{}
	}
	c := &Case{Index: index, Name: fmt.Sprintf("case%04d", index), seed: caseSeed(opts.Seed, index), opts: opts}
	geo := stream(c.seed, "geometry")
	sz := opts.Size
	dz := nm(scanExtentMM / float64(sz.Slices))
	zFirst := math.Round(geo.uniform(-100, 100)*2) / 2

	ar := stream(c.seed, "anatomy")
	p := drawParams(ar, zFirst, dz)

	fr := stream(c.seed, "findings")
	var specs []FindingSpec
	if opts.Findings != nil {
		specs = append(specs, opts.Findings...)
	} else {
		for _, k := range drawKinds(fr) {
			specs = append(specs, FindingSpec{Kind: k})
		}
	}
	// Place in table order so pleural findings claim their space first.
	ordered := make([]FindingSpec, 0, len(specs))
	for _, k := range Kinds() {
		for _, s := range specs {
			if s.Kind == k {
				ordered = append(ordered, s)
			}
		}
	}
	if count(kindsOf(ordered), Cardiomegaly) > 1 {
		return nil, fmt.Errorf("cardiomegaly asked for twice; list it once")
	}
	if count(kindsOf(ordered), Cardiomegaly) == 1 {
		p.ctr = fr.uniform(0.56, 0.68)
	}
	c.anat = buildAnatomy(p, ar)

	pl := &placer{a: c.anat, r: fr, sides: map[Kind][2]bool{}}
	for _, s := range ordered {
		q, err := pl.place(s)
		if err != nil {
			if opts.Findings != nil {
				return nil, fmt.Errorf("%s: %w", c.Name, err)
			}
			continue // a random draw that does not fit is dropped
		}
		pl.placed = append(pl.placed, q)
	}
	c.placed = pl.placed

	// Layers: anatomy, ribs with any fracture gaps, then findings.
	cuts := map[[2]int][][2]float64{}
	for _, q := range c.placed {
		if q.cut != nil {
			cuts[q.ribKey] = append(cuts[q.ribKey], [2]float64{q.cut[1], q.cut[2]})
		}
	}
	c.layers = append(c.layers, c.anat.soft...)
	c.layers = append(c.layers, c.anat.ribLayers(cuts)...)
	for _, q := range c.placed {
		c.layers = append(c.layers, q.paint...)
	}

	acq := stream(c.seed, "acquisition")
	c.noise = math.Round(acq.uniform(10, 20)*10) / 10
	c.kvp = []int{100, 120, 120}[acq.intn(3)]

	c.planSeries(geo, zFirst, dz)
	c.buildTruth()
	return c, nil
}

func kindsOf(s []FindingSpec) []Kind {
	out := make([]Kind, len(s))
	for i, x := range s {
		out[i] = x.Kind
	}
	return out
}

// planSeries lays out the series, their grids and files according to the
// variants.
func (c *Case) planSeries(geo *rng, zFirst, dz float64) {
	v := c.opts.Variants
	sz := c.opts.Size
	ps := nm(fovMM / float64(min(sz.Cols, sz.Rows)))
	r, col := vec3{1, 0, 0}, vec3{0, 1, 0}
	tilt := 0.0
	if v[Tilt] {
		tilt = math.Round(geo.uniform(8, 20)*2) / 2
		if geo.chance(0.5) {
			tilt = -tilt
		}
		// The gantry tilts about patient X: the column direction leaves the
		// axial plane, while the table still moves along Z.
		th := tilt * math.Pi / 180
		col = vec3{0, math.Round(math.Cos(th)*1e6) / 1e6, math.Round(math.Sin(th)*1e6) / 1e6}
	}
	x0 := nm(-float64(sz.Cols-1) / 2 * ps)
	y0 := nm(-float64(sz.Rows-1) / 2 * ps * col.Y)
	// With tilt, each plane climbs (rows−1)·ps·sin θ from its first row to
	// its last; start it half that lower so that the centre row of every
	// slice lies at the untilted position and the sheared stack stays
	// centred on the anatomy.
	zLow := nm(zFirst - float64(sz.Slices-1)*dz - float64(sz.Rows-1)/2*ps*col.Z)

	s1 := &seriesPlan{
		number: 1, desc: "CT CHEST ABDOMEN SYNTHETIC", kernel: "STANDARD",
		enc: encodingFor(v), multi: v[Multiframe],
		cols: sz.Cols, rows: sz.Rows, slices: sz.Slices, ps: ps, thk: dz,
		r: r, c: col, n: r.cross(col), origin: vec3{x0, y0, zLow}, step: vec3{0, 0, dz}, tiltDeg: tilt,
	}
	c.series = append(c.series, s1)
	if v[TwoSeries] {
		n2 := sz.Slices / 2
		s2 := *s1
		s2.number, s2.desc, s2.kernel = 2, "CT CHEST ABDOMEN SYNTHETIC THICK", "SOFT"
		s2.slices, s2.thk = n2, nm(2*dz)
		s2.origin = nmv(s1.origin.add(s1.step.scale(0.5)))
		s2.step = vec3{0, 0, nm(2 * dz)}
		c.series = append(c.series, &s2)
	}

	for si, s := range c.series {
		s.uid = deriveUID(c.seed, "series", s.number)
		s.dimOrgID = deriveUID(c.seed, "dimension-organization", s.number)
		s.eventUID = deriveUID(c.seed, "irradiation-event", 1)
		first := si == 0
		// Grid positions, then the deviations, all on series 1 only:
		// series 2 is the clean thick reconstruction beside it.
		var frames []framePlan
		jr := stream(c.seed, "variants", s.number)
		for k := 0; k < s.slices; k++ {
			frames = append(frames, framePlan{k: k, pos: nmv(s.origin.add(s.step.scale(float64(k)))), key: s.number*100000 + k})
		}
		if first && v[Uneven] && s.slices > 2 {
			s.anomaly.Uneven = true
			for k := 1; k < s.slices-1; k++ {
				j := jr.uniform(-0.3, 0.3)
				frames[k].pos = nmv(frames[k].pos.add(s.step.scale(j)))
				s.anomaly.MaxJitterMM = math.Max(s.anomaly.MaxJitterMM, math.Abs(j)*s.step.norm())
			}
			s.anomaly.MaxJitterMM = round2(s.anomaly.MaxJitterMM)
		}
		// Instance numbers follow acquisition, head first, unless reversed.
		inst := func(k int) int {
			if v[Reversed] {
				return k + 1
			}
			return s.slices - k
		}
		s.anomaly.Reversed = v[Reversed]
		s.anomaly.Shuffled = v[Shuffled]
		s.anomaly.Tilted = tilt != 0
		// Acquisition order: descending grid index (head first), or
		// ascending when reversed.
		order := make([]framePlan, 0, len(frames))
		for i := range frames {
			k := s.slices - 1 - i
			if v[Reversed] {
				k = i
			}
			order = append(order, frames[k])
		}
		dropK, dupK := -1, -1
		if first && v[Missing] && s.slices >= 4 {
			dropK = s.slices/4 + jr.intn(max(1, s.slices/2))
			s.anomaly.MissingSlices = []int{dropK}
		}
		if first && v[Duplicate] && s.slices >= 4 {
			for dupK = s.slices/4 + jr.intn(max(1, s.slices/2)); dupK == dropK; dupK = (dupK + 1) % s.slices {
			}
			s.anomaly.DuplicateSlices = []int{dupK}
		}
		var kept []framePlan
		for _, f := range order {
			if f.k == dropK {
				continue
			}
			kept = append(kept, f)
			if f.k == dupK && s.multi {
				kept = append(kept, f) // the frame stored twice
			}
		}
		prefix := ""
		if s.number > 1 {
			prefix = fmt.Sprintf("S%d_", s.number)
		}
		nr := stream(c.seed, "names", s.number)
		name := func(n int) string {
			if v[Shuffled] {
				// No extension either: importers must sniff "DICM".
				return fmt.Sprintf("%012x", nr.u64()>>16)
			}
			return fmt.Sprintf("%sIM%04d.dcm", prefix, n)
		}
		if s.multi {
			if v[Shuffled] {
				perm(jr, kept)
			}
			s.files = []filePlan{{name: name(1), sopUID: deriveUID(c.seed, "sop", s.number, "enhanced"), instance: 1, frames: kept}}
		} else {
			for _, f := range kept {
				s.files = append(s.files, filePlan{name: name(inst(f.k)), sopUID: deriveUID(c.seed, "sop", s.number, f.k), instance: inst(f.k), frames: []framePlan{f}})
			}
			if dupK >= 0 {
				for _, f := range s.files {
					if f.frames[0].k == dupK {
						d := f
						d.name, d.dupOf = name(s.slices+1), f.name
						s.files = append(s.files, d)
						break
					}
				}
			}
			if v[Shuffled] {
				perm(jr, s.files)
			} else {
				sortFiles(s.files)
			}
		}
	}
}

func perm[T any](r *rng, x []T) {
	for i := len(x) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		x[i], x[j] = x[j], x[i]
	}
}

func sortFiles(f []filePlan) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].name < f[j-1].name; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

// plane returns the image plane of a frame.
func (s *seriesPlan) plane(f framePlan) plane {
	return plane{o: f.pos, r: s.r, c: s.c, n: s.n, ps: s.ps, thk: s.thk, cols: s.cols, rows: s.rows}
}

// voxel returns p's continuous index (i, j, k) in the series grid.
func (s *seriesPlan) voxel(p vec3) vec3 {
	m := mat3{s.r.scale(s.ps), s.c.scale(s.ps), s.step} // columns of the affine, stored as rows
	inv, ok := invert(transpose(m))
	if !ok {
		return vec3{math.NaN(), math.NaN(), math.NaN()}
	}
	return inv.apply(p.sub(s.origin))
}

// invert returns the inverse of a 3×3 matrix.
func invert(m mat3) (mat3, bool) {
	a, b, c := m[0], m[1], m[2]
	det := a.dot(b.cross(c))
	if math.Abs(det) < 1e-12 {
		return mat3{}, false
	}
	// Rows of the inverse are the cross products of columns, transposed.
	inv := transpose(mat3{b.cross(c), c.cross(a), a.cross(b)})
	for i := range inv {
		inv[i] = inv[i].scale(1 / det)
	}
	return inv, true
}

// studyTime is the case's synthetic study date and time.
func (c *Case) studyTime() time.Time {
	r := stream(c.seed, "dates")
	d := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.intn(5*365))
	return d.Add(time.Duration(7*3600+r.intn(12*3600)) * time.Second)
}
