package weights

import (
	"bytes"
	"fmt"
	"strings"

	"ctlens/shaders"
)

// Tensor is one logical tensor in memory: a packed matrix or plain f32
// values. WriteModel takes them; LoadAll returns them.
type Tensor struct {
	Name    string           // the logical name
	Weights *shaders.Weights // a packed matrix (N×K); nil for a plain tensor
	Shape   []int            // a plain tensor's shape; ignored for matrices
	Values  []float32        // a plain tensor's values, row-major
}

// Matrix returns the Tensor for a packed matrix.
func Matrix(name string, w shaders.Weights) Tensor { return Tensor{Name: name, Weights: &w} }

// Plain returns the Tensor for plain f32 values of the given shape.
func Plain(name string, shape []int, values []float32) Tensor {
	return Tensor{Name: name, Shape: shape, Values: values}
}

// Layout describes the tensor's GPU buffers.
func (t Tensor) Layout() Layout {
	if t.Weights != nil {
		return Layout{Matrix: true, DType: t.Weights.DType, Shape: []int{t.Weights.N, t.Weights.K}}
	}
	return Layout{DType: shaders.F32, Shape: t.Shape}
}

// check validates the tensor's name, layout and buffer lengths.
func (t Tensor) check() error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if _, isPart := logicalName(t.Name); isPart {
		return fmt.Errorf("weights: tensor %q: names ending in %s<i> are reserved for split parts", t.Name, partInfix)
	}
	l := t.Layout()
	if err := l.Validate(); err != nil {
		return fmt.Errorf("weights: tensor %q: %v", t.Name, err)
	}
	if t.Weights == nil {
		if int64(len(t.Values)) != l.Elems() {
			return fmt.Errorf("weights: tensor %q: %d values for shape %v", t.Name, len(t.Values), t.Shape)
		}
		return nil
	}
	w := t.Weights
	if int64(len(w.Words))*4 != l.DataBytes(w.N) || int64(len(w.Scales))*4 != l.ScaleBytes(w.N) {
		return fmt.Errorf("weights: tensor %q: %s %d×%d has %d words and %d scale words, want %d and %d",
			t.Name, w.DType, w.N, w.K, len(w.Words), len(w.Scales), l.DataBytes(w.N)/4, l.ScaleBytes(w.N)/4)
	}
	return nil
}

// part is rows [r0, r1) of a tensor as stored in one shard.
type part struct {
	t       *Tensor
	stored  string // the stored name (logical, or logical.part<i>)
	r0, r1  int
	split   bool // the tensor has more than one part
	entries []TensorInfo
	meta    map[string]string
}

// newPart describes the entries and metadata of rows [r0, r1) of t;
// offsets in entries start at 0 and are rebased when placed in a shard.
func newPart(t *Tensor, i, r0, r1 int, split bool) part {
	p := part{t: t, stored: t.Name, r0: r0, r1: r1, split: split, meta: map[string]string{}}
	if split {
		p.stored = partName(t.Name, i)
		p.meta[rowsKey+p.stored] = rowsValue(r0, r1, t.Layout().Rows())
	}
	l := t.Layout()
	rows := r1 - r0
	add := func(name string, dt DType, shape []int, n int64) {
		var off int64
		if len(p.entries) > 0 {
			off = p.entries[len(p.entries)-1].End
		}
		p.entries = append(p.entries, TensorInfo{Name: name, DType: dt, Shape: shape, Begin: off, End: off + n})
	}
	if !l.Matrix {
		shape := append([]int(nil), l.Shape...)
		if len(shape) > 0 {
			shape[0] = rows
		}
		add(p.stored, F32, shape, l.DataBytes(rows))
		return p
	}
	st := storage[l.DType]
	p.meta[quantKey+p.stored] = scheme(l.DType, rows, l.k())
	add(p.stored+st.suffix, st.words, wordsShape(l, rows), l.DataBytes(rows))
	if l.DType.Scaled() {
		add(p.stored+scaleSuffix, U32, []int{int(l.ScaleBytes(rows) / 4)}, l.ScaleBytes(rows))
	}
	return p
}

// bytes is the size of the part's data.
func (p part) bytes() int64 { return p.entries[len(p.entries)-1].End }

// data renders the part's bytes, entry by entry.
func (p part) data() [][]byte {
	l := p.t.Layout()
	if !l.Matrix {
		per := int(l.rowElems())
		return [][]byte{shaders.F32Bytes(p.t.Values[p.r0*per : p.r1*per])}
	}
	w := p.t.Weights
	d0, s0 := l.Offsets(p.r0)
	out := [][]byte{shaders.U32Bytes(w.Words[d0/4 : (d0+l.DataBytes(p.r1-p.r0))/4])}
	if l.DType.Scaled() {
		out = append(out, shaders.U32Bytes(w.Scales[s0/4:(s0+l.ScaleBytes(p.r1-p.r0))/4]))
	}
	return out
}

// Piece is rows [Row0, Row1) of a logical tensor, as stored in one shard
// or cut further for the device's binding limit, ready for upload: Data
// holds the words (matrices, the shaders.Weights layout) or the f32 values
// (plain tensors), Scales the f16 scale words of the scaled types, both
// little-endian. Row0 is a multiple of Layout.RowAlign, so pieces can also
// be written at Offsets(Row0) into one buffer holding the whole tensor.
type Piece struct {
	Name string // the logical tensor name
	Layout
	Row0, Row1 int // rows [Row0, Row1) of the logical tensor
	// Data and Scales alias the shard buffer: they are valid only during
	// the callback that receives the piece. Copy what must outlive it
	// (Weights and Float32s do).
	Data, Scales []byte
}

// Whole reports whether the piece is the entire tensor.
func (p Piece) Whole() bool { return p.Row0 == 0 && p.Row1 == p.Rows() }

// Offsets are where the piece's bytes go in whole-tensor buffers.
func (p Piece) Offsets() (data, scales int64) { return p.Layout.Offsets(p.Row0) }

// Weights copies a matrix piece into shaders.Weights of Row1−Row0 rows.
func (p Piece) Weights() shaders.Weights {
	return shaders.Weights{DType: p.DType, N: p.Row1 - p.Row0, K: p.k(), Words: shaders.BytesU32(p.Data), Scales: scaleWords(p.Scales)}
}

func scaleWords(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	return shaders.BytesU32(b)
}

// Float32s copies a plain piece's values.
func (p Piece) Float32s() []float32 { return shaders.BytesF32(p.Data) }

// DecodeShard parses a whole safetensors file held in data and hands out
// its tensors as pieces, in file order: matrices stored in our quantized
// form (recognised by their "ctlens.quant.*" metadata) as packed words and
// scales, everything else as plain f32 tensors. file names the shard in
// errors. Pieces alias data.
func DecodeShard(file string, data []byte, fn func(Piece) error) error {
	h, err := ReadHeader(bytes.NewReader(data), int64(len(data)), file)
	if err != nil {
		return err
	}
	return decodePieces(h, data, fn)
}

// decodePieces groups the entries of h into logical pieces.
func decodePieces(h *Header, data []byte, fn func(Piece) error) error {
	bad := func(t TensorInfo, format string, args ...any) error {
		return formatErr(h.File, t.Name, h.DataStart+t.Begin, format, args...)
	}
	bytesOf := func(t TensorInfo) []byte { return data[h.DataStart+t.Begin : h.DataStart+t.End] }
	// Every quantization key must name a matrix whose words are here.
	for key := range h.Metadata {
		if stored, ok := strings.CutPrefix(key, quantKey); ok {
			dt, _, _, err := parseScheme(h.Metadata[key])
			if err != nil {
				return formatErr(h.File, stored, 0, "metadata %q: %v", key, err)
			}
			if _, ok := h.Lookup(stored + storage[dt].suffix); !ok {
				return formatErr(h.File, stored, 0, "metadata %q: no tensor %q", key, stored+storage[dt].suffix)
			}
		}
		if stored, ok := strings.CutPrefix(key, rowsKey); ok {
			if _, hasQ := h.Metadata[quantKey+stored]; !hasQ {
				if _, ok := h.Lookup(stored); !ok {
					return formatErr(h.File, stored, 0, "metadata %q: no such tensor", key)
				}
			}
		}
	}
	done := map[string]bool{}
	for _, t := range h.Tensors {
		if done[t.Name] {
			continue
		}
		// Which stored tensor does this entry belong to?
		stored, isMatrix := t.Name, false
		for _, suf := range []string{"", storage[shaders.Int4].suffix, scaleSuffix} {
			if s, ok := strings.CutSuffix(t.Name, suf); ok {
				if _, ok := h.Metadata[quantKey+s]; ok {
					stored, isMatrix = s, true
					break
				}
			}
		}
		var p Piece
		var err error
		if isMatrix {
			p, err = matrixPiece(h, stored, done, bytesOf)
		} else {
			done[t.Name] = true
			p, err = plainPiece(h, t, bytesOf(t))
		}
		if err != nil {
			return err
		}
		if rv, ok := h.Metadata[rowsKey+stored]; ok {
			r0, r1, n, err := parseRows(rv)
			if err != nil {
				return bad(t, "%v", err)
			}
			logical, isPart := logicalName(stored)
			if !isPart || len(p.Shape) == 0 || r1-r0 != p.Rows() {
				return bad(t, "row range %q does not fit stored tensor %q of %d rows", rv, stored, p.Rows())
			}
			p.Name, p.Row0, p.Row1 = logical, r0, r1
			p.Shape = append([]int{n}, p.Shape[1:]...)
			if r0%p.RowAlign() != 0 {
				return bad(t, "part starts at row %d, not a multiple of %d", r0, p.RowAlign())
			}
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// matrixPiece assembles the words (and scales) of stored matrix s.
func matrixPiece(h *Header, s string, done map[string]bool, bytesOf func(TensorInfo) []byte) (Piece, error) {
	dt, n, k, _ := parseScheme(h.Metadata[quantKey+s]) // checked by decodePieces
	l := Layout{Matrix: true, DType: dt, Shape: []int{n, k}}
	words, _ := h.Lookup(s + storage[dt].suffix)
	if err := l.Validate(); err != nil {
		return Piece{}, formatErr(h.File, words.Name, h.DataStart+words.Begin, "%v", err)
	}
	if want := wordsShape(l, n); words.DType != storage[dt].words || !equalInts(words.Shape, want) {
		return Piece{}, formatErr(h.File, words.Name, h.DataStart+words.Begin,
			"%s matrix %d×%d needs %s %v, found %s %v", dt, n, k, storage[dt].words, want, words.DType, words.Shape)
	}
	done[words.Name] = true
	p := Piece{Name: s, Layout: l, Row0: 0, Row1: n, Data: bytesOf(words)}
	if dt.Scaled() {
		sc, ok := h.Lookup(s + scaleSuffix)
		want := []int{int(l.ScaleBytes(n) / 4)}
		if !ok || sc.DType != U32 || !equalInts(sc.Shape, want) {
			return Piece{}, formatErr(h.File, s+scaleSuffix, h.DataStart+words.End, "%s matrix %d×%d needs scales U32 %v", dt, n, k, want)
		}
		done[sc.Name] = true
		p.Scales = bytesOf(sc)
	}
	return p, nil
}

// plainPiece hands out a plain tensor: F32 as is; other floats are
// refused, since our files store plain tensors as F32 and converting here
// would hide a second copy (HF checkpoints go through Checkpoint).
func plainPiece(h *Header, t TensorInfo, b []byte) (Piece, error) {
	if t.DType != F32 {
		return Piece{}, formatErr(h.File, t.Name, h.DataStart+t.Begin, "plain tensor stored as %s; ctlens files store F32 (read HF checkpoints with OpenCheckpoint)", t.DType)
	}
	l := Layout{DType: shaders.F32, Shape: append([]int(nil), t.Shape...)}
	return Piece{Name: t.Name, Layout: l, Row0: 0, Row1: l.Rows(), Data: b}, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
