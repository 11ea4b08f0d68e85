package weights

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"ctlens/shaders"
)

// fuzzSeeds are the named seed files of FuzzReadHeader, kept in
// testdata/fuzz/FuzzReadHeader (the go test corpus format) and rewritten
// with -update. They cover a valid file of each tensor kind, a ctlens
// shard, and the failure classes.
func fuzzSeeds(t testing.TB) map[string][]byte {
	var valid bytes.Buffer
	WriteFile(&valid, []Entry{
		{"a", F32, []int{2}, make([]byte, 8)},
		{"b", BF16, nil, make([]byte, 2)},
		{"c", I64, []int{0, 3}, nil},
	}, map[string]string{"format": "pt"})
	var shard bytes.Buffer
	w, _ := shaders.Pack(shaders.Int4, make([]float32, 64), 1, 64)
	part := newPart(&Tensor{Name: "w", Weights: &w}, 0, 0, 1, false)
	plan := newShardPlan()
	plan.add(part)
	var data bytes.Buffer
	for _, b := range part.data() {
		data.Write(b)
	}
	hdr := encodeHeader(plan.infos, plan.meta)
	binary.Write(&shard, binary.LittleEndian, uint64(len(hdr)))
	shard.Write(hdr)
	shard.Write(data.Bytes())
	return map[string][]byte{
		"valid":   valid.Bytes(),
		"shard":   shard.Bytes(),
		"bomb":    append(binary.LittleEndian.AppendUint64(nil, 1<<60), "{}"...),
		"overlap": raw(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, make([]byte, 6)),
		"dup":     raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, make([]byte, 2)),
		"badjson": raw(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]`, make([]byte, 1)),
	}
}

// The seed files on disk are exactly fuzzSeeds (they are not edited by
// hand): -update rewrites them.
func TestFuzzSeedsCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadHeader")
	for name, data := range fuzzSeeds(t) {
		file := filepath.Join(dir, name)
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		if *update {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if have, err := os.ReadFile(file); err != nil || string(have) != body {
			t.Errorf("%s is stale or missing (%v): run go test ./weights -run FuzzSeeds -update", file, err)
		}
	}
}

// FuzzReadHeader: any input either fails with an error or yields a header
// whose tensors tile the file; such a file rewritten by WriteFile parses
// to the same header, and DecodeShard never panics on it.
func FuzzReadHeader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHeader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		if h.FileSize() != int64(len(data)) {
			t.Fatalf("header accepted with tensors ending at %d in a %d-byte file", h.FileSize(), len(data))
		}
		var end int64
		var entries []Entry
		for _, ti := range h.Tensors {
			if ti.Begin != end || ti.Bytes() != ti.Elems()*ti.DType.Size() {
				t.Fatalf("tensor %q [%d,%d) after %d, %d elems of %s", ti.Name, ti.Begin, ti.End, end, ti.Elems(), ti.DType)
			}
			end = ti.End
			entries = append(entries, Entry{ti.Name, ti.DType, ti.Shape, data[h.DataStart+ti.Begin : h.DataStart+ti.End]})
		}
		var buf bytes.Buffer
		if _, err := WriteFile(&buf, entries, h.Metadata); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		h2, err := ReadHeader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "rewrite")
		if err != nil {
			t.Fatalf("rewritten file: %v", err)
		}
		if fmt.Sprint(h2.Metadata) != fmt.Sprint(h.Metadata) || len(h2.Tensors) != len(h.Tensors) {
			t.Fatalf("rewrite changed the header")
		}
		for i := range h.Tensors {
			a, b := h.Tensors[i], h2.Tensors[i]
			if a.Name != b.Name || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || a.Begin != b.Begin || a.End != b.End {
				t.Fatalf("rewrite changed %+v to %+v", a, b)
			}
		}
		DecodeShard("fuzz", data, func(Piece) error { return nil })
	})
}
