package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"ctlens/model"
	"ctlens/model/tokenizer"
	"ctlens/weights"
)

// DefaultWeights is the built-in demo model directory, relative to the
// repository root (issue #5 ships it).
const DefaultWeights = "weights/demo"

// InputNormKey is the key of the config object in manifest.json that names
// the volume normalisation the model was trained with, in volume.ParseNorm's
// form ("minmax", "window:C:W", "window-signed:C:W"). model.Config has no
// such field yet (it ignores the key when parsing); the tools write and
// read it until model/ owns it.
const InputNormKey = "input_norm"

// DefaultInputNorm is used when a model says nothing: M3D-Data's per-volume
// min-max, the data the paper's model was trained on.
const DefaultInputNorm = "minmax"

// ResolveWeights returns the model directory to load: flag when given,
// else DefaultWeights when it holds a model, else an error saying how to
// make one.
func ResolveWeights(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if _, err := os.Stat(filepath.Join(DefaultWeights, weights.ManifestFile)); err == nil {
		return DefaultWeights, nil
	}
	return "", fmt.Errorf("no --weights given and no default model is shipped yet (%s/%s does not exist; issue #5 will ship it)\n"+
		"hint: make a model directory and pass it with --weights DIR:\n"+
		"  go run ./tools/convert --checkpoint HF_PHI3V_DIR --out DIR   (a real Phi-3-Vision checkpoint, transferred to 3D)\n"+
		"  go run ./tools/ctlens model tiny --out DIR                    (a tiny random model, to exercise the pipeline)",
		DefaultWeights, weights.ManifestFile)
}

// Dir is a ctlens model directory loaded into memory.
type Dir struct {
	Path      string
	Manifest  *weights.Manifest
	Config    model.Config
	Source    model.Source         // every tensor, whole; nil until Load
	Tokenizer *tokenizer.Tokenizer // nil when the directory has none
	InputNorm string               // volume.ParseNorm's form; DefaultInputNorm when the config says nothing
}

// OpenDir is Open and Load: the whole model in memory.
func OpenDir(ctx context.Context, path string, progress func(done, total int64)) (*Dir, error) {
	d, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return d, d.Load(ctx, progress)
}

// Open reads what a model directory says about itself, cheaply: the
// manifest, the config and the tokenizer. Load reads the weights.
func Open(ctx context.Context, path string) (*Dir, error) {
	fsys := os.DirFS(path)
	m, err := weights.ReadManifest(fsys)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a ctlens model directory (no %s)\nhint: make one with `go run ./tools/convert` or `ctlens model tiny --out DIR`", path, weights.ManifestFile)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := model.ParseConfig(m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest config: %w", path, err)
	}
	var extra map[string]json.RawMessage
	json.Unmarshal(m.Config, &extra)
	norm := DefaultInputNorm
	if raw, ok := extra[InputNormKey]; ok {
		if err := json.Unmarshal(raw, &norm); err != nil {
			return nil, fmt.Errorf("%s: manifest config: %s: %w", path, InputNormKey, err)
		}
	}
	d := &Dir{Path: path, Manifest: m, Config: cfg, InputNorm: norm}
	if m.Tokenizer != (weights.FileRef{}) {
		data, err := weights.LoadTokenizer(ctx, m, weights.FSOpener(fsys))
		if err != nil {
			return nil, err
		}
		if d.Tokenizer, err = tokenizer.Load(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: tokenizer: %w", path, err)
		}
	}
	return d, nil
}

// Load reads, verifies (sha256, sizes, layouts: weights.LoadAll) and
// keeps every tensor, setting d.Source. progress, when set, receives the
// shard bytes read so far and the total.
func (d *Dir) Load(ctx context.Context, progress func(done, total int64)) error {
	ts, err := weights.LoadAll(ctx, d.Manifest, weights.FSOpener(os.DirFS(d.Path)), weights.LoadOptions{Progress: progress})
	if err != nil {
		var he *weights.HashError
		if errors.As(err, &he) {
			return fmt.Errorf("%s: %w\nhint: the file is corrupt or was replaced; convert the model again", d.Path, err)
		}
		return fmt.Errorf("%s: %w", d.Path, err)
	}
	src := TensorSource{}
	for _, t := range ts {
		src[t.Name] = t
	}
	d.Source = src
	return nil
}

// ConfigJSON is the config object of a model directory's manifest: cfg's
// JSON with the tools' keys (InputNormKey) beside its fields.
func ConfigJSON(cfg model.Config, inputNorm string) (json.RawMessage, error) {
	data, err := json.Marshal(cfg)
	if err != nil || inputNorm == "" {
		return data, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	obj[InputNormKey], _ = json.Marshal(inputNorm)
	return json.Marshal(obj)
}

// TensorSource serves whole weights.Tensors (weights.LoadAll's) as a
// model.Source, converting each only when the loader asks for it.
type TensorSource map[string]weights.Tensor

// Tensor implements model.Source.
func (s TensorSource) Tensor(name string) (model.SourceTensor, error) {
	t, ok := s[name]
	if !ok {
		return model.SourceTensor{}, fmt.Errorf("tensor %q: %w", name, model.ErrNoTensor)
	}
	m := model.MapSource{}
	if t.Weights != nil {
		m.PutWeights(name, *t.Weights)
	} else {
		m.PutF32(name, t.Values, t.Shape...)
	}
	return m[name], nil
}

// Dims are the sizes weights' VRAM estimate needs beyond the tensors,
// from a model config.
func Dims(c model.Config) weights.Dims {
	d := weights.Dims{}
	if c.HasLLM() {
		l := c.LLM
		d.Layers, d.Heads, d.KVHeads, d.HeadDim = l.NumLayers, l.NumHeads, l.NumKVHeads, l.Dh()
		d.Hidden, d.Intermediate, d.Vocab = l.HiddenSize, l.Intermediate, l.VocabSize
		d.MaxTokens = min(l.MaxPositions, 4096)
	}
	if c.HasVision() {
		d.VisionTokens = c.Slices() * c.Vision.Tokens()
		d.VisionHidden, d.VisionIntermediate = c.Vision.HiddenSize, c.Vision.Intermediate
	}
	return d
}
