package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/x448/float16"
)

// raw builds a safetensors file from a literal header and data.
func raw(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestWriteFileRoundTrip(t *testing.T) {
	f32 := []float32{1.5, -2, 0, float32(math.Inf(1)), -0.0, 3e-39}
	f16 := make([]byte, 0, 8)
	for _, v := range []float32{0.5, -65504, 1e-7, 2} {
		f16 = binary.LittleEndian.AppendUint16(f16, float16.Fromfloat32(v).Bits())
	}
	entries := []Entry{
		{"a.f32", F32, []int{2, 3}, f32Bytes(f32)},
		{"b.f16", F16, []int{4}, f16},
		{"c.i8", I8, []int{3}, []byte{0x80, 0x7f, 1}},
		{"d.empty", F32, []int{0, 7}, nil},
		{"e.scalar", I64, nil, binary.LittleEndian.AppendUint64(nil, math.MaxUint64)},
		{"f.bf16", BF16, []int{1, 1, 2}, []byte{0x80, 0x3f, 0x00, 0xc0}}, // 1.0, -2.0
	}
	meta := map[string]string{"format": "pt", "quote\"and\\slash": "üñí"}
	var buf bytes.Buffer
	n, err := WriteFile(&buf, entries, meta)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteFile returned %d, wrote %d", n, buf.Len())
	}
	data := buf.Bytes()
	hlen := binary.LittleEndian.Uint64(data)
	if (8+hlen)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-aligned", 8+hlen)
	}
	f, err := NewFile(bytes.NewReader(data), int64(len(data)), "rt.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if !maps(f.Header.Metadata, meta) {
		t.Errorf("metadata %v, want %v", f.Header.Metadata, meta)
	}
	for _, e := range entries {
		info, ok := f.Header.Lookup(e.Name)
		if !ok {
			t.Fatalf("%s missing", e.Name)
		}
		if info.DType != e.DType || !slices.Equal(info.Shape, e.Shape) && len(e.Shape)+len(info.Shape) > 0 {
			t.Errorf("%s: %s %v, want %s %v", e.Name, info.DType, info.Shape, e.DType, e.Shape)
		}
		got, err := f.Raw(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, e.Data) {
			t.Errorf("%s: bytes %x, want %x", e.Name, got, e.Data)
		}
	}
	got, shape, err := f.Float32s("a.f32")
	if err != nil || !slices.Equal(shape, []int{2, 3}) {
		t.Fatal(err, shape)
	}
	for i := range f32 {
		if math.Float32bits(got[i]) != math.Float32bits(f32[i]) {
			t.Errorf("a.f32[%d] = %v, want %v", i, got[i], f32[i])
		}
	}
	if got, _, _ := f.Float32s("f.bf16"); !slices.Equal(got, []float32{1, -2}) {
		t.Errorf("bf16 = %v, want [1 -2]", got)
	}
	if got, _, _ := f.Float32s("b.f16"); got[1] != -65504 || got[0] != 0.5 {
		t.Errorf("f16 = %v", got)
	}
	if _, _, err := f.Float32s("c.i8"); err == nil {
		t.Errorf("Float32s of I8 accepted")
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func f32Bytes(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// Each malformed file fails with a FormatError naming the file, the tensor
// (when one is at fault) and a byte offset, and a message that says what.
func TestReadHeaderRejects(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}`
	twelve := make([]byte, 12)
	bomb := make([]byte, 8)
	binary.LittleEndian.PutUint64(bomb, 1<<60)
	cases := []struct {
		name   string
		file   []byte
		tensor string
		offset int64
		msg    string
	}{
		{"empty file", nil, "", 0, "header length"},
		{"length bomb", append(bomb, `{}`...), "", 0, "exceeds"},
		{"length beyond file", append(binary.LittleEndian.AppendUint64(nil, 1000), `{}`...), "", 0, "exceeds the file"},
		{"not json", raw(`{,}`, nil), "", 0, "header JSON"},
		{"not an object", raw(`[1,2]`, nil), "", 8, "not a JSON object"},
		{"trailing garbage", raw(ok+`x`, twelve), "", 8 + int64(len(ok)), "trailing"},
		{"unknown dtype", raw(`{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}`, make([]byte, 16)), "a", 9, "unknown dtype"},
		{"missing field", raw(`{"a":{"dtype":"F32","shape":[1]}}`, make([]byte, 4)), "a", 9, "needs dtype"},
		{"negative dim", raw(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)), "a", 9, "header entry"},
		{"size mismatch", raw(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", 9, "needs 12 bytes"},
		{"shape overflow", raw(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, make([]byte, 8)), "a", 9, "overflows"},
		{"duplicate name", raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)), "a", 0, "duplicate tensor"},
		{"duplicate metadata", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), "", 0, "duplicate __metadata__"},
		{"metadata not strings", raw(`{"__metadata__":{"a":1}}`, nil), "", 9, "strings to strings"},
		{"overlap", raw(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)), "b", 0, "overlaps"},
		{"gap", raw(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}`, make([]byte, 6)), "b", 0, "gap"},
		{"not from zero", raw(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}`, make([]byte, 4)), "a", 0, "gap"},
		{"truncated data", raw(ok, twelve[:10]), "b", 0, "truncated"},
		{"extra data", raw(ok, make([]byte, 13)), "", 0, "after the last tensor"},
		{"header beyond file", raw(ok, nil)[:20], "", 0, "exceeds the file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadHeader(bytes.NewReader(c.file), int64(len(c.file)), "bad.safetensors")
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *FormatError", err)
			}
			if fe.File != "bad.safetensors" || fe.Tensor != c.tensor || !strings.Contains(fe.Msg, c.msg) {
				t.Errorf("have %q (tensor %q), want tensor %q and %q", err, fe.Tensor, c.tensor, c.msg)
			}
			if c.offset != 0 && fe.Offset != c.offset {
				t.Errorf("offset %d, want %d (%v)", fe.Offset, c.offset, err)
			}
			if !strings.Contains(err.Error(), "bad.safetensors") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// Overlap and truncation errors point at the tensor's absolute offset.
func TestFormatErrorOffsets(t *testing.T) {
	hdr := `{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`
	file := raw(hdr, make([]byte, 6))
	_, err := ReadHeader(bytes.NewReader(file), int64(len(file)), "x")
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != int64(8+len(hdr))+2 {
		t.Errorf("overlap: %v, want offset %d", err, 8+len(hdr)+2)
	}
}

// A length bomb on a stream of unknown size is refused before any
// allocation, and a length the stream cannot back costs only what arrives.
func TestHeaderLengthBombDoesNotAllocate(t *testing.T) {
	bomb := binary.LittleEndian.AppendUint64(nil, 1<<60)
	allocs := testing.AllocsPerRun(10, func() {
		ReadHeader(bytes.NewReader(bomb), -1, "bomb")
	})
	if allocs > 10 {
		t.Errorf("%v allocations for a refused header", allocs)
	}
	// 99 MB claimed, 2 bytes present: must fail fast without a 99 MB buffer.
	lie := append(binary.LittleEndian.AppendUint64(nil, 99_000_000), `{}`...)
	var before, after runtimeMem
	before.read()
	_, err := ReadHeader(bytes.NewReader(lie), -1, "lie")
	after.read()
	if err == nil || !strings.Contains(err.Error(), "reading the 99000000-byte header") {
		t.Errorf("error %v", err)
	}
	if grew := after.total - before.total; grew > 8<<20 {
		t.Errorf("allocated %d bytes for a 2-byte header", grew)
	}
}

// A header padded with spaces (as the reference writer pads) and keys in
// any order parse; tensor order follows the offsets, not the JSON.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

func TestReadHeaderOrderAndPadding(t *testing.T) {
	hdr := `{"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}, "__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}    `
	file := raw(hdr, []byte{1, 2, 3})
	f, err := NewFile(bytes.NewReader(file), int64(len(file)), "p")
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Tensors[0].Name != "z" || f.Header.Tensors[1].Name != "a" || f.Header.Metadata["k"] != "v" {
		t.Errorf("header %+v", f.Header)
	}
	if b, _ := f.Raw("a"); !bytes.Equal(b, []byte{2, 3}) {
		t.Errorf("a = %v", b)
	}
}

func TestWriteFileRejects(t *testing.T) {
	cases := map[string][]Entry{
		"duplicate":    {{"a", U8, []int{1}, []byte{1}}, {"a", U8, []int{1}, []byte{1}}},
		"size":         {{"a", F32, []int{2}, []byte{1, 2, 3}}},
		"dtype":        {{"a", "Q4", []int{1}, []byte{1}}},
		"reserved":     {{"__metadata__", U8, []int{1}, []byte{1}}},
		"empty name":   {{"", U8, []int{1}, []byte{1}}},
		"negative dim": {{"a", U8, []int{-1}, nil}},
	}
	for name, entries := range cases {
		if _, err := WriteFile(io.Discard, entries, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// OpenFile works on an fs.FS (here fstest.MapFS, whose files implement
// ReaderAt) the same as on bytes.
func TestOpenFileFS(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteFile(&buf, []Entry{{"x", U32, []int{2}, []byte{1, 0, 0, 0, 2, 0, 0, 0}}}, nil); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"m.safetensors": {Data: buf.Bytes()}}
	f, err := OpenFile(fsys, "m.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := f.Raw("x"); !bytes.Equal(b, buf.Bytes()[buf.Len()-8:]) {
		t.Errorf("raw %v", b)
	}
	if _, err := f.Raw("y"); err == nil {
		t.Errorf("missing tensor read")
	}
}
