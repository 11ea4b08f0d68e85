package model_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// TestEndToEnd runs every tiny shape family with every weight type through
// Generate (routing, vision, prefill, decode) and checks what a working
// pipeline must show: finite logits, the prompt and visual tokens counted
// in the prefill, routing exactly for MoE models, and quantized weights
// close to the f32 model (bounds well above what each type's rounding
// gives on these models, far below what a mis-wired tensor gives).
func TestEndToEnd(t *testing.T) {
	bounds := map[shaders.DType]float64{shaders.F16: 1e-5, shaders.Int8: 1e-3, shaders.Int4: 0.1}
	for _, tc := range model.TinyConfigs() {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := tc.Config
			ids := prompt(t, cfg, "Describe the liver.")
			px := volume(cfg, 7)
			var ref []float32
			for _, dt := range shaders.DTypes() {
				m, _ := random(t, cfg, 1, dt)
				s := newState(t, m)
				res, err := m.Generate(context.Background(), s, model.Request{Prompt: ids, Pixels: px},
					model.GenerateOptions{MaxTokens: 6})
				if err != nil {
					t.Fatalf("%s: %v", dt, err)
				}
				if len(res.Tokens) != 6 || res.StopReason != "length" {
					t.Errorf("%s: %d tokens, stop %q; want 6, length", dt, len(res.Tokens), res.StopReason)
				}
				if want := len(ids) - 1 + cfg.VisualTokens(); res.Timings.PrefillTokens != want {
					t.Errorf("%s: prefill of %d tokens, want %d (prompt + visual)", dt, res.Timings.PrefillTokens, want)
				}
				if s.Pos != res.Timings.PrefillTokens+5 {
					t.Errorf("%s: %d positions cached after 5 decode steps, want %d", dt, s.Pos, res.Timings.PrefillTokens+5)
				}
				if (res.Routing != nil) != cfg.HasMoE() {
					t.Errorf("%s: routing %v for a model with MoE %v", dt, res.Routing != nil, cfg.HasMoE())
				}
				// The first token's logits, recomputed, against the f32 model's.
				s2 := encode(t, m, ids, px, -1)
				l := logits(t, m, s2)
				if !allFinite(l) {
					t.Fatalf("%s: non-finite logits", dt)
				}
				if argmax(l) != res.Tokens[0] {
					t.Errorf("%s: greedy first token %d, argmax of the prefill logits %d", dt, res.Tokens[0], argmax(l))
				}
				if dt == shaders.F32 {
					ref = l
					continue
				}
				if e := nmse(l, ref); e > bounds[dt] {
					t.Errorf("%s: logits NMSE %.3g against f32, bound %g", dt, e, bounds[dt])
				} else {
					t.Logf("%s: logits NMSE %.3g against f32", dt, e)
				}
			}
		})
	}
}

// TestKVCacheDecodeEqualsRecompute: logits after prefill + n decode steps
// equal those of one prefill over the whole sequence. The CPU backend runs
// the same per-row arithmetic either way (decode attention and flash
// attention share a float64 reference), so they are bit-identical.
func TestKVCacheDecodeEqualsRecompute(t *testing.T) {
	ctx := context.Background()
	for _, tc := range model.TinyConfigs() {
		t.Run(tc.Name, func(t *testing.T) {
			cfg := tc.Config
			m, _ := random(t, cfg, 2, shaders.F32)
			ids := prompt(t, cfg, "Any lesion?")
			px := volume(cfg, 3)
			s := encode(t, m, ids, px, -1)
			seq := slices.Clone(ids)
			gen := []int{5, 77, 140, 33, 9} // fixed, so that no argmax tie can hide a difference
			for _, id := range gen {
				if err := m.DecodeToken(ctx, s, id); err != nil {
					t.Fatal(err)
				}
				seq = append(seq, id)
			}
			stepped := logits(t, m, s)
			full := encodeRouted(t, m, ids, seq, px, -1)
			assertEqual(t, "logits", stepped, logits(t, m, full))
			if s.Pos != full.Pos {
				t.Errorf("positions: stepped %d, recomputed %d", s.Pos, full.Pos)
			}
			// A different history must change the logits (the cache is read).
			seq[len(seq)-3] = 6
			other := encodeRouted(t, m, ids, seq, px, -1)
			if nmse(logits(t, m, other), stepped) == 0 {
				t.Error("changing an earlier token left the last logits unchanged")
			}
		})
	}
}

// Test3DOffEqualsPlain2D: a transferred model with the 3D path off runs
// each slice exactly as the plain 2D model runs that slice alone (the
// weights do not depend on D); with the 3D path on and one slice, the slice
// rotary turns by angle 0 and changes nothing either. With the 3D path on
// and several slices the tokens must differ, or 3D attention did nothing.
func Test3DOffEqualsPlain2D(t *testing.T) {
	for _, name := range []string{"gqa-untied-longrope-dense-3d", "mha-untied-longrope-moe-3d"} {
		t.Run(name, func(t *testing.T) {
			cfg3 := tiny(t, name)
			cfg3.Projector = model.ProjectorConfig{HiddenAct: "gelu", DepthPool: 1}
			d := cfg3.Slices()
			off := cfg3
			off.Transfer3D.Enabled = false
			plain := cfg3
			plain.Transfer3D = model.Transfer3DConfig{Slices: 1}
			src, err := model.RandomWeights(cfg3, 4, shaders.F32)
			if err != nil {
				t.Fatal(err)
			}
			ids := prompt(t, cfg3, "Report.")
			px := volume(cfg3, 5)
			mOff, m2D := load(t, off, src), load(t, plain, src)
			vOff := visual(t, mOff, encode(t, mOff, ids, px, -1))
			per := len(px) / d
			tm := len(vOff) / d
			for z := 0; z < d; z++ {
				v2 := visual(t, m2D, encode(t, m2D, ids, px[z*per:(z+1)*per], -1))
				assertEqual(t, "slice visual tokens", vOff[z*tm:(z+1)*tm], v2)
			}

			one := cfg3
			one.Transfer3D.Slices = 1
			m1 := load(t, one, src)
			v1 := visual(t, m1, encode(t, m1, ids, px[:per], -1))
			assertEqual(t, "3D on one slice", v1, visual(t, m2D, encode(t, m2D, ids, px[:per], -1)))

			m3 := load(t, cfg3, src)
			v3 := visual(t, m3, encode(t, m3, ids, px, -1))
			if nmse(v3, vOff) < 1e-6 {
				t.Errorf("3D attention over %d slices left the visual tokens unchanged (NMSE %g)", d, nmse(v3, vOff))
			}
		})
	}
}

// TestSliceRoPEMatters: with 3D attention, the slice rotary changes the
// tokens (it is applied), and swapping two slices changes which token
// lands where (positions are slice-aware).
func TestSliceRoPEMatters(t *testing.T) {
	cfg := tiny(t, "gqa-untied-longrope-dense-3d")
	norope := cfg
	norope.Transfer3D.SliceRoPE = false
	src, _ := model.RandomWeights(cfg, 6, shaders.F32)
	ids := prompt(t, cfg, "x")
	px := volume(cfg, 8)
	m1 := load(t, cfg, src)
	a := visual(t, m1, encode(t, m1, ids, px, -1))
	m := load(t, norope, src)
	b := visual(t, m, encode(t, m, ids, px, -1))
	if nmse(a, b) < 1e-8 {
		t.Error("the slice rotary changed nothing")
	}
}

// TestDepthPooling: with depth pooling 2 and the 3D path off, a volume of
// repeated slices (a, a, b, b) gives exactly the tokens of the unpooled
// model on (a, b): the mean of equal rows is that row.
func TestDepthPooling(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d") // depth_pool 2, separators
	cfg.Transfer3D.Enabled = false
	half := cfg
	half.Transfer3D.Slices = cfg.Slices() / 2
	half.Projector.DepthPool = 1
	src, _ := model.RandomWeights(cfg, 9, shaders.F32)
	ids := prompt(t, cfg, "Report.")
	small := volume(half, 10)
	per := len(small) / half.Slices()
	var rep []float32
	for z := 0; z < half.Slices(); z++ {
		sl := small[z*per : (z+1)*per]
		rep = append(rep, sl...)
		rep = append(rep, sl...)
	}
	mp, mh := load(t, cfg, src), load(t, half, src)
	if cfg.VisualTokens() != half.VisualTokens() {
		t.Fatalf("token counts %d and %d", cfg.VisualTokens(), half.VisualTokens())
	}
	assertEqual(t, "pooled visual tokens", visual(t, mp, encode(t, mp, ids, rep, -1)), visual(t, mh, encode(t, mh, ids, small, -1)))
}

// TestGreedyDeterministic and sampling reproducibility.
func TestGreedyAndSampling(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	m, _ := random(t, cfg, 11, shaders.Int4)
	ids := prompt(t, cfg, "What is seen?")
	px := volume(cfg, 12)
	run := func(o model.GenerateOptions) []int {
		t.Helper()
		o.MaxTokens = 16
		res, err := m.Generate(context.Background(), newState(t, m), model.Request{Prompt: ids, Pixels: px}, o)
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	g1, g2 := run(model.GenerateOptions{}), run(model.GenerateOptions{})
	if !slices.Equal(g1, g2) {
		t.Errorf("greedy runs differ: %v vs %v", g1, g2)
	}
	hot := model.GenerateOptions{Temperature: 2, TopK: 50, TopP: 0.95, Seed: 42}
	s1, s2 := run(hot), run(hot)
	if !slices.Equal(s1, s2) {
		t.Errorf("sampling with one seed differs: %v vs %v", s1, s2)
	}
	hot.Seed = 43
	if s3 := run(hot); slices.Equal(s1, s3) {
		t.Errorf("seeds 42 and 43 drew the same 16 tokens at temperature 2: %v", s3)
	}
	if slices.Equal(s1, g1) {
		t.Errorf("sampling at temperature 2 reproduced greedy decoding: %v", s1)
	}
}

// TestGenerateStopsAndStreams: a stop token ends generation without being
// returned, OnToken sees every returned token in order, and MaxTokens and
// the cache length bound the output.
func TestGenerateStopsAndStreams(t *testing.T) {
	cfg := tiny(t, "gqa-untied-longrope-dense-3d")
	m, _ := random(t, cfg, 13, shaders.F32)
	ids := prompt(t, cfg, "Report.")
	px := volume(cfg, 14)
	gen := func(o model.GenerateOptions, s *model.State) *model.Result {
		t.Helper()
		res, err := m.Generate(context.Background(), s, model.Request{Prompt: ids, Pixels: px}, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	full := gen(model.GenerateOptions{MaxTokens: 8}, newState(t, m))
	stop := full.Tokens[3]
	first := slices.Index(full.Tokens, stop)
	var streamed []int
	res := gen(model.GenerateOptions{MaxTokens: 8, Stop: []int{stop}, OnToken: func(id int) { streamed = append(streamed, id) }}, newState(t, m))
	if res.StopReason != "stop" || !slices.Equal(res.Tokens, full.Tokens[:first]) {
		t.Errorf("stop at %d: have %v (%s), want %v", stop, res.Tokens, res.StopReason, full.Tokens[:first])
	}
	if !slices.Equal(streamed, res.Tokens) {
		t.Errorf("streamed %v, returned %v", streamed, res.Tokens)
	}
	s, err := m.NewState(model.StateOptions{MaxSeq: len(ids) - 1 + cfg.VisualTokens() + 3})
	if err != nil {
		t.Fatal(err)
	}
	res = gen(model.GenerateOptions{}, s)
	if res.StopReason != "cache" || len(res.Tokens) != 4 {
		t.Errorf("full cache: %d tokens, stop %q; want 4, cache", len(res.Tokens), res.StopReason)
	}
}

// TestCancel: a cancelled context stops generation with its error.
func TestCancel(t *testing.T) {
	cfg := tiny(t, "mha-tied-rope-dense-2d")
	m, _ := random(t, cfg, 15, shaders.F32)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := m.Generate(ctx, newState(t, m), model.Request{Prompt: prompt(t, cfg, "a"), Pixels: volume(cfg, 1)},
		model.GenerateOptions{MaxTokens: 50, OnToken: func(int) {
			if n++; n == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res == nil || len(res.Tokens) != 3 {
		t.Errorf("tokens before the cancel: %v, want 3", res)
	}
}

// TestReportAndAsk: the tasks build the Phi-3 chat prompt, stream text
// whose pieces make up the result, and stop at <|end|>.
func TestReportAndAsk(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	m, _ := random(t, cfg, 16, shaders.F32)
	tok := byteTokenizer{}
	px := volume(cfg, 17)
	var pieces []string
	o := model.TextOptions{GenerateOptions: model.GenerateOptions{MaxTokens: 10}, OnText: func(s string) { pieces = append(pieces, s) }}
	res, err := m.Report(context.Background(), newState(t, m), tok, px, o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pieces, "") != res.Text {
		t.Errorf("streamed %q, result %q", strings.Join(pieces, ""), res.Text)
	}
	if res.Routing == nil || len(res.Routing.Layers) != len(cfg.MoE.Layers) {
		t.Errorf("routing %+v", res.Routing)
	}
	q := model.ClosedQuestion("Which organ?", []string{"liver", "lung"})
	if q != "Which organ? Choices: A. liver B. lung" {
		t.Errorf("closed question %q", q)
	}
	if _, err := m.Ask(context.Background(), newState(t, m), tok, px, q, o); err != nil {
		t.Fatal(err)
	}
	ids, err := model.BuildPrompt(tok, cfg.Prompt, "Hi")
	if err != nil {
		t.Fatal(err)
	}
	want := tok.Encode("<|user|>\n", true) // <s> once, at the start
	want = append(want, model.ImageSlot)
	rest := tok.Encode("\nHi<|end|>\n<|assistant|>\n", false)
	if want = append(want, rest...); !slices.Equal(ids, want) {
		t.Errorf("prompt ids %v, want %v", ids, want)
	}
}

// TestNoAllocationAfterNewState: Generate allocates no backend tensor (the
// State holds every buffer, the KV cache included).
func TestNoAllocationAfterNewState(t *testing.T) {
	cfg := tiny(t, "mha-untied-longrope-moe-3d")
	src, _ := model.RandomWeights(cfg, 18, shaders.F32)
	ops := &countingOps{Ops: cpu.New()}
	m, err := model.New(ops, cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	s := newState(t, m)
	before := ops.allocs
	if _, err := m.Generate(context.Background(), s, model.Request{Prompt: prompt(t, cfg, "x"), Pixels: volume(cfg, 1)},
		model.GenerateOptions{MaxTokens: 4}); err != nil {
		t.Fatal(err)
	}
	if ops.allocs != before {
		t.Errorf("Generate allocated %d tensors", ops.allocs-before)
	}
}

type countingOps struct {
	model.Ops
	allocs int
}

func (c *countingOps) Alloc(name string, dt model.DType, shape ...int) model.Tensor {
	c.allocs++
	return c.Ops.Alloc(name, dt, shape...)
}

func (c *countingOps) Upload(name string, w shaders.Weights) model.Tensor {
	c.allocs++
	return c.Ops.Upload(name, w)
}

// TestPromptErrors: misuse fails with errors, not panics or silence.
func TestPromptErrors(t *testing.T) {
	cfg := tiny(t, "mha-tied-rope-dense-2d")
	m, _ := random(t, cfg, 19, shaders.F32)
	ctx := context.Background()
	ids := prompt(t, cfg, "x")
	cases := []struct {
		name string
		run  func(s *model.State) error
		want string
	}{
		{"no volume", func(s *model.State) error { return m.Prefill(ctx, s, ids) }, "no volume"},
		{"bad token", func(s *model.State) error { return m.Prefill(ctx, s, []int{1, 999}) }, "outside the vocabulary"},
		{"two images", func(s *model.State) error {
			return m.Prefill(ctx, s, []int{1, model.ImageSlot, 2, model.ImageSlot})
		}, "more than one image"},
		{"bad volume", func(s *model.State) error { return m.EncodeVision(ctx, s, make([]float32, 5)) }, "volume of 5 values"},
		{"pixels without slot", func(s *model.State) error {
			_, err := m.Generate(ctx, s, model.Request{Prompt: []int{1, 2}, Pixels: volume(cfg, 1)}, model.GenerateOptions{})
			return err
		}, "image slot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(newState(t, m))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("have %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestLoadErrors: a load reports every missing or misshapen tensor by name.
func TestLoadErrors(t *testing.T) {
	cfg := tiny(t, "gqa-tied-rope-moe-2d")
	src, _ := model.RandomWeights(cfg, 20, shaders.F32)
	delete(src, "model.norm.weight")
	delete(src, model.ExpertName(1, 2, "fc2.bias"))
	src.PutF32(model.LLMLayerName(0, "input_layernorm.weight"), make([]float32, 3), 3)
	_, err := model.New(cpu.New(), cfg, src)
	if err == nil {
		t.Fatal("load succeeded")
	}
	for _, want := range []string{`"model.norm.weight"`, `experts.2.fc2.bias"`, `input_layernorm.weight": shape [3]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// TestTextOnlyAndVisionOnly: a decoder without a vision tower generates
// from text (Phi3ForCausalLM in hf-dump), and a bare vision tower (a
// CLIPVisionModel) reports every hidden state, equal to those of the full
// model's tower on the same weights.
func TestTextOnlyAndVisionOnly(t *testing.T) {
	full := tiny(t, "gqa-untied-longrope-dense-3d")
	src, _ := model.RandomWeights(full, 29, shaders.F32)
	ctx := context.Background()

	text := full
	text.Vision, text.Transfer3D, text.Projector = model.VisionConfig{}, model.Transfer3DConfig{}, model.ProjectorConfig{}
	mt := load(t, text, src)
	ids := []int{128, 129, 72, 105, 130, 131}
	res, err := mt.Generate(ctx, newState(t, mt), model.Request{Prompt: ids}, model.GenerateOptions{MaxTokens: 4})
	if err != nil || len(res.Tokens) != 4 {
		t.Fatalf("text-only generate: %v, %v", res, err)
	}
	if _, err := mt.Generate(ctx, newState(t, mt), model.Request{Prompt: append(ids, model.ImageSlot), Pixels: volume(full, 1)}, model.GenerateOptions{}); err == nil {
		t.Error("a text-only model accepted a volume")
	}
	// The text-only decoder is the full model's decoder.
	mf := load(t, full, src)
	sf := newState(t, mf)
	if err := mf.Prefill(ctx, sf, ids); err != nil {
		t.Fatal(err)
	}
	st := newState(t, mt)
	if err := mt.Prefill(ctx, st, ids); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "text-only logits", logits(t, mt, st), logits(t, mf, sf))

	vis := full
	vis.LLM, vis.Projector = model.LLMConfig{}, model.ProjectorConfig{}
	vis.Vision.FeatureLayer = vis.Vision.NumLayers
	mv := load(t, vis, src)
	px := volume(full, 30)
	var hv, hf [][]float32
	collect := func(dst *[][]float32) model.VisionHook {
		return func(i int, h []float32) error {
			if i != len(*dst) {
				t.Errorf("hidden state %d after %d", i, len(*dst))
			}
			*dst = append(*dst, h)
			return nil
		}
	}
	if err := mv.EncodeVisionHidden(ctx, newState(t, mv), px, collect(&hv)); err != nil {
		t.Fatal(err)
	}
	sv := newState(t, mf)
	if err := mf.EncodeVisionHidden(ctx, sv, px, collect(&hf)); err != nil {
		t.Fatal(err)
	}
	if len(hv) != vis.Vision.NumLayers+1 || len(hf) != full.Vision.RunLayers()+1 {
		t.Fatalf("%d and %d hidden states", len(hv), len(hf))
	}
	for i := range hf {
		assertEqual(t, "hidden state", hv[i], hf[i])
	}
	feat, err := mf.VisionFeatures(sv)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "features", feat, hf[len(hf)-1])
}

// TestGenerateRecomputesAtTheLongRoPECrossing: when generation carries a
// LongRoPE sequence past original_max_position_embeddings, every later
// token is the one a fresh prefill of the whole sequence picks (all of it
// rotated by the long factors, as HF's generate recomputes the cache at
// that step), and the steps before it are unchanged. Without the
// recompute the cached keys keep the short factors' rotation and the
// logits after the crossing differ.
func TestGenerateRecomputesAtTheLongRoPECrossing(t *testing.T) {
	ctx := context.Background()
	cfg := tiny(t, "gqa-untied-longrope-dense-3d")
	m, _ := random(t, cfg, 4, shaders.F32)
	ids := prompt(t, cfg, "Any lesion?")
	px := volume(cfg, 3)
	rows := len(ids) - 1 + cfg.VisualTokens()
	orig := cfg.LLM.OriginalMaxPos
	if rows > orig {
		t.Fatalf("the prompt takes %d rows, past original_max_position_embeddings %d: no crossing to test", rows, orig)
	}
	steps := orig - rows + 6 // crosses at step orig−rows, then 5 more
	s, err := m.NewState(model.StateOptions{MaxSeq: rows + steps + 1, MaxPrefill: rows})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Free()
	res, err := m.Generate(ctx, s, model.Request{Prompt: ids, Pixels: px}, model.GenerateOptions{MaxTokens: steps})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tokens) != steps {
		t.Fatalf("%d tokens, want %d", len(res.Tokens), steps)
	}
	// Step i's token comes from the logits after prompt + tokens[:i].
	for i := 1; i < steps; i++ {
		full := encodeRouted(t, m, ids, append(slices.Clone(ids), res.Tokens[:i]...), px, -1)
		l := logits(t, m, full)
		full.Free()
		if want := argmax(l); res.Tokens[i] != want {
			t.Errorf("step %d (sequence %d, original max %d): token %d, a fresh prefill picks %d", i, rows+i, orig, res.Tokens[i], want)
		}
	}
	// The logits of the cached path after the crossing equal the fresh
	// prefill's (the recompute ran), and differ from plain decoding.
	seq := append(slices.Clone(ids), res.Tokens[:steps-1]...)
	full := encodeRouted(t, m, ids, seq, px, -1)
	want := logits(t, m, full)
	assertClose := func(what string, have []float32, max float64) {
		if e := nmse(have, want); !(e <= max) {
			t.Errorf("%s: NMSE %.3g against a fresh prefill", what, e)
		}
	}
	assertClose("generate's last logits", logits(t, m, s), 1e-10)
	plain := encode(t, m, ids, px, -1)
	for _, id := range res.Tokens[:steps-1] {
		if err := m.DecodeToken(ctx, plain, id); err != nil {
			t.Fatal(err)
		}
	}
	if e := nmse(logits(t, m, plain), want); e < 1e-8 {
		t.Errorf("plain decoding past the crossing matches the recompute (NMSE %.3g): the test cannot tell them apart", e)
	}
}
