//go:build !js

package gpu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
	"ctlens/wgpu"
)

// piecesOf is the row pieces of a GPU weight tensor (nil when whole).
func piecesOf(t testing.TB, w model.Tensor) []*piece {
	t.Helper()
	gt, ok := w.(*tensor)
	if !ok {
		t.Fatalf("%T is not a GPU tensor", w)
	}
	return gt.pieces
}

// TestPiecedMatMul: weights split into 3+ row pieces (a lowered binding
// limit) give the CPU backend's MatMul, for GEMV and GEMM, f32, f16 and
// int4 with K/32 odd (pieces at even rows), with bias, activation,
// accumulate and a strided output at a column offset.
func TestPiecedMatMul(t *testing.T) {
	p := newPair(t)
	const n, k = 37, 96 // K/32 = 3: int4 pieces must start at even rows
	for _, dt := range []shaders.DType{shaders.F32, shaders.F16, shaders.Int4} {
		for _, m := range []int{1, 17} {
			p.g.limit = dataBytes(dt, 10, k) // 10 rows a piece: 4 pieces
			w := p.upload("w", p.weights(dt, n, k))
			pcs := piecesOf(t, w.g)
			if len(pcs) < 3 {
				t.Fatalf("%s: %d pieces, want ≥ 3", dt, len(pcs))
			}
			for _, pc := range pcs {
				if pc.row0%rowAlign(dt, k) != 0 || dataBytes(dt, pc.rows, k) > p.g.limit {
					t.Errorf("%s: piece at row %d of %d rows breaks the alignment or the limit", dt, pc.row0, pc.rows)
				}
			}
			pr := shaders.MatMulDims(m, n, k)
			pr.LdY, pr.YCol = uint32(n+12), 8
			x := p.f32("x", p.rand(m*k, 1), m, k)
			y := p.f32("y", p.rand(m*int(pr.LdY), 1), m, int(pr.LdY))
			bias := p.f32("b", p.rand(n, 1), n)
			p.both(func(o model.Ops, on func(twin) model.Tensor) {
				o.MatMul(on(y), on(x), on(w), model.MatMulOpts{Bias: on(bias), Act: shaders.ActSiLU, Accumulate: true}, pr)
			})
			p.near(fmt.Sprintf("%s M=%d in %d pieces", dt, m, len(pcs)), y, kernelNMSE)
		}
	}
	p.g.limit = 0
	p.sync()
}

// TestPiecedGather: a gather from a table split into 3+ pieces is the CPU
// backend's, exactly, for ids in every piece, ids past the table (zero
// rows), and two gathers in one batch (the scratch ids and rows reused).
func TestPiecedGather(t *testing.T) {
	p := newPair(t)
	const n, c = 40, 96
	idv := []uint32{39, 0, 12, 25, 25, 1 << 30, 13, 40, 38, 1, 27, 26}
	ids := p.u32("ids", idv, len(idv))
	ids2 := p.u32("ids2", []uint32{5, 33, 20, 0xffffffff}, 4)
	for _, dt := range []shaders.DType{shaders.F16, shaders.Int4} {
		p.g.limit = dataBytes(dt, 12, c)
		table := p.upload("table", p.weights(dt, n, c))
		if pcs := piecesOf(t, table.g); len(pcs) < 3 {
			t.Fatalf("%s: %d pieces, want ≥ 3", dt, len(pcs))
		} else {
			// Every piece is read by some id.
			for _, pc := range pcs {
				if !slices.ContainsFunc(idv, func(id uint32) bool { return int(id) >= pc.row0 && int(id) < pc.row0+pc.rows }) {
					t.Fatalf("%s: no id in piece %d+%d", dt, pc.row0, pc.rows)
				}
			}
		}
		y := p.f32("y", p.rand(len(idv)*c, 1), len(idv), c)
		y2 := p.f32("y2", p.rand(4*c, 1), 4, c)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Gather(on(y), on(ids), on(table), shaders.GatherParams{T: uint32(len(idv)), C: c, Rows: n})
			o.Gather(on(y2), on(ids2), on(table), shaders.GatherParams{T: 4, C: c, Rows: n})
		})
		p.exact(dt.String()+" pieced table", y)
		p.exact(dt.String()+" pieced table, second gather", y2)
	}
	p.g.limit = 0
	p.sync()
}

// TestPiecedRowTooLarge: a matrix whose single row (or, for int4 with K/32
// odd, aligned pair of rows) exceeds the limit is refused by name, wrapping
// wgpu.ErrTooLarge; a pieced weight read as an f32 tensor is refused.
func TestPiecedRowTooLarge(t *testing.T) {
	p := newPair(t)
	w := p.weights(shaders.Int4, 4, 96)
	p.g.limit = dataBytes(shaders.Int4, 1, 96) // one row fits, an aligned pair does not
	p.g.Upload("wide.weight", w)
	err := p.g.Sync()
	if err == nil || !errors.Is(err, wgpu.ErrTooLarge) || !strings.Contains(err.Error(), `"wide.weight"`) {
		t.Errorf("a row pair past the limit: %v, want ErrTooLarge naming the tensor", err)
	}
	p.g.limit = dataBytes(shaders.F32, 2, 96)
	big := p.g.Upload("split.weight", p.weights(shaders.F32, 4, 96))
	if len(piecesOf(t, big)) != 2 {
		t.Fatalf("want 2 pieces")
	}
	y := p.g.Alloc("y", model.F32, 96)
	p.g.Add(y, y, big, shaders.AddParams{N: 96, NB: 96})
	if err := p.g.Sync(); err == nil || !strings.Contains(err.Error(), "row pieces") {
		t.Errorf("a pieced weight read as f32: %v, want a refusal", err)
	}
}

// TestPiecedModel: a tiny model whose embedding, LM head and MLP weights
// are split into pieces (a lowered limit) generates the CPU backend's
// greedy tokens.
func TestPiecedModel(t *testing.T) {
	for _, dt := range []shaders.DType{shaders.F16, shaders.Int4} {
		t.Run(dt.String(), func(t *testing.T) {
			cfg := model.TinyConfigs()[0].Config
			src, err := model.RandomWeights(cfg, 11, dt)
			if err != nil {
				t.Fatal(err)
			}
			cm, err := model.New(cpu.New(), cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			gb := New(device(t))
			lc := cfg.LLM
			// A third of the embedding, but at least one vision activation
			// (the model refuses a limit below that; its vision pass is then
			// split and chunked too).
			vis := uint64(cfg.Slices()*cfg.Vision.Tokens()*cfg.Vision.HiddenSize) * 4
			gb.limit = max(dataBytes(dt, lc.VocabSize, lc.HiddenSize)/3&^3, vis)
			gm, err := model.New(gb, cfg, src)
			if err != nil {
				t.Fatal(err)
			}
			lw := gm.W.LLM
			for name, w := range map[string]model.Tensor{"embed": lw.Embed, "head": lw.Head, "gate_up": lw.Layers[0].GateUp, "down": lw.Layers[0].Down} {
				if len(piecesOf(t, w)) < 2 {
					t.Errorf("%s: not split at limit %d", name, gb.limit)
				}
			}
			if err := gb.Warm(context.Background(), gm); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			pipelines := gb.Stats().Pipelines
			ids := chatPrompt(t, cfg, "Describe the liver.")
			var px []float32
			if cfg.HasVision() {
				px = volume(cfg, 7)
			}
			maxSeq := len(ids) + cfg.VisualTokens() + decodeSteps + 8
			req := model.Request{Prompt: ids, Pixels: px}
			opt := model.GenerateOptions{MaxTokens: decodeSteps}
			want, err := cm.Generate(ctx, newState(t, cm, maxSeq), req, opt)
			if err != nil {
				t.Fatal(err)
			}
			have, err := gm.Generate(ctx, newState(t, gm, maxSeq), req, opt)
			if err != nil {
				t.Fatalf("GPU generate: %v", err)
			}
			if n := gb.Stats().Pipelines - pipelines; n != 0 {
				t.Errorf("Generate compiled %d pipelines after Warm (the pieced ops' kernels are warmed too)", n)
			}
			if len(want.Tokens) != decodeSteps || !slices.Equal(have.Tokens, want.Tokens) {
				t.Errorf("greedy tokens:\n have %v\n want %v", have.Tokens, want.Tokens)
			}
			// The prompt reads every embedding piece, and the prefill's
			// logits match.
			for _, pc := range piecesOf(t, lw.Embed) {
				if !slices.ContainsFunc(ids, func(id int) bool { return id >= pc.row0 && id < pc.row0+pc.rows }) {
					t.Errorf("the prompt %v reads no row of embedding piece %d+%d", ids, pc.row0, pc.rows)
				}
			}
			var logits [2][]float32
			for i, m := range []*model.Model{cm, gm} {
				s := newState(t, m, maxSeq)
				if err := m.RouteText(s, ids, -1); err != nil {
					t.Fatal(err)
				}
				if px != nil {
					if err := m.EncodeVision(ctx, s, px); err != nil {
						t.Fatal(err)
					}
				}
				if err := m.Prefill(ctx, s, ids); err != nil {
					t.Fatal(err)
				}
				if logits[i], err = m.Logits(s); err != nil {
					t.Fatal(err)
				}
			}
			if e := nmse(logits[1], logits[0]); !(e <= logitsNMSE) {
				t.Errorf("prefill logits NMSE %.3g > %g:%s", e, logitsNMSE, firstDiffs(logits[1], logits[0], 1e-4))
			}
		})
	}
}
