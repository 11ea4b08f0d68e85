package metrics

import (
	"math"
	"slices"
	"strings"
	"testing"

	"ctlens/tools/phantom/synth"
)

func near(t *testing.T, name string, have, want, tol float64) {
	t.Helper()
	if math.Abs(have-want) > tol {
		t.Errorf("%s = %.6f, want %.6f", name, have, want)
	}
}

// The BLEU examples of Papineni et al. 2002 ("BLEU: a method for automatic
// evaluation of machine translation", ACL, §2.1), as NLTK's
// nltk/translate/bleu_score.py doctests state them (modified_precision,
// n = 1): 0.9444 (17/18), 0.5714 (8/14) and, for the degenerate
// "the the the …", 0.2857 (2/7).
var (
	bleuRef1 = "It is a guide to action that ensures that the military will forever heed Party commands"
	bleuRef2 = "It is the guiding principle which guarantees the military forces always being under the command of the Party"
	bleuRef3 = "It is the practical guide for the army always to heed the directions of the party"
	bleuHyp1 = "It is a guide to action which ensures that the military always obeys the commands of the party"
	bleuHyp2 = "It is to insure the troops forever hearing the activity guidebook that party direct"
)

func TestBLEUPublished(t *testing.T) {
	refs := [][]string{BLEUTokens(bleuRef1), BLEUTokens(bleuRef2), BLEUTokens(bleuRef3)}
	near(t, "hyp1 modified unigram precision", CountBLEU1(BLEUTokens(bleuHyp1), refs...).Precision(), 17.0/18, 1e-12)
	near(t, "hyp2 modified unigram precision", CountBLEU1(BLEUTokens(bleuHyp2), refs...).Precision(), 8.0/14, 1e-12)
	near(t, "the×7", CountBLEU1(BLEUTokens("the the the the the the the"),
		BLEUTokens("the cat is on the mat"), BLEUTokens("there is a cat on the mat")).Precision(), 2.0/7, 1e-12)
	// Brevity penalty (Papineni et al. §2.2.2): BP = exp(1 − r/c) for
	// c < r, r the shortest reference (16 words here).
	c := CountBLEU1(BLEUTokens("it is a guide"), refs...)
	if c.RefLen != 16 || c.HypLen != 4 {
		t.Fatalf("lengths %d/%d, want 4/16", c.HypLen, c.RefLen)
	}
	near(t, "BLEU-1 of a short hypothesis", c.BLEU(), math.Exp(1-16.0/4), 1e-12)
	near(t, "BLEU-1 hyp1 (longer than the shortest ref: BP 1)", BLEU1(bleuHyp1, bleuRef1, bleuRef2, bleuRef3), 17.0/18, 1e-12)
	near(t, "identical", BLEU1("No pleural effusion.", "no pleural effusion."), 1, 1e-12)
	near(t, "disjoint", BLEU1("cat", "dog"), 0, 0)
	near(t, "empty hypothesis", BLEU1("", "dog"), 0, 0)
	// Corpus BLEU sums counts before dividing.
	a, b := CountBLEU1([]string{"a", "b"}, []string{"a", "b"}), CountBLEU1([]string{"c", "d"}, []string{"c", "x", "y", "z"})
	near(t, "corpus", a.Add(b).BLEU(), 3.0/4*math.Exp(1-6.0/4), 1e-12)
}

func TestBLEUTokens13a(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"The lungs are clear.", "the lungs are clear ."},
		{"ratio of 0.62, size 12 mm", "ratio of 0.62 , size 12 mm"},
		{"Lungs: (right) 3-4", "lungs : ( right ) 3 - 4"},
		{"FINDINGS:\nLungs", "findings : lungs"},
	} {
		if have := strings.Join(BLEUTokens(c.in), " "); have != c.want {
			t.Errorf("%q → %q, want %q", c.in, have, c.want)
		}
	}
}

// TestROUGEPublished: Lin 2004 ("ROUGE: a package for automatic evaluation
// of summaries", §3.1): against S1 "police killed the gunman", S2 "police
// kill the gunman" has ROUGE-L 3/4 and S3 "the gunman kill police" 2/4;
// and the example of google-research/rouge (rouge_score README):
// score('The quick brown fox jumps over the lazy dog', 'The quick brown dog
// jumps on the log.') gives rouge1 P 0.75, R 0.6667, F 0.7059 and rougeL
// P 0.625, R 0.5556, F 0.5882.
func TestROUGEPublished(t *testing.T) {
	s1 := "police killed the gunman"
	near(t, "ROUGE-L S2", ROUGEL("police kill the gunman", s1).F, 0.75, 1e-12)
	near(t, "ROUGE-L S3", ROUGEL("the gunman kill police", s1).F, 0.5, 1e-12)
	ref, hyp := "The quick brown fox jumps over the lazy dog", "The quick brown dog jumps on the log."
	r1 := ROUGE1(hyp, ref)
	near(t, "rouge1 P", r1.P, 0.75, 1e-12)
	near(t, "rouge1 R", r1.R, 0.6666666666666666, 1e-12)
	near(t, "rouge1 F", r1.F, 0.7058823529411765, 1e-12)
	rl := ROUGEL(hyp, ref)
	near(t, "rougeL P", rl.P, 0.625, 1e-12)
	near(t, "rougeL R", rl.R, 0.5555555555555556, 1e-12)
	near(t, "rougeL F", rl.F, 0.5882352941176471, 1e-12)
	near(t, "empty", ROUGE1("", ref).F, 0, 0)
}

// TestMETEORPublished: NLTK's nltk/translate/meteor_score.py doctest,
// round(meteor_score([reference1], hypothesis1), 4) == 0.6944, on
// Papineni's sentences. NLTK pairs 12 words by exact match (its right-to-
// left pairing leaves the hypothesis' second "the" alone) in 6 chunks:
// Fmean = (12/18·12/16)/(0.9·12/18 + 0.1·12/16) = 0.7407, penalty
// 0.5·(6/12)³ = 0.0625, score 0.6944. No WordNet synonym is needed there.
func TestMETEORPublished(t *testing.T) {
	near(t, "NLTK doctest", METEOR(bleuHyp1, bleuRef1), 0.6944, 5e-5)
	near(t, "the arithmetic", METEOR(bleuHyp1, bleuRef1), 0.7407407407407407*(1-0.0625), 1e-12)
	// Best of several references.
	if METEOR(bleuHyp1, bleuRef1, bleuRef3) < METEOR(bleuHyp1, bleuRef1) {
		t.Error("a second reference lowered the score")
	}
	// Stem stage by hand: "the" exact, "cats"/"cat" by stem, "sat"/"sits"
	// apart: m = 2 of 3 and 3, one chunk: Fmean 2/3, penalty
	// 0.5·(1/2)³ = 0.0625, score 0.625.
	near(t, "stem match", METEOR("the cats sat", "the cat sits"), 2.0/3*(1-0.0625), 1e-12)
	near(t, "identical", METEOR("no pleural effusion", "No pleural effusion"), 1-0.5/27, 1e-12)
	near(t, "disjoint", METEOR("cat", "dog"), 0, 0)
}

// TestPorter: words and stems from Porter 1980 (GENERALIZATIONS → GENER,
// OSCILLATORS → OSCIL, and the step 1 examples) and from the reference
// implementation's test vocabulary (abbreviated, bohemians, gunpowder).
func TestPorter(t *testing.T) {
	for _, c := range [][2]string{
		{"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
		{"feed", "feed"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"}, {"sing", "sing"},
		{"hopping", "hop"}, {"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"},
		{"failing", "fail"}, {"filing", "file"}, {"happy", "happi"}, {"sky", "sky"},
		{"generalizations", "gener"}, {"oscillators", "oscil"},
		{"abbreviated", "abbrevi"}, {"bohemians", "bohemian"}, {"gunpowder", "gunpowd"}, {"xi", "xi"},
		{"relational", "relat"}, {"controlling", "control"}, {"adjustment", "adjust"}, {"replacement", "replac"},
		{"cement", "cement"}, {"nodules", "nodul"}, {"effusions", "effus"},
	} {
		if have := PorterStem(c[0]); have != c[1] {
			t.Errorf("%s → %s, want %s", c[0], have, c[1])
		}
	}
}

// TestMentionsOfPhantomReports: the parser finds exactly the true
// findings, with their sides, in synth's reports (every template, every
// kind including rib fractures), and nothing in normal reports.
func TestMentionsOfPhantomReports(t *testing.T) {
	total := FindingCounts{}
	kinds := map[string]bool{}
	for i := 1; i <= 40; i++ {
		c, err := synth.NewCase(synth.Options{Seed: 9, Size: synth.Size{Cols: 32, Rows: 32, Slices: 8}}, i)
		if err != nil {
			t.Fatal(err)
		}
		tr := c.Truth()
		var truth []Mention
		for _, f := range tr.Findings {
			side := f.Side
			if f.Type == synth.Cardiomegaly {
				side = ""
			}
			truth = append(truth, Mention{string(f.Type), side})
			kinds[string(f.Type)] = true
		}
		fc := ScoreFindings(tr.Report.Text, truth)
		if fc.TruePos != len(truth) || fc.Correct != fc.Stated {
			t.Errorf("case %d: %+v\n%v\n%s", i, fc, Mentions(tr.Report.Text), tr.Report.Text)
		}
		total = total.Add(fc)
	}
	if len(kinds) < 7 || total.Truth < 25 {
		t.Errorf("only %d kinds, %d findings in 40 cases", len(kinds), total.Truth)
	}
	near(t, "recall", total.Recall(), 1, 0)
	near(t, "precision", total.Precision(), 1, 0)
}

func TestScoreFindings(t *testing.T) {
	truth := []Mention{{"pleural_effusion", "right"}, {"lung_nodule", "left"}, {"cardiomegaly", ""}}
	for _, c := range []struct {
		report                    string
		tp, kindOnly, stated, cor int
	}{
		{"No pleural effusion or pneumothorax. The lungs are clear.", 0, 0, 0, 0},
		{"There is a small right pleural effusion. A 20 mm nodule in the right upper lobe.", 1, 2, 2, 1},
		{"Right pleural effusion.\nIMPRESSION:\n1. Right pleural effusion.\n2. Left upper lobe nodule. Cardiomegaly.", 3, 3, 3, 3},
		{"A pleural effusion is present. Left pneumothorax.", 0, 1, 2, 0},
		{"There is a 12 mm nonobstructing stone in the lower pole of the left kidney.", 0, 0, 1, 0},
	} {
		fc := ScoreFindings(c.report, truth)
		if fc.TruePos != c.tp || fc.KindOnly != c.kindOnly || fc.Stated != c.stated || fc.Correct != c.cor || fc.Truth != 3 {
			t.Errorf("%q: %+v (mentions %v)", c.report, fc, Mentions(c.report))
		}
	}
}

func TestClosedAndKeyword(t *testing.T) {
	for _, c := range []struct {
		out, letter string
		want        bool
	}{
		{"B. no", "B", true}, {"The answer is C. liver", "C", true}, {"B", "B", false}, {"A. yes", "B", false}, {"", "A", false},
	} {
		if have := ClosedCorrect(c.out, c.letter); have != c.want {
			t.Errorf("ClosedCorrect(%q, %q) = %v", c.out, c.letter, have)
		}
	}
	for _, c := range []struct {
		out, kw string
		want    bool
	}{
		{"In the Right upper lobe.", "right upper lobe", true}, {"In the right lower lobe.", "right upper lobe", false},
		{"About 20 mm.", "20 mm", true}, {"About 120 mm.", "20 mm", false}, {"No.", "no", true}, {"Nodule.", "no", false},
		{"anything", "", false},
	} {
		if have := KeywordMatch(c.out, c.kw); have != c.want {
			t.Errorf("KeywordMatch(%q, %q) = %v", c.out, c.kw, have)
		}
	}
	if !slices.Equal(METEORTokens("Ratio 0.62, e.g. left-sided"), []string{"ratio", "0.62", ",", "e", ".", "g", ".", "left-sided"}) {
		t.Errorf("METEORTokens: %q", METEORTokens("Ratio 0.62, e.g. left-sided"))
	}
}
