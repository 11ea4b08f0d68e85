package model

// TinyConfig is a named tiny model of one shape family, for tests of every
// backend (the GPU backend's parity tests run the same list).
type TinyConfig struct {
	Name   string
	Config Config
}

// tinyBase is the smallest model that still has every part: a 16² image in
// 4² patches of 2 channels (K = 32, so int4/int8 weights fit), a 4×4 grid
// merged to 2×2, 3 vision layers of which 2 run (feature layer −2), and a
// 2-layer decoder of width 64 with a 160-token vocabulary.
func tinyBase() Config {
	return Config{
		ModelType: "ctlens",
		Vision: VisionConfig{
			ImageSize: 16, PatchSize: 4, NumChannels: 2, HiddenSize: 32, NumLayers: 3, NumHeads: 2,
			Intermediate: 64, HiddenAct: "quick_gelu", LayerNormEps: 1e-5, FeatureLayer: -2, ClassToken: true,
		},
		Transfer3D: Transfer3DConfig{Slices: 1, RoPETheta: 10000},
		MoE:        MoEConfig{Tasks: 3},
		Projector:  ProjectorConfig{HiddenAct: "gelu", DepthPool: 1},
		LLM: LLMConfig{
			HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 4, Intermediate: 96, VocabSize: 160,
			RMSNormEps: 1e-5, RoPETheta: 10000, MaxPositions: 256, HiddenAct: "silu", BOSTokenID: 128, EOSTokenID: 132,
		},
		Prompt: DefaultPrompt(),
	}
}

// TinyConfigs are tiny models covering the shape families: MHA and GQA,
// tied and untied heads, plain RoPE and LongRoPE, dense and TGH-MoE,
// 2D-only and 3D (with slice RoPE, separators and depth pooling in some).
func TinyConfigs() []TinyConfig {
	var out []TinyConfig
	add := func(name string, f func(c *Config)) {
		c := tinyBase()
		f(&c)
		out = append(out, TinyConfig{name, c})
	}
	add("mha-tied-rope-dense-2d", func(c *Config) {
		c.LLM.TieEmbeddings = true
		c.Projector.SubSeparator, c.Projector.GlbSeparator = true, true
	})
	add("gqa-untied-longrope-dense-3d", func(c *Config) {
		c.LLM.NumKVHeads = 2
		setLongRoPE(c, 64)
		set3D(c, 4, 1)
	})
	add("mha-untied-longrope-moe-3d", func(c *Config) {
		setLongRoPE(c, 64)
		set3D(c, 4, 1)
		setMoE(c, []int{0, 1}, 2, 2)
		c.Projector.DepthPool = 2
		c.Projector.SubSeparator, c.Projector.GlbSeparator = true, true
	})
	add("gqa-tied-rope-moe-2d", func(c *Config) {
		c.LLM.NumKVHeads = 1
		c.LLM.TieEmbeddings = true
		setMoE(c, []int{1}, 3, 1)
		c.MoE.SharedExpert = false
		c.MoE.RouterTextDim = 0
	})
	return out
}

func setLongRoPE(c *Config, orig int) {
	half := c.LLM.RotDim() / 2
	s := &RoPEScaling{Type: "longrope", ShortFactor: make([]float32, half), LongFactor: make([]float32, half)}
	for i := range half {
		// Phi-3's factors grow from ~1 at high frequencies; these do too.
		s.ShortFactor[i] = 1 + 0.05*float32(i)
		s.LongFactor[i] = 1 + 0.5*float32(i)
	}
	c.LLM.RoPEScaling = s
	c.LLM.OriginalMaxPos = orig
}

func set3D(c *Config, slices, from int) {
	c.Transfer3D = Transfer3DConfig{Enabled: true, Slices: slices, LayersFrom: from, SliceRoPE: true, RoPETheta: 100}
}

func setMoE(c *Config, layers []int, experts, k int) {
	c.MoE = MoEConfig{Layers: layers, Tasks: 3, ExpertsPerTask: experts, TopK: k, SharedExpert: true, RouterTextDim: 8, Renormalize: true}
}
