package weights

import (
	"fmt"
	"strconv"
	"strings"

	"ctlens/shaders"
)

// Layout is how one logical tensor sits in GPU buffers: a packed matrix
// (shaders.Weights: a words buffer, plus a scales buffer for the scaled
// types) or a plain tensor of f32 values (norms, biases, position
// embeddings). Rows run along dimension 0 for both.
type Layout struct {
	Matrix bool          // a packed matrix; otherwise plain f32 values
	DType  shaders.DType // the matrix storage type; shaders.F32 for plain tensors
	Shape  []int         // matrices: [N, K]; plain: any shape (a scalar has one row)
}

// Rows is the extent of dimension 0 (1 for a scalar).
func (l Layout) Rows() int {
	if len(l.Shape) == 0 {
		return 1
	}
	return l.Shape[0]
}

// Elems is the number of logical elements (the parameter count).
func (l Layout) Elems() int64 { return int64(l.Rows()) * l.rowElems() }

// rowElems is the number of elements in one row.
func (l Layout) rowElems() int64 {
	n := int64(1)
	if len(l.Shape) > 1 {
		for _, d := range l.Shape[1:] {
			n *= int64(d)
		}
	}
	return n
}

// k is a matrix's row length.
func (l Layout) k() int { return l.Shape[1] }

// RowAlign is the granularity of row boundaries: a piece may start only at
// a multiple of it. For the scaled types it keeps every piece's first scale
// group even, so a piece's scales are a whole-word byte range of the
// tensor's scales buffer (two f16 scales per u32).
func (l Layout) RowAlign() int {
	if l.Matrix && l.DType.Scaled() && (l.k()/shaders.GroupSize)%2 == 1 {
		return 2
	}
	return 1
}

// DataBytes is the size of rows rows of the words (matrices) or of the
// f32 values (plain tensors).
func (l Layout) DataBytes(rows int) int64 {
	if !l.Matrix {
		return int64(rows) * l.rowElems() * 4
	}
	return int64(l.DType.Bytes(rows, l.k())) - l.ScaleBytes(rows)
}

// ScaleBytes is the size of the scales of rows rows: two f16 per u32,
// rounded up to a whole word. Zero for unscaled types.
func (l Layout) ScaleBytes(rows int) int64 {
	if !l.Matrix || !l.DType.Scaled() {
		return 0
	}
	groups := int64(rows) * int64(l.k()) / shaders.GroupSize
	return (groups + 1) / 2 * 4
}

// Bytes is the whole tensor's GPU storage, both buffers.
func (l Layout) Bytes() int64 { return l.DataBytes(l.Rows()) + l.ScaleBytes(l.Rows()) }

// Offsets are the byte offsets of row row in the whole tensor's data and
// scales buffers. row must be a multiple of RowAlign (or Rows()); then a
// piece starting there can be written into whole-tensor buffers at these
// offsets, since pieces of aligned rows concatenate exactly.
func (l Layout) Offsets(row int) (data, scales int64) {
	data = l.DataBytes(row)
	if l.Matrix && l.DType.Scaled() {
		scales = int64(row) * int64(l.k()) / shaders.GroupSize * 2
	}
	return data, scales
}

// String is e.g. "int4[3072 8192]" or "f32[1024]".
func (l Layout) String() string {
	kind := "f32"
	if l.Matrix {
		kind = l.DType.String()
	}
	return kind + fmt.Sprint(l.Shape)
}

// Validate checks the shape against the type: matrices are N×K with N ≥ 1
// and K a positive multiple of the type's KMultiple; plain tensors have at
// least one element.
func (l Layout) Validate() error {
	for _, d := range l.Shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in %v", l.Shape)
		}
	}
	if !l.Matrix {
		if l.DType != shaders.F32 {
			return fmt.Errorf("plain tensors are f32, not %s", l.DType)
		}
		if l.Elems() == 0 {
			return fmt.Errorf("plain tensor of shape %v has no elements", l.Shape)
		}
		return nil
	}
	if int(l.DType) >= len(shaders.DTypes()) {
		return fmt.Errorf("unknown matrix dtype %d", l.DType)
	}
	if len(l.Shape) != 2 || l.Shape[0] < 1 || l.Shape[1] < 1 {
		return fmt.Errorf("%s matrix of shape %v: want [N, K] with N, K ≥ 1", l.DType, l.Shape)
	}
	if l.k()%l.DType.KMultiple() != 0 {
		return fmt.Errorf("%s matrix of shape %v: K must be a multiple of %d", l.DType, l.Shape, l.DType.KMultiple())
	}
	return nil
}

// SplitRows cuts a tensor into row pieces none of whose buffers exceeds
// maxBytes: the model passes the device's maxStorageBufferBindingSize and
// binds each piece separately. It returns the boundaries [0, r1, …, Rows()],
// all multiples of RowAlign but the last, with pieces as even as that
// allows. A tensor that fits is one piece.
func SplitRows(l Layout, maxBytes int64) ([]int, error) {
	return splitRange(l, 0, l.Rows(), maxBytes, 0)
}

// splitRange cuts rows [r0, r1) (r0 aligned) into pieces whose buffers are
// each ≤ maxBuf and, when maxTotal > 0, whose buffers together are ≤
// maxTotal.
func splitRange(l Layout, r0, r1 int, maxBuf, maxTotal int64) ([]int, error) {
	if maxBuf <= 0 {
		return nil, fmt.Errorf("buffer limit %d", maxBuf)
	}
	fits := func(rows int) bool {
		d, s := l.DataBytes(rows), l.ScaleBytes(rows)
		return d <= maxBuf && s <= maxBuf && (maxTotal <= 0 || d+s <= maxTotal)
	}
	rows := r1 - r0
	if fits(rows) {
		return []int{r0, r1}, nil
	}
	// The largest aligned row count that fits; bytes grow with rows, so
	// bisect.
	align := l.RowAlign()
	lo, hi := 0, rows/align // lo·align fits, hi·align does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(mid * align) {
			lo = mid
		} else {
			hi = mid
		}
	}
	most := lo * align
	if most == 0 {
		limit := maxBuf
		if maxTotal > 0 {
			limit = min(limit, maxTotal)
		}
		return nil, fmt.Errorf("%d row(s) of %s need %d + %d bytes, over the limit of %d", align, l, l.DataBytes(align), l.ScaleBytes(align), limit)
	}
	pieces := (rows + most - 1) / most
	per := (rows + pieces - 1) / pieces
	per = min(most, (per+align-1)/align*align)
	bounds := []int{r0}
	for r := r0 + per; r < r1; r += per {
		bounds = append(bounds, r)
	}
	return append(bounds, r1), nil
}

// storage is how each GPU weight type is stored as safetensors tensors,
// one row per shaders.DType. The packed layouts themselves are shaders'
// table (shaders/quant.go); this only names the containers. The words
// tensor's shape is [rows, K·bytes-per-element ÷ dtype size], computed from
// shaders.DType.Bytes, so nothing here restates bit widths.
var storage = [...]struct {
	words  DType  // safetensors dtype of the words tensor
	suffix string // appended to the stored name for the words tensor
}{
	shaders.F32:  {F32, ""},   // the matrix itself; any HF reader sees it as is
	shaders.F16:  {F16, ""},   // the matrix itself: F16 row-major bytes are shaders' packed words (element k in the low half when k is even)
	shaders.Int8: {U32, ".q"}, // packed words, four int8 each; plus ".scale"
	shaders.Int4: {U32, ".q"}, // packed words, eight nibbles each; plus ".scale"
}

// scaleSuffix names the scales tensor of a scaled matrix: U32 words, two
// f16 scales each, shape [⌈groups/2⌉].
const scaleSuffix = ".scale"

// Metadata keys (prefix + stored tensor name).
const (
	quantKey  = "ctlens.quant." // value: scheme, e.g. "int4:g32:4096,3072"
	rowsKey   = "ctlens.rows."  // value: "r0:r1/N", rows of the logical tensor in a part
	formatKey = "ctlens.format" // value: the manifest format name and version
	partInfix = ".part"         // stored name of part i: logical + ".part" + i
)

// wordsShape is the shape of the words tensor of rows rows.
func wordsShape(l Layout, rows int) []int {
	per := l.DataBytes(1) / storage[l.DType].words.Size()
	return []int{rows, int(per)}
}

// scheme renders a matrix's quantization metadata: "<dtype>:N,K", with
// ":g<group>" after the dtype for scaled types.
func scheme(dt shaders.DType, n, k int) string {
	s := dt.String()
	if dt.Scaled() {
		s += ":g" + strconv.Itoa(shaders.GroupSize)
	}
	return fmt.Sprintf("%s:%d,%d", s, n, k)
}

// parseScheme is the inverse of scheme.
func parseScheme(s string) (dt shaders.DType, n, k int, err error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 {
		return 0, 0, 0, fmt.Errorf("quantization scheme %q: want dtype[:gG]:N,K", s)
	}
	dt, err = shaders.ParseDType(parts[0])
	if err != nil {
		return 0, 0, 0, fmt.Errorf("quantization scheme %q: %v", s, err)
	}
	want := 2
	if dt.Scaled() {
		want = 3
		if len(parts) != 3 || parts[1] != "g"+strconv.Itoa(shaders.GroupSize) {
			return 0, 0, 0, fmt.Errorf("quantization scheme %q: %s needs group size g%d", s, dt, shaders.GroupSize)
		}
	}
	if len(parts) != want {
		return 0, 0, 0, fmt.Errorf("quantization scheme %q: want %d fields", s, want)
	}
	nk := strings.Split(parts[want-1], ",")
	if len(nk) != 2 {
		return 0, 0, 0, fmt.Errorf("quantization scheme %q: want N,K", s)
	}
	if n, err = strconv.Atoi(nk[0]); err == nil {
		k, err = strconv.Atoi(nk[1])
	}
	if err != nil || n < 1 || k < 1 {
		return 0, 0, 0, fmt.Errorf("quantization scheme %q: bad N,K", s)
	}
	return dt, n, k, nil
}

// rowsValue renders a part's row range; parseRows is its inverse.
func rowsValue(r0, r1, n int) string { return fmt.Sprintf("%d:%d/%d", r0, r1, n) }

func parseRows(s string) (r0, r1, n int, err error) {
	a, nStr, ok1 := strings.Cut(s, "/")
	r0Str, r1Str, ok2 := strings.Cut(a, ":")
	if ok1 && ok2 {
		if r0, err = strconv.Atoi(r0Str); err == nil {
			if r1, err = strconv.Atoi(r1Str); err == nil {
				n, err = strconv.Atoi(nStr)
			}
		}
		if err == nil && 0 <= r0 && r0 < r1 && r1 <= n {
			return r0, r1, n, nil
		}
	}
	return 0, 0, 0, fmt.Errorf("row range %q: want r0:r1/N with 0 ≤ r0 < r1 ≤ N", s)
}

// partName is the stored name of part i of a split tensor.
func partName(logical string, i int) string { return logical + partInfix + strconv.Itoa(i) }

// logicalName strips a part suffix; ok is false when there is none.
func logicalName(stored string) (string, bool) {
	i := strings.LastIndex(stored, partInfix)
	if i < 0 {
		return stored, false
	}
	digits := stored[i+len(partInfix):]
	if _, err := strconv.Atoi(digits); err != nil || digits == "" || digits[0] == '+' || digits[0] == '-' {
		return stored, false
	}
	return stored[:i], true
}
