package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/tools/dataset/dataset"
)

// TestEvalClosedModes: --closed rank (the default) answers every closed
// question with its most likely choice, written "X. text", and records
// the choices' probabilities; --closed generate runs free generation and
// records none; the JSON and the table say which ran.
func TestEvalClosedModes(t *testing.T) {
	data, weights := tinyData(t)
	samples, err := dataset.ReadSamples(data, "train")
	if err != nil {
		t.Fatal(err)
	}
	choices := map[string][]string{}
	for _, s := range samples {
		if s.Task == dataset.TaskClosedVQA {
			choices[s.Question] = s.Choices
		}
	}
	for _, mode := range []string{"", closedRank, closedGenerate} {
		preds := filepath.Join(t.TempDir(), "p.jsonl")
		args := []string{"--weights", weights, "--data", data, "--split", "train", "--limit", "2", "--tasks", "closed_vqa",
			"--answer-tokens", "6", "--predictions", preds}
		if mode != "" {
			args = append(args, "--closed", mode)
		}
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err != nil {
			t.Fatalf("%q: %v\n%s", mode, err, errb.String())
		}
		want := mode
		if want == "" {
			want = closedRank
		}
		text := out.String()
		var r Result
		if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):]), &r); err != nil {
			t.Fatal(err)
		}
		if r.Closed == nil || r.Closed.Mode != want || r.Closed.PriorAccuracy == nil {
			t.Fatalf("%q: closed scores %+v", mode, r.Closed)
		}
		if !strings.Contains(text, "("+want+":") || !strings.Contains(text, "closed accuracy ("+want+") by type") || !strings.Contains(text, "prior") {
			t.Errorf("%q: the table does not say %s beside the prior:\n%s", mode, want, text)
		}
		b, err := os.ReadFile(preds)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != r.Closed.N || r.Closed.N == 0 {
			t.Fatalf("%q: %d predictions for %d closed questions", mode, len(lines), r.Closed.N)
		}
		for _, l := range lines {
			var p prediction
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatal(err)
			}
			cs := choices[p.Prompt]
			if want == closedGenerate {
				if p.Probs != nil {
					t.Errorf("generate: probabilities %v recorded", p.Probs)
				}
				continue
			}
			if len(p.Probs) != len(cs) || len(cs) == 0 {
				t.Fatalf("rank: %d probabilities for %d choices of %q", len(p.Probs), len(cs), p.Prompt)
			}
			best, sum := 0, 0.0
			for i, q := range p.Probs {
				sum += q
				if q > p.Probs[best] {
					best = i
				}
			}
			if p.Output != model.ChoiceAnswer(best, cs[best]) || sum < 0.999999 || sum > 1.000001 {
				t.Errorf("rank: output %q, probabilities %v (Σ %v) over %q", p.Output, p.Probs, sum, cs)
			}
		}
	}
}
