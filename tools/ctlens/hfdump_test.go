package main

import (
	"bytes"
	"context"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
	"ctlens/tools/internal/npy"
	"ctlens/tools/internal/tinymodel"
	"ctlens/weights"
)

// checkpoint writes a tiny random HF checkpoint of arch.
func checkpoint(t *testing.T, arch string, o tinymodel.HFOptions) (string, model.Config, model.MapSource) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), arch)
	cfg, src, err := tinymodel.WriteHF(dir, arch, o)
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg, src
}

// dump runs hf-dump with args and returns its output directory.
func dump(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dump")
	var stdout, stderr bytes.Buffer
	if err := hfDump(context.Background(), append(args, "--out", out), &stdout, &stderr); err != nil {
		t.Fatalf("hf-dump %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// readNPY reads out/name and checks its shape.
func readNPY(t *testing.T, out, name string, shape ...int) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(filepath.Join(out, name))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, shape) {
		t.Fatalf("%s: shape %v, want %v", name, a.Shape, shape)
	}
	return a
}

func f32s(t *testing.T, a *npy.Array) []float32 {
	t.Helper()
	v, err := a.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func randn(n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func writeNPY(t *testing.T, shape []int, data any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.npy")
	if err := npy.WriteFile(p, shape, data); err != nil {
		t.Fatal(err)
	}
	return p
}

func csv(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}

func nmse(have, want []float32) float64 {
	var num, den float64
	for i := range want {
		d := float64(have[i]) - float64(want[i])
		num += d * d
		den += float64(want[i]) * float64(want[i])
	}
	return num / den
}

func sameBits(t *testing.T, what string, have, want []float32) {
	t.Helper()
	if len(have) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(have), len(want))
	}
	for i := range want {
		if math.Float32bits(have[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d]: have %v, want %v", what, i, have[i], want[i])
		}
	}
}

// layerNorm64 is LayerNorm in float64: the test's own arithmetic, not the
// kernels' references.
func layerNorm64(x, w, b []float32, eps float32) []float64 {
	var mean, v float64
	for _, xi := range x {
		mean += float64(xi)
	}
	mean /= float64(len(x))
	for _, xi := range x {
		v += (float64(xi) - mean) * (float64(xi) - mean)
	}
	v /= float64(len(x))
	out := make([]float64, len(x))
	for i, xi := range x {
		out[i] = (float64(xi)-mean)/math.Sqrt(v+float64(eps))*float64(w[i]) + float64(b[i])
	}
	return out
}

func vec(t *testing.T, src model.MapSource, name string) []float32 {
	t.Helper()
	st, ok := src[name]
	if !ok {
		t.Fatalf("no tensor %s", name)
	}
	return shaders.BytesF32(st.Data)
}

// TestHFDumpCLIP: a CLIPVisionModel checkpoint (vision_model.* names) on
// two images. hidden_states[0] must be the embeddings after
// pre_layrnorm, recomputed here in float64 from the written weights
// (patch conv, class token, positions); the last hidden state the last
// row of hidden_states; the pooler the post_layernorm of the class token.
func TestHFDumpCLIP(t *testing.T) {
	ck, cfg, src := checkpoint(t, tinymodel.CLIP, tinymodel.HFOptions{Seed: 11, Shards: 2})
	v := cfg.Vision
	n, c, hw, p := 2, v.NumChannels, v.ImageSize, v.PatchSize
	px := randn(n*c*hw*hw, 12)
	out := dump(t, "--checkpoint", ck, "--pixels", writeNPY(t, []int{n, c, hw, hw}, px))
	st, cv, layers := v.Tokens(), v.HiddenSize, v.NumLayers
	hidden := f32s(t, readNPY(t, out, "hidden_states.npy", layers+1, n, st, cv))
	last := f32s(t, readNPY(t, out, "last_hidden_state.npy", n, st, cv))
	pooled := f32s(t, readNPY(t, out, "pooler_output.npy", n, cv))
	sameBits(t, "last_hidden_state vs hidden_states[-1]", last, hidden[layers*n*st*cv:])

	patch := vec(t, src, model.VisionName("embeddings.patch_embedding.weight")) // (Cv, Cin, p, p)
	pos := vec(t, src, model.VisionName("embeddings.position_embedding.weight"))
	cls := vec(t, src, model.VisionName("embeddings.class_embedding"))
	preW, preB := vec(t, src, model.VisionName("pre_layrnorm.weight")), vec(t, src, model.VisionName("pre_layrnorm.bias"))
	g := v.Grid()
	var worst float64
	for img := 0; img < n; img++ {
		for tok := 0; tok < st; tok++ {
			e := make([]float32, cv)
			for o := 0; o < cv; o++ {
				var sum float64
				if tok == 0 {
					sum = float64(cls[o])
				} else {
					py, pxl := (tok-1)/g, (tok-1)%g
					for ch := 0; ch < c; ch++ {
						for dy := 0; dy < p; dy++ {
							for dx := 0; dx < p; dx++ {
								w := patch[((o*c+ch)*p+dy)*p+dx]
								x := px[((img*c+ch)*hw+py*p+dy)*hw+pxl*p+dx]
								sum += float64(w) * float64(x)
							}
						}
					}
				}
				e[o] = float32(sum + float64(pos[tok*cv+o]))
			}
			want := layerNorm64(e, preW, preB, v.LayerNormEps)
			have := hidden[(img*st+tok)*cv:]
			for o := range want {
				worst = max(worst, math.Abs(float64(have[o])-want[o]))
			}
		}
	}
	if worst > 1e-4 {
		t.Errorf("hidden_states[0] differs from pre_layrnorm(embeddings) by %g", worst)
	}
	postW, postB := vec(t, src, model.VisionName("post_layernorm.weight")), vec(t, src, model.VisionName("post_layernorm.bias"))
	for img := 0; img < n; img++ {
		want := layerNorm64(last[img*st*cv:img*st*cv+cv], postW, postB, v.LayerNormEps)
		for o := range want {
			if d := math.Abs(float64(pooled[img*cv+o]) - want[o]); d > 1e-4 {
				t.Fatalf("pooler_output[%d, %d] = %v, want post_layernorm(class token) = %v", img, o, pooled[img*cv+o], want[o])
			}
		}
	}
}

// refLogits is the last-position logits of a fresh prefill of ids on a
// model loaded from the written weights (not through the checkpoint
// reader), with the vision tower run on px when ids hold image slots and
// the TGH-MoE routed on route (the request's prompt: a continuation keeps
// its prompt's routing, as generation does).
func refLogits(t *testing.T, m *model.Model, route, ids []int, px []float32) []float32 {
	t.Helper()
	ctx := context.Background()
	s, err := m.NewState(model.StateOptions{MaxSeq: 64})
	if err != nil {
		t.Fatal(err)
	}
	if px != nil {
		if err := m.RouteText(s, route, -1); err != nil {
			t.Fatal(err)
		}
		if err := m.EncodeVision(ctx, s, px); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Prefill(ctx, s, ids); err != nil {
		t.Fatal(err)
	}
	// The prompts here hold the whole run of image slots, one row each,
	// so the last row is len(ids)−1.
	l, err := m.LogitsAt(s, len(ids)-1)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkCausal checks the Phi3 files of a dump against fresh prefills: the
// last row of logits.npy is exactly the model's last-position logits;
// every row r equals the last-position logits of the prompt cut after r
// (causality); greedy tokens are the argmax of their step logits, and
// each step's logits (KV cache) equal a fresh prefill of the prompt plus
// the tokens so far (no cache).
func checkCausal(t *testing.T, out string, m *model.Model, ids []int, px []float32) {
	t.Helper()
	v := m.Cfg.LLM.VocabSize
	tt := len(ids)
	logits := f32s(t, readNPY(t, out, "logits.npy", 1, tt, v))
	sameBits(t, "logits.npy last row vs the model's logits", logits[(tt-1)*v:], refLogits(t, m, ids, ids, px))
	for r := 0; r < tt-1; r++ {
		if ids[r] == model.ImageSlot && ids[r+1] == model.ImageSlot {
			continue // a cut inside the image run is no valid prompt
		}
		if e := nmse(logits[r*v:(r+1)*v], refLogits(t, m, ids, ids[:r+1], px)); e > 1e-10 {
			t.Errorf("logits.npy row %d: NMSE %.3g against the prompt cut after it", r, e)
		}
	}
	a := readNPY(t, out, "greedy_tokens.npy", 1, greedySteps)
	tokens, err := a.Int64s()
	if err != nil {
		t.Fatal(err)
	}
	steps := f32s(t, readNPY(t, out, "greedy_step_logits.npy", 1, greedySteps, v))
	sameBits(t, "greedy step 0 vs the prompt's last logits", steps[:v], logits[(tt-1)*v:])
	seq := slices.Clone(ids)
	for i, tok := range tokens {
		row := steps[i*v : (i+1)*v]
		if int(tok) != argmax(row) {
			t.Errorf("greedy token %d = %d, argmax of its step logits %d", i, tok, argmax(row))
		}
		if e := nmse(row, refLogits(t, m, ids, seq, px)); e > 1e-10 {
			t.Errorf("greedy step %d: NMSE %.3g between the KV-cache logits and a fresh prefill", i, e)
		}
		seq = append(seq, int(tok))
	}
}

func loadRef(t *testing.T, cfg model.Config, src model.Source) *model.Model {
	t.Helper()
	m, err := model.New(cpu.New(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestHFDumpPhi3: a text-only checkpoint with --tokens and --tokens-npy.
func TestHFDumpPhi3(t *testing.T) {
	ck, cfg, src := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 13})
	ids := []int{6, 120, 45, 300, 7, 9}
	m := loadRef(t, cfg, src)
	out := dump(t, "--checkpoint", ck, "--tokens", csv(ids))
	checkCausal(t, out, m, ids, nil)

	ids64 := []int64{6, 120, 45, 300, 7, 9}
	out2 := dump(t, "--checkpoint", ck, "--tokens-npy", writeNPY(t, []int{1, len(ids64)}, ids64))
	a := f32s(t, readNPY(t, out, "greedy_step_logits.npy", 1, greedySteps, cfg.LLM.VocabSize))
	b := f32s(t, readNPY(t, out2, "greedy_step_logits.npy", 1, greedySteps, cfg.LLM.VocabSize))
	sameBits(t, "--tokens vs --tokens-npy", b, a)
}

// TestHFDumpF16: an F16 checkpoint runs with its f16 weights dequantized
// exactly: the same logits as the f32 model of the f16-rounded weights
// would give, close to the f32 checkpoint's.
func TestHFDumpF16(t *testing.T) {
	ck16, cfg, _ := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 14, DType: weights.F16})
	ck32, _, _ := checkpoint(t, tinymodel.Phi3, tinymodel.HFOptions{Seed: 14})
	ids := []int{6, 7, 8, 9, 10}
	v := cfg.LLM.VocabSize
	a := f32s(t, readNPY(t, dump(t, "--checkpoint", ck16, "--tokens", csv(ids)), "logits.npy", 1, len(ids), v))
	b := f32s(t, readNPY(t, dump(t, "--checkpoint", ck32, "--tokens", csv(ids)), "logits.npy", 1, len(ids), v))
	// f16 keeps 11 bits: relative weight error ≤ 2⁻¹¹.
	if e := nmse(a, b); e == 0 || e > 1e-5 {
		t.Errorf("f16 vs f32 checkpoint logits NMSE %.3g, want in (0, 1e-5]", e)
	}
}

// TestHFDumpPhi3V: a Phi-3-V checkpoint with an HD image of 1×2 crops
// (image size 16×32, padded to 5 crops as the processor pads): the
// negative ids mark exactly the image's visual tokens; image_embeds has
// one row per slot and fills inputs_embeds there, text rows are the
// embedding table's; the logits match a model built directly from the
// written weights on the first 3 crops.
func TestHFDumpPhi3V(t *testing.T) {
	ck, cfg, src := checkpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 15, Shards: 2})
	vc := cfg.Vision
	cfg.Projector.HDCrops, cfg.Transfer3D.Slices = []int{1, 2}, 3
	tv := cfg.VisualTokens()
	ids := []int{6, 40, 41}
	for range tv {
		ids = append(ids, -1)
	}
	ids = append(ids, 42, 43, 44)
	crop := vc.NumChannels * vc.ImageSize * vc.ImageSize
	px := randn(5*crop, 16)
	pxPath := writeNPY(t, []int{1, 5, vc.NumChannels, vc.ImageSize, vc.ImageSize}, px)
	out := dump(t, "--checkpoint", ck, "--tokens", csv(ids), "--pixels", pxPath, "--image-sizes", "16,32")

	c := cfg.LLM.HiddenSize
	img := f32s(t, readNPY(t, out, "image_embeds.npy", 1, tv, c))
	emb := f32s(t, readNPY(t, out, "inputs_embeds.npy", 1, len(ids), c))
	table := vec(t, src, "model.embed_tokens.weight")
	slot := 0
	for r, id := range ids {
		want := table[max(id, 0)*c : (max(id, 0)+1)*c]
		if id < 0 {
			want = img[slot*c : (slot+1)*c]
			slot++
		}
		sameBits(t, "inputs_embeds row "+strconv.Itoa(r), emb[r*c:(r+1)*c], want)
	}
	if slot != tv {
		t.Fatalf("%d image slots, %d image embeddings", slot, tv)
	}
	m := loadRef(t, cfg, src)
	mapped := slices.Clone(ids)
	for i := range mapped {
		if mapped[i] < 0 {
			mapped[i] = model.ImageSlot
		}
	}
	checkCausal(t, out, m, mapped, px[:3*crop])
}

// TestHFDumpTrainCheckpoint: a ctlens (tools/train) checkpoint runs with
// its own slices and the prompt routing its TGH-MoE.
func TestHFDumpTrainCheckpoint(t *testing.T) {
	ck, cfg, src := checkpoint(t, tinymodel.CTLens, tinymodel.HFOptions{Seed: 17})
	vc := cfg.Vision
	ids := []int{6, 50, 51}
	for range cfg.VisualTokens() {
		ids = append(ids, -1)
	}
	ids = append(ids, 52)
	px := randn(cfg.Slices()*vc.NumChannels*vc.ImageSize*vc.ImageSize, 18)
	out := dump(t, "--checkpoint", ck, "--tokens", csv(ids), "--pixels",
		writeNPY(t, []int{1, cfg.Slices(), vc.NumChannels, vc.ImageSize, vc.ImageSize}, px))
	readNPY(t, out, "image_embeds.npy", 1, cfg.VisualTokens(), cfg.LLM.HiddenSize)
	checkCausal(t, out, loadRef(t, cfg, src), ids, px)
}

// TestHFDumpErrors: each misuse fails with a message that names the fix.
func TestHFDumpErrors(t *testing.T) {
	ck, cfg, _ := checkpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 19})
	clip, _, _ := checkpoint(t, tinymodel.CLIP, tinymodel.HFOptions{Seed: 19})
	vc := cfg.Vision
	px := writeNPY(t, []int{1, 2, vc.NumChannels, vc.ImageSize, vc.ImageSize}, randn(2*vc.NumChannels*vc.ImageSize*vc.ImageSize, 1))
	wrong := "6,-1,-1,-1,7" // 3 slots; 1×1 crops place 13
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"backend", []string{"--checkpoint", ck, "--tokens", "1,2", "--backend", "tpu", "--out", t.TempDir()}, "--backend cpu|gpu"},
		{"no-out", []string{"--checkpoint", ck}, "--out are required"},
		{"no-tokens", []string{"--checkpoint", ck, "--out", t.TempDir()}, "--tokens"},
		{"slots-without-pixels", []string{"--checkpoint", ck, "--tokens", wrong, "--out", t.TempDir()}, "no --pixels"},
		{"slot-count", []string{"--checkpoint", ck, "--tokens", wrong, "--pixels", px, "--out", t.TempDir()}, "13 visual tokens"},
		{"image-size", []string{"--checkpoint", ck, "--tokens", wrong, "--pixels", px, "--image-sizes", "20,16", "--out", t.TempDir()}, "multiples of 16"},
		{"clip-no-pixels", []string{"--checkpoint", clip, "--out", t.TempDir()}, "needs --pixels"},
		{"clip-shape", []string{"--checkpoint", clip, "--pixels", px, "--out", t.TempDir()}, "want (N, 3, 16, 16)"},
		{"vocab", []string{"--checkpoint", ck, "--tokens", "1,99999", "--out", t.TempDir()}, "outside the vocabulary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := hfDump(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("have %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// TestHFDumpGPU: the same Phi-3-V dump on the GPU backend (lavapipe
// where the test script installs it) matches the CPU reference: every
// float file within f32 rounding and the same greedy tokens.
func TestHFDumpGPU(t *testing.T) {
	ck, cfg, _ := checkpoint(t, tinymodel.Phi3V, tinymodel.HFOptions{Seed: 21})
	vc := cfg.Vision
	ids := []int{6, 40}
	for range cfg.VisualTokens() {
		ids = append(ids, -1)
	}
	ids = append(ids, 41, 42)
	px := writeNPY(t, []int{1, 2, vc.NumChannels, vc.ImageSize, vc.ImageSize}, randn(2*vc.NumChannels*vc.ImageSize*vc.ImageSize, 22))
	args := []string{"--checkpoint", ck, "--tokens", csv(ids), "--pixels", px}
	cpuOut := dump(t, append(args, "--backend", "cpu")...)
	gpuOut := dump(t, append(args, "--backend", "gpu")...)
	for _, name := range []string{"image_embeds.npy", "inputs_embeds.npy", "logits.npy", "greedy_step_logits.npy"} {
		a, err := npy.ReadFile(filepath.Join(cpuOut, name))
		if err != nil {
			t.Fatal(err)
		}
		b := readNPY(t, gpuOut, name, a.Shape...)
		if e := nmse(f32s(t, b), f32s(t, a)); e > 1e-8 {
			t.Errorf("%s: GPU vs CPU NMSE %.3g", name, e)
		}
	}
	a, _ := readNPY(t, cpuOut, "greedy_tokens.npy", 1, greedySteps).Int64s()
	b, _ := readNPY(t, gpuOut, "greedy_tokens.npy", 1, greedySteps).Int64s()
	if !slices.Equal(a, b) {
		t.Errorf("greedy tokens: GPU %v, CPU %v", b, a)
	}
}
