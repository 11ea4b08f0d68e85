package model

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// ScoreOptions steer ScoreContinuations; ForceTask and Task are
// GenerateOptions'.
type ScoreOptions struct {
	ForceTask bool
	Task      int
}

// Scores are the log-likelihoods of candidate continuations of one
// prompt.
type Scores struct {
	// LogProbs[i] is Σ_k log p(c_k | prompt, c_<k) of candidate i: the
	// sum, not the mean, so that a candidate is scored as the whole
	// sequence the model would have to generate.
	LogProbs []float64
	Routing  *Routing
	// Timings: VisionMS; PrefillMS and PrefillTokens the prompt;
	// DecodeMS and DecodeTokens the candidates' rows.
	Timings Timings
}

// ScoreContinuations scores each candidate (token ids, none an
// ImageSlot) as a continuation of req.Prompt: one routing and vision pass,
// one prefill of the prompt, then per candidate one forward of its tokens
// but the last from the prompt's end, summing the log-softmax of each of
// its tokens (the first from the prompt's last logits). It is what
// training's teacher-forced loss computes for prompt ++ candidate.
//
// Rewinding s.Pos to the prompt's end between candidates is safe because
// nothing a candidate's forward writes is read by the next one: its keys
// and values go to cache rows ≥ the prompt's end, which the next forward
// overwrites before its attention reads them (attention reads rows
// 0..Pos+T−1 only); the prompt's rows, the visual tokens, and the
// routing (decided by RouteText and EncodeVision before the prefill, and
// read back then) are not written by the decoder; the prompt's last
// logits are kept on the host. The one thing that depends on the length
// is LongRoPE: PyTorch (HF's Phi-3) rotates the whole sequence with the
// long factors when it is longer than original_max_position_embeddings.
// Candidates that make prompt ++ candidate that long are scored after a
// second prefill of the prompt with the long factors, so every candidate
// gets exactly the full-sequence forward's numbers.
//
// On return s holds the prompt (s.Pos at its end), possibly in the long
// frame; Generate starts afresh anyway.
func (m *Model) ScoreContinuations(ctx context.Context, s *State, req Request, candidates [][]int, o ScoreOptions) (*Scores, error) {
	if !m.Cfg.HasLLM() {
		return nil, fmt.Errorf("model: the model has no decoder to score with")
	}
	if req.Pixels != nil && !m.Cfg.HasVision() {
		return nil, fmt.Errorf("model: a volume was given to a text-only model")
	}
	if hasImage := slices.Contains(req.Prompt, ImageSlot); hasImage != (req.Pixels != nil) {
		return nil, fmt.Errorf("model: the prompt %s an image slot but the request %s pixels",
			map[bool]string{true: "has", false: "has no"}[hasImage], map[bool]string{true: "has", false: "has no"}[req.Pixels != nil])
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("model: no candidates to score")
	}
	longest := 0
	for i, c := range candidates {
		if len(c) == 0 {
			return nil, fmt.Errorf("model: candidate %d has no tokens", i)
		}
		for _, id := range c {
			if id < 0 || id >= m.Cfg.LLM.VocabSize {
				return nil, fmt.Errorf("model: candidate %d: token %d outside the vocabulary (%d)", i, id, m.Cfg.LLM.VocabSize)
			}
		}
		longest = max(longest, len(c))
	}
	if longest-1 > s.MaxPrefill {
		return nil, fmt.Errorf("model: a candidate of %d tokens exceeds the state's %d prefill rows", longest, s.MaxPrefill)
	}
	s.Reset()
	res := &Scores{LogProbs: make([]float64, len(candidates))}
	r, visionMS, err := m.see(ctx, s, req, o.ForceTask, o.Task)
	if err != nil {
		return nil, err
	}
	res.Routing, res.Timings.VisionMS = r, visionMS

	start := time.Now()
	if err := m.Prefill(ctx, s, req.Prompt); err != nil {
		return res, err
	}
	p := s.Pos
	if p+longest-1 > s.MaxSeq {
		return res, fmt.Errorf("model: %d prompt + %d candidate positions exceed the KV cache's %d", p, longest-1, s.MaxSeq)
	}
	first, err := m.Logits(s)
	if err != nil {
		return res, err
	}
	res.Timings.PrefillTokens = p
	res.Timings.PrefillMS = msSince(start)

	start = time.Now()
	defer func() { res.Timings.DecodeMS = msSince(start) }()
	lc := m.Cfg.LLM
	// needsLong: the full sequence prompt ++ c is longer than LongRoPE's
	// original length while the prompt was prefilled with the short factors.
	promptLong := lc.LongRoPE() && (s.longRoPE || p > lc.OriginalMaxPos)
	needsLong := func(c []int) bool { return lc.LongRoPE() && !promptLong && p+len(c) > lc.OriginalMaxPos }
	score := func(i int, c []int) error {
		lp := logSoftmaxAt(first, c[0])
		if len(c) > 1 {
			s.Pos = p
			if err := m.Prefill(ctx, s, c[:len(c)-1]); err != nil {
				return fmt.Errorf("model: scoring candidate %d: %w", i, err)
			}
			res.Timings.DecodeTokens += len(c) - 1
			for k := 1; k < len(c); k++ {
				l, err := m.LogitsAt(s, k-1)
				if err != nil {
					return err
				}
				lp += logSoftmaxAt(l, c[k])
			}
		}
		res.LogProbs[i] = lp
		return nil
	}
	var long []int
	for i, c := range candidates {
		if needsLong(c) {
			long = append(long, i)
			continue
		}
		if err := score(i, c); err != nil {
			return res, err
		}
	}
	if len(long) > 0 {
		// The long frame: the prompt again, as RecomputeLongRoPE does.
		s.Pos, s.rows, s.longRoPE = 0, 0, true
		if err := m.Prefill(ctx, s, req.Prompt); err != nil {
			return res, fmt.Errorf("model: the prompt with the long RoPE factors: %w", err)
		}
		if first, err = m.Logits(s); err != nil {
			return res, err
		}
		for _, i := range long {
			if err := score(i, candidates[i]); err != nil {
				return res, err
			}
		}
	}
	s.Pos = p
	return res, nil
}

// logSoftmaxAt is log softmax(logits)[id], in float64.
func logSoftmaxAt(logits []float32, id int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(logits[id]) - mx - math.Log(sum)
}

// ---- closed questions ----------------------------------------------------------

// ChoiceResult is a closed question answered by likelihood ranking.
type ChoiceResult struct {
	Index  int    // the chosen choice
	Letter string // its letter, "A"…
	Choice string // its text
	// Text is the answer as the model was trained to write it, "X. text"
	// (what M3D-Bench's scoring reads).
	Text string
	// LogProbs are each choice's summed log-likelihood (Scores.LogProbs);
	// Probs their softmax: the model's distribution restricted to the
	// offered answers.
	LogProbs []float64
	Probs    []float64
	Tokens   [][]int // each choice's answer ids, the end token included
	Routing  *Routing
	Timings  Timings
}

// ChoiceAnswer is the answer text of choice i, "X. text", the form of
// tools/dataset's closed answers.
func ChoiceAnswer(i int, choice string) string { return fmt.Sprintf("%c. %s", 'A'+i, choice) }

// AnswerIDs tokenizes an answer as the training data does (tools/dataset:
// the text encoded without special tokens, then the end token, the first
// of the prompt's stop tokens that tok knows — "<|end|>"): ranking scores
// the end too, so "A. yes" cannot win by being a prefix of "A. yes sir".
func AnswerIDs(tok Tokenizer, pc PromptConfig, answer string) ([]int, error) {
	for _, st := range pc.StopTokens {
		if id, ok := tok.TokenID(st); ok {
			return append(tok.Encode(answer, false), id), nil
		}
	}
	return nil, fmt.Errorf("model: the tokenizer knows none of the stop tokens %q", pc.StopTokens)
}

// Choose answers a closed question by ranking its choices: question is
// the text Ask would send (ClosedQuestion's "… Choices: A. x B. y"), and
// each choice i is scored as the answer "X. choice" (AnswerIDs) after it
// (ScoreContinuations). The most likely wins, ties to the earlier.
func (m *Model) Choose(ctx context.Context, s *State, tok Tokenizer, pixels []float32, question string, choices []string, o ScoreOptions) (*ChoiceResult, error) {
	if len(choices) == 0 || len(choices) > 26 {
		return nil, fmt.Errorf("model: %d choices; want 1 to 26", len(choices))
	}
	prompt, err := BuildPrompt(tok, m.Cfg.Prompt, question)
	if err != nil {
		return nil, err
	}
	res := &ChoiceResult{Tokens: make([][]int, len(choices))}
	for i, c := range choices {
		if strings.TrimSpace(c) == "" {
			return nil, fmt.Errorf("model: choice %c is empty", 'A'+i)
		}
		if res.Tokens[i], err = AnswerIDs(tok, m.Cfg.Prompt, ChoiceAnswer(i, c)); err != nil {
			return nil, err
		}
	}
	sc, err := m.ScoreContinuations(ctx, s, Request{Prompt: prompt, Pixels: pixels}, res.Tokens, o)
	if err != nil {
		return nil, err
	}
	res.LogProbs, res.Routing, res.Timings = sc.LogProbs, sc.Routing, sc.Timings
	res.Probs = Softmax64(sc.LogProbs)
	for i, lp := range sc.LogProbs {
		if lp > sc.LogProbs[res.Index] {
			res.Index = i
		}
	}
	res.Letter = string(rune('A' + res.Index))
	res.Choice = choices[res.Index]
	res.Text = ChoiceAnswer(res.Index, res.Choice)
	return res, nil
}

// Softmax64 is the softmax of x (log-likelihoods → probabilities).
func Softmax64(x []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	out := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// ParseClosedQuestion splits ClosedQuestion's form, "question Choices: A.
// x B. y …", into the question and its choices; ok is false when text
// has no " Choices:" followed by " A. …" (choices are lettered in order,
// so a choice cannot contain the next letter's " X. ").
func ParseClosedQuestion(text string) (question string, choices []string, ok bool) {
	i := strings.LastIndex(text, " Choices:")
	if i < 0 {
		return "", nil, false
	}
	question, rest := text[:i], text[i+len(" Choices:"):]
	if !strings.HasPrefix(rest, " A. ") {
		return "", nil, false
	}
	rest = rest[len(" A. "):]
	for l := 'B'; ; l++ {
		j := strings.Index(rest, " "+string(l)+". ")
		if j < 0 || l > 'Z' {
			choices = append(choices, strings.TrimSpace(rest))
			break
		}
		choices = append(choices, strings.TrimSpace(rest[:j]))
		rest = rest[j+4:]
	}
	for _, c := range choices {
		if c == "" {
			return "", nil, false
		}
	}
	return question, choices, true
}
