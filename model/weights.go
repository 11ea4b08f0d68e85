package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/x448/float16"

	"ctlens/shaders"
)

// ErrNoTensor is wrapped by a Source's error for a name it does not hold;
// the loader treats such a tensor as absent where it is optional (biases,
// post_layernorm) and as an error elsewhere.
var ErrNoTensor = errors.New("no such tensor")

// SourceTensor is one tensor as a Source hands it over: the storage of
// shaders.Weights as little-endian bytes.
type SourceTensor struct {
	Shape []int         // logical shape; a matrix is (N, K…) with K the product of the rest
	DType shaders.DType // storage type
	// Data holds the elements: f32 or f16 values in order (the safetensors
	// layout), or for int8/int4 the packed u32 words of shaders.Weights.
	Data []byte
	// Scales holds int8/int4's f16 group scales packed as
	// shaders.Weights.Scales; nil for f32/f16.
	Scales []byte
}

// Source is where the model's weights come from, by HF / ctlens tensor
// name (weights/ reads safetensors shards; RandomWeights makes a tiny
// model). bf16 and other storage types are converted to f32 or f16 by the
// Source.
type Source interface {
	Tensor(name string) (SourceTensor, error)
}

// MapSource is an in-memory Source.
type MapSource map[string]SourceTensor

// Tensor implements Source.
func (m MapSource) Tensor(name string) (SourceTensor, error) {
	t, ok := m[name]
	if !ok {
		return SourceTensor{}, fmt.Errorf("model: tensor %q: %w", name, ErrNoTensor)
	}
	return t, nil
}

// PutF32 stores v with shape as an f32 tensor.
func (m MapSource) PutF32(name string, v []float32, shape ...int) {
	m[name] = SourceTensor{Shape: shape, DType: shaders.F32, Data: shaders.F32Bytes(v)}
}

// PutWeights stores a packed matrix (N, K) (or with shape, e.g. a conv
// kernel's (C, Cin, p, p)).
func (m MapSource) PutWeights(name string, w shaders.Weights, shape ...int) {
	if shape == nil {
		shape = []int{w.N, w.K}
	}
	t := SourceTensor{Shape: shape, DType: w.DType, Data: shaders.U32Bytes(w.Words)}
	if w.DType == shaders.F16 {
		t.Data = t.Data[:2*w.N*w.K]
	}
	if w.DType.Scaled() {
		t.Scales = shaders.U32Bytes(w.Scales)
	}
	m[name] = t
}

// ---- tensor names ----------------------------------------------------------

// HF Phi-3-Vision names, plus ctlens names for the TGH-MoE (under the
// vision layer's mlp, whose own fc1/fc2 are the shared expert).
const (
	visionPrefix = "model.vision_embed_tokens.img_processor.vision_model."
	embedPrefix  = "model.vision_embed_tokens."
)

// VisionName is the name of a vision tower tensor, e.g.
// VisionName("embeddings.class_embedding").
func VisionName(s string) string { return visionPrefix + s }

// VisionLayerName is the name of a tensor of vision layer l, e.g.
// VisionLayerName(3, "self_attn.q_proj.weight").
func VisionLayerName(l int, s string) string {
	return visionPrefix + "encoder.layers." + strconv.Itoa(l) + "." + s
}

// ExpertName is the name of a tensor of MoE expert j (global index g·Eg +
// e) of vision layer l, e.g. ExpertName(3, 5, "fc1.weight").
func ExpertName(l, j int, s string) string {
	return VisionLayerName(l, "mlp.experts."+strconv.Itoa(j)+"."+s)
}

// EmbedName is a tensor of Phi-3-V's image embedding module (glb_GN,
// sub_GN, img_projection.*) or of ctlens' prompt routers (task_router.*,
// text_proj.*).
func EmbedName(s string) string { return embedPrefix + s }

// LLMLayerName is the name of a tensor of decoder layer l, e.g.
// LLMLayerName(0, "self_attn.qkv_proj.weight").
func LLMLayerName(l int, s string) string { return "model.layers." + strconv.Itoa(l) + "." + s }

// ---- the weights -------------------------------------------------------------

// Weights are the model's parameters as backend tensors, one named field
// per HF tensor (fused where the kernels want one matrix). Matrices keep
// their storage type; vectors are f32. Shapes use the letters of doc.go.
type Weights struct {
	Vision    VisionWeights
	Projector ProjectorWeights
	Router    *RouterWeights // nil for a dense model
	LLM       LLMWeights
}

// VisionWeights are the CLIP ViT's.
type VisionWeights struct {
	Patch      Tensor // (Cv, Cin·p·p) the patch conv as a matrix
	PosCls     Tensor // (S, Cv) position embeddings, the class embedding added to row 0
	PreLNW     Tensor // (Cv) pre_layrnorm
	PreLNB     Tensor // (Cv)
	Layers     []VisionLayer
	PostLNW    Tensor // (Cv) post_layernorm, nil when absent (unused by Phi-3-V)
	PostLNB    Tensor // (Cv)
	RunsLayers int    // layers that run (Config.Vision.RunLayers)
}

// VisionLayer is one pre-LN CLIP block.
type VisionLayer struct {
	LN1W, LN1B Tensor // (Cv)
	QKV        Tensor // (3Cv, Cv) q_proj, k_proj, v_proj stacked
	QKVB       Tensor // (3Cv)
	// Q, K, V and their biases replace QKV when the fused (tokens, 3Cv)
	// activation would exceed the backend's binding limit (visionPlan).
	Q, K, V    Tensor      // (Cv, Cv) each
	QB, KB, VB Tensor      // (Cv) each
	Out        Tensor      // (Cv, Cv) out_proj
	OutB       Tensor      // (Cv)
	LN2W, LN2B Tensor      // (Cv)
	FFN        FFN         // the dense MLP; in an MoE layer the shared expert (unset when off)
	MoE        *MoEWeights // nil in a dense layer
}

// FFN is a two-layer MLP fc2(act(fc1 x)).
type FFN struct {
	FC1, FC1B Tensor // (Fv, Cv), (Fv)
	FC2, FC2B Tensor // (Cv, Fv), (Cv)
}

// MoEWeights are one TGH-MoE layer's router and experts.
type MoEWeights struct {
	// The token router W·[x ; P·pool] + b, split by columns: the text
	// part is the same for every token of a request, so it is folded into
	// a per-request bias (TextBias in State) and only RouterX runs per token.
	RouterX Tensor // (G·Eg, Cv) f32
	RouterT Tensor // (G·Eg, Dt) f32; nil when Dt = 0
	RouterB Tensor // (G·Eg)
	Experts []FFN  // G·Eg, expert e of group g at g·Eg + e
}

// RouterWeights are the prompt-side TGH-MoE weights.
type RouterWeights struct {
	Task      Tensor // (G, C) the linear task router over the mean prompt embedding
	TaskB     Tensor // (G)
	TextProj  Tensor // (Dt, C) P, projecting the text pool for the token routers; nil when Dt = 0
	TextProjB Tensor // (Dt)
}

// ProjectorWeights are the 2-layer MLP after the merge and the separators.
type ProjectorWeights struct {
	FC1, FC1B Tensor // (C, 4Cv), (C)
	FC2, FC2B Tensor // (C, C), (C)
	SubGN     Tensor // (4Cv) sub_GN, nil when unused
	GlbGN     Tensor // (4Cv) glb_GN, nil when unused
}

// LLMWeights are the decoder's.
type LLMWeights struct {
	Embed  Tensor // (V, C) embed_tokens
	Layers []LLMLayer
	Norm   Tensor // (C) final RMSNorm
	Head   Tensor // (V, C) lm_head; == Embed when tied
}

// LLMLayer is one Phi-3/Llama block.
type LLMLayer struct {
	AttnNorm Tensor // (C) input_layernorm
	QKV      Tensor // ((H+2Hkv)·Dh, C) qkv_proj (or q, k, v stacked)
	QKVB     Tensor // ((H+2Hkv)·Dh) or nil
	O        Tensor // (C, H·Dh) o_proj
	FFNNorm  Tensor // (C) post_attention_layernorm
	GateUp   Tensor // (2F, C) gate_up_proj (or gate, up stacked)
	Down     Tensor // (C, F) down_proj
}

// LoadWeights reads every tensor the config needs from src, checks its
// shape and uploads it through ops. Names are HF Phi-3-Vision's (Llama's
// separate q/k/v and gate/up projections are accepted and stacked) plus
// ctlens' MoE names (ExpertName, EmbedName("task_router.weight"), …).
func LoadWeights(ops Ops, cfg Config, src Source) (*Weights, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	plan, err := planVision(cfg, ops)
	if err != nil {
		return nil, err
	}
	l := &loader{ops: ops, src: src}
	w := &Weights{}
	v, lc := cfg.Vision, cfg.LLM
	cv, c := v.HiddenSize, lc.HiddenSize
	g, eg, dt := cfg.MoE.Tasks, cfg.MoE.ExpertsPerTask, cfg.MoE.RouterTextDim

	// Vision embeddings.
	if cfg.HasVision() {
		s := v.Tokens()
		w.Vision.Patch = l.matrix(VisionName("embeddings.patch_embedding.weight"), cv, v.PatchK())
		pos := l.vector(VisionName("embeddings.position_embedding.weight"), s*cv)
		if v.ClassToken && pos != nil {
			cls := l.vector(VisionName("embeddings.class_embedding"), cv)
			for c := range cls {
				// HF adds the position embedding to cat(class, patches) in f32;
				// adding it here once gives the same f32 sum, because the
				// patch GEMM writes an exact zero in the class row.
				pos[c] += cls[c]
			}
		}
		w.Vision.PosCls = l.f32("vision.pos_cls", pos, s, cv)
		w.Vision.PreLNW = l.vec(VisionName("pre_layrnorm.weight"), cv)
		w.Vision.PreLNB = l.vec(VisionName("pre_layrnorm.bias"), cv)
		w.Vision.PostLNW = l.optVec(VisionName("post_layernorm.weight"), cv)
		w.Vision.PostLNB = l.optVec(VisionName("post_layernorm.bias"), cv)
		w.Vision.RunsLayers = v.RunLayers()
		for i := 0; i < v.RunLayers(); i++ {
			n := func(s string) string { return VisionLayerName(i, s) }
			vl := VisionLayer{
				LN1W: l.vec(n("layer_norm1.weight"), cv), LN1B: l.vec(n("layer_norm1.bias"), cv),
				Out: l.matrix(n("self_attn.out_proj.weight"), cv, cv), OutB: l.vec(n("self_attn.out_proj.bias"), cv),
				LN2W: l.vec(n("layer_norm2.weight"), cv), LN2B: l.vec(n("layer_norm2.bias"), cv),
			}
			if plan.splitQKV {
				vl.Q, vl.QB = l.matrix(n("self_attn.q_proj.weight"), cv, cv), l.vec(n("self_attn.q_proj.bias"), cv)
				vl.K, vl.KB = l.matrix(n("self_attn.k_proj.weight"), cv, cv), l.vec(n("self_attn.k_proj.bias"), cv)
				vl.V, vl.VB = l.matrix(n("self_attn.v_proj.weight"), cv, cv), l.vec(n("self_attn.v_proj.bias"), cv)
			} else {
				vl.QKV = l.stacked([]string{n("self_attn.q_proj.weight"), n("self_attn.k_proj.weight"), n("self_attn.v_proj.weight")}, []int{cv, cv, cv}, cv)
				vl.QKVB = l.f32(n("self_attn.qkv.bias"), l.concat(l.vector(n("self_attn.q_proj.bias"), cv), l.vector(n("self_attn.k_proj.bias"), cv), l.vector(n("self_attn.v_proj.bias"), cv)), 3*cv)
			}
			moe := cfg.IsMoE(i)
			if !moe || cfg.MoE.SharedExpert {
				vl.FFN = l.ffn(n("mlp."), cv, v.Intermediate)
			}
			if moe {
				m := &MoEWeights{}
				r := l.matrixF32(n("mlp.router.weight"), g*eg, cv+dt)
				if r != nil {
					xs, ts := splitCols(r, g*eg, cv, dt)
					m.RouterX = l.f32Matrix(n("mlp.router.weight[x]"), xs, g*eg, cv)
					if dt > 0 {
						m.RouterT = l.f32Matrix(n("mlp.router.weight[text]"), ts, g*eg, dt)
					}
				}
				m.RouterB = l.vec(n("mlp.router.bias"), g*eg)
				for j := 0; j < g*eg; j++ {
					m.Experts = append(m.Experts, l.ffn(n("mlp.experts."+strconv.Itoa(j)+"."), cv, v.Intermediate))
				}
				vl.MoE = m
			}
			w.Vision.Layers = append(w.Vision.Layers, vl)
		}
	}

	// Projector.
	if cfg.HasVision() && cfg.HasLLM() {
		w.Projector = ProjectorWeights{
			FC1: l.matrix(EmbedName("img_projection.0.weight"), c, 4*cv), FC1B: l.vec(EmbedName("img_projection.0.bias"), c),
			FC2: l.matrix(EmbedName("img_projection.2.weight"), c, c), FC2B: l.vec(EmbedName("img_projection.2.bias"), c),
		}
		if cfg.Projector.SubSeparator {
			w.Projector.SubGN = l.vec(EmbedName("sub_GN"), 4*cv)
		}
		if cfg.Projector.GlbSeparator {
			w.Projector.GlbGN = l.vec(EmbedName("glb_GN"), 4*cv)
		}
	}

	// Prompt routers.
	if cfg.HasMoE() {
		w.Router = &RouterWeights{
			Task: l.matrix(EmbedName("task_router.weight"), g, c), TaskB: l.vec(EmbedName("task_router.bias"), g),
		}
		if dt > 0 {
			w.Router.TextProj = l.matrix(EmbedName("text_proj.weight"), dt, c)
			w.Router.TextProjB = l.vec(EmbedName("text_proj.bias"), dt)
		}
	}

	// Decoder.
	if cfg.HasLLM() {
		l.loadLLM(w, lc)
	}
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("model: loading weights: %w", errors.Join(l.errs...))
	}
	return w, nil
}

// loadLLM loads the decoder's tensors.
func (l *loader) loadLLM(w *Weights, lc LLMConfig) {
	c := lc.HiddenSize
	h, hkv, dh, f := lc.NumHeads, lc.NumKVHeads, lc.Dh(), lc.Intermediate
	w.LLM.Embed = l.matrix("model.embed_tokens.weight", lc.VocabSize, c)
	for i := 0; i < lc.NumLayers; i++ {
		n := func(s string) string { return LLMLayerName(i, s) }
		ll := LLMLayer{
			AttnNorm: l.vec(n("input_layernorm.weight"), c),
			O:        l.matrix(n("self_attn.o_proj.weight"), c, h*dh),
			FFNNorm:  l.vec(n("post_attention_layernorm.weight"), c),
			Down:     l.matrix(n("mlp.down_proj.weight"), c, f),
		}
		if l.has(n("self_attn.qkv_proj.weight")) {
			ll.QKV = l.matrix(n("self_attn.qkv_proj.weight"), (h+2*hkv)*dh, c)
			ll.QKVB = l.optVec(n("self_attn.qkv_proj.bias"), (h+2*hkv)*dh)
		} else {
			ll.QKV = l.stacked([]string{n("self_attn.q_proj.weight"), n("self_attn.k_proj.weight"), n("self_attn.v_proj.weight")}, []int{h * dh, hkv * dh, hkv * dh}, c)
			if l.has(n("self_attn.q_proj.bias")) {
				ll.QKVB = l.f32(n("self_attn.qkv.bias"), l.concat(l.vector(n("self_attn.q_proj.bias"), h*dh), l.vector(n("self_attn.k_proj.bias"), hkv*dh), l.vector(n("self_attn.v_proj.bias"), hkv*dh)), (h+2*hkv)*dh)
			}
		}
		if l.has(n("mlp.gate_up_proj.weight")) {
			ll.GateUp = l.matrix(n("mlp.gate_up_proj.weight"), 2*f, c)
		} else {
			ll.GateUp = l.stacked([]string{n("mlp.gate_proj.weight"), n("mlp.up_proj.weight")}, []int{f, f}, c)
		}
		w.LLM.Layers = append(w.LLM.Layers, ll)
	}
	w.LLM.Norm = l.vec("model.norm.weight", c)
	if lc.TieEmbeddings {
		w.LLM.Head = w.LLM.Embed
	} else {
		w.LLM.Head = l.matrix("lm_head.weight", lc.VocabSize, c)
	}
}

// loader reads and uploads tensors, collecting every error so one load
// reports all missing or misshapen tensors at once.
type loader struct {
	ops  Ops
	src  Source
	errs []error
}

func (l *loader) fail(err error) { l.errs = append(l.errs, err) }

func (l *loader) has(name string) bool {
	_, err := l.src.Tensor(name)
	return err == nil
}

// get reads name and checks that it has want elements.
func (l *loader) get(name string, want int) (SourceTensor, bool) {
	t, err := l.src.Tensor(name)
	if err != nil {
		l.fail(fmt.Errorf("tensor %q: %w", name, err))
		return t, false
	}
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	if n != want {
		l.fail(fmt.Errorf("tensor %q: shape %v (%d elements), want %d elements", name, t.Shape, n, want))
		return t, false
	}
	return t, true
}

// weightsOf converts a source tensor to a packed matrix of n rows.
func weightsOf(name string, t SourceTensor, n, k int) (shaders.Weights, error) {
	w := shaders.Weights{DType: t.DType, N: n, K: k}
	switch t.DType {
	case shaders.F32:
		if len(t.Data) != 4*n*k {
			return w, fmt.Errorf("tensor %q: %d bytes of f32 for %d×%d", name, len(t.Data), n, k)
		}
		w.Words = shaders.BytesU32(t.Data)
	case shaders.F16:
		if len(t.Data) != 2*n*k {
			return w, fmt.Errorf("tensor %q: %d bytes of f16 for %d×%d", name, len(t.Data), n, k)
		}
		data := t.Data
		if len(data)%4 != 0 {
			data = append(append([]byte(nil), data...), 0, 0) // an odd count: pad the last word
		}
		w.Words = shaders.BytesU32(data)
	case shaders.Int8, shaders.Int4:
		if k%shaders.GroupSize != 0 {
			return w, fmt.Errorf("tensor %q: %s with K = %d, not a multiple of %d", name, t.DType, k, shaders.GroupSize)
		}
		if want := t.DType.Bytes(n, k); len(t.Data)+len(t.Scales) != want {
			return w, fmt.Errorf("tensor %q: %d + %d bytes of %s for %d×%d, want %d", name, len(t.Data), len(t.Scales), t.DType, n, k, want)
		}
		w.Words = shaders.BytesU32(t.Data)
		w.Scales = shaders.BytesU32(t.Scales)
	default:
		return w, fmt.Errorf("tensor %q: unknown dtype %d", name, t.DType)
	}
	return w, nil
}

// packed reads name as an (n, k) matrix in its storage type.
func (l *loader) packed(name string, n, k int) (shaders.Weights, bool) {
	t, ok := l.get(name, n*k)
	if !ok {
		return shaders.Weights{}, false
	}
	w, err := weightsOf(name, t, n, k)
	if err != nil {
		l.fail(err)
		return w, false
	}
	if k%w.DType.KMultiple() != 0 {
		l.fail(fmt.Errorf("tensor %q: %s needs K a multiple of %d, have %d", name, w.DType, w.DType.KMultiple(), k))
		return w, false
	}
	return w, true
}

// matrix uploads name as an (n, k) weight matrix.
func (l *loader) matrix(name string, n, k int) Tensor {
	w, ok := l.packed(name, n, k)
	if !ok {
		return nil
	}
	return l.ops.Upload(name, w)
}

// matrixF32 reads name as (n, k) dequantized to f32 values.
func (l *loader) matrixF32(name string, n, k int) []float32 {
	w, ok := l.packed(name, n, k)
	if !ok {
		return nil
	}
	return w.Dequant()
}

// stacked uploads matrices of rows[i] rows each, stacked along N (q, k, v
// into qkv), as one matrix in their common storage type (f32 when they
// differ).
func (l *loader) stacked(names []string, rows []int, k int) Tensor {
	var parts []shaders.Weights
	for i, name := range names {
		w, ok := l.packed(name, rows[i], k)
		if !ok {
			return nil
		}
		parts = append(parts, w)
	}
	w := stackRows(parts)
	return l.ops.Upload(names[0]+"+stacked", w)
}

// stackRows stacks matrices of one K along N. Packed words concatenate
// (every part holds whole words: K is a multiple of the dtype's
// KMultiple); int8/int4 scales are re-packed group by group because a part
// with an odd number of groups ends in the middle of a scale word.
func stackRows(parts []shaders.Weights) shaders.Weights {
	if mixed(parts) {
		var all []float32
		n := 0
		for _, p := range parts {
			all = append(all, p.Dequant()...)
			n += p.N
		}
		w, _ := shaders.Pack(shaders.F32, all, n, parts[0].K)
		return w
	}
	dt := parts[0].DType
	out := shaders.Weights{DType: dt, K: parts[0].K}
	var scales []uint16
	for _, p := range parts {
		out.N += p.N
		out.Words = append(out.Words, p.Words...)
		if dt.Scaled() {
			groups := p.N * p.K / shaders.GroupSize
			for g := 0; g < groups; g++ {
				scales = append(scales, uint16(p.Scales[g/2]>>(16*(g%2))))
			}
		}
	}
	if dt.Scaled() {
		out.Scales = make([]uint32, (len(scales)+1)/2)
		for g, s := range scales {
			out.Scales[g/2] |= uint32(s) << (16 * (g % 2))
		}
	}
	return out
}

func mixed(parts []shaders.Weights) bool {
	for _, p := range parts {
		if p.DType != parts[0].DType {
			return true
		}
	}
	return false
}

// vector reads name as n f32 values (any storage type is dequantized).
func (l *loader) vector(name string, n int) []float32 {
	t, ok := l.get(name, n)
	if !ok {
		return nil
	}
	switch t.DType {
	case shaders.F32:
		if len(t.Data) != 4*n {
			l.fail(fmt.Errorf("tensor %q: %d bytes of f32 for %d values", name, len(t.Data), n))
			return nil
		}
		return shaders.BytesF32(t.Data)
	case shaders.F16:
		if len(t.Data) != 2*n {
			l.fail(fmt.Errorf("tensor %q: %d bytes of f16 for %d values", name, len(t.Data), n))
			return nil
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(t.Data[2*i:])).Float32()
		}
		return out
	}
	w, err := weightsOf(name, t, 1, n)
	if err != nil {
		l.fail(err)
		return nil
	}
	return w.Dequant()
}

// f32 uploads v as a resident f32 tensor of shape.
func (l *loader) f32(name string, v []float32, shape ...int) Tensor {
	if v == nil {
		return nil
	}
	t := l.ops.Alloc(name, F32, shape...)
	l.ops.Write(t, 0, v)
	return t
}

// f32Matrix uploads values v as an f32 weight matrix (n, k).
func (l *loader) f32Matrix(name string, v []float32, n, k int) Tensor {
	w, err := shaders.Pack(shaders.F32, v, n, k)
	if err != nil {
		l.fail(fmt.Errorf("tensor %q: %w", name, err))
		return nil
	}
	return l.ops.Upload(name, w)
}

// vec uploads the vector name (n).
func (l *loader) vec(name string, n int) Tensor { return l.f32(name, l.vector(name, n), n) }

// optVec is vec for a tensor that may be absent.
func (l *loader) optVec(name string, n int) Tensor {
	if !l.has(name) {
		return nil
	}
	return l.vec(name, n)
}

// concat joins vectors, nil if any is missing (already reported).
func (l *loader) concat(vs ...[]float32) []float32 {
	var out []float32
	for _, v := range vs {
		if v == nil {
			return nil
		}
		out = append(out, v...)
	}
	return out
}

// ffn loads fc1/fc2 under prefix (…mlp. or …mlp.experts.j.).
func (l *loader) ffn(prefix string, cv, fv int) FFN {
	return FFN{
		FC1: l.matrix(prefix+"fc1.weight", fv, cv), FC1B: l.vec(prefix+"fc1.bias", fv),
		FC2: l.matrix(prefix+"fc2.weight", cv, fv), FC2B: l.vec(prefix+"fc2.bias", cv),
	}
}

// splitCols splits an (n, a+b) row-major matrix into (n, a) and (n, b).
func splitCols(m []float32, n, a, b int) (left, right []float32) {
	left = make([]float32, 0, n*a)
	right = make([]float32, 0, n*b)
	for r := 0; r < n; r++ {
		row := m[r*(a+b) : (r+1)*(a+b)]
		left = append(left, row[:a]...)
		right = append(right, row[a:]...)
	}
	return left, right
}
