package weights

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ctlens/shaders"
)

// writeSample writes tensors to a fresh directory and reads the manifest
// back from disk, so tests exercise the written file, not the returned
// value.
func writeSample(t *testing.T, tensors []Tensor, opts WriteOptions) (string, *Manifest) {
	t.Helper()
	dir := t.TempDir()
	if opts.Model == "" {
		opts.Model = "test-model"
	}
	if _, err := WriteModel(dir, tensors, json.RawMessage(`{"hidden_size":64,"layers_3d_from":2}`), []byte(`{"model":{"type":"BPE"}}`), opts); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestModelRoundTrip(t *testing.T) {
	want := sampleTensors(t)
	dir, m := writeSample(t, want, WriteOptions{})
	have, err := LoadAll(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalTensors(t, have, want)

	if len(m.Shards) != 1 {
		t.Errorf("%d shards for a tiny model", len(m.Shards))
	}
	var params int64
	for _, w := range want {
		params += w.Layout().Elems()
	}
	if m.Parameters != params {
		t.Errorf("parameters %d, want %d", m.Parameters, params)
	}
	var cfg map[string]any
	if err := json.Unmarshal(m.Config, &cfg); err != nil || len(cfg) != 2 || cfg["hidden_size"] != 64.0 || cfg["layers_3d_from"] != 2.0 {
		t.Errorf("config %s does not pass the input through", m.Config)
	}
	tok, err := LoadTokenizer(context.Background(), m, FSOpener(os.DirFS(dir)))
	if err != nil || string(tok) != `{"model":{"type":"BPE"}}` {
		t.Errorf("tokenizer %q, %v", tok, err)
	}
	// The shard is an ordinary safetensors file whose metadata names the
	// schemes, readable by the generic reader.
	f, err := OpenFile(os.DirFS(dir), m.Shards[0].File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, wantScheme := range map[string]string{"attn.qkv": "int4:g32:24,96", "attn.out": "int8:g32:9,96", "embed": "f16:10,64", "head": "f32:7,5"} {
		if got := f.Header.Metadata[quantKey+name]; got != wantScheme {
			t.Errorf("%s scheme %q, want %q", name, got, wantScheme)
		}
	}
	for name, dt := range map[string]DType{"attn.qkv.q": U32, "attn.qkv.scale": U32, "attn.out.q": U32, "embed": F16, "head": F32, "norm.weight": F32} {
		if info, ok := f.Header.Lookup(name); !ok || info.DType != dt {
			t.Errorf("stored %s: %+v, want dtype %s", name, info, dt)
		}
	}
	// f16 is stored as an F16 tensor whose values are the matrix's.
	vals, _, err := f.Float32s("embed")
	if err != nil {
		t.Fatal(err)
	}
	w := want[0].Weights
	for i, v := range vals {
		if v != w.At(i/w.K, i%w.K) {
			t.Fatalf("embed[%d] = %v in the file, %v packed", i, v, w.At(i/w.K, i%w.K))
		}
	}
}

// Quantize → write → load → dequantize stays within shaders' stated bound
// for every type, on values with a wide range.
func TestQuantRoundTripBound(t *testing.T) {
	const n, k = 5, 128
	src := randValues(11, n*k, 3)
	src[7] = 0
	src[100] = -3 // a group's extreme
	var tensors []Tensor
	for _, dt := range shaders.DTypes() {
		w, err := shaders.Pack(dt, src, n, k)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, Matrix(dt.String(), w))
	}
	dir, m := writeSample(t, tensors, WriteOptions{})
	have, err := LoadAll(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range have {
		dt := tn.Weights.DType
		got := tn.Weights.Dequant()
		worst := 0.0
		for i, v := range src {
			g := i / shaders.GroupSize
			var amax float32
			for _, x := range src[g*shaders.GroupSize : (g+1)*shaders.GroupSize] {
				amax = max(amax, float32(math.Abs(float64(x))))
			}
			d := math.Abs(float64(got[i] - v))
			worst = max(worst, d)
			if d > float64(dt.MaxQuantError(amax)) {
				t.Fatalf("%s: element %d: |%v − %v| = %v > bound %v", dt, i, got[i], v, d, dt.MaxQuantError(amax))
			}
		}
		if dt == shaders.F32 && worst != 0 {
			t.Errorf("f32 is not lossless: worst error %v", worst)
		}
		if dt != shaders.F32 && worst == 0 {
			t.Errorf("%s: no rounding at all: is the data really quantized?", dt)
		}
	}
}

// A shard holds exactly as much as the limit allows: a limit equal to the
// one-shard file size gives one shard, one byte less gives two.
func TestShardingAtTheLimit(t *testing.T) {
	tensors := []Tensor{
		Plain("a", []int{300}, randValues(1, 300, 1)),
		Matrix("b", pack(t, shaders.Int4, 4, 64, 2)),
		Plain("c", []int{5, 7}, randValues(3, 35, 1)),
	}
	_, one := writeSample(t, tensors, WriteOptions{})
	if len(one.Shards) != 1 {
		t.Fatalf("%d shards", len(one.Shards))
	}
	size := one.Shards[0].Bytes
	for _, c := range []struct {
		limit  int64
		shards int
	}{{size, 1}, {size - 1, 2}} {
		dir, m := writeSample(t, tensors, WriteOptions{MaxShardBytes: c.limit})
		if len(m.Shards) != c.shards {
			t.Errorf("limit %d: %d shards, want %d", c.limit, len(m.Shards), c.shards)
		}
		for _, s := range m.Shards {
			st, err := os.Stat(filepath.Join(dir, s.File))
			if err != nil || st.Size() != s.Bytes || s.Bytes > c.limit {
				t.Errorf("limit %d: shard %s: %d bytes on disk, manifest %d (%v)", c.limit, s.File, st.Size(), s.Bytes, err)
			}
		}
		have, err := LoadAll(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		equalTensors(t, have, tensors)
	}
}

// A tensor larger than a shard is split along rows into named parts at
// aligned rows, and loads back identical; so does a plain one.
func TestSplitByRows(t *testing.T) {
	// K = 96: three scale groups per row, so parts must start at even rows.
	big := pack(t, shaders.Int4, 61, 96, 7)
	plain := randValues(8, 50*6, 1)
	tensors := []Tensor{Matrix("big", big), Plain("table", []int{50, 6}, plain)}
	l := tensors[0].Layout()
	limit := int64(l.Bytes()/3) + 4096
	dir, m := writeSample(t, tensors, WriteOptions{MaxShardBytes: limit, MaxBindingBytes: 600})
	e, _ := m.Tensor("big")
	if len(e.Parts) < 3 {
		t.Fatalf("big split into %d parts, want ≥ 3", len(e.Parts))
	}
	for _, p := range e.Parts {
		if p.Rows[0]%2 != 0 {
			t.Errorf("part starts at odd row %d", p.Rows[0])
		}
		if d, s := l.DataBytes(p.Rows[1]-p.Rows[0]), l.ScaleBytes(p.Rows[1]-p.Rows[0]); d > 600 || s > 600 {
			t.Errorf("part %v: %d + %d bytes over the binding limit", p.Rows, d, s)
		}
	}
	if pe, _ := m.Tensor("table"); len(pe.Parts) < 2 {
		t.Errorf("table (1200 bytes, binding limit 600) in %d part(s)", len(pe.Parts))
	}
	// The parts are stored under documented names with row metadata.
	f, err := OpenFile(os.DirFS(dir), m.Shards[e.Parts[1].Shard].File)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := e.Parts[1].Rows
	if got, want := f.Header.Metadata[rowsKey+"big.part1"], fmt.Sprintf("%d:%d/61", r[0], r[1]); got != want {
		t.Errorf("rows metadata %q, want %q", got, want)
	}
	if _, ok := f.Header.Lookup("big.part1.q"); !ok {
		t.Errorf("no big.part1.q in %s", f.Header.File)
	}
	have, err := LoadAll(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalTensors(t, have, tensors)
}

// With a binding limit, Load hands out pieces no buffer of which exceeds
// it; written at their Offsets they rebuild the tensor exactly, and each
// piece's Weights equals Pack of the same rows.
func TestLoadCutsToBindingLimit(t *testing.T) {
	src := randValues(21, 45*96, 2)
	want := map[shaders.DType]shaders.Weights{}
	var tensors []Tensor
	for _, dt := range shaders.DTypes() {
		w, _ := shaders.Pack(dt, src, 45, 96)
		want[dt] = w
		tensors = append(tensors, Matrix(dt.String(), w))
	}
	dir, m := writeSample(t, tensors, WriteOptions{})
	const limit = 1000
	rebuilt := map[string][]byte{}
	scales := map[string][]byte{}
	pieces := map[string]int{}
	err := Load(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{MaxBindingBytes: limit}, func(p Piece) error {
		if len(p.Data) > limit || len(p.Scales) > limit {
			t.Errorf("%s rows [%d,%d): %d + %d bytes over %d", p.Name, p.Row0, p.Row1, len(p.Data), len(p.Scales), limit)
		}
		if p.Row0%p.RowAlign() != 0 {
			t.Errorf("%s: piece starts at row %d", p.Name, p.Row0)
		}
		pieces[p.Name]++
		d, s := p.Offsets()
		if rebuilt[p.Name] == nil {
			rebuilt[p.Name] = make([]byte, p.Layout.DataBytes(p.Rows()))
			scales[p.Name] = make([]byte, p.Layout.ScaleBytes(p.Rows()))
		}
		copy(rebuilt[p.Name][d:], p.Data)
		copy(scales[p.Name][s:], p.Scales)
		// A piece is the same as packing its rows alone.
		part, err := shaders.Pack(p.DType, src[p.Row0*96:p.Row1*96], p.Row1-p.Row0, 96)
		if err != nil {
			return err
		}
		pw := p.Weights()
		if !slices.Equal(pw.Words, part.Words) || !slices.Equal(pw.Scales, part.Scales) || pw.N != part.N {
			t.Errorf("%s rows [%d,%d): piece differs from Pack of those rows", p.Name, p.Row0, p.Row1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dt, w := range want {
		if pieces[dt.String()] < 2 {
			t.Errorf("%s: %d piece(s), want it cut", dt, pieces[dt.String()])
		}
		if !bytes.Equal(rebuilt[dt.String()], shaders.U32Bytes(w.Words)) || !bytes.Equal(scales[dt.String()], shaders.U32Bytes(w.Scales)) {
			t.Errorf("%s: pieces do not rebuild the tensor", dt)
		}
	}
}

func TestSplitRows(t *testing.T) {
	cases := []struct {
		l   Layout
		max int64
	}{
		{Layout{Matrix: true, DType: shaders.Int4, Shape: []int{101, 96}}, 700},
		{Layout{Matrix: true, DType: shaders.Int8, Shape: []int{33, 32}}, 100},
		{Layout{Matrix: true, DType: shaders.Int4, Shape: []int{7, 64}}, 1 << 20},
		{Layout{Matrix: true, DType: shaders.F16, Shape: []int{9, 2}}, 4},
		{Layout{Matrix: true, DType: shaders.F32, Shape: []int{1000, 3}}, 1200},
		{Layout{DType: shaders.F32, Shape: []int{17, 3, 2}}, 50},
	}
	for _, c := range cases {
		bounds, err := SplitRows(c.l, c.max)
		if err != nil {
			t.Fatalf("%s: %v", c.l, err)
		}
		if bounds[0] != 0 || bounds[len(bounds)-1] != c.l.Rows() {
			t.Errorf("%s: bounds %v", c.l, bounds)
		}
		// The most rows a piece may have, by linear scan.
		most := 0
		for r := c.l.RowAlign(); r <= c.l.Rows(); r += c.l.RowAlign() {
			if c.l.DataBytes(r) <= c.max && c.l.ScaleBytes(r) <= c.max {
				most = r
			}
		}
		if most == c.l.Rows()/c.l.RowAlign()*c.l.RowAlign() && c.l.DataBytes(c.l.Rows()) <= c.max && c.l.ScaleBytes(c.l.Rows()) <= c.max {
			most = c.l.Rows()
		}
		if wantPieces := (c.l.Rows() + most - 1) / most; len(bounds)-1 != wantPieces {
			t.Errorf("%s limit %d: %d pieces %v, want %d", c.l, c.max, len(bounds)-1, bounds, wantPieces)
		}
		for i := 0; i+1 < len(bounds); i++ {
			rows := bounds[i+1] - bounds[i]
			if rows <= 0 || bounds[i]%c.l.RowAlign() != 0 || c.l.DataBytes(rows) > c.max || c.l.ScaleBytes(rows) > c.max {
				t.Errorf("%s limit %d: bad piece [%d,%d)", c.l, c.max, bounds[i], bounds[i+1])
			}
		}
	}
	if _, err := SplitRows(Layout{Matrix: true, DType: shaders.F32, Shape: []int{4, 100}}, 399); err == nil {
		t.Errorf("a row over the limit was accepted")
	}
}

// A flipped byte fails the load with an error naming the shard and both
// hashes, before any piece of that shard is handed out.
func TestCorruptShard(t *testing.T) {
	tensors := sampleTensors(t)
	dir, m := writeSample(t, tensors, WriteOptions{MaxShardBytes: 2048})
	if len(m.Shards) < 3 {
		t.Fatalf("%d shards", len(m.Shards))
	}
	bad := m.Shards[1]
	path := filepath.Join(dir, bad.File)
	data, _ := os.ReadFile(path)
	data[len(data)-3] ^= 0x10
	os.WriteFile(path, data, 0o644)
	sum := sha256.Sum256(data)
	have := hex.EncodeToString(sum[:])

	var fromBad []string
	err := Load(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{}, func(p Piece) error {
		for _, e := range m.Tensors {
			for _, part := range e.Parts {
				if e.Name == p.Name && m.Shards[part.Shard] == bad {
					fromBad = append(fromBad, p.Name)
				}
			}
		}
		return nil
	})
	var he *HashError
	if !errors.As(err, &he) {
		t.Fatalf("error %v, want a *HashError", err)
	}
	if he.File != bad.File || he.Want != bad.SHA256 || he.Have != have {
		t.Errorf("HashError %+v, want file %s want %s have %s", he, bad.File, bad.SHA256, have)
	}
	for _, s := range []string{bad.File, bad.SHA256, have} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if len(fromBad) > 0 {
		t.Errorf("pieces of the corrupt shard were handed out: %v", fromBad)
	}
}

// Truncated or overlong shards fail with the shard's name and sizes.
func TestShardSizeMismatch(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func([]byte) []byte
		msg  string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] }, "truncated"},
		{"longer", func(b []byte) []byte { return append(b, 0) }, "longer than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, m := writeSample(t, sampleTensors(t), WriteOptions{})
			path := filepath.Join(dir, m.Shards[0].File)
			data, _ := os.ReadFile(path)
			os.WriteFile(path, c.edit(data), 0o644)
			err := Load(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{}, func(Piece) error { return nil })
			if err == nil || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), m.Shards[0].File) {
				t.Errorf("error %v, want %q naming %s", err, c.msg, m.Shards[0].File)
			}
		})
	}
}

// Progress counts every shard byte once, monotonically, ending at the
// total; cancelling stops the load with the context's error.
func TestLoadProgressAndCancel(t *testing.T) {
	tensors := []Tensor{Matrix("a", pack(t, shaders.F32, 600, 1000, 1)), Matrix("b", pack(t, shaders.F32, 300, 1000, 2))}
	dir, m := writeSample(t, tensors, WriteOptions{MaxShardBytes: 1 << 20})
	var calls []int64
	err := Load(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{Progress: func(done, total int64) {
		if total != m.Bytes() {
			t.Errorf("total %d, want %d", total, m.Bytes())
		}
		calls = append(calls, done)
	}}, func(Piece) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) < len(m.Shards) || !slices.IsSorted(calls) || calls[len(calls)-1] != m.Bytes() {
		t.Errorf("progress %v, want increasing to %d", calls, m.Bytes())
	}

	ctx, cancel := context.WithCancel(context.Background())
	pieces := 0
	err = Load(ctx, m, FSOpener(os.DirFS(dir)), LoadOptions{Progress: func(done, total int64) { cancel() }}, func(Piece) error {
		pieces++
		return nil
	})
	if !errors.Is(err, context.Canceled) || pieces != 0 {
		t.Errorf("cancelled load: %v after %d pieces", err, pieces)
	}
}

// The loader checks shards against the manifest's table: a manifest that
// disagrees with the files is refused, and so is a malformed one.
func TestManifestChecks(t *testing.T) {
	dir, good := writeSample(t, sampleTensors(t), WriteOptions{})
	raw, _ := json.Marshal(good)
	edit := func(f func(m *Manifest)) *Manifest {
		var m Manifest
		json.Unmarshal(raw, &m)
		f(&m)
		return &m
	}
	invalid := map[string]*Manifest{
		"version":       edit(func(m *Manifest) { m.Version = 2 }),
		"format":        edit(func(m *Manifest) { m.Format = "gguf" }),
		"path escape":   edit(func(m *Manifest) { m.Shards[0].File = "../x.safetensors" }),
		"huge shard":    edit(func(m *Manifest) { m.Shards[0].Bytes = MaxShardBytes + 1 }),
		"bad sha":       edit(func(m *Manifest) { m.Shards[0].SHA256 = "abc" }),
		"gap in parts":  edit(func(m *Manifest) { m.Tensors[0].Parts[0].Rows[1]-- }),
		"missing shard": edit(func(m *Manifest) { m.Tensors[0].Parts[0].Shard = 5 }),
		"bad K":         edit(func(m *Manifest) { m.Tensors[2].Shape[1] = 40 }),
		"config array":  edit(func(m *Manifest) { m.Config = json.RawMessage(`[1]`) }),
	}
	for name, m := range invalid {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: manifest accepted", name)
		}
	}
	mismatch := map[string]*Manifest{
		"dtype":    edit(func(m *Manifest) { m.Tensors[2].DType = "int8" }),
		"renamed":  edit(func(m *Manifest) { m.Tensors[1].Name = "other" }),
		"no entry": edit(func(m *Manifest) { m.Tensors = m.Tensors[1:] }),
		"shape":    edit(func(m *Manifest) { m.Tensors[5].Shape = []int{3, 20}; m.Tensors[5].Parts[0].Rows[1] = 3 }),
	}
	for name, m := range mismatch {
		if err := m.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		err := Load(context.Background(), m, FSOpener(os.DirFS(dir)), LoadOptions{}, func(Piece) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "manifest") {
			t.Errorf("%s: load error %v, want a manifest mismatch", name, err)
		}
	}
	if _, err := ParseManifest([]byte(`{"format":"ctlens-weights","version":1,"surprise":1}`)); err == nil {
		t.Errorf("unknown manifest field accepted")
	}
}

// WriteModel refuses what it cannot store faithfully.
func TestWriteModelRejects(t *testing.T) {
	w := pack(t, shaders.Int4, 2, 64, 1)
	short := w
	short.Words = short.Words[1:]
	cases := map[string][]Tensor{
		"duplicate":     {Plain("a", []int{1}, []float32{1}), Plain("a", []int{1}, []float32{1})},
		"stored clash":  {Matrix("w", w), Plain("w.q", []int{1}, []float32{1})},
		"part name":     {Plain("x.part3", []int{1}, []float32{1})},
		"values":        {Plain("a", []int{2, 2}, []float32{1})},
		"short words":   {Matrix("w", short)},
		"empty plain":   {Plain("a", []int{0}, nil)},
		"row too large": {Matrix("w", pack(t, shaders.F32, 2, 1000, 1))},
	}
	for name, ts := range cases {
		_, err := WriteModel(t.TempDir(), ts, nil, nil, WriteOptions{Model: "m", MaxBindingBytes: 2000})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := WriteModel(t.TempDir(), nil, nil, nil, WriteOptions{Model: "m", MaxShardBytes: MaxShardBytes + 1}); err == nil {
		t.Errorf("shard limit over 64 MiB accepted")
	}
}

// DecodeShard reads our tensors from a single file, and a plain tensor
// stored as F16 (as in HF files) is refused with a pointer to Checkpoint.
func TestDecodeShard(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteFile(&buf, []Entry{{"h", F16, []int{2}, []byte{0, 0x3c, 0, 0x40}}}, nil); err != nil {
		t.Fatal(err)
	}
	err := DecodeShard("hf.safetensors", buf.Bytes(), func(Piece) error { return nil })
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Tensor != "h" || !strings.Contains(err.Error(), "OpenCheckpoint") {
		t.Errorf("error %v", err)
	}
	// A quantization key whose tensors are missing is an error too.
	buf.Reset()
	WriteFile(&buf, []Entry{{"w.q", U32, []int{1, 8}, make([]byte, 32)}}, map[string]string{quantKey + "w": "int4:g32:1,64"})
	if err := DecodeShard("q.safetensors", buf.Bytes(), func(Piece) error { return nil }); err == nil || !strings.Contains(err.Error(), "w.scale") {
		t.Errorf("int4 without scales: %v", err)
	}
}

func TestVRAMEstimate(t *testing.T) {
	tensors := sampleTensors(t)
	d := Dims{Layers: 2, KVHeads: 2, HeadDim: 16, Hidden: 64, Intermediate: 128, Vocab: 100, MaxTokens: 50, VisionTokens: 30, VisionHidden: 32, VisionIntermediate: 64}
	_, m := writeSample(t, tensors, WriteOptions{Dims: d})
	var weights int64
	for _, tn := range tensors {
		if tn.Weights != nil {
			weights += int64(len(tn.Weights.Words)+len(tn.Weights.Scales)) * 4
		} else {
			weights += int64(len(tn.Values)) * 4
		}
	}
	v := m.VRAM["stored"]
	if v.Weights != weights {
		t.Errorf("weights %d, want %d", v.Weights, weights)
	}
	if kv := int64(2 * 2 * 50 * 2 * 16 * 4); v.KVCache != kv {
		t.Errorf("kv cache %d, want %d", v.KVCache, kv)
	}
	if v.Total != v.Weights+v.KVCache+v.Activations || v.Activations <= 0 {
		t.Errorf("vram %+v", v)
	}
	if again := EstimateVRAM(m.Layouts(), d); again != v {
		t.Errorf("estimate from the manifest's layouts %+v, stored %+v", again, v)
	}
	// Fewer bits, less memory; int4 keeps the f32 matrix whose K=5 it
	// cannot hold.
	if !(m.VRAM["f32"].Weights > m.VRAM["f16"].Weights && m.VRAM["f16"].Weights > m.VRAM["int8"].Weights && m.VRAM["int8"].Weights > m.VRAM["int4"].Weights) {
		t.Errorf("estimates not ordered by bits: %+v", m.VRAM)
	}
}

// io.Reader failures mid-shard surface with the shard's name.
func TestOpenerError(t *testing.T) {
	_, m := writeSample(t, sampleTensors(t), WriteOptions{})
	boom := errors.New("network down")
	err := Load(context.Background(), m, func(ctx context.Context, f FileRef) (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("abc"), errReader{boom})), nil
	}, LoadOptions{}, func(Piece) error { return nil })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), m.Shards[0].File) {
		t.Errorf("error %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
