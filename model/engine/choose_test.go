package engine

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/modeltest"
	"ctlens/weights"
)

// TestChooseIsTheModelsRanking: Engine.Choose sends the closed question
// (choices from the text, or appended from the request) to model.Choose
// on a state it sizes itself, and returns what the model computes.
func TestChooseIsTheModelsRanking(t *testing.T) {
	ctx := context.Background()
	dir, cfg := writeDir(t, true)
	in := readInfo(t, dir)
	e, err := in.Load(ctx, cpu.New(), weights.FSOpener(os.DirFS(dir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	px := modeltest.Volume(cfg, 4)
	choices := []string{"yes", "no"}
	full := "Is there a lung nodule? Choices: A. yes B. no"
	a, err := e.Choose(ctx, Request{Pixels: px, Question: full}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Choose(ctx, Request{Pixels: px, Question: "Is there a lung nodule?"}, choices)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Model.NewState(model.StateOptions{MaxSeq: cfg.LLM.MaxPositions})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Free()
	want, err := e.Model.Choose(ctx, s, e.Tokenizer, px, full, choices, model.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, have := range []*model.ChoiceResult{a, b} {
		if !slices.Equal(have.LogProbs, want.LogProbs) || have.Text != want.Text || have.Letter != want.Letter {
			t.Errorf("Choose gave %s %v, the model %s %v", have.Text, have.LogProbs, want.Text, want.LogProbs)
		}
		if len(have.Probs) != 2 || have.Routing == nil || have.Timings.PrefillTokens == 0 {
			t.Errorf("result lacks probabilities, routing or timings: %+v", have)
		}
	}
	// A forced task group reaches the model.
	f, err := e.Choose(ctx, Request{Pixels: px, Question: full, Options: model.TextOptions{GenerateOptions: model.GenerateOptions{ForceTask: true, Task: model.TaskOpenVQA}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Routing.Forced || f.Routing.Task != model.TaskOpenVQA {
		t.Errorf("forced routing: %+v", f.Routing)
	}

	for _, tc := range []struct {
		req     Request
		choices []string
		want    string
	}{
		{Request{Pixels: px[1:], Question: full}, nil, "pixel values"},
		{Request{Pixels: px, Question: "Is there a lung nodule?"}, nil, "no choices"},
		{Request{Pixels: px, Question: full}, []string{"no", "yes"}, "offers choices"},
		{Request{Pixels: px, Question: "Is it?"}, []string{"yes"}, "2 to 26"},
	} {
		if _, err := e.Choose(ctx, tc.req, tc.choices); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: error %v, want %q", tc.req.Question, tc.choices, err, tc.want)
		}
	}
	var tl *TooLongError
	long := strings.Repeat("Is there a lung nodule in the right upper lobe? ", 40)
	if _, err := e.Choose(ctx, Request{Pixels: px, Question: long}, choices); !errors.As(err, &tl) {
		t.Errorf("long question: %v", err)
	}
}

// TestClosedPrompt: the choices come from the question or are appended
// to it in ClosedQuestion's form; the caller's slice is left alone.
func TestClosedPrompt(t *testing.T) {
	text, c, err := ClosedPrompt("Which side? ", []string{" left", "right "})
	if err != nil || text != "Which side? Choices: A. left B. right" || !slices.Equal(c, []string{"left", "right"}) {
		t.Errorf("appended: %q %q %v", text, c, err)
	}
	in := []string{" left", "right "}
	ClosedPrompt("Which side?", in)
	if in[0] != " left" {
		t.Errorf("ClosedPrompt changed the caller's choices: %q", in)
	}
	q := "Which side? Choices: A. left B. right C. both sides"
	text, c, err = ClosedPrompt(q, nil)
	if err != nil || text != q || !slices.Equal(c, []string{"left", "right", "both sides"}) {
		t.Errorf("parsed: %q %q %v", text, c, err)
	}
	if text, _, err = ClosedPrompt(q, []string{"left", "right", "both sides"}); err != nil || text != q {
		t.Errorf("the same choices twice: %q %v", text, err)
	}
}
