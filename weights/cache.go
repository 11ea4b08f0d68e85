package weights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/url"
	"path"

	"github.com/hack-pad/hackpadfs"
)

// DefaultChunkBytes bounds each file the cache writes. The browser's
// IndexedDB store (hackpadfs/indexeddb) rewrites a whole file on every
// Write, so the cache writes each file once, in one call, and keeps files
// small enough that one write is cheap.
const DefaultChunkBytes = 8 << 20

// Cache keeps model files (shards, tokenizers) by sha256 in a hackpadfs
// file system (IndexedDB in the browser, mem or os natively), so a second
// load needs no network. A file with sum S is stored as
//
//	dir/S/00000, dir/S/00001, …   chunks of at most ChunkBytes, each written in one call
//	dir/S/index.json              {"bytes": n, "chunks": [sizes]}, written last
//
// so a file whose index exists was stored completely and verified. Manifests
// are kept as dir/manifests/<escaped model name>.json. A Cache is not safe
// for concurrent writes of the same file.
type Cache struct {
	fs  hackpadfs.FS
	dir string
	// ChunkBytes bounds each chunk file; 0 means DefaultChunkBytes.
	ChunkBytes int
}

// NewCache returns a cache rooted at dir in fsys, creating dir.
func NewCache(fsys hackpadfs.FS, dir string) (*Cache, error) {
	if err := hackpadfs.MkdirAll(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("weights: cache: %w", err)
	}
	return &Cache{fs: fsys, dir: dir}, nil
}

// chunkIndex is a cached file's index.json.
type chunkIndex struct {
	Bytes  int64   `json:"bytes"`
	Chunks []int64 `json:"chunks"`
}

const indexFile = "index.json"

func (c *Cache) path(sum string, elem ...string) string {
	return path.Join(append([]string{c.dir, sum}, elem...)...)
}

func chunkName(i int) string { return fmt.Sprintf("%05d", i) }

func (c *Cache) index(sum string) (chunkIndex, error) {
	var idx chunkIndex
	if !isSHA256(sum) {
		return idx, fmt.Errorf("weights: cache: %q is not a sha256", sum)
	}
	data, err := fs.ReadFile(c.fs, c.path(sum, indexFile))
	if err != nil {
		return idx, fmt.Errorf("weights: cache: %s: %w", sum, err)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("weights: cache: %s: index: %v", sum, err)
	}
	return idx, nil
}

// Has reports whether the file with this sha256 is stored completely (its
// index exists and every chunk has the recorded size).
func (c *Cache) Has(sum string) bool {
	idx, err := c.index(sum)
	if err != nil {
		return false
	}
	var total int64
	for i, n := range idx.Chunks {
		st, err := hackpadfs.Stat(c.fs, c.path(sum, chunkName(i)))
		if err != nil || st.Size() != n {
			return false
		}
		total += n
	}
	return total == idx.Bytes
}

// Put stores the bytes of r under sum, streaming chunk by chunk (one chunk
// in memory). It stores nothing and returns a *HashError if the bytes do
// not hash to sum. An already stored file is kept and r is not read.
func (c *Cache) Put(ctx context.Context, sum string, r io.Reader) error {
	if c.Has(sum) {
		return nil
	}
	w, err := c.newWriter(sum, true)
	if err != nil {
		return err
	}
	buf := make([]byte, readChunk)
	for {
		if err := ctx.Err(); err != nil {
			w.abort()
			return fmt.Errorf("weights: cache: %s: %w", sum, err)
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if err := w.write(buf[:n]); err != nil {
				w.abort()
				return err
			}
		}
		if rerr == io.EOF {
			return w.commit()
		}
		if rerr != nil {
			w.abort()
			return fmt.Errorf("weights: cache: %s: %w", sum, rerr)
		}
	}
}

// Get opens a stored file for reading, chunk by chunk.
func (c *Cache) Get(sum string) (io.ReadCloser, error) {
	idx, err := c.index(sum)
	if err != nil {
		return nil, err
	}
	return &chunkReader{c: c, sum: sum, n: len(idx.Chunks)}, nil
}

// Delete removes a stored file (and any partial one).
func (c *Cache) Delete(sum string) error {
	if !isSHA256(sum) {
		return fmt.Errorf("weights: cache: %q is not a sha256", sum)
	}
	if err := hackpadfs.RemoveAll(c.fs, c.path(sum)); err != nil {
		return fmt.Errorf("weights: cache: %s: %w", sum, err)
	}
	return nil
}

// Verify rehashes a stored file; on a mismatch (storage corrupted it) it
// deletes the file and returns a *HashError.
func (c *Cache) Verify(ctx context.Context, sum string) error {
	rc, err := c.Get(sum)
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	buf := make([]byte, readChunk)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("weights: cache: %s: %w", sum, err)
		}
		n, rerr := rc.Read(buf)
		h.Write(buf[:n])
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("weights: cache: %s: %w", sum, rerr)
		}
	}
	if have := hex.EncodeToString(h.Sum(nil)); have != sum {
		c.Delete(sum)
		return &HashError{File: "cache/" + sum, Want: sum, Have: have}
	}
	return nil
}

// Missing lists the model's files (shards, then the tokenizer) that are
// not stored.
func (c *Cache) Missing(m *Manifest) []FileRef {
	var out []FileRef
	refs := m.Shards
	if m.Tokenizer != (FileRef{}) {
		refs = append(refs[:len(refs):len(refs)], m.Tokenizer)
	}
	for _, r := range refs {
		if !c.Has(r.SHA256) {
			out = append(out, r)
		}
	}
	return out
}

// Opener serves files from the cache when stored, and otherwise from
// fallback while storing the bytes as they stream past. A file streamed
// this way is kept only once the loader has verified it (see Verifier):
// the loader already hashes every byte, so the cache does not hash again.
// Failing to store does not fail the read: it is reported to cacheErr (nil
// ignores it), since the bytes are still good for this load.
func (c *Cache) Opener(fallback Opener, cacheErr func(FileRef, error)) Opener {
	report := func(f FileRef, err error) {
		if cacheErr != nil && err != nil {
			cacheErr(f, err)
		}
	}
	return func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		if c.Has(f.SHA256) {
			rc, err := c.Get(f.SHA256)
			if err != nil {
				return nil, err
			}
			return &cachedReader{chunkReader: rc.(*chunkReader), report: func(err error) { report(f, err) }}, nil
		}
		rc, err := fallback(ctx, f)
		if err != nil {
			return nil, err
		}
		w, err := c.newWriter(f.SHA256, false)
		if err != nil {
			report(f, err)
			return rc, nil
		}
		return &teeReader{rc: rc, w: w, report: func(err error) { report(f, err) }}, nil
	}
}

// cachedReader serves a stored file and drops it if the loader read it
// all but did not verify it: storage corrupted it (same size, so Has
// could not tell), and keeping it would fail every later load.
type cachedReader struct {
	*chunkReader
	eof, verified bool
	report        func(error)
}

func (r *cachedReader) Read(p []byte) (int, error) {
	n, err := r.chunkReader.Read(p)
	if err == io.EOF {
		r.eof = true
	}
	return n, err
}

// Verified records that the loader checked the bytes.
func (r *cachedReader) Verified() { r.verified = true }

func (r *cachedReader) Close() error {
	err := r.chunkReader.Close()
	if r.eof && !r.verified {
		r.report(fmt.Errorf("weights: cache: %s failed verification; dropped", r.sum))
		r.c.Delete(r.sum)
	}
	return err
}

// teeReader stores what it reads into a chunk writer, and commits when
// the reader of the bytes says they were verified.
type teeReader struct {
	rc     io.ReadCloser
	w      *chunkWriter // nil once committed or abandoned
	eof    bool
	report func(error)
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	if t.w != nil && n > 0 {
		if werr := t.w.write(p[:n]); werr != nil {
			t.drop(werr)
		}
	}
	if t.w != nil && err == io.EOF && !t.eof {
		t.eof = true
		if ferr := t.w.flush(); ferr != nil {
			t.drop(ferr)
		}
	}
	return n, err
}

func (t *teeReader) drop(err error) {
	t.w.abort()
	t.w = nil
	t.report(err)
}

// Verified commits the stored copy if the whole file went through.
func (t *teeReader) Verified() {
	if t.w != nil && t.eof {
		if err := t.w.writeIndex(); err != nil {
			t.drop(err)
			return
		}
		t.w = nil
	}
}

func (t *teeReader) Close() error {
	if t.w != nil { // not verified, or stopped early: keep nothing
		t.w.abort()
		t.w = nil
	}
	return t.rc.Close()
}

// chunkWriter buffers one chunk and writes each chunk file in one call.
type chunkWriter struct {
	c   *Cache
	sum string
	buf []byte
	idx chunkIndex
	h   hash.Hash // nil when the caller verifies the bytes itself
}

// newWriter starts storing the file with this sum; with hash it also
// hashes the bytes so commit can check them.
func (c *Cache) newWriter(sum string, hash bool) (*chunkWriter, error) {
	if !isSHA256(sum) {
		return nil, fmt.Errorf("weights: cache: %q is not a sha256", sum)
	}
	size := c.ChunkBytes
	if size <= 0 {
		size = DefaultChunkBytes
	}
	// Start clean: a previous partial write leaves chunks but no index.
	if err := hackpadfs.RemoveAll(c.fs, c.path(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("weights: cache: %s: %w", sum, err)
	}
	if err := hackpadfs.MkdirAll(c.fs, c.path(sum), 0o755); err != nil {
		return nil, fmt.Errorf("weights: cache: %s: %w", sum, err)
	}
	w := &chunkWriter{c: c, sum: sum, buf: make([]byte, 0, size)}
	if hash {
		w.h = sha256.New()
	}
	return w, nil
}

func (w *chunkWriter) write(p []byte) error {
	if w.h != nil {
		w.h.Write(p)
	}
	for len(p) > 0 {
		n := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	name := w.c.path(w.sum, chunkName(len(w.idx.Chunks)))
	if err := writeOnce(w.c.fs, name, w.buf); err != nil {
		return err
	}
	w.idx.Chunks = append(w.idx.Chunks, int64(len(w.buf)))
	w.idx.Bytes += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// commit checks the hash, writes the last chunk and the index that makes
// the file visible.
func (w *chunkWriter) commit() error {
	if have := hex.EncodeToString(w.h.Sum(nil)); have != w.sum {
		w.abort()
		return &HashError{File: "cache/" + w.sum, Want: w.sum, Have: have}
	}
	if err := w.flush(); err != nil {
		w.abort()
		return err
	}
	if err := w.writeIndex(); err != nil {
		w.abort()
		return err
	}
	return nil
}

// writeIndex writes index.json, after every chunk.
func (w *chunkWriter) writeIndex() error {
	js, _ := json.Marshal(w.idx) // plain numbers always marshal
	return writeOnce(w.c.fs, w.c.path(w.sum, indexFile), js)
}

func (w *chunkWriter) abort() { hackpadfs.RemoveAll(w.c.fs, w.c.path(w.sum)) }

// writeOnce creates name and writes data in a single Write call.
func writeOnce(fsys hackpadfs.FS, name string, data []byte) error {
	f, err := hackpadfs.Create(fsys, name)
	if err != nil {
		return fmt.Errorf("weights: cache: %w", err)
	}
	_, err = hackpadfs.WriteFile(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("weights: cache: %s: %w", name, err)
	}
	return nil
}

// chunkReader reads a stored file's chunks in order, one open at a time.
type chunkReader struct {
	c   *Cache
	sum string
	n   int // chunks
	i   int // next chunk to open
	cur hackpadfs.File
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if r.i == r.n {
				return 0, io.EOF
			}
			f, err := r.c.fs.Open(r.c.path(r.sum, chunkName(r.i)))
			if err != nil {
				return 0, fmt.Errorf("weights: cache: %s: %w", r.sum, err)
			}
			r.cur, r.i = f, r.i+1
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (r *chunkReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// SaveManifest stores a model's manifest so the model can be listed and
// loaded offline.
func (c *Cache) SaveManifest(m *Manifest) error {
	js, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("weights: cache: manifest: %v", err)
	}
	if err := hackpadfs.MkdirAll(c.fs, path.Join(c.dir, "manifests"), 0o755); err != nil {
		return fmt.Errorf("weights: cache: %w", err)
	}
	return writeOnce(c.fs, c.manifestPath(m.Model), js)
}

// Manifest returns the stored manifest of the named model.
func (c *Cache) Manifest(model string) (*Manifest, error) {
	data, err := fs.ReadFile(c.fs, c.manifestPath(model))
	if err != nil {
		return nil, fmt.Errorf("weights: cache: %w", err)
	}
	return ParseManifest(data)
}

func (c *Cache) manifestPath(model string) string {
	return path.Join(c.dir, "manifests", url.PathEscape(model)+".json")
}
