package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strings"

	"ctlens/model"
	"ctlens/model/tokenizer"
	"ctlens/shaders"
	"ctlens/tools/internal/engine"
	"ctlens/volume"
	"ctlens/weights"
)

// Options is one conversion.
type Options struct {
	Checkpoint string // HF checkpoint directory
	Out        string // the ctlens model directory to write (new or empty)
	Name       string // the model's name in the manifest; "" means Out's base name
	Tokenizer  string // tokenizer.json to use instead of the checkpoint's
	InputNorm  string // the volume normalisation recorded for the model (volume.ParseNorm's form)

	// Keep2D converts a Phi-3-V checkpoint as it is (2D, Phi-3-V's HD
	// layout): a format and quantization conversion only.
	Keep2D   bool
	Transfer Transfer
	// TransferFlags names the transfer options the user set explicitly;
	// they are an error where no transfer happens (a text-only or CLIP
	// checkpoint, or one that is already a ctlens model).
	TransferFlags []string

	LLMQuant    shaders.DType // decoder matrices (embeddings and head included)
	VisionQuant shaders.DType // vision tower and projector matrices

	// RouterStd is the standard deviation of the token and task routers'
	// initial weights; 0 (the default) initialises them to zero. Seed
	// seeds them and the text projection.
	RouterStd float64
	Seed      int64

	Log io.Writer // progress and the summary; nil discards
}

// Transfer is the 2D→3D transfer and the TGH-MoE applied to a Phi-3-V
// checkpoint (model.Config's Transfer3D, MoE and Projector fields).
type Transfer struct {
	Slices     int     // D
	LayersFrom int     // first vision layer with 3D attention; < 0: half of the layers that run
	RoPETheta  float64 // the slice rotary's θ; 0: no slice rotary
	// MoELayers are the vision layers whose FFN becomes a TGH-MoE; nil:
	// the 3D layers; empty: none (a dense 3D model).
	MoELayers      []int
	ExpertsPerTask int
	TopK           int
	RouterTextDim  int
	SharedExpert   bool
	DepthPool      int
	Separators     bool // keep Phi-3-V's sub_GN/glb_GN rows in the slice layout
}

// Result is what a conversion wrote.
type Result struct {
	Manifest *weights.Manifest
	Config   model.Config
	DTypes   map[string]int // tensors by stored type ("int4", "f16", "f32", "plain")
	Skipped  []string       // checkpoint tensors the model never reads
	Experts  int            // experts initialised from the pretrained FFN
	Routers  []string       // router tensors initialised here
}

// Convert reads the HF checkpoint, derives the target config, initialises
// what the transfer adds, quantizes and writes the model directory.
func Convert(ctx context.Context, o Options) (*Result, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	if err := checkOut(o.Out); err != nil {
		return nil, err
	}
	if o.InputNorm == "" {
		o.InputNorm = engine.DefaultInputNorm
	}
	if _, err := volume.ParseNorm(o.InputNorm); err != nil {
		return nil, fmt.Errorf("--input-norm: %w\nhint: minmax, window:C:W or window-signed:C:W (HU)", err)
	}
	h, err := engine.OpenHF(o.Checkpoint)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	cfg, err := target(h, o)
	if err != nil {
		return nil, err
	}
	tokJSON, err := readTokenizer(h, o.Tokenizer, cfg)
	if err != nil {
		return nil, err
	}

	c := &converter{h: h, cfg: cfg, o: o, res: &Result{Config: cfg, DTypes: map[string]int{}}, scale: map[string]float32{},
		rng: rand.New(rand.NewSource(o.Seed))}
	if err := c.planMoE(); err != nil {
		return nil, err
	}
	if err := c.planReads(); err != nil {
		return nil, err
	}
	names := h.Ckpt.Names()
	for i, hn := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := c.passThrough(hn); err != nil {
			return nil, err
		}
		// A real checkpoint takes minutes: say where it is, every tenth.
		if step := max(len(names)/10, 1); (i+1)%step == 0 || i+1 == len(names) {
			fmt.Fprintf(logw, "converted %d/%d checkpoint tensors\n", i+1, len(names))
		}
	}
	if err := c.initMoE(); err != nil {
		return nil, err
	}
	sort.Slice(c.out, func(i, j int) bool { return c.out[i].Name < c.out[j].Name })

	name := o.Name
	if name == "" {
		name = baseName(o.Out)
	}
	cj, err := engine.ConfigJSON(cfg, o.InputNorm)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "writing %d tensors to %s\n", len(c.out), o.Out)
	m, err := weights.WriteModel(o.Out, c.out, cj, tokJSON, weights.WriteOptions{Model: name, Dims: engine.Dims(cfg)})
	if err != nil {
		return nil, err
	}
	c.res.Manifest = m
	return c.res, nil
}

// checkOut refuses an output directory that holds files: shards of an
// earlier conversion would sit beside the new manifest.
func checkOut(dir string) error {
	if dir == "" {
		return errors.New("--out is required\nhint: --out DIR, a new or empty directory for the ctlens model")
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("--out %s is not empty\nhint: give a new directory, or remove the old model first", dir)
	}
	return nil
}

func baseName(dir string) string {
	dir = strings.TrimRight(dir, "/")
	if i := strings.LastIndexByte(dir, '/'); i >= 0 {
		return dir[i+1:]
	}
	return dir
}

// target is the config of the converted model: the checkpoint's, with the
// 2D→3D transfer and TGH-MoE applied to a Phi-3-V (vision + decoder)
// checkpoint unless Keep2D.
func target(h *engine.HF, o Options) (model.Config, error) {
	base := h.Config
	vlm := base.HasVision() && base.HasLLM()
	if h.ModelType == "ctlens" || !vlm || o.Keep2D {
		if len(o.TransferFlags) > 0 {
			why := "it is already a ctlens model: its 3D and MoE settings come from its config.json"
			switch {
			case o.Keep2D:
				why = "--keep-2d converts without the transfer"
			case !vlm:
				why = fmt.Sprintf("it is a %s, and the transfer needs a vision tower and a decoder", engine.Arch(base))
			}
			return model.Config{}, fmt.Errorf("%s cannot take --%s: %s\nhint: drop those flags", h.Dir, strings.Join(o.TransferFlags, ", --"), why)
		}
		return base, nil
	}
	t := o.Transfer
	c := base
	c.Projector.HDCrops = nil
	c.Projector.SubSeparator, c.Projector.GlbSeparator = t.Separators, t.Separators
	c.Projector.DepthPool = max(t.DepthPool, 1)
	from := t.LayersFrom
	if from < 0 {
		from = c.Vision.RunLayers() / 2
	}
	c.Transfer3D = model.Transfer3DConfig{Enabled: true, Slices: t.Slices, LayersFrom: from, SliceRoPE: t.RoPETheta > 0, RoPETheta: t.RoPETheta}
	if !c.Transfer3D.SliceRoPE {
		c.Transfer3D.RoPETheta = 10000 // unused; keeps the config valid for a later switch-on
	}
	layers := t.MoELayers
	if layers == nil {
		for l := from; l < c.Vision.RunLayers(); l++ {
			layers = append(layers, l)
		}
	}
	c.MoE = model.MoEConfig{Tasks: len(model.TaskNames)}
	if len(layers) > 0 {
		c.MoE = model.MoEConfig{Layers: layers, Tasks: len(model.TaskNames), ExpertsPerTask: t.ExpertsPerTask, TopK: t.TopK,
			SharedExpert: t.SharedExpert, RouterTextDim: t.RouterTextDim, Renormalize: true}
	}
	if err := c.Validate(); err != nil {
		return model.Config{}, fmt.Errorf("%w\nhint: check --slices, --layers-3d-from, --moe-layers, --experts-per-task, --top-k and --depth-pool against the checkpoint (%d vision layers run)", err, base.Vision.RunLayers())
	}
	return c, nil
}

// readTokenizer returns the tokenizer.json to ship, checked to load and
// to fit the decoder's vocabulary.
func readTokenizer(h *engine.HF, path string, cfg model.Config) ([]byte, error) {
	if !cfg.HasLLM() {
		return nil, nil // a vision tower alone tokenizes nothing
	}
	var data []byte
	var err error
	if path != "" {
		data, err = os.ReadFile(path)
	} else {
		data, err = h.Tokenizer()
	}
	if err != nil {
		return nil, fmt.Errorf("%w\nhint: report and ask need the tokenizer; pass --tokenizer path/to/tokenizer.json", err)
	}
	tok, err := tokenizer.Load(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if tok.VocabSize() > cfg.LLM.VocabSize {
		return nil, fmt.Errorf("the tokenizer has %d ids but the decoder's vocabulary has %d\nhint: pass the checkpoint's own tokenizer with --tokenizer", tok.VocabSize(), cfg.LLM.VocabSize)
	}
	return data, nil
}

// converter carries one conversion's state.
type converter struct {
	h   *engine.HF
	cfg model.Config
	o   Options
	res *Result
	out []weights.Tensor
	// scale multiplies a passed-through tensor (the shared expert's fc2
	// when the MoE halves it, see planMoE).
	scale map[string]float32
	// newMoE lists the MoE layers whose experts and routers this
	// conversion initialises (the checkpoint has none yet).
	newMoE []int
	// expertScale multiplies the copied experts' fc2 (see planMoE).
	expertScale float32
	// newRouters says whether the prompt routers (task router, text
	// projection) are initialised here.
	newRouters bool
	// readSet holds the tensors the model reads (engine.Reads): exactly
	// what the directory gets.
	readSet map[string]bool
	rng     *rand.Rand
}

// planMoE decides how the TGH-MoE starts, so that at initialisation the
// MoE layer computes exactly the pretrained FFN (the transfer then starts
// from the 2D model's function, as the paper's "reuse every parameter"
// asks):
//
//   - every routed expert is a copy of the layer's fc1/fc2;
//   - the token routers start at zero: every logit is 0, so the softmax
//     over the group is uniform, top-k picks K experts with equal gates,
//     and the gated sum of K identical outputs is the FFN output times the
//     gates' sum s (1 with renormalisation, else K/Eg);
//   - with a shared expert (always on, the pretrained FFN's own names)
//     output = shared(x) + Σ gates·expert(x) would be twice the FFN, so
//     the FFN is split in halves: fc2 (weight and bias) of the shared
//     expert × ½ and of each routed expert × ½/s. Halving is exact in
//     binary floating point and in the quantized types (the group scale
//     halves, the integers stay), so only the order of the final additions
//     differs from the dense layer.
//
// The routers are zero rather than small random because only zero gives
// uniform gates for every token whatever renormalisation says; since the
// experts start identical, any gates summing to one give the same output,
// so --router-std > 0 (symmetry breaking for training) keeps the equality
// when renormalising. The text projection P, in contrast, is random: the
// token router's text half is W_t·P·pool, and with both W_t and P zero
// neither would receive a gradient (a bilinear saddle); with P random, W_t
// starts learning at once, the argument LoRA makes for its A and B.
func (c *converter) planMoE() error {
	m := c.cfg.MoE
	if !c.cfg.HasMoE() {
		return nil
	}
	for _, l := range m.Layers {
		if c.h.Has(model.ExpertName(l, 0, "fc1.weight")) {
			continue // a tools/train checkpoint: experts trained already
		}
		for _, s := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
			if !c.h.Has(model.VisionLayerName(l, "mlp."+s)) {
				return fmt.Errorf("vision layer %d has neither experts nor the FFN (%s) to initialise them from", l, model.VisionLayerName(l, "mlp."+s))
			}
		}
		c.newMoE = append(c.newMoE, l)
	}
	gateSum := float32(1)
	if !m.Renormalize {
		gateSum = float32(m.TopK) / float32(m.ExpertsPerTask)
	}
	c.expertScale = 1 / gateSum
	if m.SharedExpert {
		c.expertScale = 0.5 / gateSum
		for _, l := range c.newMoE {
			c.scale[model.VisionLayerName(l, "mlp.fc2.weight")] = 0.5
			c.scale[model.VisionLayerName(l, "mlp.fc2.bias")] = 0.5
		}
	}
	c.newRouters = len(c.newMoE) > 0 && !c.h.Has(model.EmbedName("task_router.weight"))
	if c.o.RouterStd > 0 && !m.Renormalize {
		fmt.Fprintln(c.logw(), "warning: random routers without renormalisation: the MoE no longer equals the dense FFN at initialisation")
	}
	return nil
}

func (c *converter) logw() io.Writer {
	if c.o.Log == nil {
		return io.Discard
	}
	return c.o.Log
}

// planReads finds the tensors the model will read (engine.Reads) among
// the checkpoint's and those initMoE adds: the directory holds exactly
// those, and a checkpoint that lacks one fails here, before writing.
func (c *converter) planReads() error {
	shapes := map[string][]int{}
	for _, hn := range c.h.Ckpt.Names() {
		info, _, err := c.h.Ckpt.Info(hn)
		if err != nil {
			return err
		}
		shapes[c.h.ModelName(hn)] = info.Shape
	}
	m := c.cfg.MoE
	e := m.Tasks * m.ExpertsPerTask
	cv, fv, ctext := c.cfg.Vision.HiddenSize, c.cfg.Vision.Intermediate, c.cfg.LLM.HiddenSize
	for _, l := range c.newMoE {
		for j := 0; j < e; j++ {
			shapes[model.ExpertName(l, j, "fc1.weight")] = []int{fv, cv}
			shapes[model.ExpertName(l, j, "fc1.bias")] = []int{fv}
			shapes[model.ExpertName(l, j, "fc2.weight")] = []int{cv, fv}
			shapes[model.ExpertName(l, j, "fc2.bias")] = []int{cv}
		}
		shapes[model.VisionLayerName(l, "mlp.router.weight")] = []int{e, cv + m.RouterTextDim}
		shapes[model.VisionLayerName(l, "mlp.router.bias")] = []int{e}
	}
	if c.newRouters {
		shapes[model.EmbedName("task_router.weight")] = []int{m.Tasks, ctext}
		shapes[model.EmbedName("task_router.bias")] = []int{m.Tasks}
		if m.RouterTextDim > 0 {
			shapes[model.EmbedName("text_proj.weight")] = []int{m.RouterTextDim, ctext}
			shapes[model.EmbedName("text_proj.bias")] = []int{m.RouterTextDim}
		}
	}
	var err error
	if c.readSet, err = engine.Reads(c.cfg, shapes); err != nil {
		return fmt.Errorf("%s does not hold the model its config describes: %w\nhint: the tensor names must be Phi-3-V's (or tools/train's); check config.json against the safetensors", c.h.Dir, err)
	}
	return nil
}

// passThrough converts one checkpoint tensor.
func (c *converter) passThrough(hn string) error {
	name := c.h.ModelName(hn)
	info, _, err := c.h.Ckpt.Info(hn)
	if err != nil {
		return err
	}
	switch info.DType {
	case weights.F32, weights.F16, weights.BF16, weights.F64:
	default:
		c.res.Skipped = append(c.res.Skipped, hn+" ("+string(info.DType)+")") // position_ids and other buffers
		return nil
	}
	if !c.readSet[name] {
		c.res.Skipped = append(c.res.Skipped, hn)
		return nil
	}
	v, shape, err := c.h.Ckpt.Float32s(hn)
	if err != nil {
		return err
	}
	if s, ok := c.scale[name]; ok {
		v = scaled(v, s)
	}
	return c.emit(name, shape, v)
}

// initMoE writes the experts, token routers and prompt routers of the MoE
// layers the checkpoint does not have yet (see planMoE).
func (c *converter) initMoE() error {
	m := c.cfg.MoE
	e := m.Tasks * m.ExpertsPerTask
	cv, ctext := c.cfg.Vision.HiddenSize, c.cfg.LLM.HiddenSize
	for _, l := range c.newMoE {
		ffn := map[string][]float32{}
		shapes := map[string][]int{}
		for _, s := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
			v, shape, err := c.h.Ckpt.Float32s(c.h.HFName(model.VisionLayerName(l, "mlp."+s)))
			if err != nil {
				return err
			}
			if strings.HasPrefix(s, "fc2.") {
				v = scaled(v, c.expertScale)
			}
			ffn[s], shapes[s] = v, shape
		}
		for j := 0; j < e; j++ {
			for _, s := range []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} {
				if err := c.emit(model.ExpertName(l, j, s), shapes[s], ffn[s]); err != nil {
					return err
				}
			}
			c.res.Experts++
		}
		w := model.VisionLayerName(l, "mlp.router.weight")
		c.plain(w, []int{e, cv + m.RouterTextDim}, c.random(e*(cv+m.RouterTextDim), c.o.RouterStd))
		c.plain(model.VisionLayerName(l, "mlp.router.bias"), []int{e}, make([]float32, e))
		c.res.Routers = append(c.res.Routers, w)
	}
	if !c.newRouters {
		return nil
	}
	g := m.Tasks
	c.plain(model.EmbedName("task_router.weight"), []int{g, ctext}, c.random(g*ctext, c.o.RouterStd))
	c.plain(model.EmbedName("task_router.bias"), []int{g}, make([]float32, g))
	c.res.Routers = append(c.res.Routers, model.EmbedName("task_router.weight"))
	if dt := m.RouterTextDim; dt > 0 {
		// Unit-variance outputs for a unit-variance pool, as nn.Linear's
		// default init roughly gives.
		c.plain(model.EmbedName("text_proj.weight"), []int{dt, ctext}, c.random(dt*ctext, 1/math.Sqrt(float64(ctext))))
		c.plain(model.EmbedName("text_proj.bias"), []int{dt}, make([]float32, dt))
		c.res.Routers = append(c.res.Routers, model.EmbedName("text_proj.weight"))
	}
	return nil
}

// random is n normal values of standard deviation std (zeros for 0).
func (c *converter) random(n int, std float64) []float32 {
	v := make([]float32, n)
	if std > 0 {
		for i := range v {
			v[i] = float32(c.rng.NormFloat64() * std)
		}
	}
	return v
}

// emit stores a tensor: a matrix in the type its group asks for (the
// LLM's or the vision tower's), falling back where its K does not allow
// that type, or plain f32 values.
func (c *converter) emit(name string, shape []int, v []float32) error {
	if !engine.IsMatrix(name, shape) {
		c.plain(name, shape, v)
		return nil
	}
	n := shape[0]
	k := len(v) / max(n, 1)
	dt := c.o.LLMQuant
	if strings.HasPrefix(name, "model.vision_embed_tokens.") {
		dt = c.o.VisionQuant
	}
	dt = fit(dt, k)
	w, err := shaders.Pack(dt, v, n, k)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", name, err)
	}
	c.out = append(c.out, weights.Matrix(name, w))
	c.res.DTypes[dt.String()]++
	return nil
}

// fit is the type a matrix of reduction length k is stored as when dt is
// asked for: dt when k is a multiple of dt's group (32 for int8/int4),
// else f16 when k is even (the 588-wide patch embedding of CLIP-L/14: 3·14·14),
// else f32.
func fit(dt shaders.DType, k int) shaders.DType {
	switch {
	case k%dt.KMultiple() == 0:
		return dt
	case dt != shaders.F32 && k%shaders.F16.KMultiple() == 0:
		return shaders.F16
	}
	return shaders.F32
}

func (c *converter) plain(name string, shape []int, v []float32) {
	c.out = append(c.out, weights.Plain(name, slices.Clone(shape), v))
	c.res.DTypes["plain"]++
}

func scaled(v []float32, s float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * s
	}
	return out
}
