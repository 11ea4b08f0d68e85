package model

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestConfigsValidate(t *testing.T) {
	for _, tc := range TinyConfigs() {
		if err := tc.Config.Validate(); err != nil {
			t.Errorf("%s: %v", tc.Name, err)
		}
	}
	if err := Phi3VisionConfig().Validate(); err != nil {
		t.Errorf("Phi3VisionConfig: %v", err)
	}
	if err := CTLensConfig(32, 16).Validate(); err != nil {
		t.Errorf("CTLensConfig: %v", err)
	}
}

func TestPhi3VisionTokenCounts(t *testing.T) {
	c := Phi3VisionConfig()
	// One 336² crop: 577 tower tokens, 144 merged; HF's layout for one sub
	// crop plus the global crop is 2·12·13 + 1 = 313 tokens.
	if have := c.Vision.Tokens(); have != 577 {
		t.Errorf("tokens per slice: have %d, want 577", have)
	}
	if have := c.Vision.RunLayers(); have != 23 {
		t.Errorf("layers run for feature_layer −2: have %d, want 23", have)
	}
	c.Transfer3D.Slices = 2
	if have := c.VisualTokens(); have != 313 {
		t.Errorf("visual tokens of 2 crops with separators: have %d, want 313", have)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	for _, tc := range TinyConfigs() {
		data, err := json.Marshal(tc.Config)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseConfig(data)
		if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
		if !reflect.DeepEqual(back, tc.Config) {
			t.Errorf("%s: round trip changed the config:\n%s", tc.Name, data)
		}
	}
}

// TestConfigValidateErrors: each broken field is named in the error.
func TestConfigValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"heads", func(c *Config) { c.LLM.NumKVHeads = 3 }, "num_key_value_heads"},
		{"head dim", func(c *Config) { c.Vision.NumHeads = 16 }, "vision head dim"},
		{"odd grid", func(c *Config) { c.Vision.ImageSize = 12 }, "even for the 2×2 merge"},
		{"feature layer", func(c *Config) { c.Vision.FeatureLayer = -9 }, "feature_layer"},
		{"act", func(c *Config) { c.Vision.HiddenAct = "relu6" }, "vision_config.hidden_act"},
		{"top k", func(c *Config) { setMoE(c, []int{0}, 2, 3) }, "moe.top_k"},
		{"moe layer", func(c *Config) { setMoE(c, []int{2}, 2, 1) }, "moe.layers"},
		{"pool", func(c *Config) { set3D(c, 3, 0); c.Projector.DepthPool = 2 }, "depth_pool"},
		{"longrope", func(c *Config) { setLongRoPE(c, 64); c.LLM.RoPEScaling.LongFactor = nil }, "long_factor"},
		{"rope type", func(c *Config) { setLongRoPE(c, 64); c.LLM.RoPEScaling.Type = "yarn" }, "rope_scaling.type"},
		{"3d from", func(c *Config) { set3D(c, 2, 7) }, "layers_3d_from"},
		{"template", func(c *Config) { c.Prompt.Template = "{prompt}" }, "image token"},
		{"moe without vision", func(c *Config) { setMoE(c, []int{0}, 2, 1); c.Vision = VisionConfig{} }, "no vision tower"},
		{"moe without decoder", func(c *Config) { setMoE(c, []int{0}, 2, 1); c.LLM = LLMConfig{} }, "no decoder"},
		{"nothing", func(c *Config) { c.Vision, c.LLM = VisionConfig{}, LLMConfig{} }, "neither"},
		{"hd crops", func(c *Config) { c.Projector.HDCrops = []int{2, 2} }, "hd_crops"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyBase()
			tc.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("have %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestRoPEMScale(t *testing.T) {
	l := LLMConfig{RoPEScaling: &RoPEScaling{Type: "su"}, OriginalMaxPos: 4096, MaxPositions: 131072}
	// Phi-3-*-128k: √(1 + ln 32 / ln 4096) ≈ 1.19024.
	if have := l.RoPEMScale(false); have < 1.1902 || have > 1.1903 {
		t.Errorf("mscale: have %v, want ≈ 1.19024", have)
	}
	l.RoPEScaling.LongMScale = 1.5
	if have := l.RoPEMScale(true); have != 1.5 {
		t.Errorf("long_mscale override: have %v", have)
	}
	if have := (LLMConfig{}).RoPEMScale(true); have != 1 {
		t.Errorf("plain RoPE mscale %v, want 1", have)
	}
}
