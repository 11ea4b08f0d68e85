package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/x448/float16"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/tools/internal/backend"
	"ctlens/tools/internal/engine"
	"ctlens/tools/internal/npy"
)

func init() {
	commands["hf-dump"] = command{"run a Hugging Face checkpoint as the reference implementation would and write .npy files (parity)", runHFDump}
}

const hfDumpUsage = "usage: ctlens hf-dump --checkpoint DIR [--tokens 1,2,3 | --tokens-npy ids.npy] [--pixels px.npy]\n" +
	"                     [--image-sizes H,W] [--backend cpu|gpu] --out DIR"

// runHFDump is `ctlens hf-dump`: the engine run on an HF checkpoint
// directory, writing what the reference implementation's forward pass
// returns, as .npy (float32; int64 for ids), so a Python script can
// compare them with transformers' outputs:
//
//	CLIPVisionModel  (pixels N×3×H×W, already normalised)
//	  hidden_states.npy      (layers+1, N, tokens, dim); [0] after pre_layrnorm
//	  last_hidden_state.npy  (N, tokens, dim)
//	  pooler_output.npy      (N, dim): post_layernorm of the class token
//	Phi3ForCausalLM  (--tokens)
//	  logits.npy             (1, T, vocab) for the prompt
//	  greedy_tokens.npy      (1, 8) int64: 8 greedy steps with the KV cache, no EOS stop
//	                         (recomputed whole where LongRoPE's long factors set in, as generate does)
//	  greedy_step_logits.npy (1, 8, vocab): the logits each greedy token was chosen from
//	Phi3VForCausalLM (--tokens with negative ids at image slots, --pixels (1, crops, 3, H, W)
//	                  global crop first, --image-sizes H,W picking the HD crop layout)
//	  the Phi3 files, plus
//	  image_embeds.npy       (1, image tokens, hidden): the projected visual tokens
//	  inputs_embeds.npy      (1, T, hidden): the decoder's input, image slots filled
//
// A ctlens config (tools/train's) runs as Phi3VForCausalLM with its own
// slices: pixels (1, D, Cin, H, W), the prompt's text routing the MoE.
//
// The comparison with transformers needs the real checkpoint and Python,
// e.g. on a machine with both:
//
//	go run ./tools/ctlens hf-dump --checkpoint Phi-3-vision-128k-instruct \
//	    --tokens-npy ids.npy --pixels px.npy --image-sizes 336,672 --out dump/
//
// where ids.npy, px.npy and the sizes come from Phi3VProcessor on an
// image, and the script compares each file with the matching output of
// AutoModelForCausalLM (output_hidden_states, generate with
// output_logits=True, do_sample=False, max_new_tokens=8).
func runHFDump(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return hfDump(ctx, args, os.Stdout, os.Stderr)
}

// greedySteps is the greedy continuation hf-dump writes (issue #4).
const greedySteps = 8

type dumpFlags struct {
	checkpoint, tokens, tokensNPY, pixels, imageSizes, backend, out string
}

func hfDump(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hf-dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f dumpFlags
	fs.StringVar(&f.checkpoint, "checkpoint", "", "Hugging Face checkpoint directory (config.json + *.safetensors, F32/F16/BF16)")
	fs.StringVar(&f.tokens, "tokens", "", "prompt token ids, comma-separated; negative ids mark image slots")
	fs.StringVar(&f.tokensNPY, "tokens-npy", "", "prompt token ids as .npy (int64 or int32, shape (T,) or (1, T))")
	fs.StringVar(&f.pixels, "pixels", "", "normalised pixels as .npy float32: (N, 3, H, W) for CLIP, (1, crops, 3, H, W) for Phi-3-V")
	fs.StringVar(&f.imageSizes, "image-sizes", "", "Phi-3-V: the HD-transformed image size H,W (multiples of the crop size) that picks the crop layout")
	fs.StringVar(&f.backend, "backend", "cpu", "cpu or gpu")
	fs.StringVar(&f.out, "out", "", "directory for the .npy files")
	fs.Usage = func() { fmt.Fprintln(stderr, hfDumpUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), hfDumpUsage)
	}
	if f.checkpoint == "" || f.out == "" {
		return fmt.Errorf("--checkpoint and --out are required\n%s", hfDumpUsage)
	}
	ops, release, err := backend.Open(ctx, f.backend)
	if err != nil {
		return err
	}
	defer release()
	h, err := engine.OpenHF(f.checkpoint)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	d := &dumper{ctx: ctx, ops: ops, h: h, cfg: h.Config, out: f.out, log: stdout}
	switch engine.Arch(h.Config) {
	case "CLIPVisionModel":
		err = d.clip(f)
	case "Phi3ForCausalLM":
		err = d.causal(f, false)
	default:
		err = d.causal(f, true)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s, %s backend) → %s\n", engine.Arch(d.cfg), h.ModelType, ops.Backend(), f.out)
	for _, w := range d.wrote {
		fmt.Fprintln(stdout, " ", w)
	}
	return nil
}

// dumper runs one checkpoint and writes its files.
type dumper struct {
	ctx   context.Context
	ops   model.Ops
	h     *engine.HF
	cfg   model.Config
	out   string
	log   io.Writer
	wrote []string
}

func (d *dumper) write(name string, shape []int, data any) error {
	if err := npy.WriteFile(filepath.Join(d.out, name), shape, data); err != nil {
		return err
	}
	d.wrote = append(d.wrote, fmt.Sprintf("%-24s %v", name, shape))
	return nil
}

// clip runs a bare vision tower over N images.
func (d *dumper) clip(f dumpFlags) error {
	if f.pixels == "" {
		return fmt.Errorf("a CLIPVisionModel needs --pixels (N, 3, H, W)\n%s", hfDumpUsage)
	}
	v := d.cfg.Vision
	px, shape, err := readPixels(f.pixels)
	if err != nil {
		return err
	}
	if len(shape) == 3 {
		shape = append([]int{1}, shape...)
	}
	if len(shape) != 4 || shape[1] != v.NumChannels || shape[2] != v.ImageSize || shape[3] != v.ImageSize {
		return fmt.Errorf("--pixels shape %v, want (N, %d, %d, %d)\nhint: the CLIP processor's pixel_values, as float32", shape, v.NumChannels, v.ImageSize, v.ImageSize)
	}
	n := shape[0]
	// N images are N slices of a 2D model: every layer attends within its image.
	d.cfg.Transfer3D = model.Transfer3DConfig{Slices: n, RoPETheta: d.cfg.Transfer3D.RoPETheta}
	m, err := model.New(d.ops, d.cfg, d.h)
	if err != nil {
		return err
	}
	s, err := m.NewState(model.StateOptions{})
	if err != nil {
		return err
	}
	defer s.Free()
	st, cv := v.Tokens(), v.HiddenSize
	var hidden []float32
	err = m.EncodeVisionHidden(d.ctx, s, px, func(i int, h []float32) error {
		hidden = append(hidden, h...)
		return nil
	})
	if err != nil {
		return err
	}
	layers := len(hidden) / (n * st * cv)
	if err := d.write("hidden_states.npy", []int{layers, n, st, cv}, hidden); err != nil {
		return err
	}
	last := hidden[(layers-1)*n*st*cv:]
	if err := d.write("last_hidden_state.npy", []int{n, st, cv}, last); err != nil {
		return err
	}
	if !d.h.Has(model.VisionName("post_layernorm.weight")) {
		fmt.Fprintln(d.log, "no post_layernorm in the checkpoint: pooler_output.npy not written")
		return nil
	}
	w, err := vectorOf(d.h, model.VisionName("post_layernorm.weight"), cv)
	if err != nil {
		return err
	}
	b, err := vectorOf(d.h, model.VisionName("post_layernorm.bias"), cv)
	if err != nil {
		return err
	}
	cls := make([]float32, n*cv)
	for i := 0; i < n; i++ {
		copy(cls[i*cv:], last[i*st*cv:i*st*cv+cv]) // the class token leads each image
	}
	pooled := make([]float32, n*cv)
	shaders.LayerNormRef(pooled, cls, w, b, n, cv, v.LayerNormEps) // the kernel's own reference maths
	return d.write("pooler_output.npy", []int{n, cv}, pooled)
}

// causal runs a decoder, with the vision tower when vision is set: the
// prompt's logits, then greedy steps with the KV cache.
func (d *dumper) causal(f dumpFlags, vision bool) error {
	ids, err := readTokens(f)
	if err != nil {
		return err
	}
	lc := d.cfg.LLM
	slots, neg := 0, map[int]bool{}
	for i, id := range ids {
		if id < 0 {
			if !vision {
				return fmt.Errorf("token %d at %d: negative ids mark image slots, and a %s has no vision tower", id, i, engine.Arch(d.cfg))
			}
			slots++
			neg[id] = true
			ids[i] = model.ImageSlot
		} else if id >= lc.VocabSize {
			return fmt.Errorf("token %d at %d is outside the vocabulary (%d)", id, i, lc.VocabSize)
		}
	}
	if len(neg) > 1 {
		return fmt.Errorf("the prompt marks image slots with %d different negative ids; hf-dump runs one image", len(neg))
	}
	var px []float32
	if slots > 0 {
		if f.pixels == "" {
			return fmt.Errorf("the prompt has %d image slots but no --pixels were given", slots)
		}
		if px, err = d.visionInput(f, slots); err != nil {
			return err
		}
	} else if f.pixels != "" {
		return fmt.Errorf("--pixels given but the prompt has no image slots\nhint: mark the image's tokens with negative ids, as the Phi-3-V processor does")
	}
	t := len(ids)
	if t+greedySteps > lc.MaxPositions {
		return fmt.Errorf("%d prompt tokens + %d greedy steps exceed max_position_embeddings %d", t, greedySteps, lc.MaxPositions)
	}
	m, err := model.New(d.ops, d.cfg, d.h)
	if err != nil {
		return err
	}
	s, err := m.NewState(model.StateOptions{MaxSeq: t + greedySteps, MaxPrefill: t})
	if err != nil {
		return err
	}
	defer s.Free()
	c, v := lc.HiddenSize, lc.VocabSize
	var visual []float32
	if px != nil {
		if err := m.RouteText(s, ids, -1); err != nil { // the TGH-MoE of a ctlens model; nothing for Phi-3-V
			return err
		}
		if err := m.EncodeVision(d.ctx, s, px); err != nil {
			return err
		}
		if visual, err = m.VisualTokens(s); err != nil {
			return err
		}
		if err := d.write("image_embeds.npy", []int{1, slots, c}, visual); err != nil {
			return err
		}
	}
	if vision {
		emb, err := d.inputsEmbeds(ids, visual)
		if err != nil {
			return err
		}
		if err := d.write("inputs_embeds.npy", []int{1, t, c}, emb); err != nil {
			return err
		}
	}
	if err := m.Prefill(d.ctx, s, ids); err != nil {
		return err
	}
	logits := make([]float32, 0, t*v)
	for r := 0; r < t; r++ {
		row, err := m.LogitsAt(s, r)
		if err != nil {
			return err
		}
		logits = append(logits, row...)
	}
	if err := d.write("logits.npy", []int{1, t, v}, logits); err != nil {
		return err
	}
	// Greedy with the KV cache: step 0 picks from the prompt's last logits
	// (what LogitsAt(t−1) left in the state), each later step from the
	// decode of the previous pick. Argmax on the host, first maximum wins,
	// as torch.argmax and numpy do.
	tokens := make([]int64, 0, greedySteps)
	steps := make([]float32, 0, greedySteps*v)
	row := logits[(t-1)*v:]
	for i := 0; i < greedySteps; i++ {
		if i > 0 {
			if m.CrossesLongRoPE(s) {
				// The step past original_max_position_embeddings: transformers'
				// generate drops the cache there and recomputes every position
				// with the long factors (model.CrossesLongRoPE).
				seq := make([]int, i)
				for j := range seq {
					seq[j] = int(tokens[j])
				}
				err = m.RecomputeLongRoPE(d.ctx, s, ids, seq)
			} else {
				err = m.DecodeToken(d.ctx, s, int(tokens[i-1]))
			}
			if err != nil {
				return err
			}
			if row, err = m.Logits(s); err != nil {
				return err
			}
		}
		steps = append(steps, row...)
		tokens = append(tokens, int64(argmax(row)))
	}
	if err := d.write("greedy_tokens.npy", []int{1, greedySteps}, tokens); err != nil {
		return err
	}
	return d.write("greedy_step_logits.npy", []int{1, greedySteps, v}, steps)
}

// visionInput reads the pixels for a prompt with slots image slots and
// fixes the config's slice count: Phi-3-V's HD layout from --image-sizes,
// or a ctlens model's own D slices.
func (d *dumper) visionInput(f dumpFlags, slots int) ([]float32, error) {
	vc := d.cfg.Vision
	px, shape, err := readPixels(f.pixels)
	if err != nil {
		return nil, err
	}
	if len(shape) == 5 {
		if shape[0] != 1 {
			return nil, fmt.Errorf("--pixels shape %v: hf-dump runs one image (batch 1)", shape)
		}
		shape = shape[1:]
	}
	if len(shape) != 4 || shape[1] != vc.NumChannels || shape[2] != vc.ImageSize || shape[3] != vc.ImageSize {
		return nil, fmt.Errorf("--pixels shape %v, want (1, crops, %d, %d, %d)", shape, vc.NumChannels, vc.ImageSize, vc.ImageSize)
	}
	if d.cfg.Projector.HDCrops != nil {
		hh, ww := vc.ImageSize, vc.ImageSize
		if f.imageSizes != "" {
			if hh, ww, err = parsePair(f.imageSizes); err != nil {
				return nil, fmt.Errorf("--image-sizes: %w", err)
			}
		}
		if hh%vc.ImageSize != 0 || ww%vc.ImageSize != 0 || hh <= 0 || ww <= 0 {
			return nil, fmt.Errorf("--image-sizes %d,%d: Phi-3-V's HD transform pads images to multiples of %d\nhint: pass the processor's image_sizes", hh, ww, vc.ImageSize)
		}
		d.cfg.Projector.HDCrops = []int{hh / vc.ImageSize, ww / vc.ImageSize}
		d.cfg.Transfer3D.Slices = 1 + hh/vc.ImageSize*(ww/vc.ImageSize)
		if err := d.cfg.Validate(); err != nil {
			return nil, err
		}
	} else if f.imageSizes != "" {
		return nil, fmt.Errorf("--image-sizes picks Phi-3-V's HD layout; this model takes %d slices", d.cfg.Slices())
	}
	crops := d.cfg.Slices()
	if shape[0] < crops {
		return nil, fmt.Errorf("--pixels holds %d crops, the layout needs %d (the global crop, then the sub crops)", shape[0], crops)
	}
	if tv := d.cfg.VisualTokens(); slots != tv {
		return nil, fmt.Errorf("the prompt has %d image slots; %d crops place %d visual tokens\nhint: --image-sizes must be the image size the processor used for these ids", slots, crops, tv)
	}
	// The processor pads pixel_values to its maximum crop count; the
	// crops past the layout's are padding.
	return px[:crops*vc.NumChannels*vc.ImageSize*vc.ImageSize], nil
}

// inputsEmbeds is the decoder's input, HF's inputs_embeds: the embedding
// row of every text token and, at the image slots, the visual tokens in
// order. The gather is exact, so the host reproduces it from the table.
func (d *dumper) inputsEmbeds(ids []int, visual []float32) ([]float32, error) {
	lc := d.cfg.LLM
	c := lc.HiddenSize
	t, err := d.h.Tensor("model.embed_tokens.weight")
	if err != nil {
		return nil, err
	}
	w, err := matrixOf(t, lc.VocabSize, c)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, len(ids)*c)
	slot := 0
	for _, id := range ids {
		if id == model.ImageSlot {
			out = append(out, visual[slot*c:(slot+1)*c]...)
			slot++
			continue
		}
		for k := 0; k < c; k++ {
			out = append(out, w.At(id, k))
		}
	}
	return out, nil
}

// ---- inputs -------------------------------------------------------------------

func readTokens(f dumpFlags) ([]int, error) {
	switch {
	case f.tokens != "" && f.tokensNPY != "":
		return nil, fmt.Errorf("give --tokens or --tokens-npy, not both")
	case f.tokens != "":
		var ids []int
		for _, p := range strings.Split(f.tokens, ",") {
			id, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("--tokens: %q is not an integer", p)
			}
			ids = append(ids, id)
		}
		return ids, nil
	case f.tokensNPY != "":
		a, err := npy.ReadFile(f.tokensNPY)
		if err != nil {
			return nil, err
		}
		if len(a.Shape) == 2 && a.Shape[0] != 1 || len(a.Shape) > 2 || len(a.Shape) == 0 {
			return nil, fmt.Errorf("--tokens-npy shape %v, want (T,) or (1, T)", a.Shape)
		}
		v, err := a.Int64s()
		if err != nil {
			return nil, fmt.Errorf("--tokens-npy: %w", err)
		}
		ids := make([]int, len(v))
		for i, x := range v {
			ids[i] = int(x)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("--tokens-npy holds no ids")
		}
		return ids, nil
	}
	return nil, fmt.Errorf("a causal LM needs the prompt: --tokens 1,2,3 or --tokens-npy ids.npy\n%s", hfDumpUsage)
}

func readPixels(path string) ([]float32, []int, error) {
	a, err := npy.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	px, err := a.Float32s()
	if err != nil {
		return nil, nil, fmt.Errorf("--pixels: %w", err)
	}
	return px, a.Shape, nil
}

func parsePair(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, ",")
	x, err1 := strconv.Atoi(strings.TrimSpace(a))
	y, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q is not H,W", s)
	}
	return x, y, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// matrixOf views an HF tensor (f32 or f16, as the engine's Source hands
// them over) as an (n, k) matrix.
func matrixOf(t model.SourceTensor, n, k int) (shaders.Weights, error) {
	w := shaders.Weights{DType: t.DType, N: n, K: k}
	switch t.DType {
	case shaders.F32:
		if len(t.Data) != 4*n*k {
			return w, fmt.Errorf("%d bytes of f32 for (%d, %d)", len(t.Data), n, k)
		}
	case shaders.F16:
		if len(t.Data) != 2*n*k {
			return w, fmt.Errorf("%d bytes of f16 for (%d, %d)", len(t.Data), n, k)
		}
	default:
		return w, fmt.Errorf("dtype %s: want f32 or f16", t.DType)
	}
	data := t.Data
	if len(data)%4 != 0 {
		data = append(append([]byte(nil), data...), 0, 0)
	}
	w.Words = shaders.BytesU32(data)
	return w, nil
}

// vectorOf reads a vector of n values from src as f32.
func vectorOf(src model.Source, name string, n int) ([]float32, error) {
	t, err := src.Tensor(name)
	if err != nil {
		return nil, err
	}
	switch {
	case t.DType == shaders.F32 && len(t.Data) == 4*n:
		return shaders.BytesF32(t.Data), nil
	case t.DType == shaders.F16 && len(t.Data) == 2*n:
		out := make([]float32, n)
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(t.Data[2*i:])).Float32()
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q: %s, %d bytes: want %d f32 or f16 values", name, t.DType, len(t.Data), n)
}
