package weights

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// IndexFile is the index of a sharded Hugging Face checkpoint: its
// "weight_map" maps each tensor name to the file holding it.
const IndexFile = "model.safetensors.index.json"

// Checkpoint is a Hugging Face checkpoint directory read for conversion:
// model.safetensors, or the shards that model.safetensors.index.json lists.
// Headers are read up front; tensor bytes on demand.
type Checkpoint struct {
	files []*File
	where map[string]int // tensor → files index
}

// OpenCheckpoint opens the checkpoint in fsys: through IndexFile when
// present, else model.safetensors, else every *.safetensors at the top
// level. A tensor found in two files, or listed in the index but absent
// from its file, is an error. Close it when done.
func OpenCheckpoint(fsys fs.FS) (*Checkpoint, error) {
	c := &Checkpoint{where: map[string]int{}}
	var names []string
	var weightMap map[string]string
	if data, err := fs.ReadFile(fsys, IndexFile); err == nil {
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(data, &idx); err != nil {
			return nil, fmt.Errorf("weights: %s: %v", IndexFile, err)
		}
		if len(idx.WeightMap) == 0 {
			return nil, fmt.Errorf("weights: %s: empty weight_map", IndexFile)
		}
		weightMap = idx.WeightMap
		seen := map[string]bool{}
		for tensor, file := range weightMap {
			if !fs.ValidPath(file) {
				return nil, fmt.Errorf("weights: %s: tensor %q: bad file name %q", IndexFile, tensor, file)
			}
			if !seen[file] {
				seen[file] = true
				names = append(names, file)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("weights: %w", err)
	} else if _, err := fs.Stat(fsys, "model.safetensors"); err == nil {
		names = []string{"model.safetensors"}
	} else if names, err = fs.Glob(fsys, "*.safetensors"); err != nil || len(names) == 0 {
		return nil, fmt.Errorf("weights: no %s, model.safetensors or *.safetensors in the checkpoint", IndexFile)
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := OpenFile(fsys, name)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.files = append(c.files, f)
		for _, t := range f.Header.Tensors {
			if j, dup := c.where[t.Name]; dup {
				c.Close()
				return nil, fmt.Errorf("weights: tensor %q is in both %s and %s", t.Name, c.files[j].Header.File, name)
			}
			c.where[t.Name] = len(c.files) - 1
		}
	}
	for tensor, file := range weightMap {
		j, ok := c.where[tensor]
		if !ok || c.files[j].Header.File != file {
			c.Close()
			return nil, fmt.Errorf("weights: %s lists tensor %q in %s, which does not hold it", IndexFile, tensor, file)
		}
	}
	return c, nil
}

// Close closes the checkpoint's files.
func (c *Checkpoint) Close() error {
	var first error
	for _, f := range c.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Names lists every tensor, sorted.
func (c *Checkpoint) Names() []string {
	out := make([]string, 0, len(c.where))
	for n := range c.where {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Glob lists the tensors whose names match pattern in path.Match syntax,
// sorted. HF names have no '/', so '*' spans anything, dots included:
// "model.layers.*.mlp.down_proj.weight".
func (c *Checkpoint) Glob(pattern string) ([]string, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("weights: pattern %q: %v", pattern, err)
	}
	var out []string
	for _, n := range c.Names() {
		if ok, _ := path.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// Info returns a tensor's header entry and the file holding it.
func (c *Checkpoint) Info(name string) (TensorInfo, string, error) {
	j, ok := c.where[name]
	if !ok {
		return TensorInfo{}, "", fmt.Errorf("weights: checkpoint: tensor %q: %w", name, errNotFound)
	}
	t, _ := c.files[j].Header.Lookup(name)
	return t, c.files[j].Header.File, nil
}

// Float32s reads a float tensor (F32, F16, BF16 or F64) as float32, with
// its shape.
func (c *Checkpoint) Float32s(name string) ([]float32, []int, error) {
	j, ok := c.where[name]
	if !ok {
		return nil, nil, fmt.Errorf("weights: checkpoint: tensor %q: %w", name, errNotFound)
	}
	return c.files[j].Float32s(name)
}

// Raw reads a tensor's stored bytes.
func (c *Checkpoint) Raw(name string) ([]byte, error) {
	j, ok := c.where[name]
	if !ok {
		return nil, fmt.Errorf("weights: checkpoint: tensor %q: %w", name, errNotFound)
	}
	return c.files[j].Raw(name)
}

// Metadata merges the files' "__metadata__" (later files win).
func (c *Checkpoint) Metadata() map[string]string {
	out := map[string]string{}
	for _, f := range c.files {
		for k, v := range f.Header.Metadata {
			out[k] = v
		}
	}
	return out
}

// SplitRowsF32 cuts a row-major tensor of shape (Σrows, …) along
// dimension 0 into consecutive blocks of the given row counts. HF fuses
// projections this way: Phi-3's qkv_proj.weight is (q; k; v) stacked by
// output rows, gate_up_proj.weight is (gate; up).
func SplitRowsF32(values []float32, shape []int, rows ...int) ([][]float32, error) {
	if len(shape) == 0 {
		return nil, fmt.Errorf("weights: split rows of a scalar")
	}
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	sum := 0
	for _, r := range rows {
		if r < 0 {
			return nil, fmt.Errorf("weights: split rows %v: negative count", rows)
		}
		sum += r
	}
	if sum != shape[0] || len(values) != shape[0]*per {
		return nil, fmt.Errorf("weights: split rows %v of shape %v (%d values)", rows, shape, len(values))
	}
	out := make([][]float32, len(rows))
	at := 0
	for i, r := range rows {
		out[i] = values[at*per : (at+r)*per : (at+r)*per]
		at += r
	}
	return out, nil
}

// SplitQKV splits a fused qkv_proj (weight (qRows+2·kvRows, C) or bias
// (qRows+2·kvRows)) into q, k and v, where qRows = heads·head_dim and
// kvRows = kv_heads·head_dim. The results alias values.
func SplitQKV(values []float32, shape []int, qRows, kvRows int) (q, k, v []float32, err error) {
	parts, err := SplitRowsF32(values, shape, qRows, kvRows, kvRows)
	if err != nil {
		return nil, nil, nil, err
	}
	return parts[0], parts[1], parts[2], nil
}

// SplitGateUp splits a fused gate_up_proj (2·I, C) into gate and up, the
// first and second halves of the rows. The results alias values.
func SplitGateUp(values []float32, shape []int) (gate, up []float32, err error) {
	if len(shape) == 0 || shape[0]%2 != 0 {
		return nil, nil, fmt.Errorf("weights: gate_up of shape %v: want an even row count", shape)
	}
	parts, err := SplitRowsF32(values, shape, shape[0]/2, shape[0]/2)
	if err != nil {
		return nil, nil, err
	}
	return parts[0], parts[1], nil
}
