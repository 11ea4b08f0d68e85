//go:build !js

package gpu

import (
	"context"
	"slices"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// TestVisionUnderBindingLimit: with the device's binding limit cut to one
// (tokens, Cv) vision activation — below the fused q, k, v, the MLP
// hidden and the experts' rows, as Phi-3-V's tower at 32 slices is under
// a 128 MiB limit — the GPU backend splits q, k and v and runs the MLP and
// experts in chunks of tokens (model.visionPlan), allocates nothing past
// the limit, and matches the unlimited CPU reference: visual tokens within
// logitsNMSE, the same routing and the same greedy tokens.
func TestVisionUnderBindingLimit(t *testing.T) {
	cfg := tinyConfig(t, "mha-untied-longrope-moe-3d")
	cfg.Transfer3D.Slices = 128
	cfg.LLM.MaxPositions = 1024
	cfg.Projector.DepthPool = 8 // few visual tokens: the decoder's buffers stay under the limit
	v := cfg.Vision
	limit := uint64(cfg.Slices()*v.Tokens()*v.HiddenSize) * 4
	src, err := model.RandomWeights(cfg, 13, shaders.F16)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	gb := New(device(t))
	gb.limit = limit
	gb.largestAlloc = 0
	gm, err := model.New(gb, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := gb.Warm(context.Background(), gm); err != nil {
		t.Fatal(err)
	}
	ids := chatPrompt(t, cfg, "Which lobe holds the nodule?")
	px := volume(cfg, 4)
	maxSeq := len(ids) + cfg.VisualTokens() + 8
	req := model.Request{Prompt: ids, Pixels: px}
	opt := model.GenerateOptions{MaxTokens: 6}
	ctx := context.Background()
	want, err := cm.Generate(ctx, newState(t, cm, maxSeq), req, opt)
	if err != nil {
		t.Fatal(err)
	}
	gs := newState(t, gm, maxSeq)
	have, err := gm.Generate(ctx, gs, req, opt)
	if err != nil {
		t.Fatalf("GPU under a %d-byte binding limit: %v", limit, err)
	}
	if !slices.Equal(have.Tokens, want.Tokens) {
		t.Errorf("greedy tokens %v, CPU %v", have.Tokens, want.Tokens)
	}
	compareRouting(t, have.Routing, want.Routing)
	cs := newState(t, cm, maxSeq)
	for _, st := range []struct {
		m *model.Model
		s *model.State
	}{{cm, cs}, {gm, gs}} {
		if err := st.m.RouteText(st.s, ids, -1); err != nil {
			t.Fatal(err)
		}
		if err := st.m.EncodeVision(ctx, st.s, px); err != nil {
			t.Fatal(err)
		}
	}
	vc, err := cm.VisualTokens(cs)
	if err != nil {
		t.Fatal(err)
	}
	vg, err := gm.VisualTokens(gs)
	if err != nil {
		t.Fatal(err)
	}
	if e := nmse(vg, vc); !(e <= logitsNMSE) {
		t.Errorf("visual tokens NMSE %.3g > %g:%s", e, logitsNMSE, firstDiffs(vg, vc, 1e-4))
	}
	if gb.largestAlloc > limit {
		t.Errorf("an activation of %d bytes was allocated past the %d-byte limit", gb.largestAlloc, limit)
	}
	t.Logf("limit %d bytes: %d buffers, %d dispatches, %d copies so far", limit, gb.Stats().Buffers, gb.Stats().Dispatches, gb.Stats().Copies)
}
