// Command convert turns a Hugging Face Phi-3-Vision checkpoint directory
// (config.json, safetensors — sharded or not —, tokenizer.json) into a
// ctlens model directory (manifest.json, ≤ 64 MiB sha256-checked shards,
// tokenizer.json; see package ctlens/weights), applying the 2D→3D transfer
// and initialising the TGH-MoE experts from the pretrained FFN:
//
//	go run ./tools/convert --checkpoint HFDIR --out DIR [--slices 32] [--layers-3d-from N]
//	    [--slice-rope-theta θ] [--moe-layers 12-22|none] [--experts-per-task E] [--top-k k]
//	    [--llm-quant int4|int8|f16|f32] [--vision-quant f16|int8|f32] [--keep-2d]
//
// It also converts what tools/train writes (config.json with model_type
// "ctlens", the same HF tensor names, experts included), text-only
// Phi-3/Llama checkpoints and bare CLIP vision towers (format and
// quantization only). The MoE starts equal to the dense FFN (experts are
// copies, routers zero); converter.planMoE in convert.go says how and why.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"

	"ctlens/model"
	"ctlens/shaders"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "convert:", err)
		os.Exit(1)
	}
}

// transferFlags are the flags that shape the 2D→3D transfer and the MoE.
var transferFlags = []string{"slices", "layers-3d-from", "slice-rope-theta", "moe-layers", "experts-per-task", "top-k",
	"router-text-dim", "shared-expert", "depth-pool", "separators"}

// run parses the flags, converts and prints a summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	moeDefaults := model.CTLensConfig(1, 0).MoE
	var o Options
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json)")
	fs.StringVar(&o.Out, "out", "", "the ctlens model directory to write (new or empty)")
	fs.StringVar(&o.Name, "name", "", "the model's name in the manifest (default: the --out directory's name)")
	fs.StringVar(&o.Tokenizer, "tokenizer", "", "tokenizer.json to ship instead of the checkpoint's")
	fs.StringVar(&o.InputNorm, "input-norm", "minmax", "volume normalisation the model expects: minmax, window:C:W or window-signed:C:W (HU)")
	fs.BoolVar(&o.Keep2D, "keep-2d", false, "no 2D→3D transfer: convert a Phi-3-V checkpoint as it is (format and quantization only)")
	fs.IntVar(&o.Transfer.Slices, "slices", 32, "D, the slices a volume is cut into")
	fs.IntVar(&o.Transfer.LayersFrom, "layers-3d-from", -1, "first vision layer that attends across slices (default: half of the layers that run)")
	fs.Float64Var(&o.Transfer.RoPETheta, "slice-rope-theta", 10000, "θ of the slice-index rotary on q and k in 3D layers; 0: none")
	moeLayers := fs.String("moe-layers", "", "vision layers whose FFN becomes a TGH-MoE, e.g. 12-22 or 3,5,7; 'none' for a dense model (default: the 3D layers)")
	fs.IntVar(&o.Transfer.ExpertsPerTask, "experts-per-task", moeDefaults.ExpertsPerTask, "routed experts per task group (report, closed VQA, open VQA)")
	fs.IntVar(&o.Transfer.TopK, "top-k", moeDefaults.TopK, "experts per visual token")
	fs.IntVar(&o.Transfer.RouterTextDim, "router-text-dim", moeDefaults.RouterTextDim, "width of the projected prompt pool the token routers see (0: tokens only)")
	fs.BoolVar(&o.Transfer.SharedExpert, "shared-expert", moeDefaults.SharedExpert, "keep the pretrained FFN as an always-on shared expert")
	fs.IntVar(&o.Transfer.DepthPool, "depth-pool", 1, "average this many consecutive slices after the merge (bounds the visual tokens)")
	fs.BoolVar(&o.Transfer.Separators, "separators", false, "keep Phi-3-V's sub_GN/glb_GN separator rows between rows and slices")
	llmQuant := fs.String("llm-quant", "int4", "decoder matrices: int4, int8, f16 or f32")
	visionQuant := fs.String("vision-quant", "f16", "vision tower and projector matrices: f16, int8 or f32 (int4 allowed, not advised)")
	fs.Float64Var(&o.RouterStd, "router-std", 0, "std of the initial token/task router weights; 0 starts them at zero (MoE == dense FFN at init)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the random initialisations (text projection, routers with --router-std)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./tools/convert --checkpoint HFDIR --out DIR [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q\nhint: every option is a flag, e.g. --checkpoint DIR", fs.Arg(0))
	}
	if o.Checkpoint == "" {
		return errors.New("--checkpoint is required\nhint: --checkpoint path/to/Phi-3-vision-128k-instruct (a directory with config.json and *.safetensors)")
	}
	fs.Visit(func(f *flag.Flag) {
		for _, t := range transferFlags {
			if f.Name == t {
				o.TransferFlags = append(o.TransferFlags, t)
			}
		}
	})
	var err error
	if o.Transfer.MoELayers, err = parseLayers(*moeLayers); err != nil {
		return fmt.Errorf("--moe-layers: %w", err)
	}
	if o.LLMQuant, err = shaders.ParseDType(*llmQuant); err != nil {
		return fmt.Errorf("--llm-quant: %w", err)
	}
	if o.VisionQuant, err = shaders.ParseDType(*visionQuant); err != nil {
		return fmt.Errorf("--vision-quant: %w", err)
	}
	o.Log = stderr
	res, err := Convert(ctx, o)
	if err != nil {
		return err
	}
	printSummary(stdout, o, res)
	return nil
}

// parseLayers reads "3,5,7-9" (nil for "", empty for "none").
func parseLayers(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return nil, nil
	case "none":
		return []int{}, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%q is not a layer number or range such as 12-22", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a range such as 12-22", part)
			}
		}
		for l := a; l <= b; l++ {
			out = append(out, l)
		}
	}
	return out, nil
}

func printSummary(w io.Writer, o Options, r *Result) {
	m, c := r.Manifest, r.Config
	fmt.Fprintf(w, "wrote %s: model %q, %d tensors, %.1f M parameters, %.1f MiB in %d shard(s)\n",
		o.Out, m.Model, len(m.Tensors), float64(m.Parameters)/1e6, float64(m.Bytes())/(1<<20), len(m.Shards))
	var types []string
	for t, n := range r.DTypes {
		types = append(types, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(types)
	fmt.Fprintf(w, "  storage    %s\n", strings.Join(types, ", "))
	if c.Transfer3D.Enabled {
		t := c.Transfer3D
		fmt.Fprintf(w, "  3D         %d slices, 3D attention from vision layer %d of %d, slice RoPE %v (θ %g)\n",
			t.Slices, t.LayersFrom, c.Vision.RunLayers(), t.SliceRoPE, t.RoPETheta)
	}
	if c.HasMoE() {
		init := "experts and routers as trained (from the checkpoint)"
		if r.Experts > 0 || len(r.Routers) > 0 {
			init = fmt.Sprintf("%d experts copied from the pretrained FFN, %d routers %s", r.Experts, len(r.Routers),
				map[bool]string{true: fmt.Sprintf("random (std %g)", o.RouterStd), false: "zero (uniform gates)"}[o.RouterStd > 0])
		}
		fmt.Fprintf(w, "  TGH-MoE    layers %v, %d tasks × %d experts, top-%d, shared expert %v; %s\n",
			c.MoE.Layers, c.MoE.Tasks, c.MoE.ExpertsPerTask, c.MoE.TopK, c.MoE.SharedExpert, init)
	}
	if c.HasLLM() && c.HasVision() {
		fmt.Fprintf(w, "  tokens     %d visual tokens per volume\n", c.VisualTokens())
	}
	if v, ok := m.VRAM["stored"]; ok {
		fmt.Fprintf(w, "  VRAM       ≈ %.1f MiB (weights %.1f, KV cache %.1f, activations %.1f)\n",
			float64(v.Total)/(1<<20), float64(v.Weights)/(1<<20), float64(v.KVCache)/(1<<20), float64(v.Activations)/(1<<20))
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "  skipped    %d checkpoint tensor(s) the model never reads, e.g. %s\n", len(r.Skipped), r.Skipped[0])
	}
}
