package weights

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteOptions configure WriteModel.
type WriteOptions struct {
	Model string // the model's name, recorded in the manifest (required)
	// MaxShardBytes bounds each shard file; 0 means MaxShardBytes, and more
	// is refused.
	MaxShardBytes int64
	// MaxBindingBytes bounds every stored buffer (a matrix's words, its
	// scales, a plain tensor's values); 0 means DefaultBindingBytes.
	// Loading can cut pieces smaller still (LoadOptions.MaxBindingBytes).
	MaxBindingBytes int64
	// Dims feed the KV-cache and activation part of the VRAM estimates.
	Dims Dims
	// TokenizerFile names the tokenizer in the directory; "" means
	// "tokenizer.json".
	TokenizerFile string
}

// WriteModel writes a ctlens model directory: shards named
// model-00001-of-0000N.safetensors, each at most opts.MaxShardBytes, the
// tokenizer (skipped when nil) and manifest.json, which it also returns.
// Tensors keep their order; one whose stored size exceeds the shard or
// binding limit is split along rows into parts named <name>.part<i>, each
// recorded in the part's metadata ("ctlens.rows.<stored>" = "r0:r1/N") and
// in the manifest. config must be a JSON object (or nil) and is passed
// through.
func WriteModel(dir string, tensors []Tensor, config json.RawMessage, tokenizer []byte, opts WriteOptions) (*Manifest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	create := func(name string) (io.WriteCloser, error) { return os.Create(filepath.Join(dir, name)) }
	return writeModel(create, tensors, config, tokenizer, opts)
}

// shardPlan is one shard being packed: its parts and the exact file size
// they make, computed from header fragments as encodeHeader renders them.
type shardPlan struct {
	parts    []part
	infos    []TensorInfo // all entries with offsets in this shard
	meta     map[string]string
	fragsLen int   // Σ entry fragment lengths
	metaLen  int   // Σ metadata pair lengths
	data     int64 // data section size
}

func newShardPlan() *shardPlan {
	s := &shardPlan{meta: map[string]string{}}
	s.addMeta(formatKey, fmt.Sprintf("%s/%d", FormatName, FormatVersion))
	return s
}

func (s *shardPlan) addMeta(k, v string) {
	s.meta[k] = v
	s.metaLen += pairLen(k, v)
}

// pairLen is the length of one rendered metadata pair, "k":"v".
func pairLen(k, v string) int { return len(quote(k)) + 1 + len(quote(v)) }

// fileSize is the size of a shard of n entries whose fragments sum to
// frags, with metadata pairs summing to metaLen, and data bytes of data.
func fileSize(n, frags, pairs, metaLen int, data int64) int64 {
	// The metadata fragment: "__metadata__":{pairs joined by commas}.
	meta := len(quote(metadataKey)) + 3 + metaLen + pairs - 1
	return 8 + int64(headerLen(n+1, frags+meta)) + data
}

// size is the file size with the current parts.
func (s *shardPlan) size() int64 {
	return fileSize(len(s.infos), s.fragsLen, len(s.meta), s.metaLen, s.data)
}

// sizeWith is the file size if p were added.
func (s *shardPlan) sizeWith(p part) int64 {
	frags, metaLen := s.fragsLen, s.metaLen
	for _, e := range p.entries {
		e.Begin += s.data
		e.End += s.data
		frags += len(entryFragment(e))
	}
	for k, v := range p.meta { // stored names are unique, so these keys are new
		metaLen += pairLen(k, v)
	}
	return fileSize(len(s.infos)+len(p.entries), frags, len(s.meta)+len(p.meta), metaLen, s.data+p.bytes())
}

// add places p after the current parts.
func (s *shardPlan) add(p part) {
	for _, e := range p.entries {
		e.Begin += s.data
		e.End += s.data
		s.infos = append(s.infos, e)
		s.fragsLen += len(entryFragment(e))
	}
	s.data += p.bytes()
	for k, v := range p.meta {
		s.addMeta(k, v)
	}
	s.parts = append(s.parts, p)
}

func writeModel(create func(string) (io.WriteCloser, error), tensors []Tensor, config json.RawMessage, tokenizer []byte, opts WriteOptions) (*Manifest, error) {
	if opts.Model == "" {
		return nil, fmt.Errorf("weights: write model: no model name")
	}
	if opts.MaxShardBytes == 0 {
		opts.MaxShardBytes = MaxShardBytes
	}
	if opts.MaxShardBytes < 0 || opts.MaxShardBytes > MaxShardBytes {
		return nil, fmt.Errorf("weights: write model: shard limit %d outside (0, %d]", opts.MaxShardBytes, MaxShardBytes)
	}
	if opts.MaxBindingBytes == 0 {
		opts.MaxBindingBytes = DefaultBindingBytes
	}
	if opts.TokenizerFile == "" {
		opts.TokenizerFile = "tokenizer.json"
	}
	m := &Manifest{Format: FormatName, Version: FormatVersion, Model: opts.Model, Config: config}

	// Cut every tensor into parts that fit a shard on their own and the
	// binding limit, then pack the parts greedily, in order.
	names := map[string]bool{}  // logical names
	stored := map[string]bool{} // safetensors names, across all shards
	var shards []*shardPlan
	cur := newShardPlan()
	var layouts []Layout
	for i := range tensors {
		t := &tensors[i]
		if err := t.check(); err != nil {
			return nil, err
		}
		if names[t.Name] {
			return nil, fmt.Errorf("weights: write model: duplicate tensor %q", t.Name)
		}
		names[t.Name] = true
		l := t.Layout()
		layouts = append(layouts, l)
		m.Parameters += l.Elems()
		// A part's header never needs more than the whole tensor's with the
		// longest part suffix (every number in it is at most the whole's).
		alone := newShardPlan()
		alone.add(newPart(t, 99999, 0, l.Rows(), true))
		reserve := alone.size() - alone.data
		if reserve >= opts.MaxShardBytes {
			return nil, fmt.Errorf("weights: write model: tensor %q: its header alone needs %d bytes, over the shard limit %d", t.Name, reserve, opts.MaxShardBytes)
		}
		bounds, err := splitRange(l, 0, l.Rows(), opts.MaxBindingBytes, opts.MaxShardBytes-reserve)
		if err != nil {
			return nil, fmt.Errorf("weights: write model: tensor %q: %v", t.Name, err)
		}
		entry := TensorEntry{Name: t.Name, DType: l.DType.String(), Matrix: l.Matrix, Shape: append([]int{}, l.Shape...)} // [] for a scalar, not null
		split := len(bounds) > 2
		for j := 0; j+1 < len(bounds); j++ {
			p := newPart(t, j, bounds[j], bounds[j+1], split)
			for _, e := range p.entries {
				if stored[e.Name] {
					return nil, fmt.Errorf("weights: write model: tensor %q: stored name %q is already taken by another tensor", t.Name, e.Name)
				}
				stored[e.Name] = true
			}
			if cur.sizeWith(p) <= opts.MaxShardBytes {
				cur.add(p)
			} else {
				if len(cur.parts) > 0 {
					shards = append(shards, cur)
				}
				cur = newShardPlan()
				cur.add(p)
				if cur.size() > opts.MaxShardBytes {
					return nil, fmt.Errorf("weights: write model: tensor %q: part of %d bytes exceeds the shard limit (internal error)", t.Name, cur.size())
				}
			}
			entry.Parts = append(entry.Parts, PartRef{Shard: len(shards), Rows: [2]int{bounds[j], bounds[j+1]}})
		}
		m.Tensors = append(m.Tensors, entry)
	}
	if len(cur.parts) > 0 {
		shards = append(shards, cur)
	}

	for i, s := range shards {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		ref, err := writeShard(create, name, s)
		if err != nil {
			return nil, err
		}
		m.Shards = append(m.Shards, ref)
	}
	if tokenizer != nil {
		ref, err := writeBlob(create, opts.TokenizerFile, tokenizer)
		if err != nil {
			return nil, err
		}
		m.Tokenizer = ref
	}
	m.VRAM = estimates(layouts, opts.Dims)
	if err := m.Validate(); err != nil {
		return nil, err
	}
	js, err := m.marshal()
	if err != nil {
		return nil, fmt.Errorf("weights: write model: %v", err)
	}
	if _, err := writeBlob(create, ManifestFile, js); err != nil {
		return nil, err
	}
	return m, nil
}

// writeShard renders one shard part by part (only one part's bytes exist
// at a time) and hashes it as it goes.
func writeShard(create func(string) (io.WriteCloser, error), name string, s *shardPlan) (FileRef, error) {
	f, err := create(name)
	if err != nil {
		return FileRef{}, fmt.Errorf("weights: %w", err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	cw := &countWriter{w: bw}
	hdr := encodeHeader(s.infos, s.meta)
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(len(hdr)))
	cw.Write(pre[:])
	cw.Write(hdr)
	for _, p := range s.parts {
		for _, b := range p.data() {
			cw.Write(b)
		}
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	if err := f.Close(); cw.err == nil {
		cw.err = err
	}
	if cw.err != nil {
		return FileRef{}, fmt.Errorf("weights: shard %s: %w", name, cw.err)
	}
	if cw.n != s.size() {
		return FileRef{}, fmt.Errorf("weights: shard %s: wrote %d bytes, planned %d (internal error)", name, cw.n, s.size())
	}
	return FileRef{File: name, Bytes: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func writeBlob(create func(string) (io.WriteCloser, error), name string, data []byte) (FileRef, error) {
	f, err := create(name)
	if err != nil {
		return FileRef{}, fmt.Errorf("weights: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileRef{}, fmt.Errorf("weights: %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	return FileRef{File: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// marshal renders the manifest one field per line and one shard or tensor
// per line: readable and diffable without the thousands of lines a fully
// indented tensor table would take.
func (m *Manifest) marshal() ([]byte, error) {
	var b bytes.Buffer
	line := func(key string, v any, last bool) error {
		js, err := json.Marshal(v)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\t%q: %s", key, js)
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		return nil
	}
	list := func(key string, n int, item func(int) any, last bool) error {
		fmt.Fprintf(&b, "\t%q: [", key)
		for i := range n {
			js, err := json.Marshal(item(i))
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n\t\t")
			b.Write(js)
		}
		if n > 0 {
			b.WriteString("\n\t")
		}
		b.WriteString("]")
		if !last {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		return nil
	}
	config := m.Config
	if len(config) == 0 {
		config = json.RawMessage("null")
	}
	b.WriteString("{\n")
	for _, err := range []error{
		line("format", m.Format, false),
		line("version", m.Version, false),
		line("model", m.Model, false),
		line("parameters", m.Parameters, false),
		line("vram", m.VRAM, false),
		line("config", config, false),
		line("tokenizer", m.Tokenizer, false),
		list("shards", len(m.Shards), func(i int) any { return m.Shards[i] }, false),
		list("tensors", len(m.Tensors), func(i int) any { return m.Tensors[i] }, true),
	} {
		if err != nil {
			return nil, err
		}
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}
