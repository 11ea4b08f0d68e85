package model

import (
	"encoding/json"
	"fmt"
	"slices"
)

// clipL14336 is the vision tower Phi-3-V hard-codes outside its
// config.json (openai/clip-vit-large-patch14-336).
var clipL14336 = VisionConfig{
	ImageSize: 336, PatchSize: 14, NumChannels: 3, HiddenSize: 1024, NumLayers: 24, NumHeads: 16,
	Intermediate: 4096, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, FeatureLayer: -2, ClassToken: true,
}

// FromHFConfig builds a Config from a Hugging Face config.json:
//
//   - phi3_v (Phi3VForCausalLM): decoder from the top level, the CLIP tower
//     from "vision_config" when present, else ViT-L/14-336 (which the real
//     checkpoint hard-codes), features from img_processor.layer_idx, the
//     separators of embd_layer, and Phi-3-V's HD layout for one sub crop
//     (hd_crops [1, 1], 2 slices: global then sub; set Projector.HDCrops and
//     Transfer3D.Slices for other image sizes);
//   - phi3, llama, mistral, qwen2 (…ForCausalLM): a text-only decoder;
//   - clip_vision_model, or clip with a vision_config: a bare vision
//     tower whose features are the last layer (hidden_states[-1]).
//
// The tensors keep their HF names except the bare CLIP tower's
// (vision_model.*), which a Source must present under VisionName's prefix
// (RenameSource).
func FromHFConfig(data []byte) (Config, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Config{}, fmt.Errorf("model: HF config: %w", err)
	}
	var kind string
	if raw, ok := top["model_type"]; ok {
		json.Unmarshal(raw, &kind)
	}
	c := Config{ModelType: "ctlens", Transfer3D: Transfer3DConfig{Slices: 1}, MoE: MoEConfig{Tasks: len(TaskNames)},
		Projector: ProjectorConfig{HiddenAct: "gelu", DepthPool: 1}}
	text := func() error {
		llm, err := hfDecoder(top)
		c.LLM = llm
		if c.LLM.HiddenAct == "" {
			c.LLM.HiddenAct = "silu"
		}
		return err
	}
	switch kind {
	case "phi3_v":
		if err := text(); err != nil {
			return Config{}, err
		}
		c.Vision = clipL14336
		if raw, ok := top["vision_config"]; ok {
			if err := json.Unmarshal(raw, &c.Vision); err != nil {
				return Config{}, fmt.Errorf("model: HF config: vision_config: %w", err)
			}
			c.Vision.ClassToken = true
			c.Vision.FeatureLayer = -2
		}
		var ip struct {
			LayerIdx *int `json:"layer_idx"`
		}
		var el struct {
			Separator *bool  `json:"with_learnable_separator"`
			Order     string `json:"hd_transform_order"`
		}
		if raw, ok := top["img_processor"]; ok {
			json.Unmarshal(raw, &ip)
		}
		if raw, ok := top["embd_layer"]; ok {
			json.Unmarshal(raw, &el)
		}
		if ip.LayerIdx != nil {
			c.Vision.FeatureLayer = *ip.LayerIdx
		}
		if el.Order != "" && el.Order != "sub_glb" {
			return Config{}, fmt.Errorf("model: HF config: hd_transform_order %q is not supported (want sub_glb)", el.Order)
		}
		if el.Separator == nil || *el.Separator {
			c.Projector.SubSeparator, c.Projector.GlbSeparator = true, true
			c.Projector.HDCrops = []int{1, 1}
			c.Transfer3D.Slices = 2
		}
		c.Prompt = DefaultPrompt()
	case "phi3", "llama", "mistral", "qwen2":
		if err := text(); err != nil {
			return Config{}, err
		}
		c.Prompt = DefaultPrompt()
		c.Prompt.Template = ""
	case "clip_vision_model", "clip":
		raw := data
		if kind == "clip" {
			var ok bool
			if raw, ok = top["vision_config"]; !ok {
				return Config{}, fmt.Errorf("model: HF config: a clip config without vision_config")
			}
		}
		c.Vision = clipL14336
		if err := json.Unmarshal(raw, &c.Vision); err != nil {
			return Config{}, fmt.Errorf("model: HF config: %w", err)
		}
		c.Vision.ClassToken = true
		c.Vision.FeatureLayer = c.Vision.NumLayers
	default:
		return Config{}, fmt.Errorf("model: HF config: model_type %q is not supported (phi3_v, phi3, llama, mistral, qwen2, clip_vision_model)", kind)
	}
	return c, c.Validate()
}

// hfDecoder reads the decoder fields of a causal LM's top-level config,
// normalising what HF spells several ways: eos_token_id as a list,
// rope_scaling's "rope_type" for "type".
func hfDecoder(top map[string]json.RawMessage) (LLMConfig, error) {
	fixed := map[string]json.RawMessage{}
	for k, v := range top {
		fixed[k] = v
	}
	for _, k := range []string{"eos_token_id", "bos_token_id"} {
		var ids []int
		if json.Unmarshal(fixed[k], &ids) == nil && len(ids) > 0 {
			fixed[k], _ = json.Marshal(ids[0])
		}
	}
	if raw, ok := fixed["rope_scaling"]; ok && string(raw) != "null" {
		var rs map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rs); err != nil {
			return LLMConfig{}, fmt.Errorf("model: HF config: rope_scaling: %w", err)
		}
		if _, ok := rs["type"]; !ok {
			rs["type"] = rs["rope_type"]
		}
		fixed["rope_scaling"], _ = json.Marshal(rs)
	}
	if raw, ok := fixed["head_dim"]; ok && string(raw) == "null" {
		delete(fixed, "head_dim")
	}
	data, _ := json.Marshal(fixed)
	var l LLMConfig
	if err := json.Unmarshal(data, &l); err != nil {
		return LLMConfig{}, fmt.Errorf("model: HF config: %w", err)
	}
	if l.RoPEScaling != nil && !slices.Contains([]string{"su", "longrope"}, l.RoPEScaling.Type) {
		return LLMConfig{}, fmt.Errorf("model: HF config: rope_scaling type %q is not supported (su, longrope)", l.RoPEScaling.Type)
	}
	return l, nil
}

// RenameSource presents src's tensors under other names: Tensor(name)
// reads src.Tensor(rename(name)). For a bare CLIP checkpoint, whose keys
// start "vision_model.", rename strips VisionName's Phi-3-V prefix.
func RenameSource(src Source, rename func(name string) string) Source {
	return renamed{src, rename}
}

type renamed struct {
	src    Source
	rename func(string) string
}

// Tensor implements Source.
func (r renamed) Tensor(name string) (SourceTensor, error) { return r.src.Tensor(r.rename(name)) }
