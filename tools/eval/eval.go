package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"ctlens/model"
	"ctlens/tools/dataset/dataset"
	"ctlens/tools/eval/metrics"
	"ctlens/tools/internal/backend"
	"ctlens/tools/internal/engine"
)

// options are the flags.
type options struct {
	weights, data, split, backend, tasks, predictions string
	closed                                            string // closedRank or closedGenerate
	limit, reportTokens, answerTokens                 int
	asJSON                                            bool
}

// TextScores are the text metrics, each the mean over samples (M3D
// averages per-sample scores), plus corpus BLEU-1 over all of them.
type TextScores struct {
	BLEU1       float64 `json:"bleu1"`        // sentence BLEU-1 with brevity penalty, mean
	CorpusBLEU1 float64 `json:"corpus_bleu1"` // counts summed over samples first
	ROUGE1      float64 `json:"rouge1"`       // F1
	ROUGEL      float64 `json:"rougeL"`       // F1
	METEOR      float64 `json:"meteor"`       // exact + Porter stem, no WordNet synonyms
}

// ReportScores score report generation.
type ReportScores struct {
	N int `json:"n"`
	TextScores
	FindingPrecision  float64 `json:"finding_precision"`
	FindingRecall     float64 `json:"finding_recall"`      // kind and side right
	FindingKindRecall float64 `json:"finding_kind_recall"` // kind right, side aside
	TrueFindings      int     `json:"true_findings"`
	// RecallByKind is FindingRecall per finding kind (what the model
	// sees and what it misses); NByKind the true findings of each.
	RecallByKind   map[string]float64 `json:"finding_recall_by_kind,omitempty"`
	NByKind        map[string]int     `json:"n_by_kind,omitempty"`
	StatedFindings int                `json:"stated_findings"`
}

// How closed questions are answered (--closed).
const (
	// closedRank ranks the choices by the model's likelihood of each
	// whole answer "X. text<|end|>" (model.Choose) and outputs the best.
	closedRank = "rank"
	// closedGenerate lets the model write its answer (greedy), as for
	// open questions.
	closedGenerate = "generate"
)

// ClosedScores score closed VQA.
type ClosedScores struct {
	N int `json:"n"`
	// Mode is how the answers were produced: "rank" (likelihood ranking
	// of the choices) or "generate" (free greedy generation). Both output
	// "X. text" and are scored alike; a number without its mode is not
	// comparable.
	Mode     string  `json:"mode"`
	Accuracy float64 `json:"accuracy"`
	// PriorAccuracy is the text-only baseline's accuracy on the same
	// questions (PriorAccuracy); nil when the train split is missing.
	PriorAccuracy *float64           `json:"prior_accuracy,omitempty"`
	ByQType       map[string]float64 `json:"by_qtype"`
	NByQType      map[string]int     `json:"n_by_qtype"`
}

// OpenScores score open VQA.
type OpenScores struct {
	N int `json:"n"`
	TextScores
	KeywordMatch float64            `json:"keyword_match"`
	ByQType      map[string]float64 `json:"keyword_match_by_qtype"`
	NByQType     map[string]int     `json:"n_by_qtype"`
}

// Result is what eval prints as JSON.
type Result struct {
	Model   string        `json:"model"`
	Backend string        `json:"backend"`
	Data    string        `json:"data"`
	Split   string        `json:"split"`
	Cases   int           `json:"cases"`
	Report  *ReportScores `json:"report,omitempty"`
	Closed  *ClosedScores `json:"closed_vqa,omitempty"`
	Open    *OpenScores   `json:"open_vqa,omitempty"`
	// RouterAccuracy is the share of samples the task router sent to
	// their own task's group (absent for a dense model).
	RouterAccuracy *float64 `json:"router_accuracy,omitempty"`
	Seconds        float64  `json:"seconds"`
	// Warnings say where the model and the data disagree (normalisation).
	Warnings []string `json:"warnings,omitempty"`
}

// prediction is one line of --predictions.
type prediction struct {
	CaseID int    `json:"case_id"`
	Task   string `json:"task"`
	QType  string `json:"qtype"`
	Routed string `json:"routed,omitempty"`
	Prompt string `json:"question"`
	Target string `json:"answer"`
	Output string `json:"output"`
	// Probs are a ranked closed question's per-choice probabilities
	// (softmax over the summed log-likelihoods), in choice order.
	Probs []float64 `json:"choice_probs,omitempty"`
}

// evaluate runs the model on the split and scores it.
func evaluate(ctx context.Context, o options, log io.Writer) (*Result, error) {
	t0 := time.Now()
	meta, err := dataset.ReadMeta(o.data)
	if err != nil {
		return nil, err
	}
	if o.closed == "" {
		o.closed = closedRank
	}
	if o.closed != closedRank && o.closed != closedGenerate {
		return nil, fmt.Errorf("--closed %q\nhint: %s (likelihood ranking of the choices) or %s (free generation)", o.closed, closedRank, closedGenerate)
	}
	if !slices.Contains(dataset.Splits, o.split) {
		return nil, fmt.Errorf("--split %q\nhint: one of %s", o.split, strings.Join(dataset.Splits, ", "))
	}
	want := map[string]bool{}
	for _, t := range strings.Split(o.tasks, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(model.TaskNames, t) {
			return nil, fmt.Errorf("--tasks: %q\nhint: a comma-separated list of %s", t, strings.Join(model.TaskNames, ", "))
		}
		want[t] = true
	}
	samples, err := dataset.ReadSamples(o.data, o.split)
	if err != nil {
		return nil, err
	}
	vols, err := dataset.OpenVolumes(filepath.Join(o.data, o.split, "volumes.npy"))
	if err != nil {
		return nil, err
	}
	defer vols.Close()

	dir, err := engine.ResolveWeights(o.weights)
	if err != nil {
		return nil, err
	}
	ops, release, err := backend.Open(ctx, o.backend)
	if err != nil {
		return nil, err
	}
	defer release()
	d, err := engine.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	cfg := d.Config
	if !cfg.HasVision() || !cfg.HasLLM() {
		return nil, fmt.Errorf("the model in %s is a %s; eval needs a vision-language model", dir, engine.Arch(cfg))
	}
	if d.Tokenizer == nil {
		return nil, fmt.Errorf("the model in %s has no tokenizer.json\nhint: ship the data set's tokenizer.json with the model", dir)
	}
	D, S := cfg.Slices(), cfg.Vision.ImageSize
	if vols.Shape != [3]int{D, S, S} {
		return nil, fmt.Errorf("%s holds %v volumes, the model in %s takes %d×%d×%d\nhint: build the data with -size %dx%dx%d, or evaluate a model made for it",
			o.data, vols.Shape, dir, D, S, S, D, S, S)
	}
	res := &Result{Model: d.Manifest.Model, Backend: ops.Backend(), Data: o.data, Split: o.split}
	if d.InputNorm != meta.InputNorm {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the model was trained on input_norm %q, the data are normalised with %q", d.InputNorm, meta.InputNorm))
	}

	// Keep the first --limit cases and the asked tasks.
	var todo []dataset.Sample
	cases := map[int]bool{}
	for _, s := range samples {
		if !want[s.Task] {
			continue
		}
		if o.limit > 0 && !cases[s.Case] && len(cases) >= o.limit {
			continue
		}
		cases[s.Case] = true
		todo = append(todo, s)
	}
	res.Cases = len(cases)
	if len(todo) == 0 {
		return nil, fmt.Errorf("%s/%s has no samples of tasks %s", o.data, o.split, o.tasks)
	}

	if !o.asJSON {
		fmt.Fprintf(log, "loading %s on %s; %d samples of %d cases…\n", d.Manifest.Model, ops.Backend(), len(todo), len(cases))
	}
	if err := d.Load(ctx, nil); err != nil {
		return nil, err
	}
	m, err := model.New(ops, cfg, d.Source)
	if err != nil {
		return nil, err
	}
	if err := backend.Warm(ctx, ops, m); err != nil {
		return nil, err
	}
	// One state for every request, sized for the longest prompt and the
	// longest generation or ranked answer.
	rows, answer := 0, 0
	for _, s := range todo {
		ids, err := model.BuildPrompt(d.Tokenizer, cfg.Prompt, s.Question)
		if err != nil {
			return nil, err
		}
		rows = max(rows, len(ids)-1+cfg.VisualTokens())
		if ranked(o, s) {
			for i, c := range s.Choices {
				a, err := model.AnswerIDs(d.Tokenizer, cfg.Prompt, model.ChoiceAnswer(i, c))
				if err != nil {
					return nil, err
				}
				answer = max(answer, len(a))
			}
		}
	}
	maxSeq := min(cfg.LLM.MaxPositions, rows+max(o.reportTokens, o.answerTokens, answer))
	if rows >= maxSeq {
		return nil, fmt.Errorf("the longest prompt takes %d positions, the model has %d", rows, cfg.LLM.MaxPositions)
	}
	st, err := m.NewState(model.StateOptions{MaxSeq: maxSeq, MaxPrefill: rows})
	if err != nil {
		return nil, err
	}
	defer st.Free()

	var pw io.Writer
	if o.predictions != "" {
		f, err := os.Create(o.predictions)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		pw = f
	}

	sc := newScorer()
	var px []float32
	lastCase := -1
	for i, s := range todo {
		if s.Case != lastCase {
			grey, err := vols.Row(s.Case)
			if err != nil {
				return nil, err
			}
			px = repeatChannels(grey, D, cfg.Vision.NumChannels, S*S)
			lastCase = s.Case
		}
		maxTok := o.answerTokens
		if s.Task == dataset.TaskReport {
			maxTok = o.reportTokens
		}
		var (
			text    string
			routing *model.Routing
			probs   []float64
		)
		if ranked(o, s) {
			// The question as the data set wrote it (its choices in the
			// text), each choice's answer scored after it.
			out, err := m.Choose(ctx, st, d.Tokenizer, px, s.Question, s.Choices, model.ScoreOptions{})
			if err != nil {
				return nil, fmt.Errorf("case %d (%s %s): %w", s.CaseID, s.Task, s.QType, err)
			}
			text, routing, probs = out.Text, out.Routing, out.Probs
		} else {
			// Greedy, the router choosing the task group as in the app.
			opts := model.TextOptions{GenerateOptions: model.GenerateOptions{MaxTokens: maxTok}}
			// The sample's question is the data set's report prompt for
			// reports (model.DefaultPrompt's, what Report sends).
			out, err := m.Ask(ctx, st, d.Tokenizer, px, s.Question, opts)
			if err != nil {
				return nil, fmt.Errorf("case %d (%s %s): %w", s.CaseID, s.Task, s.QType, err)
			}
			text, routing = out.Text, out.Routing
		}
		routed := ""
		if routing != nil {
			routed = routing.TaskName
		}
		sc.add(s, text, routed)
		if pw != nil {
			b, _ := json.Marshal(prediction{s.CaseID, s.Task, s.QType, routed, s.Question, s.Answer, text, probs})
			pw.Write(append(b, '\n'))
		}
		if !o.asJSON && (i+1)%50 == 0 {
			fmt.Fprintf(log, "%d/%d samples, %.1f s\n", i+1, len(todo), time.Since(t0).Seconds())
		}
	}
	sc.fill(res)
	if res.Closed != nil {
		res.Closed.Mode = o.closed
		// The blind reference: what the answer prior alone scores.
		if train, err := dataset.ReadSamples(o.data, "train"); err == nil {
			acc := PriorAccuracy(train, todo)
			res.Closed.PriorAccuracy = &acc
		}
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// ranked says whether sample s is answered by ranking its choices.
func ranked(o options, s dataset.Sample) bool {
	return o.closed == closedRank && s.Task == dataset.TaskClosedVQA && len(s.Choices) > 0
}

// PriorAccuracy is the closed-VQA accuracy of a text-only baseline that
// never looks at the image: for each question it picks, among the offered
// choices, the answer that was right most often in train for that
// question type (ties to the earlier choice). A model must beat it to
// show that it reads the volume.
func PriorAccuracy(train, test []dataset.Sample) float64 {
	right := map[string]map[string]int{}
	for _, s := range train {
		if a, ok := chosen(s); ok {
			if right[s.QType] == nil {
				right[s.QType] = map[string]int{}
			}
			right[s.QType][a]++
		}
	}
	n, ok := 0, 0
	for _, s := range test {
		a, valid := chosen(s)
		if !valid {
			continue
		}
		best := s.Choices[0]
		for _, c := range s.Choices[1:] {
			if right[s.QType][c] > right[s.QType][best] {
				best = c
			}
		}
		n++
		if best == a {
			ok++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

// chosen is a closed question's right answer text.
func chosen(s dataset.Sample) (string, bool) {
	if s.Task != dataset.TaskClosedVQA || len(s.Letter) != 1 {
		return "", false
	}
	i := int(s.Letter[0] - 'A')
	if i < 0 || i >= len(s.Choices) {
		return "", false
	}
	return s.Choices[i], true
}

// repeatChannels lays the grey (D, H·W) volume out as (D, Cin, H·W), as
// tools/ctlens does for a DICOM series: CLIP takes RGB.
func repeatChannels(grey []float32, d, cin, hw int) []float32 {
	px := make([]float32, d*cin*hw)
	for z := range d {
		for c := range cin {
			copy(px[(z*cin+c)*hw:], grey[z*hw:(z+1)*hw])
		}
	}
	return px
}

// scorer accumulates per-sample scores.
type scorer struct {
	report, open      textSums
	findings          metrics.FindingCounts
	kindN, kindOK     map[string]int // per finding kind: true findings, stated with the right side
	nReport           int
	closedN, closedOK map[string]int
	openN, openOK     map[string]int
	routedOK, routedN int
}

type textSums struct {
	n                            int
	bleu, rouge1, rougeL, meteor float64
	corpus                       metrics.BLEUCounts
}

func (t *textSums) add(hyp, ref string) {
	t.n++
	t.bleu += metrics.BLEU1(hyp, ref)
	t.rouge1 += metrics.ROUGE1(hyp, ref).F
	t.rougeL += metrics.ROUGEL(hyp, ref).F
	t.meteor += metrics.METEOR(hyp, ref)
	t.corpus = t.corpus.Add(metrics.CountBLEU1(metrics.BLEUTokens(hyp), metrics.BLEUTokens(ref)))
}

func (t *textSums) scores() TextScores {
	n := float64(max(t.n, 1))
	return TextScores{BLEU1: t.bleu / n, CorpusBLEU1: t.corpus.BLEU(), ROUGE1: t.rouge1 / n, ROUGEL: t.rougeL / n, METEOR: t.meteor / n}
}

func newScorer() *scorer {
	return &scorer{kindN: map[string]int{}, kindOK: map[string]int{}, closedN: map[string]int{}, closedOK: map[string]int{}, openN: map[string]int{}, openOK: map[string]int{}}
}

func (sc *scorer) add(s dataset.Sample, out, routed string) {
	if routed != "" {
		sc.routedN++
		if routed == s.Task {
			sc.routedOK++
		}
	}
	switch s.Task {
	case dataset.TaskReport:
		sc.nReport++
		sc.report.add(out, s.Answer)
		var truth []metrics.Mention
		for _, f := range s.Findings {
			side := f.Side
			if f.Kind == "cardiomegaly" {
				side = ""
			}
			truth = append(truth, metrics.Mention{Kind: f.Kind, Side: side})
		}
		sc.findings = sc.findings.Add(metrics.ScoreFindings(out, truth))
		for _, t := range truth {
			sc.kindN[t.Kind]++
			sc.kindOK[t.Kind] += metrics.ScoreFindings(out, []metrics.Mention{t}).TruePos
		}
	case dataset.TaskClosedVQA:
		sc.closedN[s.QType]++
		if metrics.ClosedCorrect(out, s.Letter) {
			sc.closedOK[s.QType]++
		}
	case dataset.TaskOpenVQA:
		sc.open.add(out, s.Answer)
		sc.openN[s.QType]++
		if metrics.KeywordMatch(out, s.Keyword) {
			sc.openOK[s.QType]++
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func byType(ok, n map[string]int) map[string]float64 {
	out := map[string]float64{}
	for k, v := range n {
		out[k] = float64(ok[k]) / float64(v)
	}
	return out
}

func (sc *scorer) fill(r *Result) {
	if sc.nReport > 0 {
		f := sc.findings
		r.Report = &ReportScores{N: sc.nReport, TextScores: sc.report.scores(), FindingPrecision: f.Precision(),
			FindingRecall: f.Recall(), FindingKindRecall: f.KindRecall(), TrueFindings: f.Truth, StatedFindings: f.Stated,
			RecallByKind: byType(sc.kindOK, sc.kindN), NByKind: sc.kindN}
	}
	if n := sum(sc.closedN); n > 0 {
		r.Closed = &ClosedScores{N: n, Accuracy: float64(sum(sc.closedOK)) / float64(n),
			ByQType: byType(sc.closedOK, sc.closedN), NByQType: sc.closedN}
	}
	if n := sum(sc.openN); n > 0 {
		r.Open = &OpenScores{N: n, TextScores: sc.open.scores(), KeywordMatch: float64(sum(sc.openOK)) / float64(n),
			ByQType: byType(sc.openOK, sc.openN), NByQType: sc.openN}
	}
	if sc.routedN > 0 {
		a := float64(sc.routedOK) / float64(sc.routedN)
		r.RouterAccuracy = &a
	}
}

func writeJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// closedHow says in the table how closed answers were produced.
var closedHow = map[string]string{
	closedRank:     "rank: the choices ranked by the model's likelihood of \"X. text\"",
	closedGenerate: "generate: the model's own greedy answer",
}

// printTable prints the scores for a reader, before the JSON.
func printTable(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%s on %s/%s (%d cases, %s, %.1f s)\n", r.Model, r.Data, r.Split, r.Cases, r.Backend, r.Seconds)
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "warning:", wn)
	}
	fmt.Fprintf(w, "%-11s %5s %7s %7s %7s %7s %7s\n", "task", "n", "BLEU-1", "ROUGE-1", "ROUGE-L", "METEOR", "acc/EM")
	if s := r.Report; s != nil {
		fmt.Fprintf(w, "%-11s %5d %7.4f %7.4f %7.4f %7.4f %7s\n", "report", s.N, s.BLEU1, s.ROUGE1, s.ROUGEL, s.METEOR, "-")
	}
	if s := r.Closed; s != nil {
		fmt.Fprintf(w, "%-11s %5d %7s %7s %7s %7s %7.4f  (%s)\n", "closed_vqa", s.N, "-", "-", "-", "-", s.Accuracy, closedHow[s.Mode])
		if s.PriorAccuracy != nil {
			fmt.Fprintf(w, "%-11s %5d %7s %7s %7s %7s %7.4f  (text-only answer prior: the image unread)\n", "  prior", s.N, "-", "-", "-", "-", *s.PriorAccuracy)
		}
	}
	if s := r.Open; s != nil {
		fmt.Fprintf(w, "%-11s %5d %7.4f %7.4f %7.4f %7.4f %7.4f\n", "open_vqa", s.N, s.BLEU1, s.ROUGE1, s.ROUGEL, s.METEOR, s.KeywordMatch)
	}
	if s := r.Report; s != nil {
		fmt.Fprintf(w, "findings in reports: precision %.4f, recall %.4f (kind only %.4f) over %d true, %d stated\n",
			s.FindingPrecision, s.FindingRecall, s.FindingKindRecall, s.TrueFindings, s.StatedFindings)
	}
	line := func(name string, acc map[string]float64, n map[string]int) {
		keys := make([]string, 0, len(acc))
		for k := range acc {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %.3f (%d)", k, acc[k], n[k]))
		}
		fmt.Fprintf(w, "%s: %s\n", name, strings.Join(parts, ", "))
	}
	if s := r.Report; s != nil && len(s.NByKind) > 0 {
		line("report finding recall by kind", s.RecallByKind, s.NByKind)
	}
	if s := r.Closed; s != nil {
		line("closed accuracy ("+s.Mode+") by type", s.ByQType, s.NByQType)
	}
	if s := r.Open; s != nil {
		line("open keyword match by type", s.ByQType, s.NByQType)
	}
	if r.RouterAccuracy != nil {
		fmt.Fprintf(w, "task router: %.4f of samples sent to their own task group\n", *r.RouterAccuracy)
	}
}
