package weights

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"math"

	"ctlens/shaders"
)

// Opener opens one file of a model directory for streaming: from disk
// (FSOpener), from the cache (Cache.Opener), or over the network in the
// browser. The loader checks size and sha256 itself, so an Opener need not.
type Opener func(ctx context.Context, f FileRef) (io.ReadCloser, error)

// FSOpener opens files of a model directory in fsys.
func FSOpener(fsys fs.FS) Opener {
	return func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		return fsys.Open(f.File)
	}
}

// HashError is a file whose sha256 differs from the manifest's.
type HashError struct {
	File string // the shard (or other model file)
	Want string // the manifest's
	Have string // the bytes'
}

// Error names the file and both hashes.
func (e *HashError) Error() string {
	return fmt.Sprintf("weights: shard %s: sha256 %s, but the manifest says %s", e.File, e.Have, e.Want)
}

// LoadOptions configure Load.
type LoadOptions struct {
	// MaxBindingBytes, when > 0, cuts pieces further so that no buffer of
	// a piece exceeds it: pass the device's maxStorageBufferBindingSize.
	// The cuts follow SplitRows within each stored part.
	MaxBindingBytes int64
	// Progress, when set, is called as bytes arrive with the shard bytes
	// read so far and Manifest.Bytes(); the last call has done == total.
	Progress func(done, total int64)
}

// readChunk is how much is read (and hashed) between progress reports and
// cancellation checks.
const readChunk = 1 << 20

// Load streams the model's shards in order. Each shard is read into one
// reused buffer (so at most one shard is in memory), hashed as it arrives
// and checked against the manifest's size and sha256 before any of its
// tensors is handed out; then fn receives its pieces, each checked against
// the manifest's tensor table. Every part of every tensor is handed out
// exactly once. Cancelling ctx stops the load between reads.
func Load(ctx context.Context, m *Manifest, open Opener, opts LoadOptions, fn func(Piece) error) error {
	if err := m.Validate(); err != nil {
		return err
	}
	type key struct {
		name  string
		shard int
		row0  int
	}
	want := map[key]int{} // → row1
	entries := map[string]TensorEntry{}
	for _, e := range m.Tensors {
		entries[e.Name] = e
		for _, p := range e.Parts {
			want[key{e.Name, p.Shard, p.Rows[0]}] = p.Rows[1]
		}
	}
	total, done := m.Bytes(), int64(0)
	progress := func(n int64) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	var buf []byte
	for i, ref := range m.Shards {
		var err error
		if buf, err = fetch(ctx, open, ref, buf, progress); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("weights: shard %s: %w", ref.File, err)
		}
		h, err := ReadHeader(bytes.NewReader(buf), int64(len(buf)), ref.File)
		if err != nil {
			return err
		}
		err = decodePieces(h, buf, func(p Piece) error {
			e, ok := entries[p.Name]
			k := key{p.Name, i, p.Row0}
			row1, ok2 := want[k]
			if !ok || !ok2 || row1 != p.Row1 || e.Matrix != p.Matrix || e.DType != p.DType.String() || !equalInts(e.Shape, p.Shape) {
				return fmt.Errorf("weights: shard %s: tensor %q rows [%d, %d) %s is not in the manifest's table", ref.File, p.Name, p.Row0, p.Row1, p.Layout)
			}
			delete(want, k)
			return cut(p, opts.MaxBindingBytes, fn)
		})
		if err != nil {
			return err
		}
	}
	for k := range want {
		return fmt.Errorf("weights: tensor %q rows from %d: the manifest places them in shard %s, which does not hold them", k.name, k.row0, m.Shards[k.shard].File)
	}
	return nil
}

// cut hands out p in pieces whose buffers are each ≤ max (when > 0). The
// sub-pieces are sub-slices: row boundaries are aligned, so no scale needs
// repacking.
func cut(p Piece, max int64, fn func(Piece) error) error {
	if max <= 0 {
		return fn(p)
	}
	bounds, err := splitRange(p.Layout, p.Row0, p.Row1, max, 0)
	if err != nil {
		return fmt.Errorf("weights: tensor %q: %v", p.Name, err)
	}
	d0, s0 := p.Offsets()
	for j := 0; j+1 < len(bounds); j++ {
		q := p
		q.Row0, q.Row1 = bounds[j], bounds[j+1]
		d, s := q.Offsets()
		rows := q.Row1 - q.Row0
		q.Data = p.Data[d-d0 : d-d0+p.DataBytes(rows)]
		if p.Scales != nil {
			q.Scales = p.Scales[s-s0 : s-s0+p.ScaleBytes(rows)]
		}
		if err := fn(q); err != nil {
			return err
		}
	}
	return nil
}

// Verifier is implemented by readers that want to know when the bytes
// they delivered were checked: after a file's size and sha256 match the
// manifest, the loader calls Verified before Close. Cache.Opener stores a
// file only then, so it needs no hash of its own.
type Verifier interface{ Verified() }

// fetch reads ref completely into buf (grown if needed), reporting
// progress as bytes arrive, then checks its size and sha256. The whole
// shard is in buf anyway, so hashing it at the end costs no memory and
// lets the browser use its native sha256 (sha_js.go).
func fetch(ctx context.Context, open Opener, ref FileRef, buf []byte, progress func(int64)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return buf, fmt.Errorf("weights: shard %s: %w", ref.File, err)
	}
	rc, err := open(ctx, ref)
	if err != nil {
		return buf, fmt.Errorf("weights: shard %s: %w", ref.File, err)
	}
	defer rc.Close()
	if int64(cap(buf)) < ref.Bytes {
		buf = make([]byte, ref.Bytes)
	}
	buf = buf[:ref.Bytes]
	var off int64
	for off < ref.Bytes {
		if err := ctx.Err(); err != nil {
			return buf, fmt.Errorf("weights: shard %s: %w", ref.File, err)
		}
		n, err := io.ReadFull(rc, buf[off:min(off+readChunk, ref.Bytes)])
		off += int64(n)
		progress(int64(n))
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return buf, fmt.Errorf("weights: shard %s: truncated: %d of the manifest's %d bytes", ref.File, off, ref.Bytes)
		}
		if err != nil {
			return buf, fmt.Errorf("weights: shard %s: at byte %d: %w", ref.File, off, err)
		}
	}
	var one [1]byte
	if n, _ := io.ReadFull(rc, one[:]); n > 0 {
		return buf, fmt.Errorf("weights: shard %s: longer than the manifest's %d bytes", ref.File, ref.Bytes)
	}
	if have := sha256Hex(buf); have != ref.SHA256 {
		return buf, &HashError{File: ref.File, Want: ref.SHA256, Have: have}
	}
	if v, ok := rc.(Verifier); ok {
		v.Verified()
	}
	return buf, nil
}

// LoadTokenizer reads and verifies the tokenizer file.
func LoadTokenizer(ctx context.Context, m *Manifest, open Opener) ([]byte, error) {
	if m.Tokenizer == (FileRef{}) {
		return nil, fmt.Errorf("weights: model %q has no tokenizer", m.Model)
	}
	return fetch(ctx, open, m.Tokenizer, nil, func(int64) {})
}

// LoadAll loads every tensor whole, assembling split parts: the model
// then lives in memory once (what the CPU backend and tools need; the GPU
// backend uploads pieces from Load instead). Tensors come in manifest
// order.
func LoadAll(ctx context.Context, m *Manifest, open Opener, opts LoadOptions) ([]Tensor, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	out := make([]Tensor, len(m.Tensors))
	index := map[string]int{}
	for i, e := range m.Tensors {
		l, _ := e.Layout() // validated
		index[e.Name] = i
		if l.Matrix {
			w := shaders.Weights{DType: l.DType, N: l.Rows(), K: l.k(), Words: make([]uint32, l.DataBytes(l.Rows())/4)}
			if n := l.ScaleBytes(l.Rows()) / 4; n > 0 { // nil otherwise, as shaders.Pack leaves it
				w.Scales = make([]uint32, n)
			}
			out[i] = Matrix(e.Name, w)
		} else {
			out[i] = Plain(e.Name, l.Shape, make([]float32, l.Elems()))
		}
	}
	err := Load(ctx, m, open, opts, func(p Piece) error {
		t := &out[index[p.Name]]
		d, s := p.Offsets()
		if t.Weights == nil {
			putF32(t.Values[d/4:], p.Data)
			return nil
		}
		putU32(t.Weights.Words[d/4:], p.Data)
		putU32(t.Weights.Scales[s/4:], p.Scales)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// putU32 decodes little-endian words from b into dst.
func putU32(dst []uint32, b []byte) {
	for i := range len(b) / 4 {
		dst[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
}

// putF32 decodes little-endian float32 values from b into dst.
func putF32(dst []float32, b []byte) {
	for i := range len(b) / 4 {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
