// Package tinymodel makes tiny random models, so that the pipeline (convert,
// report, ask, hf-dump) runs end to end before real weights exist, and so
// that their tests have inputs: a ctlens model directory (WriteDir, what
// `ctlens model tiny` writes) and Hugging Face checkpoint directories of
// each architecture the engine reads (WriteHF). The numbers are random;
// only the shapes, names and formats are real.
package tinymodel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/x448/float16"

	"ctlens/model"
	mengine "ctlens/model/engine"
	"ctlens/model/tokenizer"
	"ctlens/shaders"
	"ctlens/tools/internal/engine"
	"ctlens/weights"
)

// corpus is what the tiny tokenizer learns its merges from: the prompt
// template and radiology phrasing, so prompts tokenize into a few dozen
// ids rather than one per byte.
var corpus = []string{
	"Please write a radiology report for this CT scan.",
	"FINDINGS: The lungs are clear. No pleural effusion or pneumothorax.",
	"There is a 12 mm solid nodule in the right upper lobe of the lung.",
	"The heart is normal in size. No pericardial effusion is seen.",
	"The liver, spleen, pancreas and kidneys are unremarkable.",
	"A small stone is seen in the left kidney. No hydronephrosis.",
	"IMPRESSION: No acute abnormality. Follow-up of the lung nodule is recommended.",
	"Is there a lung nodule? Choices: A. yes B. no",
	"Which organ is abnormal? Choices: A. liver B. spleen C. kidney D. lung",
	"What is the plane of this image? The axial plane.",
	"Where is the lesion located? In the right lower lobe.",
	"Is there a pleural effusion in this CT scan? No, there is no effusion.",
}

// Special tokens: the Phi-3 chat markers (tokenizer.DefaultSpecialTokens)
// and a BOS the post-processor adds, as Phi-3's does.
const (
	bos = "<s>"
	eos = "<|endoftext|>"
)

// vocabSize is what the tokenizer is trained towards (specials, 256 bytes
// and merges); training stops earlier when the corpus runs out of pairs.
const vocabSize = 384

// Tokenizer trains the tiny byte-level BPE tokenizer on the built-in
// corpus and returns it with its tokenizer.json. The same call gives the
// same tokenizer.
func Tokenizer() (*tokenizer.Tokenizer, []byte, error) {
	specials := append(tokenizer.DefaultSpecialTokens(), bos)
	tok, err := tokenizer.Train(slices.Values(corpus), vocabSize, tokenizer.TrainOptions{SpecialTokens: specials, BOS: bos})
	if err != nil {
		return nil, nil, fmt.Errorf("tiny tokenizer: %w", err)
	}
	var b bytes.Buffer
	if err := tok.WriteJSON(&b); err != nil {
		return nil, nil, err
	}
	// Reload from the JSON so the tokenizer in memory is exactly what a
	// reader of tokenizer.json gets.
	tok, err = tokenizer.Load(bytes.NewReader(b.Bytes()))
	return tok, b.Bytes(), err
}

// Families lists the tiny model families (model.TinyConfigs' names).
func Families() []string {
	var out []string
	for _, tc := range model.TinyConfigs() {
		out = append(out, tc.Name)
	}
	return out
}

// DefaultFamily has every part (3D attention, TGH-MoE, LongRoPE,
// separators, depth pooling), so report --json has routing to show.
const DefaultFamily = "mha-untied-longrope-moe-3d"

// Config returns the tiny family (a name or its index in Families) with
// the decoder sized for tok: its vocabulary, its BOS and EOS ids, and
// room for a few hundred generated tokens.
func Config(family string, tok *tokenizer.Tokenizer) (model.Config, error) {
	tcs := model.TinyConfigs()
	var cfg *model.Config
	for i, tc := range tcs {
		if tc.Name == family || fmt.Sprint(i) == family {
			cfg = &tcs[i].Config
		}
	}
	if cfg == nil {
		return model.Config{}, fmt.Errorf("no tiny family %q\nhint: --family one of %s (or its index)", family, strings.Join(Families(), ", "))
	}
	c := *cfg
	c.LLM.VocabSize = tok.VocabSize()
	c.LLM.BOSTokenID, _ = tok.TokenID(bos)
	c.LLM.EOSTokenID, _ = tok.TokenID(eos)
	c.LLM.MaxPositions = 1024
	return c, c.Validate()
}

// WriteDir writes a tiny random ctlens model directory: the family's
// config sized for the tiny tokenizer, model.RandomWeights(seed) with
// matrices as dt where K allows, the tokenizer, and the manifest.
func WriteDir(dir, family string, dt shaders.DType, seed int64) (*weights.Manifest, error) {
	tok, tokJSON, err := Tokenizer()
	if err != nil {
		return nil, err
	}
	cfg, err := Config(family, tok)
	if err != nil {
		return nil, err
	}
	src, err := model.RandomWeights(cfg, seed, dt)
	if err != nil {
		return nil, err
	}
	ts, err := Tensors(src)
	if err != nil {
		return nil, err
	}
	cj, err := engine.ConfigJSON(cfg, engine.DefaultInputNorm)
	if err != nil {
		return nil, err
	}
	return weights.WriteModel(dir, ts, cj, tokJSON, weights.WriteOptions{Model: "tiny-" + family, Dims: engine.Dims(cfg)})
}

// Tensors is model/engine's Tensors.
func Tensors(src model.MapSource) ([]weights.Tensor, error) { return mengine.Tensors(src), nil }

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// ---- Hugging Face checkpoints ------------------------------------------------

// The architectures WriteHF writes, by config.json model_type.
const (
	Phi3V  = "phi3_v"            // Phi3VForCausalLM: CLIP tower under model.vision_embed_tokens, HD layout
	Phi3   = "phi3"              // Phi3ForCausalLM: the decoder alone
	CLIP   = "clip_vision_model" // CLIPVisionModel: vision_model.*
	CTLens = "ctlens"            // what tools/train writes: 3D, TGH-MoE experts present, model.Config as config.json
)

// HFOptions shape a tiny HF checkpoint.
type HFOptions struct {
	Seed  int64
	DType weights.DType // F32 (default), F16 or BF16, as HF checkpoints come
	// Shards > 1 splits the tensors over that many files with a
	// model.safetensors.index.json, as large checkpoints are.
	Shards int
	// NoTokenizer leaves tokenizer.json out.
	NoTokenizer bool
	// Drop leaves out the tensors with these (HF) names; Extra adds
	// tensors (a real checkpoint's buffers and duplicates): checkpoints
	// that are not quite what the model reads.
	Drop  []string
	Extra []weights.Entry
}

// HFConfig returns the config.json object of a tiny checkpoint of arch,
// with the engine's reading of it. The vision tower has 3 channels (CLIP's),
// so its patch embedding has K = 3·4·4 = 48, not a multiple of 32, as the
// real one's 588 is not.
func HFConfig(arch string) (map[string]any, model.Config, error) {
	tok, _, err := Tokenizer()
	if err != nil {
		return nil, model.Config{}, err
	}
	base := model.TinyConfigs()[0].Config
	vision := base.Vision
	vision.NumChannels = 3
	llm := base.LLM
	llm.NumKVHeads = 2 // GQA
	llm.TieEmbeddings = false
	llm.VocabSize = tok.VocabSize()
	llm.BOSTokenID, _ = tok.TokenID(bos)
	llm.EOSTokenID, _ = tok.TokenID(eos)
	half := llm.RotDim() / 2
	rs := &model.RoPEScaling{Type: "su", ShortFactor: make([]float32, half), LongFactor: make([]float32, half)}
	for i := range half {
		rs.ShortFactor[i] = 1 + 0.05*float32(i)
		rs.LongFactor[i] = 1 + 0.5*float32(i)
	}
	llm.RoPEScaling, llm.OriginalMaxPos = rs, 128

	obj := map[string]any{}
	merge := func(v any, drop ...string) {
		data, _ := json.Marshal(v)
		json.Unmarshal(data, &obj)
		for _, k := range drop {
			delete(obj, k)
		}
	}
	hfVision := func() map[string]any {
		m := map[string]any{}
		data, _ := json.Marshal(vision)
		json.Unmarshal(data, &m)
		delete(m, "feature_layer") // ctlens fields, not CLIPVisionConfig's
		delete(m, "class_token")
		return m
	}
	switch arch {
	case Phi3V:
		merge(llm)
		obj["model_type"], obj["architectures"] = Phi3V, []string{"Phi3VForCausalLM"}
		obj["vision_config"] = hfVision()
		obj["img_processor"] = map[string]any{"image_dim_out": vision.HiddenSize, "layer_idx": -2, "name": "clip_vision_model", "num_img_tokens": 144}
		obj["embd_layer"] = map[string]any{"embedding_cls": "image", "hd_transform_order": "sub_glb", "projection_cls": "mlp", "use_hd_transform": true, "with_learnable_separator": true}
	case Phi3:
		merge(llm)
		obj["model_type"], obj["architectures"] = Phi3, []string{"Phi3ForCausalLM"}
	case CLIP:
		obj = hfVision()
		obj["model_type"], obj["architectures"] = CLIP, []string{"CLIPVisionModel"}
	case CTLens:
		c, err := Config(DefaultFamily, tok)
		if err != nil {
			return nil, model.Config{}, err
		}
		merge(c)
	default:
		return nil, model.Config{}, fmt.Errorf("tiny HF checkpoint: unknown architecture %q (%s, %s, %s, %s)", arch, Phi3V, Phi3, CLIP, CTLens)
	}
	data, _ := json.Marshal(obj)
	var cfg model.Config
	if arch == CTLens {
		cfg, err = model.ParseConfig(data)
	} else {
		cfg, err = model.FromHFConfig(data)
	}
	return obj, cfg, err
}

// WriteHF writes a tiny random HF checkpoint of arch into dir (config.json,
// safetensors with HF names, tokenizer.json) and returns the engine's
// config and the f32 weights as written (before any F16/BF16 rounding),
// under the names model.LoadWeights reads.
func WriteHF(dir, arch string, o HFOptions) (model.Config, model.MapSource, error) {
	obj, cfg, err := HFConfig(arch)
	if err != nil {
		return cfg, nil, err
	}
	// RandomWeights needs a whole model (it panics on a config without a
	// decoder), so the text-only and vision-only checkpoints take their
	// part of the Phi-3-V one, whose shapes they share.
	full := cfg
	if arch == Phi3 || arch == CLIP {
		if _, full, err = HFConfig(Phi3V); err != nil {
			return cfg, nil, err
		}
	}
	src, err := model.RandomWeights(full, o.Seed, shaders.F32)
	if err != nil {
		return cfg, nil, err
	}
	// RandomWeights writes every part's names; a checkpoint holds its own.
	for n := range src {
		isVision := strings.HasPrefix(n, "model.vision_embed_tokens.")
		if (arch == Phi3 && isVision) || (arch == CLIP && !strings.HasPrefix(n, model.VisionName(""))) {
			delete(src, n)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cfg, nil, err
	}
	data, _ := json.MarshalIndent(obj, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return cfg, nil, err
	}
	if !o.NoTokenizer {
		_, tj, err := Tokenizer()
		if err != nil {
			return cfg, nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
			return cfg, nil, err
		}
	}
	dt := o.DType
	if dt == "" {
		dt = weights.F32
	}
	names := make([]string, 0, len(src))
	for n := range src {
		names = append(names, n)
	}
	sort.Strings(names)
	var entries []weights.Entry
	for _, n := range names {
		t := src[n]
		hn := n
		if arch == CLIP {
			hn = "vision_model." + strings.TrimPrefix(n, model.VisionName(""))
		}
		b, err := encode(dt, shaders.BytesF32(t.Data))
		if err != nil {
			return cfg, nil, err
		}
		if slices.Contains(o.Drop, hn) {
			continue
		}
		entries = append(entries, weights.Entry{Name: hn, DType: dt, Shape: t.Shape, Data: b})
	}
	entries = append(entries, o.Extra...)
	return cfg, src, writeShards(dir, entries, max(o.Shards, 1))
}

// writeShards writes entries as model.safetensors, or as n files
// model-0000i-of-0000n.safetensors with the index HF writes beside them.
func writeShards(dir string, entries []weights.Entry, n int) error {
	write := func(name string, es []weights.Entry) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if _, err := weights.WriteFile(f, es, map[string]string{"format": "pt"}); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if n == 1 {
		return write("model.safetensors", entries)
	}
	weightMap := map[string]string{}
	var total int64
	per := (len(entries) + n - 1) / n
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n)
		part := entries[min(i*per, len(entries)):min((i+1)*per, len(entries))]
		for _, e := range part {
			weightMap[e.Name] = name
			total += int64(len(e.Data))
		}
		if err := write(name, part); err != nil {
			return err
		}
	}
	idx, _ := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}, "", "  ")
	return os.WriteFile(filepath.Join(dir, weights.IndexFile), idx, 0o644)
}

// encode stores f32 values as dt, rounding to nearest (even) as
// torch's .to() does.
func encode(dt weights.DType, v []float32) ([]byte, error) {
	switch dt {
	case weights.F32:
		return shaders.F32Bytes(v), nil
	case weights.F16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], float16.Fromfloat32(x).Bits())
		}
		return b, nil
	case weights.BF16:
		b := make([]byte, 2*len(v))
		for i, x := range v {
			u := math.Float32bits(x)
			u += 0x7fff + (u>>16)&1 // round to nearest even (no NaNs here)
			binary.LittleEndian.PutUint16(b[2*i:], uint16(u>>16))
		}
		return b, nil
	}
	return nil, fmt.Errorf("tiny HF checkpoint: dtype %s (want F32, F16 or BF16)", dt)
}
