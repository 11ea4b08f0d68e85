package model_test

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// scoreTol bounds |Δ| between two computations of a summed log-prob on
// the CPU backend that differ only in how rows are batched (f32 sums in
// another order): ~1e-6 per token, a handful of tokens.
const scoreTol = 1e-4

// fullSequenceScore is the reference: prompt ++ c through the decoder in
// one forward on a fresh state (what training's teacher-forced loss and
// PyTorch compute, LongRoPE's factor chosen by the whole length), the
// log-softmax of each candidate token read at the row before it.
func fullSequenceScore(t *testing.T, m *model.Model, ids, c []int, px []float32) float64 {
	t.Helper()
	s := encode(t, m, ids, px, -1) // routing, vision, prefill (discarded below)
	s.Reset()
	ctx := context.Background()
	if err := m.RouteText(s, ids, -1); err != nil {
		t.Fatal(err)
	}
	if err := m.EncodeVision(ctx, s, px); err != nil {
		t.Fatal(err)
	}
	if err := m.Prefill(ctx, s, append(slices.Clone(ids), c...)); err != nil {
		t.Fatal(err)
	}
	p := len(ids) - 1 + m.Cfg.VisualTokens()
	sum := 0.0
	for k, id := range c {
		l, err := m.LogitsAt(s, p-1+k)
		if err != nil {
			t.Fatal(err)
		}
		sum += logSoftmax(l)[id]
	}
	return sum
}

func logSoftmax(l []float32) []float64 {
	mx := math.Inf(-1)
	for _, v := range l {
		mx = math.Max(mx, float64(v))
	}
	var z float64
	for _, v := range l {
		z += math.Exp(float64(v) - mx)
	}
	out := make([]float64, len(l))
	for i, v := range l {
		out[i] = float64(v) - mx - math.Log(z)
	}
	return out
}

// randomTokens is n ids below v, deterministic in seed.
func randomTokens(seed int64, n, v int) []int {
	rng := rand.New(rand.NewSource(seed))
	out := make([]int, n)
	for i := range out {
		out[i] = rng.Intn(v)
	}
	return out
}

// TestScoreContinuationsIsTheFullSequence holds ScoreContinuations (one
// prompt prefill, the cache rewound between candidates) to the full
// forward of prompt ++ candidate on a fresh state, on every tiny family:
// candidates of 1 to ~40 tokens, and on the LongRoPE families lengths
// either side of original_max_position_embeddings (64), where the whole
// sequence must be rotated with the long factors.
func TestScoreContinuationsIsTheFullSequence(t *testing.T) {
	ctx := context.Background()
	for _, tc := range model.TinyConfigs() {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := tc.Config
			m, _ := random(t, cfg, 5, shaders.F32)
			ids := prompt(t, cfg, "Is there a nodule?")
			px := volume(cfg, 3)
			p := len(ids) - 1 + cfg.VisualTokens()
			orig := cfg.LLM.OriginalMaxPos
			if cfg.LLM.LongRoPE() && p >= orig-2 {
				t.Fatalf("prompt of %d rows leaves no room below original_max_position_embeddings %d", p, orig)
			}
			lens := []int{1, 2, 5, 9}
			if cfg.LLM.LongRoPE() {
				// P+n = orig (short), orig+1 and orig+5 (long), and a short one after them
				lens = append(lens, orig-p, orig-p+1, orig-p+5, 3)
			} else {
				lens = append(lens, 40, 3)
			}
			var cands [][]int
			for i, n := range lens {
				cands = append(cands, randomTokens(int64(i+1), n, cfg.LLM.VocabSize))
			}
			s := newState(t, m)
			res, err := m.ScoreContinuations(ctx, s, model.Request{Prompt: ids, Pixels: px}, cands, model.ScoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.LogProbs) != len(cands) {
				t.Fatalf("%d scores for %d candidates", len(res.LogProbs), len(cands))
			}
			if res.Timings.PrefillTokens != p {
				t.Errorf("prefill of %d rows, want %d", res.Timings.PrefillTokens, p)
			}
			if (res.Routing != nil) != cfg.HasMoE() {
				t.Errorf("routing %v for MoE %v", res.Routing != nil, cfg.HasMoE())
			}
			for i, c := range cands {
				want := fullSequenceScore(t, m, ids, c, px)
				if d := math.Abs(res.LogProbs[i] - want); !(d <= scoreTol) {
					t.Errorf("candidate %d (%d tokens, P+n = %d): score %.6f, full sequence %.6f (Δ %.2g)", i, len(c), p+len(c), res.LogProbs[i], want, d)
				}
				if !(res.LogProbs[i] < 0) {
					t.Errorf("candidate %d: log-prob %v, want < 0", i, res.LogProbs[i])
				}
			}
		})
	}
}

// TestGreedyContinuationScoresHighest: the tokens Generate picks
// greedily are, step by step, the argmax of the logits that scoring
// reads, so the greedy continuation must outscore every candidate that
// leaves it at its last token — which fails if scoring reads the logits
// of the wrong row or position.
func TestGreedyContinuationScoresHighest(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"mha-tied-rope-dense-2d", "mha-untied-longrope-moe-3d"} {
		t.Run(name, func(t *testing.T) {
			cfg := tiny(t, name)
			m, _ := random(t, cfg, 9, shaders.F32)
			ids := prompt(t, cfg, "Where is the lesion?")
			px := volume(cfg, 4)
			req := model.Request{Prompt: ids, Pixels: px}
			g, err := m.Generate(ctx, newState(t, m), req, model.GenerateOptions{MaxTokens: 6})
			if err != nil {
				t.Fatal(err)
			}
			greedy := g.Tokens
			cands := [][]int{greedy}
			for alt := range cfg.LLM.VocabSize {
				if alt != greedy[len(greedy)-1] && alt%7 == 0 {
					cands = append(cands, append(slices.Clone(greedy[:len(greedy)-1]), alt))
				}
			}
			res, err := m.ScoreContinuations(ctx, newState(t, m), req, cands, model.ScoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(cands); i++ {
				if !(res.LogProbs[0] > res.LogProbs[i]) {
					t.Errorf("greedy %v scores %.5f, not above %v's %.5f", greedy, res.LogProbs[0], cands[i], res.LogProbs[i])
				}
			}
		})
	}
}

// TestScoringRewindKeepsThePrompt: after ScoreContinuations the state
// holds the prompt at s.Pos as a fresh prefill would, so a decode step
// from there gives the fresh run's logits bit for bit (the candidates'
// rows left nothing behind that the next step reads); and Generate on
// the scored state gives the tokens of a fresh state.
func TestScoringRewindKeepsThePrompt(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"gqa-tied-rope-moe-2d", "gqa-untied-longrope-dense-3d"} {
		t.Run(name, func(t *testing.T) {
			cfg := tiny(t, name)
			m, _ := random(t, cfg, 2, shaders.F32)
			ids := prompt(t, cfg, "Is the liver normal?")
			px := volume(cfg, 8)
			req := model.Request{Prompt: ids, Pixels: px}
			cands := [][]int{randomTokens(1, 12, cfg.LLM.VocabSize), randomTokens(2, 3, cfg.LLM.VocabSize), randomTokens(3, 7, cfg.LLM.VocabSize)}
			s := newState(t, m)
			if _, err := m.ScoreContinuations(ctx, s, req, cands, model.ScoreOptions{}); err != nil {
				t.Fatal(err)
			}
			fresh := encode(t, m, ids, px, -1)
			if s.Pos != fresh.Pos {
				t.Fatalf("after scoring Pos %d, want the prompt's %d", s.Pos, fresh.Pos)
			}
			const next = 42
			for _, st := range []*model.State{s, fresh} {
				if err := m.DecodeToken(ctx, st, next); err != nil {
					t.Fatal(err)
				}
			}
			assertEqual(t, "logits after the rewound prompt", logits(t, m, s), logits(t, m, fresh))

			want, err := m.Generate(ctx, newState(t, m), req, model.GenerateOptions{MaxTokens: 10})
			if err != nil {
				t.Fatal(err)
			}
			have, err := m.Generate(ctx, s, req, model.GenerateOptions{MaxTokens: 10})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(have.Tokens, want.Tokens) {
				t.Errorf("generation after scoring %v, on a fresh state %v", have.Tokens, want.Tokens)
			}
		})
	}
}

// TestChoose: the answers are tokenized as the training data are ("X.
// text" then <|end|>), scored as ScoreContinuations scores them, the
// best one wins and is written "X. text", and the probabilities are the
// softmax of the scores.
func TestChoose(t *testing.T) {
	ctx := context.Background()
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	m, _ := random(t, cfg, 4, shaders.F32)
	px := volume(cfg, 1)
	choices := []string{"yes", "no", "maybe so"}
	q := model.ClosedQuestion("Is there a nodule?", choices)
	res, err := m.Choose(ctx, newState(t, m), byteTokenizer{}, px, q, choices, model.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	end, _ := byteTokenizer{}.TokenID("<|end|>")
	var want [][]int
	for i, c := range choices {
		want = append(want, append(byteTokenizer{}.Encode(string(rune('A'+i))+". "+c, false), end))
	}
	for i := range want {
		if !slices.Equal(res.Tokens[i], want[i]) {
			t.Errorf("choice %d tokens %v, want %v", i, res.Tokens[i], want[i])
		}
	}
	sc, err := m.ScoreContinuations(ctx, newState(t, m), model.Request{Prompt: prompt(t, cfg, q), Pixels: px}, want, model.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	best, sum := 0, 0.0
	for i := range choices {
		if res.LogProbs[i] != sc.LogProbs[i] {
			t.Errorf("choice %d: log-prob %v, ScoreContinuations %v", i, res.LogProbs[i], sc.LogProbs[i])
		}
		if sc.LogProbs[i] > sc.LogProbs[best] {
			best = i
		}
		sum += res.Probs[i]
	}
	for i := range choices {
		if r, w := res.Probs[i]/res.Probs[best], math.Exp(sc.LogProbs[i]-sc.LogProbs[best]); math.Abs(r-w) > 1e-9 {
			t.Errorf("p[%d]/p[best] = %v, exp(Δ log-prob) = %v", i, r, w)
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("probabilities sum to %v", sum)
	}
	if res.Index != best || res.Letter != string(rune('A'+best)) || res.Choice != choices[best] ||
		res.Text != string(rune('A'+best))+". "+choices[best] {
		t.Errorf("chose %d %q %q %q; want %d", res.Index, res.Letter, res.Choice, res.Text, best)
	}

	if _, err := m.Choose(ctx, newState(t, m), byteTokenizer{}, px, q, nil, model.ScoreOptions{}); err == nil {
		t.Error("Choose without choices: no error")
	}
	if _, err := m.Choose(ctx, newState(t, m), byteTokenizer{}, px, q, []string{"yes", " "}, model.ScoreOptions{}); err == nil {
		t.Error("Choose with an empty choice: no error")
	}
}

// TestScoreContinuationsRefuses bad candidates and states by name.
func TestScoreContinuationsRefuses(t *testing.T) {
	ctx := context.Background()
	cfg := tiny(t, "mha-tied-rope-dense-2d")
	m, _ := random(t, cfg, 1, shaders.F32)
	ids := prompt(t, cfg, "Is it?")
	req := model.Request{Prompt: ids, Pixels: volume(cfg, 1)}
	small, err := m.NewState(model.StateOptions{MaxSeq: len(ids) - 1 + cfg.VisualTokens() + 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		s     *model.State
		req   model.Request
		cands [][]int
		want  string
	}{
		{"none", newState(t, m), req, nil, "no candidates"},
		{"empty", newState(t, m), req, [][]int{{1}, {}}, "candidate 1 has no tokens"},
		{"vocabulary", newState(t, m), req, [][]int{{1, cfg.LLM.VocabSize}}, "outside the vocabulary"},
		{"image slot", newState(t, m), req, [][]int{{model.ImageSlot}}, "outside the vocabulary"},
		{"no pixels", newState(t, m), model.Request{Prompt: ids}, [][]int{{1}}, "image slot"},
		{"cache", small, req, [][]int{{1, 2, 3, 4, 5}}, "exceed the KV cache"},
	} {
		_, err := m.ScoreContinuations(ctx, tc.s, tc.req, tc.cands, model.ScoreOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestParseClosedQuestion round-trips ClosedQuestion and refuses text
// without its form.
func TestParseClosedQuestion(t *testing.T) {
	for _, choices := range [][]string{{"yes", "no"}, {"20 to 40 mm", "over 40 mm", "under 10 mm", "10 to 20 mm"}, {"A. B", "x"}} {
		q, c, ok := model.ParseClosedQuestion(model.ClosedQuestion("How large is it?", choices))
		if !ok || q != "How large is it?" || !slices.Equal(c, choices) {
			t.Errorf("%q: parsed %q %q %v", choices, q, c, ok)
		}
	}
	for _, text := range []string{"Is there a nodule?", "Choices: A. yes B. no", "Is it? Choices: yes, no", "Is it? Choices: A. "} {
		if _, c, ok := model.ParseClosedQuestion(text); ok {
			t.Errorf("%q parsed as choices %q", text, c)
		}
	}
}
