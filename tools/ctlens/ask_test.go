package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// askJSON runs ask with --json and decodes the ranked form.
func askJSON(t *testing.T, args ...string) askOutput {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := ask(context.Background(), append(args, "--json"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var o askOutput
	if err := json.Unmarshal(stdout.Bytes(), &o); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout.String())
	}
	return o
}

// TestAskRanksChoices: a closed question — its choices in the text, in
// --choices or in repeated --choice flags — is answered by ranking: the
// same question text and probabilities each way, probabilities that sum
// to 1, the answer the most likely choice written "X. text"; --generate
// generates instead.
func TestAskRanksChoices(t *testing.T) {
	dicom, tiny := setup(t)
	full := "Is there a lung nodule? Choices: A. yes B. no C. cannot tell"
	runs := []askOutput{
		askJSON(t, dicom, full, "--weights", tiny),
		askJSON(t, dicom, "Is there a lung nodule?", "--choices", "yes|no|cannot tell", "--weights", tiny),
		askJSON(t, dicom, "Is there a lung nodule?", "--choice", "yes", "--choice", "no", "--choice", "cannot tell", "--weights", tiny),
	}
	for i, o := range runs {
		if o.Mode != "rank" || o.StopReason != "ranked" || o.Question != full || len(o.Choices) != 3 {
			t.Fatalf("run %d: mode %q, stop %q, question %q, %d choices", i, o.Mode, o.StopReason, o.Question, len(o.Choices))
		}
		sum, best := 0.0, 0
		for j, c := range o.Choices {
			sum += c.Prob
			if c.Prob > o.Choices[best].Prob {
				best = j
			}
			if c.Prob != runs[0].Choices[j].Prob || c.Text != runs[0].Choices[j].Text {
				t.Errorf("run %d choice %d: %+v, run 0 %+v", i, j, c, runs[0].Choices[j])
			}
			if !(c.LogProb < 0) {
				t.Errorf("run %d choice %d: log-prob %v", i, j, c.LogProb)
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("run %d: probabilities sum to %v", i, sum)
		}
		if want := o.Choices[best].Letter + ". " + o.Choices[best].Text; o.Text != want {
			t.Errorf("run %d: answer %q, the most likely choice is %q", i, o.Text, want)
		}
		if o.Routing == nil || o.Timings.PrefillTokens == 0 || o.Timings.DecodeTokens == 0 {
			t.Errorf("run %d: routing %v, timings %+v", i, o.Routing, o.Timings)
		}
	}

	var stdout, stderr bytes.Buffer
	if err := ask(context.Background(), []string{dicom, full, "--weights", tiny}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 4 || lines[0] != runs[0].Text || !strings.Contains(lines[1], "A. yes") || !strings.Contains(lines[1], " p ") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "ranked by likelihood") {
		t.Errorf("stderr: %q", stderr.String())
	}

	g := askJSON(t, dicom, full, "--weights", tiny, "--generate", "--max-tokens", "5")
	if g.Mode != "" || len(g.Choices) != 0 || g.StopReason == "ranked" || g.Tokens < 1 || g.Question != full {
		t.Errorf("--generate: mode %q, %d choices, stop %q, %d tokens, question %q", g.Mode, len(g.Choices), g.StopReason, g.Tokens, g.Question)
	}
}

// TestAskChoiceErrors: conflicting choices are refused with a hint.
func TestAskChoiceErrors(t *testing.T) {
	dicom, tiny := setup(t)
	for _, args := range [][]string{
		{dicom, "Is it?", "--choices", "yes|no", "--choice", "yes"},
		{dicom, "Is it? Choices: A. yes B. no", "--choice", "no", "--choice", "yes"},
		{dicom, "Is it?", "--choice", "yes"},
	} {
		var stdout, stderr bytes.Buffer
		err := ask(context.Background(), append(args, "--weights", tiny), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), "hint:") {
			t.Errorf("%q: error %v, want one with a hint", args, err)
		}
	}
}
