//go:build !js

package gpu

import (
	"context"
	"slices"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// logitsNMSE bounds the GPU backend's logits against the CPU backend's on
// the same tiny model and weights. Both compute the same function of the
// same numbers — the kernels dequantize the very words and scales the CPU
// reference reads, so the bound does not depend on the weight type — and
// differ only in the order of f32 sums (vec4 dot products, tree
// reductions, the online softmax) and in the device's exp/erf. The shaders
// parity suite holds each kernel within 1e-10 NMSE of its reference
// (activations within 2e-6 absolute); through three vision and two decoder
// layers of norms, attention and MLPs this measures ≤ 4e-13 on lavapipe
// (see the test log). 1e-9 leaves a margin for other drivers' exp and
// summation orders, while one mis-bound tensor, stale buffer or wrong
// variant moves the logits by NMSE 1e-3 to 1.
const logitsNMSE = 1e-9

// gateTol bounds |Δ| of routing gates and router softmaxes: probabilities
// from logits that differ by f32 rounding (~1e-7 relative).
const gateTol = 1e-5

// decodeSteps is the greedy run compared token by token.
const decodeSteps = 32

// TestModelParity is the GPU backend against the CPU reference on every
// tiny shape family (MHA/GQA, tied/untied, RoPE/LongRoPE, dense/MoE,
// 2D/3D) with f32, f16 and int4 weights (int8 once): the same greedy tokens
// for 32 steps through model.Generate, logits within logitsNMSE at the
// prefill and at every decode step (teacher-forced with the CPU's tokens,
// so one early difference cannot hide later ones), and the same routing:
// the task, every token's expert ids exactly, gates within gateTol.
func TestModelParity(t *testing.T) {
	for i, tc := range model.TinyConfigs() {
		dts := []shaders.DType{shaders.F32, shaders.F16, shaders.Int4}
		if i == 2 {
			// int8 once, on the family with the most kernels (MoE, 3D,
			// depth pooling, separators).
			dts = append(dts, shaders.Int8)
		}
		for _, dt := range dts {
			t.Run(tc.Name+"/"+dt.String(), func(t *testing.T) {
				modelParity(t, tc.Config, dt)
			})
		}
	}
}

func modelParity(t *testing.T, cfg model.Config, dt shaders.DType) {
	ctx := context.Background()
	tw := loadTwins(t, cfg, 11, dt)
	ids := chatPrompt(t, cfg, "Describe the liver.")
	px := volume(cfg, 7)
	maxSeq := len(ids) + cfg.VisualTokens() + decodeSteps + 8
	req := model.Request{Prompt: ids, Pixels: px}
	opt := model.GenerateOptions{MaxTokens: decodeSteps}
	pipelines := tw.gb.Stats().Pipelines

	want, err := tw.cpu.Generate(ctx, newState(t, tw.cpu, maxSeq), req, opt)
	if err != nil {
		t.Fatal(err)
	}
	have, err := tw.gpu.Generate(ctx, newState(t, tw.gpu, maxSeq), req, opt)
	if err != nil {
		t.Fatalf("GPU generate: %v", err)
	}
	if n := tw.gb.Stats().Pipelines - pipelines; n != 0 {
		t.Errorf("Generate compiled %d pipelines after Warm (want 0: pipelines are warmed at load)", n)
	}
	if len(want.Tokens) != decodeSteps {
		t.Fatalf("CPU generated %d tokens, want %d", len(want.Tokens), decodeSteps)
	}
	if !slices.Equal(have.Tokens, want.Tokens) {
		at := 0
		for at < min(len(have.Tokens), len(want.Tokens)) && have.Tokens[at] == want.Tokens[at] {
			at++
		}
		t.Errorf("greedy tokens differ from step %d:\n have %v\n want %v", at, have.Tokens, want.Tokens)
	}
	compareRouting(t, have.Routing, want.Routing)

	// Teacher-forced logits: prefill, then each CPU token on both.
	cs, gs := newState(t, tw.cpu, maxSeq), newState(t, tw.gpu, maxSeq)
	for _, st := range []struct {
		m *model.Model
		s *model.State
	}{{tw.cpu, cs}, {tw.gpu, gs}} {
		if err := st.m.RouteText(st.s, ids, -1); err != nil {
			t.Fatal(err)
		}
		if err := st.m.EncodeVision(ctx, st.s, px); err != nil {
			t.Fatal(err)
		}
	}
	vc, err := tw.cpu.VisualTokens(cs)
	if err != nil {
		t.Fatal(err)
	}
	vg, err := tw.gpu.VisualTokens(gs)
	if err != nil {
		t.Fatal(err)
	}
	if e := nmse(vg, vc); !(e <= logitsNMSE) {
		t.Errorf("visual tokens NMSE %.3g > %g:%s", e, logitsNMSE, firstDiffs(vg, vc, 1e-4))
	}
	worst, worstStep := 0.0, -1
	crossed := false
	for step := -1; step < decodeSteps-1; step++ {
		for _, st := range []struct {
			m *model.Model
			s *model.State
		}{{tw.cpu, cs}, {tw.gpu, gs}} {
			switch {
			case step < 0:
				err = st.m.Prefill(ctx, st.s, ids)
			case st.m.CrossesLongRoPE(st.s):
				// as Generate does at the step past original_max_position_embeddings
				err = st.m.RecomputeLongRoPE(ctx, st.s, ids, want.Tokens[:step+1])
				crossed = true
			default:
				err = st.m.DecodeToken(ctx, st.s, want.Tokens[step])
			}
			if err != nil {
				t.Fatalf("step %d on %s: %v", step, st.m.Ops().Backend(), err)
			}
		}
		lc, err := tw.cpu.Logits(cs)
		if err != nil {
			t.Fatal(err)
		}
		lg, err := tw.gpu.Logits(gs)
		if err != nil {
			t.Fatal(err)
		}
		e := nmse(lg, lc)
		if !(e <= logitsNMSE) {
			t.Fatalf("step %d (−1: prefill): logits NMSE %.3g > %g:%s", step, e, logitsNMSE, firstDiffs(lg, lc, 1e-4))
		}
		if e > worst {
			worst, worstStep = e, step
		}
		if step >= 0 && argmax(lc) != want.Tokens[step+1] {
			t.Errorf("step %d: teacher-forced CPU argmax %d, Generate gave %d", step, argmax(lc), want.Tokens[step+1])
		}
	}
	t.Logf("logits NMSE ≤ %.3g (worst at step %d of prefill + %d decode steps, LongRoPE recompute crossed: %v); %d greedy tokens equal", worst, worstStep, decodeSteps-1, crossed, decodeSteps)
}

// compareRouting requires the same task and expert ids and gates and
// router softmaxes within gateTol.
func compareRouting(t *testing.T, have, want *model.Routing) {
	t.Helper()
	if (have == nil) != (want == nil) {
		t.Fatalf("routing: have %v, want %v", have != nil, want != nil)
	}
	if want == nil {
		return
	}
	if have.Task != want.Task || have.Forced != want.Forced {
		t.Errorf("task: have %d (forced %v), want %d (forced %v)", have.Task, have.Forced, want.Task, want.Forced)
	}
	if d := maxAbsDiff(have.TaskProbs, want.TaskProbs); !(d <= gateTol) {
		t.Errorf("task probabilities: |Δ| %.3g > %g: have %v want %v", d, gateTol, have.TaskProbs, want.TaskProbs)
	}
	if len(have.Layers) != len(want.Layers) {
		t.Fatalf("routing of %d layers, want %d", len(have.Layers), len(want.Layers))
	}
	for i, wl := range want.Layers {
		hl := have.Layers[i]
		if !slices.Equal(hl.Experts, wl.Experts) {
			t.Errorf("layer %d: expert ids differ:\n have %v\n want %v", wl.Layer, hl.Experts, wl.Experts)
		}
		if d := maxAbsDiff(hl.Gates, wl.Gates); !(d <= gateTol) {
			t.Errorf("layer %d: gates |Δ| %.3g > %g", wl.Layer, d, gateTol)
		}
		if d := maxAbsDiff(hl.Probs, wl.Probs); !(d <= gateTol) {
			t.Errorf("layer %d: router softmax |Δ| %.3g > %g", wl.Layer, d, gateTol)
		}
	}
	t.Logf("routing: task %s, %d MoE layers, expert ids equal", want.TaskName, len(want.Layers))
}
