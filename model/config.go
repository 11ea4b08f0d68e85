package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"ctlens/shaders"
)

// Config is the blueprint of a model: plain data, serialised as JSON with
// Hugging Face field names where HF has them (CLIPVisionConfig for the
// vision tower, Phi3Config for the decoder). Every size in the engine comes
// from here; nothing is hard-wired.
type Config struct {
	ModelType  string           `json:"model_type"` // "ctlens"
	Vision     VisionConfig     `json:"vision_config"`
	Transfer3D Transfer3DConfig `json:"transfer_3d"`
	MoE        MoEConfig        `json:"moe"`
	Projector  ProjectorConfig  `json:"projector"`
	LLM        LLMConfig        `json:"text_config"`
	Prompt     PromptConfig     `json:"prompt"`
	// InputNorm is how a volume's HU become the vision tower's input, in
	// volume.ParseNorm's form ("minmax", "window:C:W",
	// "window-signed:C:W"); empty: DefaultInputNorm. The model was trained
	// on one normalisation, so it travels with the weights.
	InputNorm string `json:"input_norm,omitempty"`
}

// DefaultInputNorm is the normalisation of a model that names none:
// M3D-Data's per-volume min-max, the data the paper's model was trained
// on.
const DefaultInputNorm = "minmax"

// Norm is c.InputNorm, or DefaultInputNorm when it is empty.
func (c Config) Norm() string {
	if c.InputNorm == "" {
		return DefaultInputNorm
	}
	return c.InputNorm
}

// VisionConfig is the CLIP ViT (HF CLIPVisionConfig names) plus how
// Phi-3-V reads it.
type VisionConfig struct {
	ImageSize    int     `json:"image_size"`          // H = W of one slice, pixels
	PatchSize    int     `json:"patch_size"`          // p: conv kernel and stride
	NumChannels  int     `json:"num_channels"`        // Cin (3 for CLIP; grey CT is replicated)
	HiddenSize   int     `json:"hidden_size"`         // Cv
	NumLayers    int     `json:"num_hidden_layers"`   // Lv
	NumHeads     int     `json:"num_attention_heads"` // Hv
	Intermediate int     `json:"intermediate_size"`   // Fv, the MLP width
	HiddenAct    string  `json:"hidden_act"`          // "quick_gelu" (CLIP), "gelu", …
	LayerNormEps float32 `json:"layer_norm_eps"`
	// FeatureLayer picks hidden_states[i] as the image features (HF
	// numbering: 0 is the embeddings after pre_layrnorm, i the output of
	// layer i−1; negative counts from the end, Phi-3-V uses −2, the
	// penultimate layer). Layers past it are never run.
	FeatureLayer int  `json:"feature_layer"`
	ClassToken   bool `json:"class_token"` // CLIP's class token leads each slice (dropped before the merge)
}

// Transfer3DConfig is the 2D→3D transfer of the vision tower.
type Transfer3DConfig struct {
	Enabled bool `json:"enabled"` // off: every layer attends within a slice (a 2D model run per slice)
	Slices  int  `json:"slices"`  // D, slices per volume (1 for a 2D image)
	// LayersFrom is the first vision layer that attends across all slices
	// as one sequence (earlier layers attend within a slice, batch = D).
	LayersFrom int     `json:"layers_3d_from"`
	SliceRoPE  bool    `json:"slice_rope"`       // rotary embedding over the slice index on q, k of 3D layers
	RoPETheta  float64 `json:"slice_rope_theta"` // its base θ
	RoPEDim    int     `json:"slice_rope_dim"`   // rotated dims per head; 0: the whole head
}

// TaskNames are the TGH-MoE task groups in router order.
var TaskNames = []string{"report", "closed_vqa", "open_vqa"}

// Task indices into TaskNames.
const (
	TaskReport    = 0 // medical report generation (MRG)
	TaskClosedVQA = 1 // multiple-choice questions ("Choices: A. … B. …")
	TaskOpenVQA   = 2 // free-form questions
)

// MoEConfig is the text-guided hierarchical MoE in the FFNs of some vision
// layers. Layers empty: a dense model.
type MoEConfig struct {
	Layers         []int `json:"layers"`           // vision layers whose FFN is a TGH-MoE
	Tasks          int   `json:"tasks"`            // G task groups (3: report, closed VQA, open VQA)
	ExpertsPerTask int   `json:"experts_per_task"` // Eg
	TopK           int   `json:"top_k"`            // K experts per token within the chosen group
	SharedExpert   bool  `json:"shared_expert"`    // an always-on expert (the pretrained FFN's names)
	// RouterTextDim is Dt, the width of the projected text pool the token
	// routers see beside each token ([x ; P·pool]); 0: tokens only.
	RouterTextDim int  `json:"router_text_dim"`
	Renormalize   bool `json:"renormalize"` // top-k gates divided by their own sum (they sum to one)
}

// ProjectorConfig is the 2×2 merge and the MLP into the LLM's width.
type ProjectorConfig struct {
	HiddenAct string `json:"hidden_act"` // between the two Linears ("gelu" in Phi-3-V)
	// SubSeparator appends sub_GN after each row of merged tokens; GlbSeparator
	// puts glb_GN between consecutive slices (Phi-3-V's layout for one sub
	// crop followed by the global crop).
	SubSeparator bool `json:"sub_separator"`
	GlbSeparator bool `json:"glb_separator"`
	// DepthPool averages groups of this many consecutive slices after the
	// merge (1: off), bounding the visual token count.
	DepthPool int `json:"depth_pool"`
	// HDCrops [h, w] selects Phi-3-V's HD layout for 2D images: the slices
	// are the global crop and then h·w sub crops (HF's pixel order); the sub
	// crops' merged grids are stitched into one (h·g, w·g) grid with sub_GN
	// after each row, then glb_GN, then the global crop's grid with sub_GN
	// (hd_transform_order "sub_glb"). Empty: the slice layout above.
	HDCrops []int `json:"hd_crops,omitempty"`
}

// RoPEScaling is HF's rope_scaling for Phi-3 LongRoPE ("su"/"longrope").
type RoPEScaling struct {
	Type        string    `json:"type"`
	ShortFactor []float32 `json:"short_factor"` // RotDim/2 factors for sequences ≤ original_max_position_embeddings
	LongFactor  []float32 `json:"long_factor"`  // … and beyond
	ShortMScale float32   `json:"short_mscale,omitempty"`
	LongMScale  float32   `json:"long_mscale,omitempty"`
}

// LLMConfig is the Phi-3/Llama decoder (HF Phi3Config names).
type LLMConfig struct {
	HiddenSize     int          `json:"hidden_size"`         // C
	NumLayers      int          `json:"num_hidden_layers"`   // L
	NumHeads       int          `json:"num_attention_heads"` // H
	NumKVHeads     int          `json:"num_key_value_heads"` // Hkv (= H: MHA; < H: GQA)
	HeadDim        int          `json:"head_dim,omitempty"`  // Dh; 0: C/H
	Intermediate   int          `json:"intermediate_size"`   // F
	VocabSize      int          `json:"vocab_size"`          // V
	RMSNormEps     float32      `json:"rms_norm_eps"`
	RoPETheta      float64      `json:"rope_theta"`
	RoPEScaling    *RoPEScaling `json:"rope_scaling"`
	PartialRotary  float64      `json:"partial_rotary_factor,omitempty"` // 0 or 1: the whole head
	OriginalMaxPos int          `json:"original_max_position_embeddings,omitempty"`
	MaxPositions   int          `json:"max_position_embeddings"`
	TieEmbeddings  bool         `json:"tie_word_embeddings"`
	HiddenAct      string       `json:"hidden_act"` // "silu" (SwiGLU)
	BOSTokenID     int          `json:"bos_token_id"`
	EOSTokenID     int          `json:"eos_token_id"`
}

// PromptConfig is the chat template. Template holds {prompt} where the
// request's text goes and ImageToken where the visual tokens go.
type PromptConfig struct {
	Template     string   `json:"template"`      // "<|user|>\n<|image_1|>\n{prompt}<|end|>\n<|assistant|>\n"
	ImageToken   string   `json:"image_token"`   // "<|image_1|>"
	StopTokens   []string `json:"stop_tokens"`   // "<|end|>", "<|endoftext|>"
	ReportPrompt string   `json:"report_prompt"` // the instruction Report sends
}

// Phi3Template is Phi-3's chat template with one image.
const Phi3Template = "<|user|>\n<|image_1|>\n{prompt}<|end|>\n<|assistant|>\n"

// DefaultPrompt is the Phi-3-V prompt configuration.
func DefaultPrompt() PromptConfig {
	return PromptConfig{
		Template: Phi3Template, ImageToken: "<|image_1|>",
		StopTokens:   []string{"<|end|>", "<|endoftext|>"},
		ReportPrompt: "Please write a radiology report for this CT scan.",
	}
}

// Phi3VisionConfig is microsoft/Phi-3-vision-128k-instruct as a 2D model
// (one 336² crop, no 3D transfer, no MoE) without its LongRoPE factor
// lists, which come from the checkpoint's config.json.
func Phi3VisionConfig() Config {
	return Config{
		ModelType: "ctlens",
		Vision: VisionConfig{
			ImageSize: 336, PatchSize: 14, NumChannels: 3, HiddenSize: 1024, NumLayers: 24,
			NumHeads: 16, Intermediate: 4096, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
			FeatureLayer: -2, ClassToken: true,
		},
		Transfer3D: Transfer3DConfig{Slices: 1, RoPETheta: 10000},
		MoE:        MoEConfig{Tasks: 3},
		Projector:  ProjectorConfig{HiddenAct: "gelu", SubSeparator: true, GlbSeparator: true, DepthPool: 1},
		LLM: LLMConfig{
			HiddenSize: 3072, NumLayers: 32, NumHeads: 32, NumKVHeads: 32, Intermediate: 8192,
			VocabSize: 32064, RMSNormEps: 1e-5, RoPETheta: 10000, OriginalMaxPos: 4096,
			MaxPositions: 131072, HiddenAct: "silu", BOSTokenID: 1, EOSTokenID: 32000,
		},
		Prompt: DefaultPrompt(),
	}
}

// CTLensConfig is Phi3VisionConfig transferred to 3D with a TGH-MoE: D
// slices, 3D attention from layer from up, the MoE in those layers' FFNs.
// The paper leaves these numbers open (paper.md §3–4); these are the
// engine's defaults.
func CTLensConfig(slices, from int) Config {
	c := Phi3VisionConfig()
	c.Transfer3D = Transfer3DConfig{Enabled: true, Slices: slices, LayersFrom: from, SliceRoPE: true, RoPETheta: 10000}
	var layers []int
	for l := from; l < c.Vision.RunLayers(); l++ {
		layers = append(layers, l)
	}
	c.MoE = MoEConfig{Layers: layers, Tasks: 3, ExpertsPerTask: 4, TopK: 2, SharedExpert: true, RouterTextDim: 64, Renormalize: true}
	c.Projector.SubSeparator, c.Projector.GlbSeparator = false, false
	return c
}

// ParseConfig reads a Config from JSON and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("model: config: %w", err)
	}
	return c, c.Validate()
}

// ---- derived sizes -------------------------------------------------------

// RunLayers is how many vision layers run to reach FeatureLayer.
func (v VisionConfig) RunLayers() int {
	if v.FeatureLayer < 0 {
		return v.NumLayers + 1 + v.FeatureLayer
	}
	return v.FeatureLayer
}

// Grid is the patch grid side, ⌊image/patch⌋.
func (v VisionConfig) Grid() int {
	if v.PatchSize <= 0 {
		return 0
	}
	return v.ImageSize / v.PatchSize
}

// Tokens is S, the tokens per slice: the class token (if any) and the patches.
func (v VisionConfig) Tokens() int {
	n := v.Grid() * v.Grid()
	if v.ClassToken {
		n++
	}
	return n
}

// HeadDim is Dv, the vision head dim.
func (v VisionConfig) HeadDim() int { return v.HiddenSize / v.NumHeads }

// PatchK is the patch embedding's reduction length, Cin·p·p.
func (v VisionConfig) PatchK() int { return v.NumChannels * v.PatchSize * v.PatchSize }

// HasVision reports whether the model has a vision tower (a text-only
// decoder has none).
func (c Config) HasVision() bool { return c.Vision.NumLayers > 0 }

// HasLLM reports whether the model has a decoder (a bare vision tower, as
// HF's CLIPVisionModel, has none).
func (c Config) HasLLM() bool { return c.LLM.NumLayers > 0 }

// Slices is D, the slices the vision tower takes.
func (c Config) Slices() int { return max(c.Transfer3D.Slices, 1) }

// Is3D reports whether layer l attends across slices.
func (c Config) Is3D(l int) bool { return c.Transfer3D.Enabled && l >= c.Transfer3D.LayersFrom }

// IsMoE reports whether vision layer l's FFN is a TGH-MoE.
func (c Config) IsMoE(l int) bool { return slices.Contains(c.MoE.Layers, l) }

// HasMoE reports whether any vision layer carries the TGH-MoE.
func (c Config) HasMoE() bool { return len(c.MoE.Layers) > 0 }

// MergedGrid is the token grid side after the 2×2 merge.
func (c Config) MergedGrid() int { return c.Vision.Grid() / 2 }

// PooledSlices is D' = D / depth_pool, the slices left after depth pooling.
func (c Config) PooledSlices() int { return c.Slices() / max(c.Projector.DepthPool, 1) }

// VisualTokens is Tv, the visual tokens placed in the prompt: per pooled
// slice the merged grid, plus sub_GN after each row and glb_GN between
// slices when enabled.
func (c Config) VisualTokens() int {
	if !c.HasVision() || !c.HasLLM() {
		return 0
	}
	g := c.MergedGrid()
	if hd := c.Projector.HDCrops; hd != nil {
		return hd[0]*g*(hd[1]*g+1) + 1 + g*(g+1)
	}
	row := g
	if c.Projector.SubSeparator {
		row++
	}
	n := c.PooledSlices() * g * row
	if c.Projector.GlbSeparator {
		n += c.PooledSlices() - 1
	}
	return n
}

// Dh is the decoder's head dim: head_dim, or C/H when unset.
func (l LLMConfig) Dh() int {
	if l.HeadDim > 0 {
		return l.HeadDim
	}
	return l.HiddenSize / l.NumHeads
}

// RotDim is the rotated dims per head (partial_rotary_factor).
func (l LLMConfig) RotDim() int {
	dh := l.Dh()
	if l.PartialRotary > 0 && l.PartialRotary < 1 {
		return int(float64(dh)*l.PartialRotary) &^ 1
	}
	return dh
}

// QKVWidth is the fused qkv row, (H + 2·Hkv)·Dh.
func (l LLMConfig) QKVWidth() int { return (l.NumHeads + 2*l.NumKVHeads) * l.Dh() }

// KVWidth is one cache row, Hkv·Dh.
func (l LLMConfig) KVWidth() int { return l.NumKVHeads * l.Dh() }

// LongRoPE reports whether the decoder uses LongRoPE factors.
func (l LLMConfig) LongRoPE() bool { return l.RoPEScaling != nil }

// RoPEMScale is the scaling of cos and sin for the factor set in use
// (long: sequences past original_max_position_embeddings). HF Phi-3:
// √(1 + ln(max/orig)/ln(orig)) when max > orig, unless the config gives
// short_mscale/long_mscale; 1 without LongRoPE.
func (l LLMConfig) RoPEMScale(long bool) float32 {
	s := l.RoPEScaling
	if s == nil {
		return 1
	}
	if long && s.LongMScale != 0 {
		return s.LongMScale
	}
	if !long && s.ShortMScale != 0 {
		return s.ShortMScale
	}
	if l.OriginalMaxPos <= 0 || l.MaxPositions <= l.OriginalMaxPos {
		return 1
	}
	f := float64(l.MaxPositions) / float64(l.OriginalMaxPos)
	return float32(math.Sqrt(1 + math.Log(f)/math.Log(float64(l.OriginalMaxPos))))
}

// ---- validation ------------------------------------------------------------

// Validate reports every inconsistency it finds, each naming the field, so
// a converter or a hand-written config fails with all of its problems at
// once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	pos := func(name string, v int) {
		if v <= 0 {
			bad("%s = %d must be ≥ 1", name, v)
		}
	}
	headDim := func(name string, dh int) {
		// The attention kernels load vec4s and keep a head in registers.
		if dh < 4 || dh > 256 || dh%4 != 0 {
			bad("%s = %d must be a multiple of 4 in [4, 256] (attention kernels)", name, dh)
		}
	}
	act := func(name, s string) {
		if _, err := shaders.ParseAct(s); err != nil {
			bad("%s: %v", name, err)
		}
	}

	if !c.HasVision() && !c.HasLLM() {
		bad("neither a vision tower (vision_config.num_hidden_layers) nor a decoder (text_config.num_hidden_layers)")
	}
	if c.HasVision() {
		c.validateVision(bad, pos, headDim, act)
	}
	if c.HasVision() && c.HasLLM() {
		c.validateProjector(bad, act)
	}
	if c.HasMoE() && !c.HasVision() {
		bad("moe.layers %v: the model has no vision tower to put them in", c.MoE.Layers)
	}
	if c.HasMoE() && !c.HasLLM() {
		bad("moe: the task router pools the decoder's token embeddings; the config has no decoder")
	}
	if c.HasLLM() {
		c.validateLLM(bad, pos, headDim, act)
	}
	if len(errs) > 0 {
		return fmt.Errorf("model: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// validateVision checks the vision tower, the 3D transfer and the MoE.
func (c Config) validateVision(bad func(string, ...any), pos func(string, int), headDim func(string, int), act func(string, string)) {
	v := c.Vision
	pos("vision_config.image_size", v.ImageSize)
	pos("vision_config.patch_size", v.PatchSize)
	pos("vision_config.num_channels", v.NumChannels)
	pos("vision_config.hidden_size", v.HiddenSize)
	pos("vision_config.num_hidden_layers", v.NumLayers)
	pos("vision_config.num_attention_heads", v.NumHeads)
	pos("vision_config.intermediate_size", v.Intermediate)
	act("vision_config.hidden_act", v.HiddenAct)
	if v.LayerNormEps <= 0 {
		bad("vision_config.layer_norm_eps = %g must be > 0", v.LayerNormEps)
	}
	if v.NumHeads > 0 && v.HiddenSize%v.NumHeads != 0 {
		bad("vision_config.hidden_size %d is not a multiple of num_attention_heads %d", v.HiddenSize, v.NumHeads)
	} else if v.NumHeads > 0 {
		headDim("vision head dim (hidden_size/num_attention_heads)", v.HeadDim())
	}
	if v.PatchSize > 0 && v.ImageSize >= v.PatchSize {
		if g := v.Grid(); g < 2 || g%2 != 0 {
			bad("vision patch grid %d×%d (image_size/patch_size) must be even for the 2×2 merge", g, g)
		}
	} else if v.PatchSize > 0 {
		bad("vision_config.image_size %d < patch_size %d", v.ImageSize, v.PatchSize)
	}
	if r := v.RunLayers(); r < 0 || r > v.NumLayers {
		bad("vision_config.feature_layer %d is outside hidden_states[0..%d]", v.FeatureLayer, v.NumLayers)
	}

	t := c.Transfer3D
	pos("transfer_3d.slices", c.Slices())
	if t.Slices < 0 {
		bad("transfer_3d.slices = %d must be ≥ 1", t.Slices)
	}
	if t.Enabled {
		if t.LayersFrom < 0 || t.LayersFrom > v.NumLayers {
			bad("transfer_3d.layers_3d_from = %d is outside [0, %d]", t.LayersFrom, v.NumLayers)
		}
		if t.SliceRoPE {
			if t.RoPETheta <= 1 {
				bad("transfer_3d.slice_rope_theta = %g must be > 1", t.RoPETheta)
			}
			if d := t.RoPEDim; d != 0 && (d%2 != 0 || d > v.HeadDim()) {
				bad("transfer_3d.slice_rope_dim = %d must be even and ≤ the head dim %d", d, v.HeadDim())
			}
		}
	}

	m := c.MoE
	if len(m.Layers) > 0 {
		if m.Tasks != len(TaskNames) {
			// The router may have any G, but prompts, the app and the
			// returned routing name three groups.
			bad("moe.tasks = %d, want %d (%s)", m.Tasks, len(TaskNames), strings.Join(TaskNames, ", "))
		}
		pos("moe.experts_per_task", m.ExpertsPerTask)
		if m.TopK < 1 || m.TopK > m.ExpertsPerTask || m.TopK > shaders.MoEMaxK {
			bad("moe.top_k = %d must be in 1..min(experts_per_task %d, %d)", m.TopK, m.ExpertsPerTask, shaders.MoEMaxK)
		}
		if e := m.Tasks * m.ExpertsPerTask; e > shaders.MoEMaxExperts {
			bad("moe: tasks·experts_per_task = %d exceeds %d (moe_plan)", e, shaders.MoEMaxExperts)
		}
		if m.RouterTextDim < 0 {
			bad("moe.router_text_dim = %d must be ≥ 0", m.RouterTextDim)
		}
		seen := map[int]bool{}
		for _, l := range m.Layers {
			if l < 0 || l >= v.RunLayers() {
				bad("moe.layers: layer %d is not among the %d vision layers that run (feature_layer %d)", l, v.RunLayers(), v.FeatureLayer)
			}
			if seen[l] {
				bad("moe.layers: layer %d listed twice", l)
			}
			seen[l] = true
		}
	}

}

// validateProjector checks the merge, pooling, layout and projector.
func (c Config) validateProjector(bad func(string, ...any), act func(string, string)) {
	p := c.Projector
	act("projector.hidden_act", p.HiddenAct)
	if p.DepthPool < 1 {
		bad("projector.depth_pool = %d must be ≥ 1", p.DepthPool)
	} else if c.Slices()%p.DepthPool != 0 {
		bad("projector.depth_pool = %d does not divide transfer_3d.slices = %d", p.DepthPool, c.Slices())
	}
	if p.HDCrops != nil {
		switch {
		case len(p.HDCrops) != 2 || p.HDCrops[0] < 1 || p.HDCrops[1] < 1:
			bad("projector.hd_crops = %v, want [h, w] ≥ 1", p.HDCrops)
		case c.Transfer3D.Enabled || p.DepthPool != 1 || !p.SubSeparator || !p.GlbSeparator:
			bad("projector.hd_crops (Phi-3-V's HD layout) needs the 3D transfer off, depth_pool 1 and both separators")
		case c.Slices() != 1+p.HDCrops[0]*p.HDCrops[1]:
			bad("projector.hd_crops %v needs transfer_3d.slices = 1 + h·w = %d (the global crop, then the sub crops), have %d",
				p.HDCrops, 1+p.HDCrops[0]*p.HDCrops[1], c.Slices())
		}
	}
	if c.HasMoE() && meanHeadDim(c.LLM.HiddenSize) == 0 {
		bad("text_config.hidden_size %d must be a multiple of 4 for the TGH-MoE's text pool", c.LLM.HiddenSize)
	}
}

// validateLLM checks the decoder and the prompt template.
func (c Config) validateLLM(bad func(string, ...any), pos func(string, int), headDim func(string, int), act func(string, string)) {
	l := c.LLM
	pos("text_config.hidden_size", l.HiddenSize)
	pos("text_config.num_hidden_layers", l.NumLayers)
	pos("text_config.num_attention_heads", l.NumHeads)
	pos("text_config.num_key_value_heads", l.NumKVHeads)
	pos("text_config.intermediate_size", l.Intermediate)
	pos("text_config.vocab_size", l.VocabSize)
	pos("text_config.max_position_embeddings", l.MaxPositions)
	act("text_config.hidden_act", l.HiddenAct)
	if l.RMSNormEps <= 0 {
		bad("text_config.rms_norm_eps = %g must be > 0", l.RMSNormEps)
	}
	if l.RoPETheta <= 1 {
		bad("text_config.rope_theta = %g must be > 1", l.RoPETheta)
	}
	if l.NumHeads > 0 && l.NumKVHeads > 0 {
		if l.NumHeads%l.NumKVHeads != 0 {
			bad("text_config.num_attention_heads %d is not a multiple of num_key_value_heads %d", l.NumHeads, l.NumKVHeads)
		}
		if l.HeadDim == 0 && l.HiddenSize%l.NumHeads != 0 {
			bad("text_config.hidden_size %d is not a multiple of num_attention_heads %d (set head_dim)", l.HiddenSize, l.NumHeads)
		}
		headDim("text_config head dim", l.Dh())
		if r := l.RotDim(); r < 2 || r%2 != 0 {
			bad("text_config: rotary dims %d (partial_rotary_factor %g) must be even and ≥ 2", r, l.PartialRotary)
		}
	}
	if s := l.RoPEScaling; s != nil {
		if s.Type != "su" && s.Type != "longrope" {
			bad("text_config.rope_scaling.type %q is not supported (want \"su\" or \"longrope\")", s.Type)
		}
		half := l.RotDim() / 2
		if len(s.ShortFactor) != half || len(s.LongFactor) != half {
			bad("text_config.rope_scaling: short_factor has %d and long_factor %d values, want rotary dims/2 = %d", len(s.ShortFactor), len(s.LongFactor), half)
		}
		if l.OriginalMaxPos <= 0 {
			bad("text_config.original_max_position_embeddings must be ≥ 1 with LongRoPE")
		}
	}
	pr := c.Prompt
	if pr.Template != "" {
		if !strings.Contains(pr.Template, "{prompt}") {
			bad("prompt.template %q has no {prompt}", pr.Template)
		}
		if pr.ImageToken == "" || strings.Count(pr.Template, pr.ImageToken) != 1 {
			bad("prompt.template %q must hold the image token %q exactly once", pr.Template, pr.ImageToken)
		}
	}
}
