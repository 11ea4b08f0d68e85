package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// The safetensors container (https://huggingface.co/docs/safetensors):
//
//	u64 little-endian N | N bytes of JSON header | data section
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]} with offsets relative to the data section, plus an optional
// "__metadata__" object of string → string. Like the Rust reference we
// require the tensors to tile the data section exactly: sorted by offset they
// start at 0, each begins where the previous ends, and the last ends at the
// end of the file. That one rule rejects gaps, overlaps and trailing bytes.

// MaxHeaderBytes bounds the JSON header, as the reference implementation
// does (100 MB), so a corrupt length cannot make a reader allocate.
const MaxHeaderBytes = 100_000_000

// metadataKey is the reserved header key holding string → string metadata.
const metadataKey = "__metadata__"

// DType is a safetensors element type, spelled as in the header.
type DType string

// The safetensors dtypes this package knows. Readers accept all of them;
// the float conversions accept F64, F32, F16 and BF16.
const (
	Bool DType = "BOOL"
	U8   DType = "U8"
	I8   DType = "I8"
	I16  DType = "I16"
	U16  DType = "U16"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I32  DType = "I32"
	U32  DType = "U32"
	F32  DType = "F32"
	I64  DType = "I64"
	U64  DType = "U64"
	F64  DType = "F64"
)

// itemSizes is the byte size of one element per dtype; a dtype missing here
// is unknown and rejected.
var itemSizes = map[DType]int64{
	Bool: 1, U8: 1, I8: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	I64: 8, U64: 8, F64: 8,
}

// Size is the byte size of one element, 0 for an unknown dtype.
func (d DType) Size() int64 { return itemSizes[d] }

// TensorInfo is one header entry.
type TensorInfo struct {
	Name  string // the header key
	DType DType  // element type
	Shape []int  // empty for a scalar
	// Begin and End are the data_offsets: byte offsets within the data
	// section, End exclusive.
	Begin, End int64
}

// Elems is the number of elements (1 for a scalar).
func (t TensorInfo) Elems() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// Bytes is the size of the tensor's data.
func (t TensorInfo) Bytes() int64 { return t.End - t.Begin }

// Header is a parsed, validated safetensors header.
type Header struct {
	File      string            // the name used in errors
	Tensors   []TensorInfo      // sorted by data offset
	Metadata  map[string]string // "__metadata__"; nil when absent
	DataStart int64             // absolute offset of the data section: 8 + header length
	index     map[string]int
}

// Lookup returns the entry named name.
func (h *Header) Lookup(name string) (TensorInfo, bool) {
	i, ok := h.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return h.Tensors[i], true
}

// DataSize is the length of the data section (the last tensor's end).
func (h *Header) DataSize() int64 {
	if len(h.Tensors) == 0 {
		return 0
	}
	return h.Tensors[len(h.Tensors)-1].End
}

// FileSize is the size the file must have.
func (h *Header) FileSize() int64 { return h.DataStart + h.DataSize() }

// FormatError reports malformed weight data: which file, which tensor (if
// any) and the absolute byte offset in the file where the problem was found.
type FormatError struct {
	File   string // the name given to the reader
	Tensor string // empty for problems outside any tensor
	Offset int64  // absolute byte offset in the file
	Msg    string // what is wrong
}

// Error reads "weights: FILE: tensor "NAME": offset N: what is wrong".
func (e *FormatError) Error() string {
	s := "weights: " + e.File
	if e.Tensor != "" {
		s += ": tensor " + strconv.Quote(e.Tensor)
	}
	return fmt.Sprintf("%s: offset %d: %s", s, e.Offset, e.Msg)
}

func formatErr(file, tensor string, off int64, format string, args ...any) error {
	return &FormatError{File: file, Tensor: tensor, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// ReadHeader reads the length prefix and the JSON header of a safetensors
// file from r and validates it, touching no tensor bytes: on success r has
// consumed exactly DataStart bytes. size is the whole file's size; pass -1
// when it is unknown (a stream), and the check that the tensors end at the
// end of the file is then left to the caller (compare Header.FileSize). name
// is used in errors only.
func ReadHeader(r io.Reader, size int64, name string) (*Header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, formatErr(name, "", 0, "reading the header length: %v", noEOF(err))
	}
	n := binary.LittleEndian.Uint64(pre[:])
	switch {
	case n < 2:
		return nil, formatErr(name, "", 0, "header length %d: too short for a JSON object", n)
	case n > MaxHeaderBytes:
		return nil, formatErr(name, "", 0, "header length %d exceeds the %d-byte limit", n, MaxHeaderBytes)
	case size >= 0 && n > uint64(size)-8:
		return nil, formatErr(name, "", 0, "header length %d exceeds the file (%d bytes)", n, size)
	}
	hdr, err := readN(r, int64(n))
	if err != nil {
		return nil, formatErr(name, "", 8, "reading the %d-byte header: %v", n, noEOF(err))
	}
	h, err := parseHeader(hdr, name)
	if err != nil {
		return nil, err
	}
	if size >= 0 && h.FileSize() != size {
		off, tensor := h.DataStart, ""
		if len(h.Tensors) > 0 {
			last := h.Tensors[len(h.Tensors)-1]
			off, tensor = h.DataStart+last.Begin, last.Name
		}
		if h.FileSize() > size {
			return nil, formatErr(name, tensor, off, "truncated: tensors end at byte %d, the file has %d", h.FileSize(), size)
		}
		return nil, formatErr(name, "", h.FileSize(), "%d byte(s) after the last tensor", size-h.FileSize())
	}
	return h, nil
}

// noEOF turns a bare EOF into ErrUnexpectedEOF: inside a header, running
// out of bytes is always a truncation.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readN reads exactly n bytes, growing its buffer as bytes arrive so that a
// lying length costs at most what the stream really holds.
func readN(r io.Reader, n int64) ([]byte, error) {
	const step = 1 << 20
	if n <= step {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	got, err := io.CopyN(&buf, r, n)
	if got < n && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

// rawEntry mirrors one tensor entry; pointers tell missing from zero.
type rawEntry struct {
	DType       *string   `json:"dtype"`
	Shape       *[]uint64 `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

// parseHeader decodes and validates the JSON header. Tokens are read one by
// one because encoding/json silently keeps the last of duplicate keys.
func parseHeader(hdr []byte, name string) (*Header, error) {
	start := int64(8 + len(hdr))
	h := &Header{File: name, DataStart: start, index: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	at := func() int64 { return 8 + dec.InputOffset() }
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, formatErr(name, "", 8, "header is not a JSON object")
	}
	seenMeta := false
	for dec.More() {
		off := at()
		tok, err := dec.Token()
		if err != nil {
			return nil, formatErr(name, "", off, "header JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, formatErr(name, "", off, "header JSON: expected a key, found %v", tok)
		}
		if key == metadataKey {
			if seenMeta {
				return nil, formatErr(name, "", off, "duplicate %s", metadataKey)
			}
			seenMeta = true
			var meta map[string]string
			if err := dec.Decode(&meta); err != nil {
				return nil, formatErr(name, "", off, "%s must map strings to strings: %v", metadataKey, err)
			}
			h.Metadata = meta
			continue
		}
		if key == "" {
			return nil, formatErr(name, "", off, "empty tensor name")
		}
		if _, dup := h.index[key]; dup {
			return nil, formatErr(name, key, off, "duplicate tensor name")
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, formatErr(name, key, off, "header entry: %v", err)
		}
		t, err := checkEntry(key, e)
		if err != nil {
			return nil, formatErr(name, key, off, "%v", err)
		}
		h.index[key] = len(h.Tensors)
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, formatErr(name, "", at(), "header JSON: %v", err)
	}
	// Only whitespace may follow (writers pad the header with spaces).
	rest := hdr[dec.InputOffset():]
	if len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, formatErr(name, "", at(), "trailing bytes after the header JSON")
	}
	// Tensors must tile the data section: sort by offset and walk.
	sort.SliceStable(h.Tensors, func(i, j int) bool {
		a, b := h.Tensors[i], h.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End // zero-sized tensors first at a shared offset
	})
	var end int64
	for i, t := range h.Tensors {
		h.index[t.Name] = i
		switch {
		case t.Begin < end:
			return nil, formatErr(name, t.Name, start+t.Begin, "data [%d, %d) overlaps the previous tensor, which ends at %d", t.Begin, t.End, end)
		case t.Begin > end:
			return nil, formatErr(name, t.Name, start+end, "gap: data starts at %d, the previous tensor ends at %d", t.Begin, end)
		}
		end = t.End
	}
	return h, nil
}

// checkEntry validates one entry on its own: known dtype, non-negative
// shape whose byte size fits an int64 and equals the offsets' span.
func checkEntry(name string, e rawEntry) (TensorInfo, error) {
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return TensorInfo{}, fmt.Errorf("entry needs dtype, shape and data_offsets")
	}
	dt := DType(*e.DType)
	item := dt.Size()
	if item == 0 {
		return TensorInfo{}, fmt.Errorf("unknown dtype %q", *e.DType)
	}
	if len(*e.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("data_offsets has %d values, want 2", len(*e.DataOffsets))
	}
	b, en := (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if b > en || en > math.MaxInt64/2 {
		return TensorInfo{}, fmt.Errorf("data_offsets [%d, %d] are not a valid range", b, en)
	}
	bytes := uint64(item)
	shape := make([]int, len(*e.Shape))
	zero := false
	for i, d := range *e.Shape {
		if d > math.MaxInt32*uint64(1<<16) { // far beyond any real dimension
			return TensorInfo{}, fmt.Errorf("shape %v: dimension %d too large", *e.Shape, i)
		}
		shape[i] = int(d)
		if d == 0 {
			zero = true
			continue
		}
		if !zero && bytes > math.MaxInt64/d {
			return TensorInfo{}, fmt.Errorf("shape %v overflows", *e.Shape)
		}
		bytes *= d
	}
	if zero {
		bytes = 0
	}
	if en-b != bytes {
		return TensorInfo{}, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", *e.Shape, dt, bytes, b, en, en-b)
	}
	return TensorInfo{Name: name, DType: dt, Shape: shape, Begin: int64(b), End: int64(en)}, nil
}
