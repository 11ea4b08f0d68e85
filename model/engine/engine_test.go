package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/modeltest"
	"ctlens/model/tokenizer"
	"ctlens/shaders"
	"ctlens/weights"
)

var corpus = []string{
	"Please write a radiology report for this CT scan.",
	"FINDINGS: The lungs are clear. No pleural effusion or pneumothorax.",
	"There is a 12 mm solid nodule in the right upper lobe of the lung.",
	"Is there a lung nodule? Choices: A. yes B. no",
}

// writeDir writes a tiny random vision-language model directory (3D,
// TGH-MoE) with a trained tokenizer, and returns it with its config.
func writeDir(t *testing.T, withTokenizer bool) (string, model.Config) {
	t.Helper()
	specials := append(tokenizer.DefaultSpecialTokens(), "<s>")
	tok, err := tokenizer.Train(slices.Values(corpus), 300, tokenizer.TrainOptions{SpecialTokens: specials, BOS: "<s>"})
	if err != nil {
		t.Fatal(err)
	}
	var tj bytes.Buffer
	if err := tok.WriteJSON(&tj); err != nil {
		t.Fatal(err)
	}
	var cfg model.Config
	for _, tc := range model.TinyConfigs() {
		if tc.Name == "mha-untied-longrope-moe-3d" {
			cfg = tc.Config
		}
	}
	cfg.LLM.VocabSize = tok.VocabSize()
	cfg.LLM.BOSTokenID, _ = tok.TokenID("<s>")
	cfg.LLM.EOSTokenID, _ = tok.TokenID("<|endoftext|>")
	cfg.LLM.MaxPositions = 200
	cfg.InputNorm = "window:40:400"
	src, err := model.RandomWeights(cfg, 3, shaders.F32)
	if err != nil {
		t.Fatal(err)
	}
	cj, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var tokJSON []byte
	if withTokenizer {
		tokJSON = tj.Bytes()
	}
	dir := t.TempDir()
	if _, err := weights.WriteModel(dir, Tensors(src), cj, tokJSON, weights.WriteOptions{Model: "engine-test"}); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func readInfo(t *testing.T, dir string) *Info {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, weights.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	in, err := ReadInfo(context.Background(), data, weights.FSOpener(os.DirFS(dir)), dir)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestGenerateIsTheModelsReport: Generate sizes a State, builds the
// prompt and runs the model exactly as a caller of model.Report/Ask
// would; the streamed pieces add up to the text; the config's input
// normalisation survives the round trip through the manifest.
func TestGenerateIsTheModelsReport(t *testing.T) {
	dir, cfg := writeDir(t, true)
	in := readInfo(t, dir)
	if in.Config.Norm() != "window:40:400" {
		t.Errorf("input norm %q after the manifest round trip", in.Config.Norm())
	}
	if err := in.CanGenerate(); err != nil {
		t.Fatal(err)
	}
	e, err := in.Load(context.Background(), cpu.New(), weights.FSOpener(os.DirFS(dir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	px := modeltest.Volume(cfg, 9)
	for _, question := range []string{"", "Is there a lung nodule? Choices: A. yes B. no"} {
		var streamed strings.Builder
		opts := model.TextOptions{GenerateOptions: model.GenerateOptions{MaxTokens: 12}, OnText: func(d string) { streamed.WriteString(d) }}
		got, err := e.Generate(context.Background(), Request{Pixels: px, Question: question, Options: opts})
		if err != nil {
			t.Fatal(err)
		}
		s, err := e.Model.NewState(model.StateOptions{MaxSeq: cfg.LLM.MaxPositions})
		if err != nil {
			t.Fatal(err)
		}
		ref := model.TextOptions{GenerateOptions: model.GenerateOptions{MaxTokens: 12}}
		var want *model.TextResult
		if question == "" {
			want, err = e.Model.Report(context.Background(), s, e.Tokenizer, px, ref)
		} else {
			want, err = e.Model.Ask(context.Background(), s, e.Tokenizer, px, question, ref)
		}
		s.Free()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Tokens, want.Tokens) || got.Text != want.Text {
			t.Errorf("question %q: Generate gave %v %q, the model %v %q", question, got.Tokens, got.Text, want.Tokens, want.Text)
		}
		if len(got.Tokens) == 0 {
			t.Errorf("question %q: no tokens generated", question)
		}
		if !strings.HasPrefix(got.Text, streamed.String()) {
			t.Errorf("streamed %q is not a prefix of the text %q", streamed.String(), got.Text)
		}
		if got.Routing == nil || len(got.Routing.Layers) == 0 {
			t.Errorf("question %q: no routing from a TGH-MoE model", question)
		}
		sum := Summarize(got.Routing, cfg.MoE.ExpertsPerTask)
		for _, l := range sum.Layers {
			var share float64
			for _, x := range l.ExpertShare {
				share += x
			}
			if share < 0.999 || share > 1.001 {
				t.Errorf("layer %d: expert shares sum to %v", l.Layer, share)
			}
		}
	}
}

// TestGenerateRefusesBadRequests: wrong pixel counts and prompts past
// the model's positions are errors that say so, before any work.
func TestGenerateRefusesBadRequests(t *testing.T) {
	dir, cfg := writeDir(t, true)
	in := readInfo(t, dir)
	e, err := in.Load(context.Background(), cpu.New(), weights.FSOpener(os.DirFS(dir)), nil)
	if err != nil {
		t.Fatal(err)
	}
	px := modeltest.Volume(cfg, 1)
	if _, err := e.Generate(context.Background(), Request{Pixels: px[:len(px)-1]}); err == nil || !strings.Contains(err.Error(), "pixel values") {
		t.Errorf("short pixels: %v", err)
	}
	long := strings.Repeat("Is there a lung nodule in the right upper lobe? ", 40)
	var tl *TooLongError
	if _, err := e.Generate(context.Background(), Request{Pixels: px, Question: long}); !errors.As(err, &tl) || tl.Max != cfg.LLM.MaxPositions {
		t.Errorf("long question: %v", err)
	}
}

// TestCanGenerateWithoutTokenizer: a model without tokenizer.json loads
// its card but cannot generate, and says why.
func TestCanGenerateWithoutTokenizer(t *testing.T) {
	dir, _ := writeDir(t, false)
	in := readInfo(t, dir)
	if err := in.CanGenerate(); err == nil || !strings.Contains(err.Error(), "tokenizer") {
		t.Errorf("CanGenerate = %v", err)
	}
	var want int64
	for _, e := range in.Manifest.Tensors {
		n := int64(1)
		for _, s := range e.Shape {
			n *= int64(s)
		}
		want += n
	}
	if in.Params() != want || want == 0 {
		t.Errorf("Params %d, tensors hold %d", in.Params(), want)
	}
	if v := in.VRAM(); v.Weights <= 0 {
		t.Errorf("VRAM estimate %+v", v)
	}
}

// TestPixelsRepeatsGrey: each slice's grey plane lands in every input
// channel, in (D, Cin, H, W) order.
func TestPixelsRepeatsGrey(t *testing.T) {
	in := &Info{Config: model.Config{Vision: model.VisionConfig{ImageSize: 2, NumChannels: 3}, Transfer3D: model.Transfer3DConfig{Slices: 2}}}
	grey := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	px, err := in.Pixels(grey)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8}
	if !slices.Equal(px, want) || len(px) != in.PixelCount() {
		t.Errorf("Pixels = %v", px)
	}
	if _, err := in.Pixels(grey[:7]); err == nil {
		t.Error("a short grey volume was accepted")
	}
}

// TestIsMatrix: what a converter may quantize.
func TestIsMatrix(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		want  bool
	}{
		{"model.layers.0.self_attn.qkv_proj.weight", []int{96, 32}, true},
		{model.VisionName("embeddings.patch_embedding.weight"), []int{32, 3, 4, 4}, true},
		{model.VisionName("embeddings.position_embedding.weight"), []int{17, 32}, false},
		{model.VisionLayerName(1, "mlp.router.weight"), []int{6, 40}, false},
		{model.EmbedName("task_router.weight"), []int{3, 64}, false},
		{model.EmbedName("text_proj.weight"), []int{8, 64}, false},
		{model.EmbedName("sub_GN"), []int{1, 1, 1, 128}, false},
		{"model.norm.weight", []int{64}, false},
		{"model.layers.0.self_attn.qkv_proj.bias", []int{96, 1}, false},
	}
	for _, c := range cases {
		if have := IsMatrix(c.name, c.shape); have != c.want {
			t.Errorf("IsMatrix(%s, %v) = %v, want %v", c.name, c.shape, have, c.want)
		}
	}
}
