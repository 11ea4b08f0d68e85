package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctlens/shaders"
	"ctlens/tools/dataset/dataset"
	"ctlens/tools/internal/tinymodel"
)

// tinyData builds a data set on the tiny model's grid (4 slices of 16²)
// and a tiny random model beside it.
func tinyData(t *testing.T) (data, weights string) {
	t.Helper()
	root := t.TempDir()
	data, weights = filepath.Join(root, "data"), filepath.Join(root, "model")
	_, err := dataset.Build(context.Background(), dataset.Options{Out: data, N: 12, Seed: 2, D: 4, H: 16, W: 16,
		Norm: "minmax", Vocab: 600, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tinymodel.WriteDir(weights, tinymodel.DefaultFamily, shaders.F32, 1); err != nil {
		t.Fatal(err)
	}
	return data, weights
}

// TestEvalTinyModel runs the engine end to end over a split: every sample
// is generated and scored, the scores lie in [0, 1], the JSON and the
// table are printed, and --predictions holds one line per sample.
func TestEvalTinyModel(t *testing.T) {
	data, weights := tinyData(t)
	meta, err := dataset.ReadMeta(data)
	if err != nil {
		t.Fatal(err)
	}
	split := "train" // the split with the most cases at n = 12
	samples, err := dataset.ReadSamples(data, split)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, s := range samples {
		if s.Case < 2 {
			want[s.Task]++
		}
	}
	preds := filepath.Join(t.TempDir(), "p.jsonl")
	var out, errb bytes.Buffer
	err = run(context.Background(), []string{"--weights", weights, "--data", data, "--split", split, "--limit", "2",
		"--report-tokens", "24", "--answer-tokens", "8", "--predictions", preds}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	text := out.String()
	for _, w := range []string{"BLEU-1", "report", "closed_vqa", "open_vqa", "findings in reports", "task router"} {
		if !strings.Contains(text, w) {
			t.Errorf("table lacks %q:\n%s", w, text)
		}
	}
	var r Result
	if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):]), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, text)
	}
	if r.Cases != 2 || r.Report == nil || r.Closed == nil || r.Open == nil || r.RouterAccuracy == nil {
		t.Fatalf("result %+v", r)
	}
	if r.Report.N != want["report"] || r.Closed.N != want["closed_vqa"] || r.Open.N != want["open_vqa"] {
		t.Errorf("scored %d/%d/%d samples, want %v", r.Report.N, r.Closed.N, r.Open.N, want)
	}
	for name, v := range map[string]float64{
		"report BLEU-1": r.Report.BLEU1, "report ROUGE-1": r.Report.ROUGE1, "report ROUGE-L": r.Report.ROUGEL,
		"report METEOR": r.Report.METEOR, "finding recall": r.Report.FindingRecall, "finding precision": r.Report.FindingPrecision,
		"closed accuracy": r.Closed.Accuracy, "open METEOR": r.Open.METEOR, "keyword match": r.Open.KeywordMatch,
		"router": *r.RouterAccuracy,
	} {
		if !(v >= 0 && v <= 1) {
			t.Errorf("%s = %v, outside [0, 1]", name, v)
		}
	}
	// The tiny model is the engine's random one and knows minmax, which
	// the data were built with: no warning.
	if len(r.Warnings) != 0 || meta.InputNorm != "minmax" {
		t.Errorf("warnings %v", r.Warnings)
	}
	b, err := os.ReadFile(preds)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if n := want["report"] + want["closed_vqa"] + want["open_vqa"]; len(lines) != n {
		t.Errorf("%d predictions, want %d", len(lines), n)
	}
	var p prediction
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil || p.Task != "report" || p.Routed == "" {
		t.Errorf("first prediction %+v (%v)", p, err)
	}
}

// TestEvalErrors: bad input gets an error naming the problem.
func TestEvalErrors(t *testing.T) {
	data, weights := tinyData(t)
	other := t.TempDir()
	if _, err := dataset.Build(context.Background(), dataset.Options{Out: other, N: 3, Seed: 2, D: 4, H: 32, W: 32, Vocab: 400}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--weights", weights}, "--data is required"},
		{[]string{"--weights", weights, "--data", t.TempDir()}, "meta.json"},
		{[]string{"--weights", weights, "--data", data, "--split", "dev"}, "--split"},
		{[]string{"--weights", weights, "--data", data, "--tasks", "caption"}, "--tasks"},
		{[]string{"--weights", weights, "--data", data, "--closed", "vote"}, "--closed"},
		{[]string{"--weights", weights, "--data", other}, "takes 4×16×16"},
		{[]string{"--weights", t.TempDir(), "--data", data}, "not a ctlens model directory"},
	} {
		err := run(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestScorerOnTargets: a model that answers every sample with its target
// scores 1 everywhere but METEOR (whose fragmentation penalty keeps even a
// perfect match below 1); answering with another case's targets scores
// less.
func TestScorerOnTargets(t *testing.T) {
	dir := t.TempDir()
	if _, err := dataset.Build(context.Background(), dataset.Options{Out: dir, N: 16, Seed: 6, D: 8, H: 32, W: 32, Vocab: 500, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	ss, err := dataset.ReadSamples(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	perfect, shifted := newScorer(), newScorer()
	for i, s := range ss {
		perfect.add(s, s.Answer, s.Task)
		other := ss[(i+37)%len(ss)]
		if other.Task == s.Task {
			shifted.add(s, other.Answer, "report")
		}
	}
	var p, q Result
	perfect.fill(&p)
	shifted.fill(&q)
	if p.Report == nil || p.Closed == nil || p.Open == nil || p.Report.TrueFindings == 0 {
		t.Fatalf("perfect: %+v", p)
	}
	for name, v := range map[string]float64{
		"BLEU-1": p.Report.BLEU1, "ROUGE-1": p.Report.ROUGE1, "ROUGE-L": p.Report.ROUGEL, "finding recall": p.Report.FindingRecall,
		"finding precision": p.Report.FindingPrecision, "closed": p.Closed.Accuracy, "keyword": p.Open.KeywordMatch,
		"open ROUGE-L": p.Open.ROUGEL, "router": *p.RouterAccuracy,
	} {
		if v != 1 {
			t.Errorf("perfect %s = %v, want 1", name, v)
		}
	}
	// Per kind: every kind present is recalled; the counts add up to the
	// true findings; a report that states nothing recalls no kind.
	nk := 0
	for k, n := range p.Report.NByKind {
		nk += n
		if p.Report.RecallByKind[k] != 1 {
			t.Errorf("perfect recall of %s = %v", k, p.Report.RecallByKind[k])
		}
	}
	if nk != p.Report.TrueFindings || len(p.Report.NByKind) < 2 {
		t.Errorf("per-kind counts %v, %d true findings", p.Report.NByKind, p.Report.TrueFindings)
	}
	silent := newScorer()
	for _, s := range ss {
		if s.Task == dataset.TaskReport {
			silent.add(s, "No abnormality.", s.Task)
		}
	}
	var z Result
	silent.fill(&z)
	for k, v := range z.Report.RecallByKind {
		if v != 0 {
			t.Errorf("a report stating nothing recalls %s at %v", k, v)
		}
	}
	if p.Report.METEOR < 0.99 || p.Report.METEOR >= 1 {
		t.Errorf("perfect METEOR %v", p.Report.METEOR)
	}
	if q.Closed != nil && q.Closed.Accuracy >= 0.9 || q.Report != nil && q.Report.ROUGEL >= 1 {
		t.Errorf("shifted answers scored closed %+v report %+v", q.Closed, q.Report)
	}
	if q.RouterAccuracy == nil || *q.RouterAccuracy == 1 {
		t.Error("routing every sample to report scored 1")
	}
}

// TestPriorAccuracy: the blind baseline picks, per question type, the
// answer most often right in train among the offered choices, and scores
// it against the test letters.
func TestPriorAccuracy(t *testing.T) {
	q := func(qtype, letter string, choices ...string) dataset.Sample {
		return dataset.Sample{Task: dataset.TaskClosedVQA, QType: qtype, Letter: letter, Choices: choices}
	}
	train := []dataset.Sample{
		q("presence", "A", "no", "yes"), q("presence", "B", "yes", "no"), q("presence", "A", "yes", "no"),
		q("side", "B", "left", "right"), q("side", "A", "right", "left"),
		{Task: dataset.TaskReport, QType: "report"},
	}
	test := []dataset.Sample{
		q("presence", "B", "yes", "no"),  // prior "no": right
		q("presence", "A", "yes", "no"),  // prior "no": wrong
		q("side", "A", "right", "left"),  // prior "right": right
		q("side", "A", "left", "right"),  // prior "right": wrong
		q("organ", "A", "liver", "lung"), // unseen type: first choice, right
		q("broken", "E", "a", "b"),       // letter out of range: not counted
	}
	if got := PriorAccuracy(train, test); got != 3.0/5 {
		t.Errorf("prior accuracy %v, want 0.6", got)
	}
	if got := PriorAccuracy(train, nil); got != 0 {
		t.Errorf("no questions: %v", got)
	}
}
