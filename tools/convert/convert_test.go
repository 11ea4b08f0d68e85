package main

import (
	"bytes"
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
	"ctlens/tools/internal/engine"
	"ctlens/tools/internal/tinymodel"
	"ctlens/weights"
)

// ---- helpers ---------------------------------------------------------------

// hfCheckpoint writes a tiny random HF checkpoint of arch and returns its
// directory, the engine's config and the weights as written.
func hfCheckpoint(t *testing.T, arch string, o tinymodel.HFOptions) (string, model.Config, model.MapSource) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), arch)
	cfg, src, err := tinymodel.WriteHF(dir, arch, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg, src
}

// convert runs Convert with f32 everywhere unless o says otherwise.
func convert(t *testing.T, o Options) (*Result, string) {
	t.Helper()
	if o.Out == "" {
		o.Out = filepath.Join(t.TempDir(), "out")
	}
	if o.Transfer.ExpertsPerTask == 0 {
		o.Transfer.ExpertsPerTask, o.Transfer.TopK, o.Transfer.RouterTextDim = 2, 2, 8
	}
	res, err := Convert(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return res, o.Out
}

// recording is a Source that remembers which tensors the loader read.
type recording struct {
	model.Source
	mu   sync.Mutex
	read map[string]bool
}

func (r *recording) Tensor(name string) (model.SourceTensor, error) {
	r.mu.Lock()
	r.read[name] = true
	r.mu.Unlock()
	return r.Source.Tensor(name)
}

// loadDir loads a converted model directory on the CPU backend and checks
// that the loader reads every tensor the converter wrote (nothing dead
// weight in the shards).
func loadDir(t *testing.T, dir string) (*model.Model, *engine.Dir) {
	t.Helper()
	d, err := engine.OpenDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{Source: d.Source, read: map[string]bool{}}
	m, err := model.New(cpu.New(), d.Config, rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range d.Manifest.Tensors {
		if !rec.read[e.Name] {
			t.Errorf("%s: tensor %q is written but the model never reads it", dir, e.Name)
		}
	}
	return m, d
}

func load(t *testing.T, cfg model.Config, src model.Source) *model.Model {
	t.Helper()
	m, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// outputs are what one request computes.
type outputs struct {
	visual, logits []float32
	routing        *model.Routing
}

// request encodes a random volume under a chat prompt and prefills it.
func request(t *testing.T, m *model.Model, text string, seed int64) outputs {
	t.Helper()
	tok, _, err := tinymodel.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids, err := model.BuildPrompt(tok, m.Cfg.Prompt, text)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewState(model.StateOptions{MaxSeq: 128})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RouteText(s, ids, -1); err != nil {
		t.Fatal(err)
	}
	v := m.Cfg.Vision
	rng := rand.New(rand.NewSource(seed))
	px := make([]float32, m.Cfg.Slices()*v.NumChannels*v.ImageSize*v.ImageSize)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	if err := m.EncodeVision(ctx, s, px); err != nil {
		t.Fatal(err)
	}
	if err := m.Prefill(ctx, s, ids); err != nil {
		t.Fatal(err)
	}
	var o outputs
	if o.visual, err = m.VisualTokens(s); err != nil {
		t.Fatal(err)
	}
	if o.logits, err = m.Logits(s); err != nil {
		t.Fatal(err)
	}
	if o.routing, err = m.ReadRouting(s, false); err != nil {
		t.Fatal(err)
	}
	return o
}

// nmse is Σ(have−want)²/Σwant².
func nmse(have, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(have[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return num / den
}

func assertEqual(t *testing.T, what string, have, want []float32) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(have), len(want))
	}
	bad := 0
	for i := range want {
		if math.Float32bits(have[i]) != math.Float32bits(want[i]) {
			if bad < 5 {
				t.Errorf("%s[%d]: have %v, want %v", what, i, have[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(want))
	}
}

// ---- tests -----------------------------------------------------------------

// TestKeep2DEqualsCheckpoint: a sharded Phi-3-V checkpoint converted
// without the transfer, in f32, runs exactly (bit for bit) as the weights
// that were written into it: names, shapes, the fused projections and the
// CLIP tower's prefix all survive the conversion.
func TestKeep2DEqualsCheckpoint(t *testing.T) {
	ck, cfg, src := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 3, Shards: 3})
	res, out := convert(t, Options{Checkpoint: ck, Keep2D: true, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
	if len(res.Skipped) == 0 {
		t.Error("the vision layer past the feature layer was not skipped")
	}
	m, d := loadDir(t, out)
	if d.Config.Projector.HDCrops == nil || d.Config.Transfer3D.Enabled {
		t.Errorf("--keep-2d changed the layout: %+v %+v", d.Config.Projector, d.Config.Transfer3D)
	}
	if d.Tokenizer == nil {
		t.Error("the tokenizer was not shipped")
	}
	want := request(t, load(t, cfg, src), "Is there a nodule?", 1)
	have := request(t, m, "Is there a nodule?", 1)
	assertEqual(t, "visual tokens", have.visual, want.visual)
	assertEqual(t, "logits", have.logits, want.logits)
}

// TestTransferMoEEqualsDense is the test of the transfer's MoE init: the
// checkpoint converted to 3D with TGH-MoE experts equals the same 3D
// conversion without the MoE, on visual tokens and logits, because every
// expert is a copy of the FFN and the zero routers give uniform gates that
// sum to one (the shared expert and the routed ones each carry half).
// Only the order of float additions differs, so the bound is rounding
// level. A deliberately broken expert must break the equality.
func TestTransferMoEEqualsDense(t *testing.T) {
	ck, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 4})
	base := Transfer{Slices: 4, LayersFrom: 1, RoPETheta: 100, DepthPool: 2}
	cases := []struct {
		name    string
		moe     Transfer
		vq      shaders.DType
		routerS float64
	}{
		{"shared-top2-of-2", Transfer{MoELayers: []int{0, 1}, ExpertsPerTask: 2, TopK: 2, RouterTextDim: 8, SharedExpert: true}, shaders.F32, 0},
		{"no-shared-top1-of-3", Transfer{MoELayers: []int{1}, ExpertsPerTask: 3, TopK: 1, RouterTextDim: 0}, shaders.F32, 0},
		{"shared-top2-of-4-int8", Transfer{MoELayers: []int{0, 1}, ExpertsPerTask: 4, TopK: 2, RouterTextDim: 8, SharedExpert: true}, shaders.Int8, 0},
		{"random-routers", Transfer{MoELayers: []int{0, 1}, ExpertsPerTask: 3, TopK: 2, RouterTextDim: 8, SharedExpert: true}, shaders.F16, 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dense := base
			dense.MoELayers = []int{}
			_, dout := convert(t, Options{Checkpoint: ck, Transfer: dense, LLMQuant: shaders.F32, VisionQuant: c.vq})
			moe := base
			moe.MoELayers, moe.ExpertsPerTask, moe.TopK, moe.RouterTextDim, moe.SharedExpert = c.moe.MoELayers, c.moe.ExpertsPerTask, c.moe.TopK, c.moe.RouterTextDim, c.moe.SharedExpert
			res, mout := convert(t, Options{Checkpoint: ck, Transfer: moe, LLMQuant: shaders.F32, VisionQuant: c.vq, RouterStd: c.routerS, Seed: 9})
			if want := len(c.moe.MoELayers) * 3 * c.moe.ExpertsPerTask; res.Experts != want {
				t.Errorf("%d experts initialised, want %d", res.Experts, want)
			}
			md, _ := loadDir(t, dout)
			mm, dm := loadDir(t, mout)
			if md.Cfg.HasMoE() || !mm.Cfg.HasMoE() || !mm.Cfg.Transfer3D.Enabled {
				t.Fatalf("configs: dense MoE %v, moe MoE %v 3D %v", md.Cfg.HasMoE(), mm.Cfg.HasMoE(), mm.Cfg.Transfer3D.Enabled)
			}
			want := request(t, md, "Write a report.", 2)
			have := request(t, mm, "Write a report.", 2)
			t.Logf("NMSE visual %.3g logits %.3g", nmse(have.visual, want.visual), nmse(have.logits, want.logits))
			const bound = 1e-10 // float rounding of reordered sums; a wrong init is O(1)
			if e := nmse(have.visual, want.visual); e > bound {
				t.Errorf("visual tokens: NMSE %.3g > %g", e, bound)
			}
			if e := nmse(have.logits, want.logits); e > bound {
				t.Errorf("logits: NMSE %.3g > %g", e, bound)
			}
			r := have.routing
			if r == nil || len(r.Layers) != len(c.moe.MoELayers) {
				t.Fatalf("routing: %+v", r)
			}
			if c.routerS == 0 {
				for g, p := range r.TaskProbs {
					if math.Abs(float64(p)-1.0/3) > 1e-6 {
						t.Errorf("task %d probability %v, want 1/3 (zero task router)", g, p)
					}
				}
				for _, lr := range r.Layers {
					for i, g := range lr.Gates {
						if math.Abs(float64(g)-1/float64(lr.K)) > 1e-6 {
							t.Fatalf("layer %d gate %d = %v, want 1/K = %v (zero token router)", lr.Layer, i, g, 1/float64(lr.K))
						}
					}
				}
			}

			// A broken expert (fc2 bias of every expert of the chosen group
			// shifted) must show: the comparison above can fail.
			src := engine.TensorSource{}
			for k, v := range dm.Source {
				src[k] = v
			}
			l := c.moe.MoELayers[len(c.moe.MoELayers)-1]
			for e := 0; e < c.moe.ExpertsPerTask; e++ {
				name := model.ExpertName(l, r.Task*c.moe.ExpertsPerTask+e, "fc2.bias")
				tb := src[name]
				vals := append([]float32(nil), tb.Values...)
				for i := range vals {
					vals[i] += 0.5
				}
				src[name] = weights.Plain(name, tb.Shape, vals)
			}
			broken := request(t, load(t, dm.Config, src), "Write a report.", 2)
			if e := nmse(broken.visual, want.visual); e < 1e-4 {
				t.Errorf("a shifted expert changed the visual tokens by NMSE %.3g only", e)
			}
		})
	}
}

// TestQuantizedWithinBounds: an int4 decoder and int8 vision tower hold
// every matrix within shaders' quantization error bound of the f32
// conversion (per group of 32), keep the matrices whose K is not a
// multiple of 32 (the 48-wide patch embedding here, 588 in CLIP-L/14) in
// f16, keep routers and vectors f32, and move the logits by little.
func TestQuantizedWithinBounds(t *testing.T) {
	ck, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 5})
	tr := Transfer{Slices: 2, LayersFrom: 1, RoPETheta: 100, DepthPool: 1, MoELayers: []int{1}, ExpertsPerTask: 2, TopK: 1, RouterTextDim: 8, SharedExpert: true}
	_, fout := convert(t, Options{Checkpoint: ck, Transfer: tr, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
	res, qout := convert(t, Options{Checkpoint: ck, Transfer: tr, LLMQuant: shaders.Int4, VisionQuant: shaders.Int8})
	if res.DTypes["int4"] == 0 || res.DTypes["int8"] == 0 || res.DTypes["f16"] != 1 {
		t.Errorf("storage types %v: want int4 and int8 matrices and one f16 (the patch embedding)", res.DTypes)
	}
	mf, df := loadDir(t, fout)
	mq, dq := loadDir(t, qout)
	ref := df.Source
	for name, q := range dq.Source {
		f := ref[name]
		if q.Weights == nil {
			if f.Weights != nil {
				t.Errorf("%s: plain here, a matrix in f32", name)
			}
			continue
		}
		want := shaders.F32
		switch {
		case name == model.VisionName("embeddings.patch_embedding.weight"):
			want = shaders.F16
		case strings.HasPrefix(name, "model.vision_embed_tokens."):
			want = shaders.Int8
		default:
			want = shaders.Int4
		}
		if q.Weights.DType != want {
			t.Errorf("%s: stored as %s, want %s", name, q.Weights.DType, want)
		}
		exact := f.Weights.Dequant()
		got := q.Weights.Dequant()
		group := shaders.GroupSize
		if want == shaders.F16 {
			group = 1
		}
		for g := 0; g < len(exact)/group; g++ {
			var amax float32
			for _, v := range exact[g*group : (g+1)*group] {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			bound := want.MaxQuantError(amax)
			for i := g * group; i < (g+1)*group; i++ {
				if d := float32(math.Abs(float64(got[i] - exact[i]))); d > bound {
					t.Fatalf("%s[%d]: error %g > bound %g (%s)", name, i, d, bound, want)
				}
			}
		}
	}
	want := request(t, mf, "Is the liver normal?", 3)
	have := request(t, mq, "Is the liver normal?", 3)
	// A sanity bound, not a precision claim: int4 weights in a 2-layer
	// random decoder move the logits by a few percent.
	t.Logf("quant NMSE %.3g", nmse(have.logits, want.logits))
	if e := nmse(have.logits, want.logits); e > 0.05 || e == 0 {
		t.Errorf("logits NMSE %.3g: want in (0, 0.05]", e)
	}
}

// TestTrainCheckpoint: what tools/train writes (config.json with
// model_type "ctlens", 3D, trained experts and routers under the HF-style
// names) converts as it is and runs bit-exactly as the written weights;
// transfer flags are refused for it.
func TestTrainCheckpoint(t *testing.T) {
	ck, cfg, src := hfCheckpoint(t, tinymodel.CTLens, tinymodel.HFOptions{Seed: 6})
	res, out := convert(t, Options{Checkpoint: ck, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
	if res.Experts != 0 || len(res.Routers) != 0 {
		t.Errorf("re-initialised %d experts and %v over the trained ones", res.Experts, res.Routers)
	}
	m, _ := loadDir(t, out)
	want := request(t, load(t, cfg, src), "Which organ is abnormal? Choices: A. liver B. spleen", 4)
	have := request(t, m, "Which organ is abnormal? Choices: A. liver B. spleen", 4)
	assertEqual(t, "visual tokens", have.visual, want.visual)
	assertEqual(t, "logits", have.logits, want.logits)
	if have.routing.Task != want.routing.Task {
		t.Errorf("task %d, want %d", have.routing.Task, want.routing.Task)
	}
	var summary bytes.Buffer
	printSummary(&summary, Options{Checkpoint: ck}, res)
	if s := summary.String(); !strings.Contains(s, "as trained") || strings.Contains(s, "copied") {
		t.Errorf("the summary of a trained checkpoint says:\n%s", s)
	}
	_, err := Convert(context.Background(), Options{Checkpoint: ck, Out: filepath.Join(t.TempDir(), "x"), TransferFlags: []string{"slices"}})
	if err == nil || !strings.Contains(err.Error(), "already a ctlens model") {
		t.Errorf("--slices on a ctlens checkpoint: %v", err)
	}
}

// TestOtherArchitectures: text-only and bare CLIP checkpoints (and a BF16
// one, as real checkpoints come) convert with names the loader reads.
func TestOtherArchitectures(t *testing.T) {
	ctx := context.Background()
	t.Run("phi3", func(t *testing.T) {
		ck, cfg, src := hfCheckpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 7})
		_, out := convert(t, Options{Checkpoint: ck, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
		m, _ := loadDir(t, out)
		ref := load(t, cfg, src)
		ids := []int{6, 40, 41, 42, 43}
		var got [2][]float32
		for i, mm := range []*model.Model{m, ref} {
			s, err := mm.NewState(model.StateOptions{MaxSeq: 16})
			if err != nil {
				t.Fatal(err)
			}
			if err := mm.Prefill(ctx, s, ids); err != nil {
				t.Fatal(err)
			}
			got[i], _ = mm.Logits(s)
		}
		assertEqual(t, "logits", got[0], got[1])
	})
	t.Run("clip", func(t *testing.T) {
		ck, cfg, src := hfCheckpoint(t, tinymodel.CLIP, tinymodel.HFOptions{Seed: 8})
		_, out := convert(t, Options{Checkpoint: ck, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
		m, d := loadDir(t, out)
		if d.Tokenizer != nil {
			t.Error("a vision tower got a tokenizer")
		}
		ref := load(t, cfg, src)
		px := make([]float32, 3*16*16)
		for i := range px {
			px[i] = float32(i%7) - 3
		}
		var got [2][]float32
		for i, mm := range []*model.Model{m, ref} {
			s, err := mm.NewState(model.StateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := mm.EncodeVision(ctx, s, px); err != nil {
				t.Fatal(err)
			}
			got[i], _ = mm.VisionFeatures(s)
		}
		assertEqual(t, "features", got[0], got[1])
	})
	t.Run("bf16", func(t *testing.T) {
		ck, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 3, DType: weights.BF16})
		ck32, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 3})
		_, out := convert(t, Options{Checkpoint: ck, Keep2D: true, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
		_, out32 := convert(t, Options{Checkpoint: ck32, Keep2D: true, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
		m, _ := loadDir(t, out)
		m32, _ := loadDir(t, out32)
		// bf16 keeps 8 bits of mantissa: relative error ≈ 2⁻⁹ per weight.
		if e := nmse(request(t, m, "Hi", 1).logits, request(t, m32, "Hi", 1).logits); e > 1e-3 || e == 0 {
			t.Errorf("bf16 vs f32 logits NMSE %.3g, want in (0, 1e-3]", e)
		}
	})
}

// TestCheckpointNotQuiteTheModel: tensors the model never reads (a
// buffer, a duplicate of a tied weight) are left out of the directory,
// and a missing one fails before anything is written, naming it.
func TestCheckpointNotQuiteTheModel(t *testing.T) {
	extra := []weights.Entry{
		{Name: "model.vision_embed_tokens.img_processor.vision_model.embeddings.position_ids", DType: weights.I64, Shape: []int{1, 2}, Data: make([]byte, 16)},
		{Name: "model.vision_embed_tokens.wte.weight", DType: weights.F32, Shape: []int{2, 32}, Data: make([]byte, 256)},
	}
	ck, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 12, Extra: extra})
	res, out := convert(t, Options{Checkpoint: ck, Transfer: Transfer{Slices: 2, LayersFrom: 1, MoELayers: []int{}}, LLMQuant: shaders.F32, VisionQuant: shaders.F32})
	for _, e := range extra {
		if _, ok := res.Manifest.Tensor(e.Name); ok {
			t.Errorf("%s was written", e.Name)
		}
		found := false
		for _, s := range res.Skipped {
			found = found || strings.HasPrefix(s, e.Name)
		}
		if !found {
			t.Errorf("%s is not among the skipped %v", e.Name, res.Skipped)
		}
	}
	loadDir(t, out)

	missing := "model.layers.1.mlp.down_proj.weight"
	ck, _, _ = hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 12, Drop: []string{missing}})
	dir := filepath.Join(t.TempDir(), "never")
	_, err := Convert(context.Background(), Options{Checkpoint: ck, Out: dir, Keep2D: true})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "hint") {
		t.Errorf("missing %s: %v", missing, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed conversion left %s behind", dir)
	}
}

// TestFlagsAndErrors runs the command line: a full conversion through
// flags, and each user error ending in a hint.
func TestFlagsAndErrors(t *testing.T) {
	ctx := context.Background()
	ck, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 10})
	out := filepath.Join(t.TempDir(), "model")
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"--checkpoint", ck, "--out", out, "--slices", "4", "--layers-3d-from", "1", "--moe-layers", "0-1",
		"--experts-per-task", "2", "--top-k", "1", "--router-text-dim", "8"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	m, err := weights.ReadManifest(os.DirFS(out))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := model.ParseConfig(m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slices() != 4 || cfg.Transfer3D.LayersFrom != 1 || len(cfg.MoE.Layers) != 2 || cfg.MoE.TopK != 1 {
		t.Errorf("config from flags: %+v %+v", cfg.Transfer3D, cfg.MoE)
	}
	if e, _ := m.Tensor("model.layers.0.mlp.down_proj.weight"); e.DType != "int4" {
		t.Errorf("default --llm-quant: down_proj stored as %s, want int4", e.DType)
	}
	if !strings.Contains(stdout.String(), "TGH-MoE") || !strings.Contains(stdout.String(), "experts copied from the pretrained FFN") {
		t.Errorf("summary:\n%s", stdout.String())
	}

	noTok, _, _ := hfCheckpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 10, NoTokenizer: true})
	phi3, _, _ := hfCheckpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 10})
	fresh := func() string { return filepath.Join(t.TempDir(), "o") }
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no-checkpoint", []string{"--out", fresh()}, "--checkpoint is required"},
		{"not-a-checkpoint", []string{"--checkpoint", t.TempDir(), "--out", fresh()}, "hint: --checkpoint must be"},
		{"out-not-empty", []string{"--checkpoint", ck, "--out", out}, "not empty"},
		{"no-tokenizer", []string{"--checkpoint", noTok, "--out", fresh()}, "--tokenizer"},
		{"transfer-on-text", []string{"--checkpoint", phi3, "--out", fresh(), "--slices", "8"}, "Phi3ForCausalLM"},
		{"moe-layer-range", []string{"--checkpoint", ck, "--out", fresh(), "--slices", "4", "--moe-layers", "5"}, "moe.layers: layer 5"},
		{"bad-moe-layers", []string{"--checkpoint", ck, "--out", fresh(), "--moe-layers", "x"}, "--moe-layers"},
		{"bad-quant", []string{"--checkpoint", ck, "--out", fresh(), "--llm-quant", "int3"}, "--llm-quant"},
		{"bad-norm", []string{"--checkpoint", ck, "--out", fresh(), "--input-norm", "zscore"}, "--input-norm"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := run(ctx, c.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("have %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestParseLayers covers the --moe-layers syntax.
func TestParseLayers(t *testing.T) {
	for in, want := range map[string][]int{"": nil, "none": {}, "3": {3}, "1,4-6": {1, 4, 5, 6}, " 2 , 7 ": {2, 7}} {
		have, err := parseLayers(in)
		if err != nil || len(have) != len(want) || (want == nil) != (have == nil) {
			t.Errorf("%q: have %v %v, want %v", in, have, err, want)
			continue
		}
		for i := range want {
			if have[i] != want[i] {
				t.Errorf("%q: have %v, want %v", in, have, want)
			}
		}
	}
	for _, in := range []string{"a", "5-3", "1-x"} {
		if _, err := parseLayers(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
