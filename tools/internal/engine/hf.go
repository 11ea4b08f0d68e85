package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/weights"
)

// HF is a Hugging Face checkpoint directory (config.json, safetensors —
// one file or sharded with model.safetensors.index.json — and usually
// tokenizer.json) opened to run or convert.
type HF struct {
	Dir       string
	ModelType string       // config.json's model_type
	Config    model.Config // what the engine makes of config.json
	Ckpt      *weights.Checkpoint
	names     map[string]bool
	bareCLIP  bool // a CLIPVisionModel/CLIPModel: tensors under "vision_model."
}

// clipPrefix is where a bare CLIP checkpoint (CLIPVisionModel or
// CLIPModel) keeps its vision tower.
const clipPrefix = "vision_model."

// OpenHF opens the checkpoint in dir. config.json may be any model_type
// model.FromHFConfig reads (phi3_v, phi3, llama, mistral, qwen2,
// clip_vision_model, clip), or "ctlens": a config written by tools/train
// or tools/convert (model.Config itself), with the same HF tensor names.
func OpenHF(dir string) (*HF, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("%w\nhint: --checkpoint must be a Hugging Face checkpoint directory (config.json beside *.safetensors)", err)
	}
	var head struct {
		ModelType string `json:"model_type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	var cfg model.Config
	if head.ModelType == "ctlens" {
		cfg, err = model.ParseConfig(data)
	} else {
		cfg, err = model.FromHFConfig(data)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	ck, err := weights.OpenCheckpoint(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%w\nhint: the checkpoint needs model.safetensors, or shards with %s", err, weights.IndexFile)
	}
	h := &HF{Dir: dir, ModelType: head.ModelType, Config: cfg, Ckpt: ck, names: map[string]bool{}}
	for _, n := range ck.Names() {
		h.names[n] = true
	}
	h.bareCLIP = head.ModelType == "clip_vision_model" || head.ModelType == "clip"
	return h, nil
}

// Close closes the checkpoint's files.
func (h *HF) Close() error { return h.Ckpt.Close() }

// ModelName maps a checkpoint tensor name to the name model.LoadWeights
// asks for: the same, except a bare CLIP tower's "vision_model." prefix,
// which becomes Phi-3-V's model.VisionName prefix.
func (h *HF) ModelName(hfName string) string {
	if h.bareCLIP {
		if rest, ok := strings.CutPrefix(hfName, clipPrefix); ok {
			return model.VisionName(rest)
		}
	}
	return hfName
}

// HFName is ModelName's inverse: the checkpoint's name of the tensor
// model.LoadWeights calls name.
func (h *HF) HFName(name string) string {
	if h.bareCLIP {
		if rest, ok := strings.CutPrefix(name, model.VisionName("")); ok {
			return clipPrefix + rest
		}
	}
	return name
}

// Has reports whether the checkpoint holds the tensor model.LoadWeights
// calls name.
func (h *HF) Has(name string) bool { return h.names[h.HFName(name)] }

// Tensor implements model.Source: F32 and F16 tensors as stored (the
// engine computes in f32 with f16 weights dequantized exactly), BF16 and
// F64 converted to f32.
func (h *HF) Tensor(name string) (model.SourceTensor, error) {
	hn := h.HFName(name)
	if !h.names[hn] {
		return model.SourceTensor{}, fmt.Errorf("checkpoint %s: tensor %q: %w", h.Dir, hn, model.ErrNoTensor)
	}
	info, _, err := h.Ckpt.Info(hn)
	if err != nil {
		return model.SourceTensor{}, err
	}
	shape := append([]int(nil), info.Shape...)
	switch info.DType {
	case weights.F32, weights.F16:
		raw, err := h.Ckpt.Raw(hn)
		if err != nil {
			return model.SourceTensor{}, err
		}
		dt := shaders.F32
		if info.DType == weights.F16 {
			dt = shaders.F16
		}
		return model.SourceTensor{Shape: shape, DType: dt, Data: raw}, nil
	case weights.BF16, weights.F64:
		v, _, err := h.Ckpt.Float32s(hn)
		if err != nil {
			return model.SourceTensor{}, err
		}
		return model.SourceTensor{Shape: shape, DType: shaders.F32, Data: shaders.F32Bytes(v)}, nil
	}
	return model.SourceTensor{}, fmt.Errorf("checkpoint %s: tensor %q: dtype %s is not a float type", h.Dir, hn, info.DType)
}

// Tokenizer returns tokenizer.json's bytes; an error wrapping
// fs.ErrNotExist when the checkpoint has none.
func (h *HF) Tokenizer() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(h.Dir, "tokenizer.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("checkpoint %s has no tokenizer.json: %w", h.Dir, err)
	}
	return data, err
}

// Arch names what a config describes, in HF terms: "Phi3VForCausalLM"
// (vision tower and decoder), "Phi3ForCausalLM" (decoder only) or
// "CLIPVisionModel" (vision tower only).
func Arch(c model.Config) string {
	switch {
	case c.HasVision() && c.HasLLM():
		return "Phi3VForCausalLM"
	case c.HasLLM():
		return "Phi3ForCausalLM"
	default:
		return "CLIPVisionModel"
	}
}
