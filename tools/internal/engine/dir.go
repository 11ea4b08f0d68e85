package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"ctlens/model"
	mengine "ctlens/model/engine"
	"ctlens/weights"
)

// DefaultWeights is the built-in demo model directory, relative to the
// repository root.
const DefaultWeights = "weights/demo"

// DefaultInputNorm is model.DefaultInputNorm, the normalisation of a
// model whose config names none.
const DefaultInputNorm = model.DefaultInputNorm

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
	return "", fmt.Errorf("no --weights given and the built-in model is not here (%s/%s does not exist: it is found relative to the repository root)\n"+
		"hint: run from the repository root, or pass a model directory with --weights DIR:\n"+
		"  go run ./tools/convert --checkpoint HF_PHI3V_DIR --out DIR   (a real Phi-3-Vision checkpoint, transferred to 3D)\n"+
		"  go run ./tools/ctlens model tiny --out DIR                    (a tiny random model, to exercise the pipeline)",
		DefaultWeights, weights.ManifestFile)
}

// Dir is a ctlens model directory loaded into memory: model/engine's
// Info read from a folder, and the tensors once loaded.
type Dir struct {
	*mengine.Info
	Path      string
	Source    mengine.TensorSource // every tensor, whole; nil until Load
	InputNorm string               // Config.Norm(): volume.ParseNorm's form
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
	data, err := os.ReadFile(filepath.Join(path, weights.ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is not a ctlens model directory (no %s)\nhint: make one with `go run ./tools/convert` or `ctlens model tiny --out DIR`", path, weights.ManifestFile)
	}
	if err != nil {
		return nil, err
	}
	in, err := mengine.ReadInfo(ctx, data, weights.FSOpener(os.DirFS(path)), path)
	if err != nil {
		return nil, err
	}
	return &Dir{Info: in, Path: path, InputNorm: in.Config.Norm()}, nil
}

// Opener reads the directory's files.
func (d *Dir) Opener() weights.Opener { return weights.FSOpener(os.DirFS(d.Path)) }

// Load reads, verifies (sha256, sizes, layouts: weights.LoadAll) and
// keeps every tensor, setting d.Source. progress, when set, receives the
// shard bytes read so far and the total.
func (d *Dir) Load(ctx context.Context, progress func(done, total int64)) error {
	ts, err := weights.LoadAll(ctx, d.Manifest, d.Opener(), weights.LoadOptions{Progress: progress})
	if err != nil {
		return LoadError(d.Path, err)
	}
	src := mengine.TensorSource{}
	for _, t := range ts {
		src[t.Name] = t
	}
	d.Source = src
	return nil
}

// LoadError adds the directory and, for a hash mismatch, what to do.
func LoadError(path string, err error) error {
	var he *weights.HashError
	if errors.As(err, &he) {
		return fmt.Errorf("%s: %w\nhint: the file is corrupt or was replaced; convert the model again", path, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// ConfigJSON is the config object of a model directory's manifest: cfg
// with its input normalisation set.
func ConfigJSON(cfg model.Config, inputNorm string) (json.RawMessage, error) {
	cfg.InputNorm = inputNorm
	return json.Marshal(cfg)
}

// TensorSource serves whole weights.Tensors as a model.Source.
type TensorSource = mengine.TensorSource

// Dims are the sizes weights' VRAM estimate needs beyond the tensors,
// from a model config.
func Dims(c model.Config) weights.Dims { return (&mengine.Info{Config: c}).Dims() }
