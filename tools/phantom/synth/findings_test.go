package synth

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// allKinds forces every finding kind into two cases (the pleural ones would
// clash in one hemithorax): big enough that the centre is inside at any grid.
var forcedA = []FindingSpec{
	{Kind: LungNodule, Side: "right", SizeMM: 20}, {Kind: PleuralEffusion, Side: "left", SizeMM: 45},
	{Kind: Consolidation, Side: "right"}, {Kind: LiverLesion, SizeMM: 30}, {Kind: KidneyStone, Side: "left", SizeMM: 14},
}
var forcedB = []FindingSpec{
	{Kind: Pneumothorax, Side: "right", SizeMM: 30}, {Kind: Cardiomegaly}, {Kind: RibFracture, Side: "left", SizeMM: 10},
	{Kind: LungNodule, Side: "left", SizeMM: 8},
}

// TestFindingsPlaced checks each finding against the anatomy it claims:
// side and lobe of the lung that holds it, the liver segment's lobe, the
// kidney, the rib; and that the model at its centre holds its HU.
func TestFindingsPlaced(t *testing.T) {
	fine := plane{r: vec3{1, 0, 0}, c: vec3{0, 1, 0}, n: vec3{0, 0, 1}, ps: 0.05, thk: 0.05}
	for seed := uint64(1); seed <= 4; seed++ {
		for name, specs := range map[string][]FindingSpec{"A": forcedA, "B": forcedB} {
			c, err := NewCase(Options{Seed: seed, Size: Size{64, 64, 24}, Findings: specs}, 1)
			if err != nil {
				t.Fatalf("seed %d case %s: %v", seed, name, err)
			}
			if len(c.placed) != len(specs) {
				t.Fatalf("seed %d case %s: %d findings placed, want %d", seed, name, len(c.placed), len(specs))
			}
			a := c.anat
			for _, q := range c.placed {
				f, p := q.f, q.center
				where := fmt.Sprintf("seed %d %s %s", seed, f.Type, f.Location)
				side := map[string]int{"right": right, "left": left}[f.Side]
				switch f.Type {
				case LungNodule, Consolidation, PleuralEffusion, Pneumothorax:
					if d, _ := a.lung[side].sdf(p); d > 0 {
						t.Errorf("%s: centre %v is not in the %s lung (sdf %.1f)", where, p, f.Side, d)
					}
					if (p.X-a.p.cx < 0) != (side == right) {
						t.Errorf("%s: centre x %.1f on the wrong side of the body axis %.1f", where, p.X, a.p.cx)
					}
					if f.Lobe != "" && a.lobeOf(side, p) != f.Lobe {
						t.Errorf("%s: centre lies in the %s lobe", where, a.lobeOf(side, p))
					}
				case LiverLesion:
					if d, _ := a.liver.sdf(p); d > -f.SizeMM/2 {
						t.Errorf("%s: lesion not inside the liver (sdf %.1f)", where, d)
					}
				case KidneyStone:
					if d, _ := a.kidney[side].sdf(p); d > -f.SizeMM/2 {
						t.Errorf("%s: stone not inside the %s kidney (sdf %.1f)", where, f.Side, d)
					}
				case RibFracture:
					// The gap centre lies on the rib's path, and bone is
					// found along the path on both sides of the gap.
					rp := a.ribs[side][f.Rib]
					onPath := false
					for s := 0.0; s < rp.length(); s += 0.5 {
						if rp.point(s).sub(p).norm() < 0.5 {
							onPath = true
						}
					}
					if !onPath {
						t.Errorf("%s: centre %v is not on rib %d", where, p, f.Rib)
					}
					if v := valueAt(c.layers, &fine, p); v > 200 {
						t.Errorf("%s: %.0f HU at the gap centre, want soft tissue", where, v)
					}
				}
				if f.Type != Cardiomegaly && f.Type != RibFracture {
					if v := valueAt(c.layers, &fine, p); math.Abs(v-f.HU) > 1 {
						t.Errorf("%s: model value %.1f at centre, finding HU %.1f", where, v, f.HU)
					}
				}
				in := func(p [3]float64, b [2][3]float64) bool {
					for k := 0; k < 3; k++ {
						if p[k] < b[0][k]-0.01 || p[k] > b[1][k]+0.01 {
							return false
						}
					}
					return true
				}
				if !in(f.CenterLPS, f.BoundsLPS) || !in(f.CenterVoxel, f.BoundsVoxel) {
					t.Errorf("%s: centre %v / %v outside bounds %v / %v", where, f.CenterLPS, f.CenterVoxel, f.BoundsLPS, f.BoundsVoxel)
				}
				if f.SizeMM <= 0 || f.Location == "" || f.SizeMeasure == "" {
					t.Errorf("%s: incomplete %+v", where, f)
				}
			}
		}
	}
}

func TestCardiomegalyRatio(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		for _, specs := range [][]FindingSpec{{}, {{Kind: Cardiomegaly}}} {
			c, err := NewCase(Options{Seed: seed, Size: Size{32, 32, 8}, Findings: specs}, 1)
			if err != nil {
				t.Fatal(err)
			}
			ctr := c.truth.Measurements.CardiothoracicRatio
			big := len(specs) == 1
			if big && (ctr < 0.55 || ctr > 0.7) || !big && (ctr < 0.39 || ctr > 0.49) {
				t.Errorf("seed %d cardiomegaly=%v: cardiothoracic ratio %.2f out of range", seed, big, ctr)
			}
			if big && c.truth.Findings[0].CTR != ctr {
				t.Errorf("seed %d: finding ratio %.2f, measurement %.2f", seed, c.truth.Findings[0].CTR, ctr)
			}
		}
	}
}

// TestDrawnFindings runs the random draw over many cases: 0–3 findings,
// every kind appears, no two pleural findings share a side.
func TestDrawnFindings(t *testing.T) {
	seen := map[Kind]int{}
	counts := map[int]int{}
	for i := 1; i <= 80; i++ {
		c, err := NewCase(Options{Seed: 77, Size: Size{24, 24, 6}}, i)
		if err != nil {
			t.Fatal(err)
		}
		fs := c.truth.Findings
		counts[len(fs)]++
		pleural := map[string]bool{}
		for _, f := range fs {
			seen[f.Type]++
			if f.Type == PleuralEffusion || f.Type == Pneumothorax {
				if pleural[f.Side] {
					t.Errorf("case %d: two pleural findings on the %s", i, f.Side)
				}
				pleural[f.Side] = true
			}
		}
		if len(fs) > 3 {
			t.Errorf("case %d: %d findings", i, len(fs))
		}
		if c.truth.Normal != (len(fs) == 0) {
			t.Errorf("case %d: normal=%v with %d findings", i, c.truth.Normal, len(fs))
		}
		if len(c.truth.Absent)+distinct(fs) != len(kindTable) {
			t.Errorf("case %d: absent %v does not complement the findings", i, c.truth.Absent)
		}
		for _, f := range fs {
			said := false
			for _, s := range c.truth.Report.Sentences {
				for _, id := range s.FindingIDs {
					if id == f.ID && s.Section == "findings" && kindWords[f.Type].MatchString(s.Text) && strings.Contains(strings.ToLower(s.Text), f.Side) {
						said = true
					}
				}
			}
			if !said {
				t.Errorf("case %d: the report does not state %s %s:\n%s", i, f.Side, f.Type, c.truth.Report.Text)
			}
		}
	}
	for _, k := range Kinds() {
		if seen[k] == 0 {
			t.Errorf("kind %s never drawn in 80 cases", k)
		}
	}
	for n := 0; n <= 3; n++ {
		if counts[n] == 0 {
			t.Errorf("no case with %d findings in 80", n)
		}
	}
}

func distinct(fs []Finding) int {
	m := map[Kind]bool{}
	for _, f := range fs {
		m[f.Type] = true
	}
	return len(m)
}
