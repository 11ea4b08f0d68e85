package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"

	"ctlens/tools/phantom/synth"
)

// Geometry of the phantom that decides what shows on the model's grid:
// synth reconstructs 400 mm across the image and scans 370 mm along the
// table (synth's fovMM and scanExtentMM, not exported).
const (
	fovMM        = 400.0
	scanExtentMM = 370.0
)

// kindDraw is synth's finding table as the dataset uses it: the draw weight
// and the size range synth draws and allows (mm), copied from synth's
// kindTable because the dataset draws sizes itself.
var kindDraw = []struct {
	kind     synth.Kind
	weight   float64
	min, max float64 // synth's drawn range
	limit    float64 // the largest FindingSpec.SizeMM synth accepts
	// vis says how many in-plane pixels (p) and slice thicknesses (t)
	// the size must reach to show: a finding is kept visible by drawing
	// at least max(vis.p·pixel, vis.t·slice).
	vis struct{ p, t float64 }
}{
	{synth.Cardiomegaly, 0.11, 0, 0, 0, struct{ p, t float64 }{0, 0}},
	{synth.PleuralEffusion, 0.14, 12, 70, 90, struct{ p, t float64 }{2, 0}},   // fluid depth at the base
	{synth.Pneumothorax, 0.09, 6, 40, 50, struct{ p, t float64 }{2.5, 0}},     // air against −850 HU lung: low contrast
	{synth.Consolidation, 0.13, 30, 70, 90, struct{ p, t float64 }{2.5, 0.6}}, //
	{synth.LungNodule, 0.22, 2, 30, 30, struct{ p, t float64 }{2.5, 0.6}},     // 880 HU contrast, but vessels look alike below this
	{synth.LiverLesion, 0.12, 8, 50, 60, struct{ p, t float64 }{3, 0.8}},      // 40–60 HU contrast only
	{synth.KidneyStone, 0.10, 2, 15, 20, struct{ p, t float64 }{2.5, 0.6}},    //
	{synth.RibFracture, 0.09, 2, 6, 12, struct{ p, t float64 }{2, 0}},         // a gap in a ~10 mm rib
}

// Ranges returns the size range drawn for each kind on a d×h×w grid
// (h = w, across fovMM) and the kinds left out because even synth's
// largest size would not show.
func Ranges(d, h, w int) ([]KindRange, map[string]string) {
	px := fovMM / float64(min(h, w))
	sl := scanExtentMM / float64(d)
	var out []KindRange
	excl := map[string]string{}
	for _, k := range kindDraw {
		if k.max == 0 {
			out = append(out, KindRange{Kind: string(k.kind)})
			continue
		}
		vis := math.Max(k.vis.p*px, k.vis.t*sl)
		lo, hi := math.Max(k.min, vis), k.max
		if lo > hi {
			hi = k.limit
		}
		if lo > hi {
			excl[string(k.kind)] = fmt.Sprintf("shows only from %.1f mm on a %.2f mm pixel, %.1f mm slice grid; synth allows %.0f mm", vis, px, sl, k.limit)
			continue
		}
		out = append(out, KindRange{Kind: string(k.kind), MinMM: round1(lo), MaxMM: round1(hi)})
	}
	return out, excl
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// caseRNG is the case's own stream for one purpose, so that a case is the
// same alone or among thousands and each purpose's draws leave the others
// alone.
func caseRNG(seed uint64, caseID int, purpose uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15*purpose, uint64(caseID)*0x100000001b3+purpose))
}

// Stream purposes.
const (
	rngSplit = iota + 1
	rngFindings
	rngQuestions
)

// drawFindings draws how many findings a case has (0–3, as synth does) and
// which kinds (distinct, by synth's weights, among ranges), each with a
// size in its range. attempt varies the draw when synth cannot place one.
func drawFindings(seed uint64, caseID, attempt int, ranges []KindRange) []synth.FindingSpec {
	r := caseRNG(seed, caseID*16+attempt, rngFindings)
	n := 0
	switch u := r.Float64(); {
	case u < 0.25:
	case u < 0.60:
		n = 1
	case u < 0.85:
		n = 2
	default:
		n = 3
	}
	weight := map[synth.Kind]float64{}
	for _, k := range kindDraw {
		weight[k.kind] = k.weight
	}
	var pool []KindRange
	pool = append(pool, ranges...)
	specs := []synth.FindingSpec{} // non-nil: a normal case stays normal
	for len(specs) < n && len(pool) > 0 {
		total := 0.0
		for _, k := range pool {
			total += weight[synth.Kind(k.Kind)]
		}
		u := r.Float64() * total
		i := 0
		for ; i < len(pool)-1; i++ {
			if u -= weight[synth.Kind(pool[i].Kind)]; u < 0 {
				break
			}
		}
		k := pool[i]
		pool = append(pool[:i:i], pool[i+1:]...)
		spec := synth.FindingSpec{Kind: synth.Kind(k.Kind)}
		if k.MaxMM > 0 {
			spec.SizeMM = round1(k.MinMM + (k.MaxMM-k.MinMM)*r.Float64())
		}
		specs = append(specs, spec)
	}
	return specs
}

// splitOf assigns a case to a split from the seed and its number alone:
// 80 % train, 10 % val, 10 % test. Adding cases never moves one.
func splitOf(seed uint64, caseID int) string {
	switch u := caseRNG(seed, caseID, rngSplit).Float64(); {
	case u < 0.8:
		return "train"
	case u < 0.9:
		return "val"
	}
	return "test"
}

// SplitRule describes splitOf for meta.json.
const SplitRule = "per case from (seed, case number): 80% train, 10% val, 10% test; a case never changes split when n grows"

// NewCase plans case caseID with findings drawn for the grid: synth with
// forced kinds and sizes, redrawn (up to 8 times) when synth cannot place
// one.
func NewCase(seed uint64, caseID int, phantom synth.Size, ranges []KindRange) (*synth.Case, error) {
	var last error
	for attempt := range 8 {
		specs := drawFindings(seed, caseID, attempt, ranges)
		c, err := synth.NewCase(synth.Options{Seed: seed, Size: phantom, Findings: specs, Workers: 1}, caseID)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, fmt.Errorf("dataset: case %d: no placeable draw in 8 attempts: %w", caseID, last)
}
