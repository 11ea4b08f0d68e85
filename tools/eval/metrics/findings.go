package metrics

import (
	"regexp"
	"slices"
	"strings"
)

// Mention is a finding a report states: its kind (synth's kind names)
// and the side it gives ("" when none).
type Mention struct {
	Kind string
	Side string
}

// kindWords are the phrases that name each kind in a sentence, as the
// phantom's report templates and plain radiology English word them.
var kindWords = []struct {
	kind  string
	words []string
}{
	{"lung_nodule", []string{"nodule"}},
	{"consolidation", []string{"consolidation", "airspace disease"}},
	{"pleural_effusion", []string{"effusion"}},
	{"pneumothorax", []string{"pneumothorax"}},
	{"cardiomegaly", []string{"cardiomegaly", "heart is enlarged", "enlarged heart"}},
	{"liver_lesion", []string{"hepatic lesion", "liver lesion", "hepatic lobe lesion", "hypodense lesion", "hypoattenuating lesion"}},
	{"kidney_stone", []string{"calculus", "calculi", "stone", "nephrolithiasis"}},
	{"rib_fracture", []string{"fracture"}},
}

var (
	sentenceEnd = regexp.MustCompile(`[.;\n]+(\s|$)`)
	negation    = regexp.MustCompile(`\b(no|not|without|negative|normal|unremarkable|clear|intact)\b`)
	sideWord    = regexp.MustCompile(`\b(right|left|bilateral)\b`)
)

// Mentions parses the findings a report states. It reads sentence by
// sentence; a sentence with a negation (no, without, normal, clear, …; whole words, so "nonobstructing" is not one)
// states no finding, so "No pleural effusion or pneumothorax." is
// skipped. Each kind named in a positive sentence is one mention, with
// the first side word of the sentence; for a liver lesion the side is the
// hepatic lobe's, as the ground truth has it. A report that states a
// finding twice (findings and impression) gives one mention.
func Mentions(report string) []Mention {
	var out []Mention
	for _, s := range sentenceEnd.Split(strings.ToLower(report), -1) {
		if strings.TrimSpace(s) == "" || negation.MatchString(s) {
			continue
		}
		for _, kw := range kindWords {
			if !slices.ContainsFunc(kw.words, func(w string) bool { return strings.Contains(s, w) }) {
				continue
			}
			side := ""
			if kw.kind != "cardiomegaly" {
				side = sideWord.FindString(s)
			}
			m := Mention{Kind: kw.kind, Side: side}
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	// A kind stated once with a side and once without is one finding.
	sided := map[string]bool{}
	for _, m := range out {
		sided[m.Kind] = sided[m.Kind] || m.Side != ""
	}
	return slices.DeleteFunc(out, func(m Mention) bool { return m.Side == "" && sided[m.Kind] })
}

// FindingCounts tally finding-level matches over reports.
type FindingCounts struct {
	TruePos  int // true findings the report states with the right side
	Truth    int // true findings
	Stated   int // distinct (kind, side) mentions in the reports
	Correct  int // mentions that match a true finding
	KindOnly int // true findings whose kind is stated, side aside
}

// Add sums counts.
func (c FindingCounts) Add(d FindingCounts) FindingCounts {
	return FindingCounts{c.TruePos + d.TruePos, c.Truth + d.Truth, c.Stated + d.Stated, c.Correct + d.Correct, c.KindOnly + d.KindOnly}
}

// Recall is the share of true findings stated with the right side.
func (c FindingCounts) Recall() float64 { return ratio(c.TruePos, c.Truth) }

// Precision is the share of stated findings that are true.
func (c FindingCounts) Precision() float64 { return ratio(c.Correct, c.Stated) }

// KindRecall is Recall ignoring the side.
func (c FindingCounts) KindRecall() float64 { return ratio(c.KindOnly, c.Truth) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// ScoreFindings compares a report's mentions with the true findings
// (kind and side; a true finding without a side, cardiomegaly, matches
// any mention of its kind). A mention of a kind without a side never
// matches a sided finding.
func ScoreFindings(report string, truth []Mention) FindingCounts {
	ms := Mentions(report)
	match := func(m, t Mention) bool { return m.Kind == t.Kind && (t.Side == "" || m.Side == t.Side) }
	c := FindingCounts{Truth: len(truth), Stated: len(ms)}
	for _, t := range truth {
		if slices.ContainsFunc(ms, func(m Mention) bool { return match(m, t) }) {
			c.TruePos++
		}
		if slices.ContainsFunc(ms, func(m Mention) bool { return m.Kind == t.Kind }) {
			c.KindOnly++
		}
	}
	for _, m := range ms {
		if slices.ContainsFunc(truth, func(t Mention) bool { return match(m, t) }) {
			c.Correct++
		}
	}
	return c
}

// ClosedCorrect is M3D-Bench's rule for a closed answer: correct when
// the answer letter followed by a dot ("B.") appears in the output.
func ClosedCorrect(output, letter string) bool {
	return letter != "" && strings.Contains(output, letter+".")
}

// KeywordMatch reports whether the keyword appears in the output as whole
// words, ignoring case and punctuation ("right upper lobe" in "In the
// Right upper lobe.").
func KeywordMatch(output, keyword string) bool {
	k := strings.Join(ROUGETokens(keyword), " ")
	if k == "" {
		return false
	}
	o := " " + strings.Join(ROUGETokens(output), " ") + " "
	return strings.Contains(o, " "+k+" ")
}
