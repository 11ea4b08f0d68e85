package synth

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// kindWords is how a reader recognises each kind in free text; it is the
// test's own list, not the templates', so a template that drops the key
// word fails here.
var kindWords = map[Kind]*regexp.Regexp{
	LungNodule:      regexp.MustCompile(`(?i)nodul`),
	Consolidation:   regexp.MustCompile(`(?i)consolidat`),
	PleuralEffusion: regexp.MustCompile(`(?i)pleural effusion`),
	Pneumothorax:    regexp.MustCompile(`(?i)pneumothorax`),
	Cardiomegaly:    regexp.MustCompile(`(?i)cardiomegaly|heart is enlarged`),
	LiverLesion:     regexp.MustCompile(`(?i)(hepatic|liver).*(lesion)|(lesion).*(hepatic|liver)`),
	KidneyStone:     regexp.MustCompile(`(?i)calcul|stone|nephrolith`),
	RibFracture:     regexp.MustCompile(`(?i)rib fracture|fracture of the .* rib`),
}

var numberRE = regexp.MustCompile(`\d+(\.\d+)?`)

// mentionsSize reports whether s holds a number within half a millimetre of
// x (reports round sizes).
func mentionsSize(s string, x float64) bool {
	for _, m := range numberRE.FindAllString(s, -1) {
		if v, err := strconv.ParseFloat(m, 64); err == nil && math.Abs(v-x) <= 0.5 {
			return true
		}
	}
	return false
}

// randomFindings draws findings directly (no anatomy), covering every kind,
// side and attribute the templates use.
func randomFindings(r *rng) []Finding {
	var fs []Finding
	for i, n := 0, r.intn(4); i < n; i++ {
		t := kindTable[r.intn(len(kindTable))]
		f := Finding{ID: i + 1, Type: t.kind, SizeMM: round1(r.uniform(2, 40)), Side: sideNames[r.intn(2)],
			Lobe: []string{"upper", "middle", "lower"}[r.intn(3)], Segment: "VII", Rib: 3 + r.intn(8),
			Aspect: "lateral", Severity: "moderate", VolumeML: 350, CTR: 0.61}
		if t.kind == Cardiomegaly {
			f.Side = ""
		}
		fs = append(fs, f)
	}
	return fs
}

func TestReportMentionsEveryFinding(t *testing.T) {
	for seed := 0; seed < 400; seed++ {
		r := stream(uint64(seed), "test-report")
		fs := randomFindings(r)
		rep := writeReport(r, fs)
		if !strings.HasPrefix(rep.Text, "FINDINGS:\n") || !strings.Contains(rep.Text, "\n\nIMPRESSION:\n") {
			t.Fatalf("seed %d: report lacks its sections:\n%s", seed, rep.Text)
		}
		for _, sen := range rep.Sentences {
			if !strings.Contains(rep.Text, sen.Text) {
				t.Fatalf("seed %d: sentence %q not in the text", seed, sen.Text)
			}
		}
		for _, f := range fs {
			for _, section := range []string{"findings", "impression"} {
				var said []string
				for _, sen := range rep.Sentences {
					for _, id := range sen.FindingIDs {
						if id == f.ID && sen.Section == section {
							said = append(said, sen.Text)
						}
					}
				}
				if len(said) == 0 {
					t.Fatalf("seed %d: finding %d (%s) has no sentence in %s:\n%s", seed, f.ID, f.Type, section, rep.Text)
				}
				s := strings.Join(said, " ")
				if !kindWords[f.Type].MatchString(s) {
					t.Errorf("seed %d: %s sentence %q does not name the finding", seed, f.Type, s)
				}
				if f.Side != "" && !strings.Contains(strings.ToLower(s), f.Side) {
					t.Errorf("seed %d: %s sentence %q lacks the side %q", seed, f.Type, s, f.Side)
				}
			}
			// Sizes: the findings section states every measured size.
			for _, sen := range rep.Sentences {
				if sen.Section == "findings" && len(sen.FindingIDs) == 1 && sen.FindingIDs[0] == f.ID {
					switch f.Type {
					case LungNodule, LiverLesion, KidneyStone:
						if !mentionsSize(sen.Text, f.SizeMM) {
							t.Errorf("seed %d: %q does not state the size %.1f mm", seed, sen.Text, f.SizeMM)
						}
					}
				}
			}
		}
		// A normal report says so and names no finding.
		if len(fs) == 0 {
			for k, re := range kindWords {
				for _, sen := range rep.Sentences {
					if re.MatchString(sen.Text) && !regexp.MustCompile(`(?i)\bno\b|unremarkable|clear|normal|intact`).MatchString(sen.Text) {
						t.Errorf("seed %d: normal report names %s: %q", seed, k, sen.Text)
					}
				}
			}
		}
	}
}

func TestReportWordingVaries(t *testing.T) {
	seen := map[Kind]map[string]bool{}
	for seed := 0; seed < 200; seed++ {
		r := stream(uint64(seed), "vary")
		for _, k := range Kinds() {
			f := Finding{ID: 1, Type: k, Side: "left", Lobe: "upper", SizeMM: 12, Segment: "II", Rib: 5, Aspect: "posterior", Severity: "small", VolumeML: 100, CTR: 0.6}
			rep := writeReport(r, []Finding{f})
			if seen[k] == nil {
				seen[k] = map[string]bool{}
			}
			for _, sen := range rep.Sentences {
				if sen.Section == "findings" && len(sen.FindingIDs) == 1 {
					seen[k][sen.Text] = true
				}
			}
		}
	}
	for k, s := range seen {
		if len(s) < 2 {
			t.Errorf("%s: one wording in 200 reports: %v", k, s)
		}
	}
}
