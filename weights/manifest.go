package weights

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"ctlens/shaders"
)

// The model directory format.
const (
	FormatName    = "ctlens-weights"
	FormatVersion = 1
	ManifestFile  = "manifest.json"
	// MaxShardBytes bounds a shard file: the loader holds one shard in
	// memory at a time, and the browser fetches, hashes and caches shard
	// by shard.
	MaxShardBytes = 64 << 20
	// DefaultBindingBytes is WebGPU's default maxStorageBufferBindingSize,
	// the per-buffer limit every device offers.
	DefaultBindingBytes = 128 << 20
	// maxTokenizerBytes bounds the tokenizer file read into memory.
	maxTokenizerBytes = 256 << 20
)

// FileRef names a file of a model directory with its size and sha256 (64
// lowercase hex digits).
type FileRef struct {
	File   string `json:"file"`   // a plain name inside the model directory
	Bytes  int64  `json:"bytes"`  // exact size
	SHA256 string `json:"sha256"` // of the whole file
}

// PartRef places rows [Rows[0], Rows[1]) of a tensor in shard Shard (an
// index into Manifest.Shards).
type PartRef struct {
	Shard int    `json:"shard"` // index into Manifest.Shards
	Rows  [2]int `json:"rows"`  // [r0, r1) of the logical tensor
}

// TensorEntry is one logical tensor of the model: its layout and the parts
// it is stored in (one part unless it was split along rows).
type TensorEntry struct {
	Name   string    `json:"name"`             // the logical name, as the model asks for it
	DType  string    `json:"dtype"`            // matrices: f32, f16, int8 or int4; plain tensors: f32
	Matrix bool      `json:"matrix,omitempty"` // a packed matrix (shaders.Weights), else plain f32
	Shape  []int     `json:"shape"`            // matrices: [N, K]; [] for a scalar
	Parts  []PartRef `json:"parts"`            // in row order, tiling [0, rows)
}

// Layout parses the entry's type and shape.
func (e TensorEntry) Layout() (Layout, error) {
	dt, err := shaders.ParseDType(e.DType)
	if err != nil {
		return Layout{}, err
	}
	l := Layout{Matrix: e.Matrix, DType: dt, Shape: e.Shape}
	return l, l.Validate()
}

// Manifest describes a ctlens model directory: manifest.json, the shards
// (safetensors files ≤ MaxShardBytes) and tokenizer.json. Everything a UI
// shows before loading (size, parameters, VRAM) and everything the loader
// checks (sizes, hashes, tensor layouts) is here.
type Manifest struct {
	Format     string `json:"format"`     // FormatName
	Version    int    `json:"version"`    // FormatVersion
	Model      string `json:"model"`      // the model's name
	Parameters int64  `json:"parameters"` // logical elements over all tensors
	// VRAM holds estimates keyed by quantization: "stored" for the
	// matrices' types as written, and "f32", "f16", "int8", "int4" as if
	// every matrix were of that type (where its K allows).
	VRAM      map[string]VRAM `json:"vram"`
	Config    json.RawMessage `json:"config"`    // the model's config object, passed through
	Tokenizer FileRef         `json:"tokenizer"` // tokenizer.json; zero when the model has none
	Shards    []FileRef       `json:"shards"`    // in load order
	Tensors   []TensorEntry   `json:"tensors"`   // in the order they were written
}

// Bytes is the total size of the shards.
func (m *Manifest) Bytes() int64 {
	var n int64
	for _, s := range m.Shards {
		n += s.Bytes
	}
	return n
}

// Layouts lists every tensor's layout, for EstimateVRAM with Dims chosen
// at load time (the manifest's own estimates use the writer's).
func (m *Manifest) Layouts() []Layout {
	out := make([]Layout, 0, len(m.Tensors))
	for _, e := range m.Tensors {
		if l, err := e.Layout(); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// Tensor finds the entry named name.
func (m *Manifest) Tensor(name string) (TensorEntry, bool) {
	for _, e := range m.Tensors {
		if e.Name == name {
			return e, true
		}
	}
	return TensorEntry{}, false
}

// ParseManifest decodes and validates manifest.json.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("weights: %s: %v", ManifestFile, err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// ReadManifest reads manifest.json from a model directory.
func ReadManifest(fsys fs.FS) (*Manifest, error) {
	data, err := fs.ReadFile(fsys, ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return ParseManifest(data)
}

// Validate checks the manifest's internal consistency: format and version,
// shard files (flat names, sizes within MaxShardBytes, sha256 syntax),
// tensor layouts, and parts that tile each tensor's rows at aligned
// boundaries within existing shards.
func (m *Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("weights: %s: "+format, append([]any{ManifestFile}, args...)...)
	}
	if m.Format != FormatName {
		return bad("format %q, want %q", m.Format, FormatName)
	}
	if m.Version != FormatVersion {
		return bad("version %d; this build reads version %d", m.Version, FormatVersion)
	}
	if len(m.Config) > 0 && !bytes.Equal(m.Config, []byte("null")) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(m.Config, &obj); err != nil {
			return bad("config is not a JSON object: %v", err)
		}
	}
	files := map[string]bool{ManifestFile: true}
	checkRef := func(what string, r FileRef, max int64) error {
		if !fs.ValidPath(r.File) || strings.Contains(r.File, "/") || r.File == "." {
			return bad("%s: file name %q: want a plain name in the model directory", what, r.File)
		}
		if files[r.File] {
			return bad("%s: file %q listed twice", what, r.File)
		}
		files[r.File] = true
		if r.Bytes < 0 || r.Bytes > max {
			return bad("%s %s: %d bytes (limit %d)", what, r.File, r.Bytes, max)
		}
		if !isSHA256(r.SHA256) {
			return bad("%s %s: sha256 %q is not 64 lowercase hex digits", what, r.File, r.SHA256)
		}
		return nil
	}
	if m.Tokenizer != (FileRef{}) {
		if err := checkRef("tokenizer", m.Tokenizer, maxTokenizerBytes); err != nil {
			return err
		}
	}
	for _, s := range m.Shards {
		if err := checkRef("shard", s, MaxShardBytes); err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for _, e := range m.Tensors {
		if names[e.Name] || e.Name == "" {
			return bad("tensor %q: empty or listed twice", e.Name)
		}
		names[e.Name] = true
		l, err := e.Layout()
		if err != nil {
			return bad("tensor %q: %v", e.Name, err)
		}
		next := 0
		for _, p := range e.Parts {
			if p.Shard < 0 || p.Shard >= len(m.Shards) {
				return bad("tensor %q: part in shard %d of %d", e.Name, p.Shard, len(m.Shards))
			}
			if p.Rows[0] != next || p.Rows[1] <= p.Rows[0] || p.Rows[0]%l.RowAlign() != 0 {
				return bad("tensor %q: part rows %v: parts must tile [0, %d) in order at multiples of %d", e.Name, p.Rows, l.Rows(), l.RowAlign())
			}
			next = p.Rows[1]
		}
		if next != l.Rows() {
			return bad("tensor %q: parts cover rows [0, %d) of %d", e.Name, next, l.Rows())
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
