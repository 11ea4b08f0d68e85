package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"

	"ctlens/shaders"
)

// countFS is a mem FS that counts Write calls per file, to check the
// IndexedDB rule: each file written in one call.
type countFS struct {
	*mem.FS
	mu     sync.Mutex
	writes map[string]int
	sizes  map[string]int
}

func newCountFS(t *testing.T) *countFS {
	t.Helper()
	m, err := mem.NewFS()
	if err != nil {
		t.Fatal(err)
	}
	return &countFS{FS: m, writes: map[string]int{}, sizes: map[string]int{}}
}

func (c *countFS) OpenFile(name string, flag int, perm hackpadfs.FileMode) (hackpadfs.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil || flag == hackpadfs.FlagReadOnly {
		return f, err
	}
	return &countFile{File: f, fs: c, name: name}, nil
}

type countFile struct {
	hackpadfs.File
	fs   *countFS
	name string
}

func (f *countFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	f.fs.writes[f.name]++
	f.fs.sizes[f.name] = max(f.fs.sizes[f.name], len(p))
	f.fs.mu.Unlock()
	return hackpadfs.WriteFile(f.File, p)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestCachePutGet(t *testing.T) {
	fsys := newCountFS(t)
	c, err := NewCache(fsys, "cache")
	if err != nil {
		t.Fatal(err)
	}
	c.ChunkBytes = 1000
	ctx := context.Background()
	for _, size := range []int{0, 1, 999, 1000, 1001, 3500} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + size)
		}
		s := sum(data)
		if c.Has(s) {
			t.Fatalf("%d bytes: cached before Put", size)
		}
		if err := c.Put(ctx, s, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if !c.Has(s) {
			t.Fatalf("%d bytes: not cached after Put", size)
		}
		rc, err := c.Get(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: got %d bytes back (%v)", size, len(got), err)
		}
		if err := c.Verify(ctx, s); err != nil {
			t.Errorf("%d bytes: verify: %v", size, err)
		}
		if err := c.Delete(s); err != nil || c.Has(s) {
			t.Errorf("%d bytes: delete: %v, still cached %v", size, err, c.Has(s))
		}
	}
	for name, n := range fsys.writes {
		if n != 1 {
			t.Errorf("%s written in %d calls, want 1", name, n)
		}
		if fsys.sizes[name] > c.ChunkBytes {
			t.Errorf("%s: one write of %d bytes, over the chunk size %d", name, fsys.sizes[name], c.ChunkBytes)
		}
	}
	if len(fsys.writes) == 0 {
		t.Fatal("no writes counted: the counting FS is not in the path")
	}
}

// Put refuses bytes that do not match the sum and stores nothing.
func TestCachePutWrongSum(t *testing.T) {
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "cache")
	s := sum([]byte("right"))
	err := c.Put(context.Background(), s, strings.NewReader("wrong"))
	var he *HashError
	if !errors.As(err, &he) || he.Want != s || he.Have != sum([]byte("wrong")) {
		t.Errorf("error %v", err)
	}
	if c.Has(s) {
		t.Errorf("wrong bytes cached")
	}
	if _, err := fs.Stat(fsys, path.Join("cache", s)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial files left: %v", err)
	}
}

// Storage that corrupts a chunk is caught by Verify (which then drops the
// file), and Has notices a chunk of the wrong size.
func TestCacheVerifyCorruption(t *testing.T) {
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "cache")
	c.ChunkBytes = 64
	data := bytes.Repeat([]byte("ctlens"), 40)
	s := sum(data)
	if err := c.Put(context.Background(), s, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	chunk := path.Join("cache", s, chunkName(1))
	b, _ := fs.ReadFile(fsys, chunk)
	b[3] ^= 1
	writeOnce(fsys, chunk, b)
	if !c.Has(s) {
		t.Fatal("same-size corruption should pass Has (it checks sizes only)")
	}
	var he *HashError
	if err := c.Verify(context.Background(), s); !errors.As(err, &he) || he.Want != s {
		t.Errorf("verify: %v", err)
	}
	if c.Has(s) {
		t.Errorf("corrupt file still cached after Verify")
	}
	// A short chunk is caught without reading.
	c.Put(context.Background(), s, bytes.NewReader(data))
	writeOnce(fsys, chunk, b[:10])
	if c.Has(s) {
		t.Errorf("short chunk passes Has")
	}
}

// The second load of a model through the cache opener needs no network:
// every file comes from the cache, and the load is identical.
func TestCacheSecondLoadOffline(t *testing.T) {
	want := sampleTensors(t)
	want = append(want, Matrix("big", pack(t, shaders.Int4, 64, 512, 9)))
	dir, m := writeSample(t, want, WriteOptions{MaxShardBytes: 8 << 10})
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "weights")
	c.ChunkBytes = 4096 // shards span several chunks
	fetched := map[string]int{}
	network := func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		fetched[f.File]++
		return os.Open(path.Join(dir, f.File))
	}
	var cacheErrs []error
	open := c.Opener(network, func(f FileRef, err error) { cacheErrs = append(cacheErrs, err) })
	ctx := context.Background()

	first, err := LoadAll(ctx, m, open, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalTensors(t, first, want)
	if _, err := LoadTokenizer(ctx, m, open); err != nil {
		t.Fatal(err)
	}
	if len(fetched) != len(m.Shards)+1 || len(cacheErrs) > 0 {
		t.Fatalf("first load fetched %v (cache errors %v)", fetched, cacheErrs)
	}
	if miss := c.Missing(m); len(miss) != 0 {
		t.Fatalf("missing after first load: %v", miss)
	}
	if err := c.SaveManifest(m); err != nil {
		t.Fatal(err)
	}

	offline := func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		t.Errorf("second load went to the network for %s", f.File)
		return nil, errors.New("offline")
	}
	m2, err := c.Manifest(m.Model)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadAll(ctx, m2, c.Opener(offline, nil), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalTensors(t, second, want)
	for name, n := range fsys.writes {
		if n != 1 {
			t.Errorf("%s written in %d calls", name, n)
		}
	}
}

// A load abandoned midway (or a network read that fails) caches nothing.
func TestCacheOpenerPartial(t *testing.T) {
	dir, m := writeSample(t, sampleTensors(t), WriteOptions{})
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "weights")
	c.ChunkBytes = 256
	boom := errors.New("connection reset")
	network := func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		b, err := os.ReadFile(path.Join(dir, f.File))
		return io.NopCloser(io.MultiReader(bytes.NewReader(b[:len(b)/2]), errReader{boom})), err
	}
	err := Load(context.Background(), m, c.Opener(network, nil), LoadOptions{}, func(Piece) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
	if c.Has(m.Shards[0].SHA256) {
		t.Errorf("half a shard cached")
	}
	if _, err := fs.Stat(fsys, path.Join("weights", m.Shards[0].SHA256)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial chunks left behind: %v", err)
	}
}

// Bytes that fail the loader's check are not cached: the next load goes
// to the network again and, given good bytes, caches them.
func TestCacheOpenerCorrupt(t *testing.T) {
	dir, m := writeSample(t, sampleTensors(t), WriteOptions{})
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "weights")
	corrupt := true
	fetches := 0
	network := func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		fetches++
		b, err := os.ReadFile(path.Join(dir, f.File))
		if corrupt {
			b[len(b)/2] ^= 4
		}
		return io.NopCloser(bytes.NewReader(b)), err
	}
	open := c.Opener(network, nil)
	var he *HashError
	if err := Load(context.Background(), m, open, LoadOptions{}, func(Piece) error { return nil }); !errors.As(err, &he) {
		t.Fatalf("error %v, want a *HashError", err)
	}
	if c.Has(m.Shards[0].SHA256) {
		t.Fatalf("corrupt shard cached")
	}
	corrupt = false
	if _, err := LoadAll(context.Background(), m, open, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if !c.Has(m.Shards[0].SHA256) || fetches != 2 {
		t.Errorf("cached %v after %d fetches", c.Has(m.Shards[0].SHA256), fetches)
	}
	if err := c.Verify(context.Background(), m.Shards[0].SHA256); err != nil {
		t.Errorf("stored copy: %v", err)
	}
}

// A stored file that storage corrupted (same size) fails that load, is
// dropped, and the next load fetches and stores it again.
func TestCacheOpenerDropsCorruptCopy(t *testing.T) {
	dir, m := writeSample(t, sampleTensors(t), WriteOptions{})
	fsys := newCountFS(t)
	c, _ := NewCache(fsys, "weights")
	fetches := 0
	network := func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		fetches++
		return os.Open(path.Join(dir, f.File))
	}
	var reported []error
	open := c.Opener(network, func(f FileRef, err error) { reported = append(reported, err) })
	ctx := context.Background()
	if _, err := LoadAll(ctx, m, open, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	sum := m.Shards[0].SHA256
	chunk := path.Join("weights", sum, chunkName(0))
	b, _ := fs.ReadFile(fsys, chunk)
	b[len(b)/2] ^= 0x40
	writeOnce(fsys, chunk, b)

	var he *HashError
	if _, err := LoadAll(ctx, m, open, LoadOptions{}); !errors.As(err, &he) {
		t.Fatalf("load from a corrupt cache: %v", err)
	}
	if c.Has(sum) || len(reported) != 1 {
		t.Fatalf("corrupt copy kept (%v), reports %v", c.Has(sum), reported)
	}
	if _, err := LoadAll(ctx, m, open, LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	if fetches != 2 || !c.Has(sum) {
		t.Errorf("%d fetches, cached %v", fetches, c.Has(sum))
	}
}
