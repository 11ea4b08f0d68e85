package model

import (
	"fmt"
	"math"
	"math/rand"

	"ctlens/shaders"
)

// RandomWeights makes a random model of cfg's shapes under the names
// LoadWeights reads (HF Phi-3-V names with fused qkv_proj and
// gate_up_proj, ctlens MoE names), for tests and benchmarks. Matrices are
// stored as dt where their K allows it (a multiple of dt.KMultiple()),
// else as f32; vectors are f32. Matrices are scaled by 1/√K so activations
// stay of order one through the layers; MoE experts are the layer's FFN
// plus a perturbation, as after stage-2 training from the pretrained FFN.
// The same (cfg, seed, dt) gives the same weights.
func RandomWeights(cfg Config, seed int64, dt shaders.DType) (MapSource, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &randomSource{src: MapSource{}, rng: rand.New(rand.NewSource(seed)), dt: dt}
	v, lc := cfg.Vision, cfg.LLM
	cv, fv, c := v.HiddenSize, v.Intermediate, lc.HiddenSize
	g, eg, dtext := cfg.MoE.Tasks, cfg.MoE.ExpertsPerTask, cfg.MoE.RouterTextDim

	// A bare vision tower (CLIPVisionModel) or a bare decoder
	// (Phi3ForCausalLM) gets only its own tensors.
	if cfg.HasVision() {
		r.matrix(VisionName("embeddings.patch_embedding.weight"), r.uniform(cv*v.PatchK(), 1/math.Sqrt(float64(v.PatchK()))), cv, v.PatchK(), cv, v.NumChannels, v.PatchSize, v.PatchSize)
		r.vector(VisionName("embeddings.position_embedding.weight"), r.uniform(v.Tokens()*cv, 0.5), v.Tokens(), cv)
		if v.ClassToken {
			r.vector(VisionName("embeddings.class_embedding"), r.uniform(cv, 0.5), cv)
		}
		r.norm(VisionName("pre_layrnorm"), cv, true)
		r.norm(VisionName("post_layernorm"), cv, true)
		for l := 0; l < v.NumLayers; l++ {
			n := func(s string) string { return VisionLayerName(l, s) }
			r.norm(n("layer_norm1"), cv, true)
			for _, p := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
				r.linear(n("self_attn."+p), cv, cv, true)
			}
			r.norm(n("layer_norm2"), cv, true)
			fc1 := r.uniform(fv*cv, 1/math.Sqrt(float64(cv)))
			fc2 := r.uniform(cv*fv, 1/math.Sqrt(float64(fv)))
			r.matrix(n("mlp.fc1.weight"), fc1, fv, cv)
			r.vector(n("mlp.fc1.bias"), r.uniform(fv, 0.02), fv)
			r.matrix(n("mlp.fc2.weight"), fc2, cv, fv)
			r.vector(n("mlp.fc2.bias"), r.uniform(cv, 0.02), cv)
			if cfg.IsMoE(l) {
				// The token router sees [x ; P·pool].
				r.linear(n("mlp.router"), g*eg, cv+dtext, true)
				for j := 0; j < g*eg; j++ {
					e := func(s string) string { return ExpertName(l, j, s) }
					r.matrix(e("fc1.weight"), r.perturb(fc1, 0.5), fv, cv)
					r.vector(e("fc1.bias"), r.uniform(fv, 0.02), fv)
					r.matrix(e("fc2.weight"), r.perturb(fc2, 0.5), cv, fv)
					r.vector(e("fc2.bias"), r.uniform(cv, 0.02), cv)
				}
			}
		}

	}
	if cfg.HasVision() && cfg.HasLLM() {
		r.linear(EmbedName("img_projection.0"), c, 4*cv, true)
		r.linear(EmbedName("img_projection.2"), c, c, true)
		r.vector(EmbedName("sub_GN"), r.uniform(4*cv, 0.5), 1, 1, 1, 4*cv)
		r.vector(EmbedName("glb_GN"), r.uniform(4*cv, 0.5), 1, 1, 4*cv)
		if cfg.HasMoE() {
			r.linear(EmbedName("task_router"), g, c, true)
			if dtext > 0 {
				r.linear(EmbedName("text_proj"), dtext, c, true)
			}
		}

	}
	if !cfg.HasLLM() {
		if r.err != nil {
			return nil, r.err
		}
		return r.src, nil
	}
	h, hkv, dh, f := lc.NumHeads, lc.NumKVHeads, lc.Dh(), lc.Intermediate
	r.matrix("model.embed_tokens.weight", r.uniform(lc.VocabSize*c, 1), lc.VocabSize, c)
	for l := 0; l < lc.NumLayers; l++ {
		n := func(s string) string { return LLMLayerName(l, s) }
		r.norm(n("input_layernorm"), c, false)
		r.linear(n("self_attn.qkv_proj"), (h+2*hkv)*dh, c, false)
		r.linear(n("self_attn.o_proj"), c, h*dh, false)
		r.norm(n("post_attention_layernorm"), c, false)
		r.linear(n("mlp.gate_up_proj"), 2*f, c, false)
		r.linear(n("mlp.down_proj"), c, f, false)
	}
	r.norm("model.norm", c, false)
	if !lc.TieEmbeddings {
		r.linear("lm_head", lc.VocabSize, c, false)
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.src, nil
}

type randomSource struct {
	src MapSource
	rng *rand.Rand
	dt  shaders.DType
	err error
}

// uniform is n values uniform in ±a·√3 (standard deviation a).
func (r *randomSource) uniform(n int, a float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((2*r.rng.Float64() - 1) * a * math.Sqrt(3))
	}
	return out
}

// perturb is base plus noise of frac times base's standard deviation.
func (r *randomSource) perturb(base []float32, frac float64) []float32 {
	var ss float64
	for _, v := range base {
		ss += float64(v) * float64(v)
	}
	noise := r.uniform(len(base), frac*math.Sqrt(ss/float64(len(base))))
	for i := range noise {
		noise[i] += base[i]
	}
	return noise
}

// matrix stores an (n, k) matrix as r.dt (f32 when k does not allow it),
// under shape when given (a conv kernel).
func (r *randomSource) matrix(name string, v []float32, n, k int, shape ...int) {
	dt := r.dt
	if k%dt.KMultiple() != 0 {
		dt = shaders.F32
	}
	w, err := shaders.Pack(dt, v, n, k)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("model: random weights: %s: %w", name, err)
		return
	}
	r.src.PutWeights(name, w, shape...)
}

func (r *randomSource) vector(name string, v []float32, shape ...int) {
	r.src.PutF32(name, v, shape...)
}

// linear stores name.weight (n, k) and, with bias, name.bias (n).
func (r *randomSource) linear(name string, n, k int, bias bool) {
	r.matrix(name+".weight", r.uniform(n*k, 1/math.Sqrt(float64(k))), n, k)
	if bias {
		r.vector(name+".bias", r.uniform(n, 0.02), n)
	}
}

// norm stores name.weight near one and, for LayerNorm, name.bias near zero.
func (r *randomSource) norm(name string, n int, bias bool) {
	w := r.uniform(n, 0.1)
	for i := range w {
		w[i]++
	}
	r.vector(name+".weight", w, n)
	if bias {
		r.vector(name+".bias", r.uniform(n, 0.02), n)
	}
}
