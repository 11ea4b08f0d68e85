package model

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func factors(n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = 1 + float32(i)/10
	}
	return f
}

// TestFromHFConfig reads config.json files shaped like the real ones.
func TestFromHFConfig(t *testing.T) {
	phi3v := map[string]any{
		"architectures": []string{"Phi3VForCausalLM"}, "model_type": "phi3_v",
		"hidden_size": 3072, "intermediate_size": 8192, "num_attention_heads": 32, "num_hidden_layers": 32,
		"num_key_value_heads": 32, "vocab_size": 32064, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
		"rope_scaling":            map[string]any{"type": "su", "short_factor": factors(48), "long_factor": factors(48)},
		"max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "hidden_act": "silu",
		"tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
		"img_processor":  map[string]any{"image_dim_out": 1024, "model_name": "openai/clip-vit-large-patch14-336", "name": "clip_vision_model", "num_img_tokens": 144},
		"embd_layer":     map[string]any{"embedding_cls": "image", "hd_transform_order": "sub_glb", "projection_cls": "mlp", "use_hd_transform": true, "with_learnable_separator": true},
		"torch_dtype":    "bfloat16",
		"sliding_window": 131072,
	}
	data, _ := json.Marshal(phi3v)
	c, err := FromHFConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.Vision != clipL14336 || c.LLM.Dh() != 96 || c.LLM.RoPEScaling.Type != "su" || c.VisualTokens() != 313 {
		t.Errorf("phi3_v: vision %+v, dh %d, rope %v, %d visual tokens", c.Vision, c.LLM.Dh(), c.LLM.RoPEScaling, c.VisualTokens())
	}

	llama := map[string]any{
		"model_type": "llama", "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4, "num_hidden_layers": 2,
		"num_key_value_heads": 2, "vocab_size": 100, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
		"max_position_embeddings": 2048, "hidden_act": "silu", "eos_token_id": []int{7, 8}, "head_dim": nil, "rope_scaling": nil,
	}
	data, _ = json.Marshal(llama)
	c, err = FromHFConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasVision() || c.LLM.EOSTokenID != 7 || c.LLM.NumKVHeads != 2 || c.LLM.LongRoPE() {
		t.Errorf("llama: %+v", c.LLM)
	}

	clip := map[string]any{"model_type": "clip_vision_model", "hidden_size": 32, "image_size": 16, "patch_size": 4,
		"num_hidden_layers": 3, "num_attention_heads": 2, "intermediate_size": 64, "num_channels": 3}
	data, _ = json.Marshal(clip)
	c, err = FromHFConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasLLM() || c.Vision.RunLayers() != 3 || c.Vision.HiddenAct != "quick_gelu" {
		t.Errorf("clip: %+v", c.Vision)
	}

	llama["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 8.0}
	data, _ = json.Marshal(llama)
	if _, err := FromHFConfig(data); err == nil || !strings.Contains(err.Error(), "llama3") {
		t.Errorf("llama3 rope scaling: %v", err)
	}
}

// TestHDLayout: Phi-3-V's HD transform for one row of two sub crops of a
// 2×2 merged grid: the stitched 2×4 sub grid with sub_GN (row 12) after
// each row, glb_GN (row 13), the global crop's grid with sub_GN.
func TestHDLayout(t *testing.T) {
	want := []uint32{4, 5, 8, 9, 12, 6, 7, 10, 11, 12, 13, 0, 1, 12, 2, 3, 12}
	if have := hdLayout(1, 2, 2); !slices.Equal(have, want) {
		t.Errorf("have %v, want %v", have, want)
	}
	c := tinyBase()
	c.Projector.SubSeparator, c.Projector.GlbSeparator = true, true
	c.Projector.HDCrops = []int{1, 2}
	c.Transfer3D.Slices = 3
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.VisualTokens() != len(want) {
		t.Errorf("VisualTokens %d, layout %d", c.VisualTokens(), len(want))
	}
}
