package weights

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/hack-pad/hackpadfs/mem"

	"ctlens/shaders"
)

// benchModel writes ~64 MiB of int4 matrices of Phi-3-mini's MLP shape
// (random words: packing that many values would dominate the setup).
func benchModel(b *testing.B) (string, *Manifest) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	var tensors []Tensor
	for i := range 5 {
		w := shaders.Weights{DType: shaders.Int4, N: 3072, K: 8192}
		l := Matrix("", w).Layout()
		w.Words = make([]uint32, l.DataBytes(w.N)/4)
		w.Scales = make([]uint32, l.ScaleBytes(w.N)/4)
		for j := range w.Words {
			w.Words[j] = r.Uint32()
		}
		for j := range w.Scales {
			w.Scales[j] = 0x2c002c00 // f16 1/16, twice
		}
		tensors = append(tensors, Matrix("layers."+string(rune('0'+i))+".mlp.down_proj.weight", w))
	}
	dir := b.TempDir()
	m, err := WriteModel(dir, tensors, nil, nil, WriteOptions{Model: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return dir, m
}

// BenchmarkLoad measures streaming load with sha256 (MB/s of shard
// bytes): from files, and from the hackpadfs cache in memory. The sha256
// sub-benchmark is the hashing alone, a floor for both.
func BenchmarkLoad(b *testing.B) {
	dir, m := benchModel(b)
	ctx := context.Background()
	load := func(b *testing.B, open Opener) {
		b.SetBytes(m.Bytes())
		b.ReportAllocs()
		for b.Loop() {
			if err := Load(ctx, m, open, LoadOptions{}, func(Piece) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("files", func(b *testing.B) { load(b, FSOpener(os.DirFS(dir))) })
	b.Run("cache", func(b *testing.B) {
		fsys, _ := mem.NewFS()
		c, _ := NewCache(fsys, "weights")
		for _, s := range m.Shards {
			f, _ := os.Open(dir + "/" + s.File)
			if err := c.Put(ctx, s.SHA256, f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		load(b, c.Opener(nil, nil))
	})
	// The hash the loader uses (SubtleCrypto under js/wasm) on one shard.
	b.Run("sha256", func(b *testing.B) {
		buf := make([]byte, m.Shards[0].Bytes)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			sha256Hex(buf)
		}
	})
}
