package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"ctlens/model"
	"ctlens/tools/phantom/synth"
)

// Question types (Sample.QType). Closed and open questions share the names
// where they ask the same thing.
const (
	QReport  = "report"
	QFinding = "finding"  // which abnormality
	QPresent = "presence" // is there X (yes / no)
	QSide    = "side"     // which side
	QOrgan   = "organ"    // which organ (closed)
	QWhere   = "location" // which lobe / hepatic lobe / kidney pole
	QSize    = "size"     // how large: a bucket (closed), a phrase (open)
)

// kindInfo is how questions and answers name a kind.
var kindInfo = map[synth.Kind]struct {
	name, article, organ string
}{
	synth.LungNodule:      {"lung nodule", "a lung nodule", "lung"},
	synth.Consolidation:   {"consolidation", "consolidation", "lung"},
	synth.PleuralEffusion: {"pleural effusion", "a pleural effusion", "pleura"},
	synth.Pneumothorax:    {"pneumothorax", "a pneumothorax", "pleura"},
	synth.Cardiomegaly:    {"cardiomegaly", "cardiomegaly", "heart"},
	synth.LiverLesion:     {"liver lesion", "a liver lesion", "liver"},
	synth.KidneyStone:     {"kidney stone", "a kidney stone", "kidney"},
	synth.RibFracture:     {"rib fracture", "a rib fracture", "ribs"},
}

// KindName is the plain name of a finding kind ("pleural effusion").
func KindName(k string) string {
	if i, ok := kindInfo[synth.Kind(k)]; ok {
		return i.name
	}
	return strings.ReplaceAll(k, "_", " ")
}

// noAbnormality is the answer of the finding question on a normal case.
const noAbnormality = "no abnormality"

// organs are the choices of the organ question: every organ a finding can
// be in, and two that never hold one.
var organs = []string{"lung", "pleura", "heart", "liver", "kidney", "ribs", "spleen", "stomach"}

// lobes are the lung lobes, as answers name them.
var lobes = []string{"right upper lobe", "right middle lobe", "right lower lobe", "left upper lobe", "left lower lobe"}

// sizeBuckets are the closed size answers for findings measured in mm.
var sizeBuckets = []struct {
	name string
	hi   float64
}{{"under 10 mm", 10}, {"10 to 20 mm", 20}, {"20 to 40 mm", 40}, {"over 40 mm", math.Inf(1)}}

// orderedFindings returns the case's findings in the order of urgency the
// report's impression uses; the first is the "main" finding.
func orderedFindings(fs []synth.Finding) []synth.Finding {
	order := []synth.Kind{synth.Pneumothorax, synth.PleuralEffusion, synth.Consolidation, synth.RibFracture,
		synth.Cardiomegaly, synth.LungNodule, synth.LiverLesion, synth.KidneyStone}
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b synth.Finding) int {
		return slices.Index(order, a.Type) - slices.Index(order, b.Type)
	})
	return out
}

// truthFindings turns synth findings into the samples' form.
func truthFindings(fs []synth.Finding) []Finding {
	out := []Finding{}
	for _, f := range fs {
		out = append(out, Finding{Kind: string(f.Type), Side: f.Side, Lobe: f.Lobe, Segment: f.Segment,
			Aspect: f.Aspect, Location: f.Location, SizeMM: f.SizeMM, Severity: f.Severity})
	}
	return out
}

// sided says whether a kind's side is the patient's side (a liver
// lesion's is its hepatic lobe, asked as its location).
func sided(f synth.Finding) bool { return f.Side != "" && f.Type != synth.LiverLesion }

// phrase names a finding with its place: "right pleural effusion",
// "right upper lobe lung nodule".
func phrase(f synth.Finding) string {
	n := kindInfo[f.Type].name
	switch {
	case f.Lobe != "":
		return f.Side + " " + f.Lobe + " lobe " + n
	case f.Type == synth.LiverLesion:
		return f.Side + " hepatic lobe " + n
	case f.Side != "":
		return f.Side + " " + n
	}
	return n
}

// qgen draws one case's questions.
type qgen struct {
	r      *rand.Rand
	t      *synth.Truth
	fs     []synth.Finding // ordered by urgency
	kinds  []string        // the kinds the data set draws
	absent []synth.Kind    // drawn kinds not in this case
	out    []Sample
}

// Questions returns the case's closed and open questions (without ids):
// for every case the finding and presence questions; for a case with
// findings also side, organ, location and size questions about findings
// drawn from it. kinds are the finding kinds the data set draws, the pool
// of distractors.
func Questions(seed uint64, t *synth.Truth, kinds []string) []Sample {
	g := &qgen{r: caseRNG(seed, t.Case, rngQuestions), t: t, fs: orderedFindings(t.Findings), kinds: kinds}
	present := map[synth.Kind]bool{}
	for _, f := range t.Findings {
		present[f.Type] = true
	}
	for _, k := range kinds {
		if !present[synth.Kind(k)] {
			g.absent = append(g.absent, synth.Kind(k))
		}
	}
	g.finding()
	g.presence()
	if len(g.fs) > 0 {
		g.side()
		g.organ()
		g.where()
		g.size()
	}
	return g.out
}

// closed adds a multiple-choice question: right plus the distractors,
// shuffled, in M3D-VQA's form; the answer is "X. right".
func (g *qgen) closed(qtype, q, right string, distractors []string) {
	choices := append([]string{right}, distractors...)
	g.r.Shuffle(len(choices), func(i, j int) { choices[i], choices[j] = choices[j], choices[i] })
	i := slices.Index(choices, right)
	letter := string(rune('A' + i))
	g.out = append(g.out, Sample{Task: TaskClosedVQA, QType: qtype, Question: model.ClosedQuestion(q, choices),
		Answer: letter + ". " + right, Choices: choices, Letter: letter})
}

func (g *qgen) open(qtype, q, answer, keyword string) {
	g.out = append(g.out, Sample{Task: TaskOpenVQA, QType: qtype, Question: q, Answer: answer, Keyword: keyword})
}

// pick returns n distinct items of pool not in skip, in a drawn order.
func (g *qgen) pick(pool []string, n int, skip ...string) []string {
	var c []string
	for _, p := range pool {
		if !slices.Contains(skip, p) {
			c = append(c, p)
		}
	}
	g.r.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c[:min(n, len(c))]
}

func (g *qgen) anyFinding(ok func(synth.Finding) bool) (synth.Finding, bool) {
	var c []synth.Finding
	for _, f := range g.fs {
		if ok(f) {
			c = append(c, f)
		}
	}
	if len(c) == 0 {
		return synth.Finding{}, false
	}
	return c[g.r.IntN(len(c))], true
}

func (g *qgen) finding() {
	var names []string
	for _, k := range g.kinds {
		names = append(names, KindName(k))
	}
	q := "Which abnormality is present in this CT scan?"
	if len(g.fs) == 0 {
		g.closed(QFinding, q, noAbnormality, g.pick(names, 3))
		g.open(QFinding, "What abnormality is seen in this CT scan?", "No abnormality is seen.", noAbnormality)
		return
	}
	main := g.fs[0]
	var skip []string
	for _, f := range g.fs {
		skip = append(skip, kindInfo[f.Type].name)
	}
	// With three findings and few kinds, "no abnormality" fills in.
	d := g.pick(append(names, noAbnormality), 3, skip...)
	if len(g.fs) > 1 {
		q = "Which abnormality is the most urgent in this CT scan?"
	}
	g.closed(QFinding, q, kindInfo[main.Type].name, d)
	var ps []string
	for _, f := range g.fs {
		ps = append(ps, phrase(f))
	}
	ans := capFirst(joinAnd(ps)) + "."
	g.open(QFinding, "What abnormality is seen in this CT scan?", ans, kindInfo[main.Type].name)
}

func (g *qgen) presence() {
	yesno := []string{"yes", "no"}
	ask := func(k synth.Kind, yes bool, open bool) {
		q := fmt.Sprintf("Is there %s in this CT scan?", kindInfo[k].article)
		if !open {
			right := map[bool]string{true: "yes", false: "no"}[yes]
			g.closed(QPresent, q, right, g.pick(yesno, 1, right))
			return
		}
		if !yes {
			g.open(QPresent, q, fmt.Sprintf("No, there is no %s.", kindInfo[k].name), "no")
			return
		}
		for _, f := range g.fs {
			if f.Type == k {
				g.open(QPresent, q, "Yes, "+where(f)+".", "yes")
			}
		}
	}
	// Closed: one present kind and one absent kind when there are both;
	// open: either, by a coin.
	if len(g.fs) > 0 {
		f, _ := g.anyFinding(func(synth.Finding) bool { return true })
		ask(f.Type, true, false)
	}
	if len(g.absent) > 0 {
		ask(g.absent[g.r.IntN(len(g.absent))], false, false)
	}
	if len(g.fs) > 0 && (len(g.absent) == 0 || g.r.IntN(2) == 0) {
		f, _ := g.anyFinding(func(synth.Finding) bool { return true })
		ask(f.Type, true, true)
	} else if len(g.absent) > 0 {
		ask(g.absent[g.r.IntN(len(g.absent))], false, true)
	}
}

// where is a finding's place as an answer phrase ("in the right upper
// lobe").
func where(f synth.Finding) string {
	switch {
	case f.Lobe != "":
		return "in the " + f.Side + " " + f.Lobe + " lobe"
	case f.Type == synth.LiverLesion:
		return fmt.Sprintf("in segment %s of the %s hepatic lobe", f.Segment, f.Side)
	case f.Type == synth.KidneyStone:
		return fmt.Sprintf("in the %s of the %s kidney", f.Aspect, f.Side)
	case f.Type == synth.RibFracture:
		return "in the " + f.Location
	case f.Side != "":
		return "in the " + f.Side + " hemithorax"
	case f.Type == synth.Cardiomegaly:
		return fmt.Sprintf("with a cardiothoracic ratio of %.2f", f.CTR)
	}
	return "in the " + f.Location
}

func (g *qgen) side() {
	f, ok := g.anyFinding(sided)
	if !ok {
		return
	}
	n := kindInfo[f.Type].name
	q := fmt.Sprintf("On which side is the %s?", n)
	g.closed(QSide, q, f.Side, g.pick([]string{"right", "left", "both sides", "midline"}, 3, f.Side))
	g.open(QSide, q, fmt.Sprintf("On the %s.", f.Side), f.Side)
}

func (g *qgen) organ() {
	main := g.fs[0]
	var skip []string
	for _, f := range g.fs {
		skip = append(skip, kindInfo[f.Type].organ)
	}
	q := "Which organ shows an abnormality in this CT scan?"
	if len(g.fs) > 1 {
		q = "Which organ shows the most urgent abnormality in this CT scan?"
	}
	g.closed(QOrgan, q, kindInfo[main.Type].organ, g.pick(organs, 3, skip...))
}

func (g *qgen) where() {
	f, ok := g.anyFinding(func(f synth.Finding) bool {
		return f.Lobe != "" || f.Type == synth.LiverLesion || f.Type == synth.KidneyStone
	})
	if !ok {
		return
	}
	n := kindInfo[f.Type].name
	switch {
	case f.Lobe != "":
		right := f.Side + " " + f.Lobe + " lobe"
		q := fmt.Sprintf("In which lobe is the %s?", n)
		g.closed(QWhere, q, right, g.pick(lobes, 3, right))
		g.open(QWhere, q, "In the "+right+".", right)
	case f.Type == synth.LiverLesion:
		right := f.Side + " lobe"
		q := "In which hepatic lobe is the liver lesion?"
		g.closed(QWhere, q, right, g.pick([]string{"right lobe", "left lobe", "caudate lobe", "both lobes"}, 3, right))
		g.open(QWhere, q, fmt.Sprintf("In the %s hepatic lobe, segment %s.", f.Side, f.Segment), f.Side+" hepatic lobe")
	default:
		q := fmt.Sprintf("Where in the %s kidney is the stone?", f.Side)
		g.closed(QWhere, q, f.Aspect, g.pick([]string{"upper pole", "interpolar region", "lower pole", "renal pelvis"}, 3, f.Aspect))
		g.open(QWhere, q, "In the "+f.Aspect+".", f.Aspect)
	}
}

func (g *qgen) size() {
	f, ok := g.anyFinding(func(synth.Finding) bool { return true })
	if !ok {
		return
	}
	n := kindInfo[f.Type].name
	switch f.Type {
	case synth.Cardiomegaly:
		q := "How enlarged is the heart?"
		g.closed(QSize, q, f.Severity, g.pick([]string{"mild", "moderate", "marked", "normal size"}, 3, f.Severity))
		g.open(QSize, q, fmt.Sprintf("%s cardiomegaly, with a cardiothoracic ratio of %.2f.", capFirst(f.Severity), f.CTR), f.Severity)
	case synth.PleuralEffusion, synth.Pneumothorax:
		q := fmt.Sprintf("How large is the %s?", n)
		g.closed(QSize, q, f.Severity, g.pick([]string{"small", "moderate", "large", "massive"}, 3, f.Severity))
		detail := fmt.Sprintf("about %.0f ml", f.VolumeML)
		if f.Type == synth.Pneumothorax {
			detail = fmt.Sprintf("with a rim of about %.0f mm", f.SizeMM)
		}
		g.open(QSize, q, fmt.Sprintf("%s, %s.", capFirst(f.Severity), detail), f.Severity)
	default:
		q := fmt.Sprintf("How large is the %s?", n)
		var right string
		var names []string
		for _, b := range sizeBuckets {
			names = append(names, b.name)
			if right == "" && f.SizeMM < b.hi {
				right = b.name
			}
		}
		g.closed(QSize, q, right, g.pick(names, 3, right))
		// Open: the size to the nearest 5 mm, what a reader states at
		// this resolution.
		mm := fmt.Sprintf("%.0f mm", math.Max(5, 5*math.Round(f.SizeMM/5)))
		g.open(QSize, q, "About "+mm+".", mm)
	}
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
