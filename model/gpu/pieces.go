package gpu

import (
	"fmt"

	"ctlens/model"
	"ctlens/shaders"
	"ctlens/wgpu"
)

// Weights larger than the binding limit.
//
// WebGPU binds at most MaxStorageBufferBindingSize bytes of a buffer to one
// binding (128 MiB on lavapipe), less than an f16 embedding table or LM
// head of a 3B model. Upload stores such a matrix as row pieces, each its
// own words (and scales) buffer within the limit, and the two ops that read
// weights run per piece:
//
//   - MatMul dispatches once per piece with N = the piece's rows and
//     YCol += its first row, so each piece writes its own output columns.
//     A bias is bound per piece as a copy of its sub-range (a small buffer
//     per bias and piece, refreshed by a recorded copy each call), since
//     WebGPU binds storage only at aligned offsets.
//   - Gather runs the gather kernel once per piece with Row0 = the
//     piece's first row: piece 0 with Keep = 0 writes its rows and zeros
//     for every other id (ids past the table included), each later piece
//     with Keep = 1 writes only its own ids' rows. The dispatches are
//     ordered in the batch, so the result is the unsplit gather exactly.
//
// Piece boundaries keep the scaled types' scales word-aligned: with K/32
// odd, pieces start at even rows (weights.Layout.RowAlign's rule), so a
// piece's scales are a whole-word range of the tensor's and its first
// group is the first half of a word, as the kernels assume of a matrix.
// GEMV and GEMM take any N, so no other constraint applies.

// piece is rows row0 .. row0+rows of a split weight matrix.
type piece struct {
	row0, rows int
	buf, scale *buffer // nil while virtual (Warm)
}

// bindLimit is the largest buffer a binding takes: the device's limit, or
// the test override.
func (b *Backend) bindLimit() uint64 {
	return b.BindingLimit()
}

// BindingLimit implements model.BindingLimiter: the largest buffer one
// binding takes, so that the model lays the vision pass out to fit it.
func (b *Backend) BindingLimit() uint64 {
	if b.limit != 0 {
		return b.limit
	}
	return b.d.Info().Limits.MaxStorageBufferBindingSize
}

// scaleWordsOf is the u32 words of the f16 scales of rows rows of k of dt
// (zero for unscaled types).
func scaleWordsOf(dt shaders.DType, rows, k int) int {
	if !dt.Scaled() {
		return 0
	}
	return (rows*k/shaders.GroupSize + 1) / 2
}

// dataBytes is the size of the packed words of rows rows of k of dt.
func dataBytes(dt shaders.DType, rows, k int) uint64 {
	return uint64(dt.Bytes(rows, k) - 4*scaleWordsOf(dt, rows, k))
}

// rowAlign is the row granularity of piece boundaries (see the file
// comment).
func rowAlign(dt shaders.DType, k int) int {
	if dt.Scaled() && (k/shaders.GroupSize)%2 == 1 {
		return 2
	}
	return 1
}

// splitUpload stores w as row pieces of at most lim bytes each (words and
// scales), as equal as the alignment allows, or refuses a matrix whose
// aligned rows alone exceed lim.
func (b *Backend) splitUpload(t *tensor, w shaders.Weights, lim uint64) {
	align := rowAlign(w.DType, w.K)
	perRow := dataBytes(w.DType, 1, w.K)
	maxRows := int(min(lim/max(perRow, 1), uint64(w.N)))
	maxRows -= maxRows % align
	for maxRows > 0 && (dataBytes(w.DType, maxRows, w.K) > lim || uint64(4*scaleWordsOf(w.DType, maxRows, w.K)) > lim) {
		maxRows -= align
	}
	if maxRows <= 0 {
		b.fail(fmt.Errorf("gpu: Upload: weights %q (%s %d×%d): %w: %d row(s) take %d bytes, the device binds at most %d bytes per buffer",
			t.name, w.DType, w.N, w.K, wgpu.ErrTooLarge, align, dataBytes(w.DType, align, w.K), lim))
		return
	}
	n := (w.N + maxRows - 1) / maxRows
	per := (w.N + n - 1) / n
	per = (per + align - 1) / align * align // ≤ maxRows: maxRows is aligned
	for r0 := 0; r0 < w.N; r0 += per {
		t.pieces = append(t.pieces, &piece{row0: r0, rows: min(per, w.N-r0)})
	}
	if b.dry {
		return
	}
	for _, pc := range t.pieces {
		words := w.Words[dataBytes(w.DType, pc.row0, w.K)/4 : dataBytes(w.DType, pc.row0+pc.rows, w.K)/4]
		var scales []uint32
		if w.DType.Scaled() {
			s0 := pc.row0 * w.K / shaders.GroupSize / 2
			scales = w.Scales[s0 : s0+scaleWordsOf(w.DType, pc.rows, w.K)]
		}
		pc.buf, pc.scale = b.upWeights(fmt.Sprintf("%s[%d:%d]", t.name, pc.row0, pc.row0+pc.rows), w.DType, words, scales)
		if pc.buf == nil {
			for _, q := range t.pieces {
				b.release(q.buf)
				b.release(q.scale)
			}
			t.pieces = nil
			return
		}
	}
}

// pieceBinds binds one piece as the weight source.
func pieceBinds(w *tensor, pc *piece) []bind {
	return []bind{{name: "w", buf: pc.buf, t: w}, {name: "wscale", buf: pc.scale, t: w}}
}

// biasKey names the copy of one piece's bias sub-range.
type biasKey struct {
	bias       uint64 // the bias tensor's buffer
	row0, rows int
}

// biasPart returns a buffer holding bias[row0 : row0+rows], copied in the
// open batch (so it follows any earlier write of the bias).
func (b *Backend) biasPart(bias *tensor, row0, rows int) *buffer {
	key := biasKey{bias.buf.id, row0, rows}
	part := b.biasParts[key]
	if part == nil {
		var err error
		part, err = b.newBuffer(bias.name+fmt.Sprintf("[%d:%d]", row0, row0+rows), uint64(4*rows))
		check(err)
		b.biasParts[key] = part
	}
	b.copyBuf(bias.buf, uint64(4*row0), part, 0, uint64(4*rows))
	return part
}

// matmulPieces runs MatMul over a pieced w: one matmul per piece into its
// output columns.
func (b *Backend) matmulPieces(cy, cx, cw, cb, cs *tensor, o model.MatMulOpts, p shaders.MatMulParams) {
	for _, pc := range cw.pieces {
		pp := p
		pp.N, pp.YCol = uint32(pc.rows), p.YCol+uint32(pc.row0)
		binds := append(pieceBinds(cw, pc), bt("x", cx), bt("seg", cs), bt("y", cy))
		if cb != nil {
			var part *buffer
			if !b.dry {
				part = b.biasPart(cb, pc.row0, pc.rows)
			}
			binds = append(binds, bind{name: "b", buf: part, t: cb})
		}
		b.matmul1(cw.wdt, cb != nil, cs != nil, o, pp, binds)
	}
}

// gatherPieces is Gather over a pieced table (see the file comment).
func (b *Backend) gatherPieces(cy, ci, ct *tensor, p shaders.GatherParams) {
	kt := b.kernel(gatherKey(ct.wdt), func() shaders.Kernel { return shaders.Gather(ct.wdt) })
	for i, pc := range ct.pieces {
		pp := p
		pp.Rows, pp.Row0, pp.Keep = uint32(pc.rows), uint32(pc.row0), uint32(min(i, 1))
		b.dispatch(kt, pp, shaders.GatherGrid(pp), append(pieceBinds(ct, pc), bt("ids", ci), bt("y", cy))...)
	}
}
