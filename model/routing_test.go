package model_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"ctlens/model"
	"ctlens/shaders"
)

// textIDs are the prompt ids the task router pools (image slots dropped).
func textIDs(ids []int) []int {
	return slices.DeleteFunc(slices.Clone(ids), func(id int) bool { return id == model.ImageSlot })
}

// meanEmbedding is the text pool computed on the host from the f32
// embedding table (V, C) of src.
func meanEmbedding(t *testing.T, src model.MapSource, c int, ids []int) []float64 {
	t.Helper()
	emb := shaders.BytesF32(src["model.embed_tokens.weight"].Data)
	pool := make([]float64, c)
	for _, id := range ids {
		for j := range pool {
			pool[j] += float64(emb[id*c+j]) / float64(len(ids))
		}
	}
	return pool
}

// inverse3 inverts a 3×3 matrix.
func inverse3(a [3][3]float64) [3][3]float64 {
	det := a[0][0]*(a[1][1]*a[2][2]-a[1][2]*a[2][1]) - a[0][1]*(a[1][0]*a[2][2]-a[1][2]*a[2][0]) + a[0][2]*(a[1][0]*a[2][1]-a[1][1]*a[2][0])
	var inv [3][3]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			// cofactor of (j, i) over det
			r0, r1 := (j+1)%3, (j+2)%3
			c0, c1 := (i+1)%3, (i+2)%3
			inv[i][j] = (a[r0][c0]*a[r1][c1] - a[r0][c1]*a[r1][c0]) / det
		}
	}
	return inv
}

// TestTaskRouterChoosesTask builds a task router that maps the text pools
// of a report prompt, a closed question and an open question to the
// one-hot logits 5·e_g (W = 5·(PᵀP)⁻¹Pᵀ from the three pools P computed on
// the host), then checks that each prompt, built as Report and Ask build
// it, picks its task and that the task probabilities are softmax(5·e_g):
// this checks the tokenized prompt, the GPU-side mean pool (an attention
// with a zero query), the router GEMM and the task_route kernel together.
func TestTaskRouterChoosesTask(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	src, err := model.RandomWeights(cfg, 21, shaders.F32)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.LLM.HiddenSize
	prompts := [3][]int{
		prompt(t, cfg, cfg.Prompt.ReportPrompt),
		prompt(t, cfg, model.ClosedQuestion("Which organ is enlarged?", []string{"liver", "spleen", "kidney", "lung"})),
		prompt(t, cfg, "Where is the lesion located?"),
	}
	var p [3][]float64 // pools
	for g, ids := range prompts {
		p[g] = meanEmbedding(t, src, c, textIDs(ids))
	}
	var gram [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := 0; k < c; k++ {
				gram[i][j] += p[i][k] * p[j][k]
			}
		}
	}
	inv := inverse3(gram)
	w := make([]float32, 3*c)
	for g := range 3 {
		for k := 0; k < c; k++ {
			var s float64
			for j := range 3 {
				s += inv[g][j] * p[j][k]
			}
			w[g*c+k] = float32(5 * s)
		}
	}
	src.PutF32(model.EmbedName("task_router.weight"), w, 3, c)
	src.PutF32(model.EmbedName("task_router.bias"), make([]float32, 3), 3)
	m := load(t, cfg, src)
	px := volume(cfg, 22)
	e5 := math.Exp(5)
	for g, ids := range prompts {
		s := encode(t, m, ids, px, -1)
		r, err := m.ReadRouting(s, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.Task != g || r.TaskName != model.TaskNames[g] {
			t.Errorf("prompt %d: task %d (%s), want %d (%s)", g, r.Task, r.TaskName, g, model.TaskNames[g])
		}
		for j, pr := range r.TaskProbs {
			want := 1 / (e5 + 2)
			if j == g {
				want = e5 / (e5 + 2)
			}
			if math.Abs(float64(pr)-want) > 1e-4 {
				t.Errorf("prompt %d: task prob %d = %v, want %v", g, j, pr, want)
			}
		}
	}
}

// TestTokenRouting checks the routing a MoE model returns: per token K
// distinct experts of the chosen group in descending gate order, gates
// summing to one (renormalised top-k) and equal to the group softmax's
// top-k renormalised, group softmax rows summing to one; a forced task is
// honoured; and the text half of the token router is live (another prompt
// under the same task routes differently).
func TestTokenRouting(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	m, _ := random(t, cfg, 23, shaders.F32)
	px := volume(cfg, 24)
	eg, k := cfg.MoE.ExpertsPerTask, cfg.MoE.TopK
	routed := func(text string, task int) *model.Routing {
		t.Helper()
		s := encode(t, m, prompt(t, cfg, text), px, task)
		r, err := m.ReadRouting(s, task >= 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for task := range 3 {
		r := routed("Describe the findings.", task)
		if r.Task != task || !r.Forced {
			t.Errorf("forced task %d: routing chose %d (forced %v)", task, r.Task, r.Forced)
		}
		var sum float64
		for _, p := range r.TaskProbs {
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("task probs sum to %v", sum)
		}
		if len(r.Layers) != len(cfg.MoE.Layers) {
			t.Fatalf("%d routed layers, want %d", len(r.Layers), len(cfg.MoE.Layers))
		}
		for _, lr := range r.Layers {
			if lr.Tokens != cfg.Slices()*cfg.Vision.Tokens() || lr.K != k {
				t.Errorf("layer %d: %d tokens, k %d", lr.Layer, lr.Tokens, lr.K)
			}
			for tok := 0; tok < lr.Tokens; tok++ {
				probs := lr.Probs[tok*eg : (tok+1)*eg]
				var ps, gs, top float64
				for _, p := range probs {
					ps += float64(p)
				}
				experts := lr.Experts[tok*k : (tok+1)*k]
				gates := lr.Gates[tok*k : (tok+1)*k]
				for j, e := range experts {
					if e < 0 || e >= eg {
						t.Fatalf("layer %d token %d: expert %d outside the group's %d", lr.Layer, tok, e, eg)
					}
					if j > 0 && (gates[j] > gates[j-1] || slices.Contains(experts[:j], e)) {
						t.Errorf("layer %d token %d: experts %v gates %v not distinct in rank order", lr.Layer, tok, experts, gates)
					}
					gs += float64(gates[j])
					top += float64(probs[e])
				}
				if math.Abs(ps-1) > 1e-5 || math.Abs(gs-1) > 1e-5 {
					t.Fatalf("layer %d token %d: probs sum %v, gates sum %v; want 1", lr.Layer, tok, ps, gs)
				}
				for j, e := range experts {
					if want := float64(probs[e]) / top; math.Abs(float64(gates[j])-want) > 1e-5 {
						t.Errorf("layer %d token %d: gate %v, renormalised prob %v", lr.Layer, tok, gates[j], want)
					}
				}
			}
		}
	}
	a, b := routed("Describe the findings.", 1), routed("Is there a fracture of the left femur?", 1)
	if slices.Equal(a.Layers[0].Gates, b.Layers[0].Gates) {
		t.Error("two prompts under one task gave identical token gates: the text pool does not reach the token router")
	}
}

// TestMoEOneExpertEqualsDense: an MoE layer whose every group has one
// expert equal to the dense FFN (top-1, no shared expert) gives exactly the
// dense model's visual tokens and logits — the gate is exactly 1 and the
// expert rows are the dense rows, gathered and scattered back. A perturbed
// expert must change them.
func TestMoEOneExpertEqualsDense(t *testing.T) {
	dense := tiny(t, "gqa-untied-longrope-dense-3d")
	src, err := model.RandomWeights(dense, 25, shaders.Int8)
	if err != nil {
		t.Fatal(err)
	}
	moe := dense
	moe.MoE = model.MoEConfig{Layers: []int{0, 1}, Tasks: 3, ExpertsPerTask: 1, TopK: 1, RouterTextDim: 4, Renormalize: true}
	extra, err := model.RandomWeights(moe, 26, shaders.Int8)
	if err != nil {
		t.Fatal(err)
	}
	msrc := model.MapSource{}
	for name, v := range src {
		msrc[name] = v
	}
	for _, name := range []string{"task_router.weight", "task_router.bias", "text_proj.weight", "text_proj.bias"} {
		msrc[model.EmbedName(name)] = extra[model.EmbedName(name)]
	}
	for _, l := range moe.MoE.Layers {
		for _, name := range []string{"mlp.router.weight", "mlp.router.bias"} {
			msrc[model.VisionLayerName(l, name)] = extra[model.VisionLayerName(l, name)]
		}
		for j := 0; j < 3; j++ {
			for _, p := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
				msrc[model.ExpertName(l, j, p)] = src[model.VisionLayerName(l, "mlp."+p)]
			}
		}
	}
	ids := prompt(t, dense, "Any nodule?")
	px := volume(dense, 27)
	md, mm := load(t, dense, src), load(t, moe, msrc)
	sd, sm := encode(t, md, ids, px, -1), encode(t, mm, ids, px, -1)
	assertEqual(t, "visual tokens", visual(t, mm, sm), visual(t, md, sd))
	assertEqual(t, "logits", logits(t, mm, sm), logits(t, md, sd))

	r, err := mm.ReadRouting(sm, false)
	if err != nil {
		t.Fatal(err)
	}
	msrc[model.ExpertName(1, r.Task, "fc2.bias")] = extra[model.ExpertName(1, 0, "fc2.bias")]
	mp := load(t, moe, msrc)
	if nmse(visual(t, mp, encode(t, mp, ids, px, -1)), visual(t, md, sd)) == 0 {
		t.Error("changing the chosen group's expert changed nothing")
	}
}

// TestLongRoPE: LongRoPE with unit factors and mscale 1 is plain RoPE, at
// any length; with real factors the long set takes over exactly when the
// sequence passes original_max_position_embeddings.
func TestLongRoPE(t *testing.T) {
	ctx := context.Background()
	base := tiny(t, "gqa-untied-longrope-dense-3d") // original 64, max 256
	run := func(cfg model.Config, src model.Source, n int) []float32 {
		t.Helper()
		m := load(t, cfg, src)
		s := newState(t, m)
		ids := make([]int, n)
		for i := range ids {
			ids[i] = (i*37 + 11) % 128
		}
		if err := m.Prefill(ctx, s, ids); err != nil {
			t.Fatal(err)
		}
		return logits(t, m, s)
	}
	src, _ := model.RandomWeights(base, 28, shaders.F32)

	unit := base
	sc := *base.LLM.RoPEScaling
	sc.ShortFactor, sc.LongFactor = slices.Clone(sc.ShortFactor), slices.Clone(sc.LongFactor)
	for i := range sc.ShortFactor {
		sc.ShortFactor[i], sc.LongFactor[i] = 1, 1
	}
	sc.ShortMScale, sc.LongMScale = 1, 1
	unit.LLM.RoPEScaling = &sc
	plain := base
	plain.LLM.RoPEScaling = nil
	assertEqual(t, "unit LongRoPE vs plain, 80 tokens", run(unit, src, 80), run(plain, src, 80))

	a := base
	sa := *base.LLM.RoPEScaling
	sa.ShortMScale, sa.LongMScale = 1, 1
	a.LLM.RoPEScaling = &sa
	never := a
	never.LLM.OriginalMaxPos = never.LLM.MaxPositions // the long factors are never used
	assertEqual(t, "short sequence (64 = original)", run(a, src, 64), run(never, src, 64))
	if nmse(run(a, src, 65), run(never, src, 65)) < 1e-8 {
		t.Error("past original_max_position_embeddings the long factors changed nothing")
	}
	if nmse(run(base, src, 40), run(a, src, 40)) < 1e-8 {
		t.Error("the default mscale (≈1.155 for 256/64) changed nothing")
	}
}

// The zero GenerateOptions lets the task router choose; ForceTask makes
// Task the group. (The zero value used to force the report task.)
func TestGenerateTaskZeroValueIsAuto(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	src, err := model.RandomWeights(cfg, 5, shaders.F32)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, cfg, src)
	req := model.Request{Prompt: prompt(t, cfg, "Is there an effusion?"), Pixels: volume(cfg, 2)}
	ctx := context.Background()
	auto, err := m.Generate(ctx, newState(t, m), req, model.GenerateOptions{MaxTokens: 1})
	if err != nil {
		t.Fatal(err)
	}
	if auto.Routing == nil || auto.Routing.Forced {
		t.Fatalf("zero options: routing %+v, want the router's choice", auto.Routing)
	}
	forced, err := m.Generate(ctx, newState(t, m), req, model.GenerateOptions{MaxTokens: 1, ForceTask: true, Task: model.TaskOpenVQA})
	if err != nil {
		t.Fatal(err)
	}
	if !forced.Routing.Forced || forced.Routing.Task != model.TaskOpenVQA {
		t.Errorf("ForceTask open VQA: routing chose %d (forced %v)", forced.Routing.Task, forced.Routing.Forced)
	}
}
