//go:build !js

package gpu

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// scoreTol bounds |Δ| of a summed log-prob between the backends: each
// token's log-softmax comes from logits within logitsNMSE (≤ ~1e-6
// absolute on these models), summed over at most ~30 tokens.
const scoreTol = 1e-4

// TestScoreParity is ScoreContinuations on the GPU backend against the
// CPU reference on every tiny family: each candidate's log-prob within
// scoreTol, hence the same ranking wherever two candidates are further
// apart than that — with lengths either side of LongRoPE's
// original_max_position_embeddings on the families that have it (the
// second, long-frame prefill), and the same routing.
func TestScoreParity(t *testing.T) {
	ctx := context.Background()
	for _, tc := range model.TinyConfigs() {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := tc.Config
			tw := loadTwins(t, cfg, 13, shaders.F32)
			ids := chatPrompt(t, cfg, "Which lobe? Choices: A. upper B. lower")
			px := volume(cfg, 5)
			p := len(ids) - 1 + cfg.VisualTokens()
			lens := []int{1, 3, 4, 6, 11}
			if cfg.LLM.LongRoPE() {
				lens = append(lens, cfg.LLM.OriginalMaxPos-p, cfg.LLM.OriginalMaxPos-p+2)
			}
			rng := rand.New(rand.NewSource(1))
			var cands [][]int
			longest := 0
			for _, n := range lens {
				c := make([]int, n)
				for i := range c {
					c[i] = rng.Intn(cfg.LLM.VocabSize)
				}
				cands = append(cands, c)
				longest = max(longest, n)
			}
			req := model.Request{Prompt: ids, Pixels: px}
			maxSeq := p + longest + 4
			want, err := tw.cpu.ScoreContinuations(ctx, newState(t, tw.cpu, maxSeq), req, cands, model.ScoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			have, err := tw.gpu.ScoreContinuations(ctx, newState(t, tw.gpu, maxSeq), req, cands, model.ScoreOptions{})
			if err != nil {
				t.Fatalf("GPU: %v", err)
			}
			worst := 0.0
			for i := range cands {
				d := math.Abs(have.LogProbs[i] - want.LogProbs[i])
				worst = math.Max(worst, d)
				if !(d <= scoreTol) {
					t.Errorf("candidate %d (%d tokens): GPU %.6f, CPU %.6f", i, len(cands[i]), have.LogProbs[i], want.LogProbs[i])
				}
				for j := range cands {
					if want.LogProbs[i]-want.LogProbs[j] > 2*scoreTol && !(have.LogProbs[i] > have.LogProbs[j]) {
						t.Errorf("ranking: CPU puts candidate %d above %d, the GPU does not", i, j)
					}
				}
			}
			t.Logf("%d candidates, max |Δ log-prob| %.2g", len(cands), worst)
			compareRouting(t, have.Routing, want.Routing)
		})
	}
}
