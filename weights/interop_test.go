package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"ctlens/shaders"
)

// The Python side of these tests (testdata/interop/make.py and read.py) is
// an independent implementation of the format with numpy and the standard
// library: make.py writes, read.py reads and dequantizes our matrices from
// the documented layout. The committed fixture is make.py's output, so the
// read direction runs without Python; -update regenerates it.

const interopDir = "testdata/interop"

// python returns a Python 3 with numpy. Its absence fails the test:
// scripts/test.sh installs python3-numpy, and only js/wasm (which cannot
// start processes) skips.
func python(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil {
			if exec.Command(path, "-c", "import numpy").Run() == nil {
				return path
			}
		}
	}
	if runtime.GOOS == "js" {
		t.Skip("js/wasm cannot run the Python interop oracle")
	}
	t.Fatal("no python3 with numpy: apt-get install python3-numpy, or run scripts/test.sh")
	return ""
}

type expectedTensor struct {
	DType DType    `json:"dtype"`
	Shape []int    `json:"shape"`
	Bits  []uint32 `json:"bits"`
	Ints  []int64  `json:"ints"`
}

// checkInterop reads the files make.py wrote into dir and compares every
// tensor with expected.json.
func checkInterop(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(os.DirFS(dir), "interop.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Header.Metadata["writer"] != "numpy" || f.Header.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Header.Metadata)
	}
	n := 0
	for name, js := range all {
		if name == "sharded" {
			continue
		}
		n++
		var e expectedTensor
		if err := json.Unmarshal(js, &e); err != nil {
			t.Fatal(err)
		}
		info, ok := f.Header.Lookup(name)
		if !ok || info.DType != e.DType || !slices.Equal(info.Shape, e.Shape) {
			t.Errorf("%s: header %+v, want %s %v", name, info, e.DType, e.Shape)
			continue
		}
		if e.Bits != nil {
			v, _, err := f.Float32s(name)
			if err != nil {
				t.Fatal(err)
			}
			if have := bitsOf(v); !slices.Equal(have, e.Bits) {
				t.Errorf("%s: float32 bits %x, want %x", name, have, e.Bits)
			}
			continue
		}
		b, _ := f.Raw(name)
		if have := intsOf(e.DType, b); !slices.Equal(have, e.Ints) {
			t.Errorf("%s: ints %v, want %v", name, have, e.Ints)
		}
	}
	if n != len(f.Header.Tensors) || n < 10 {
		t.Errorf("compared %d tensors, the file has %d", n, len(f.Header.Tensors))
	}

	// The sharded checkpoint, through its index, with fused splits.
	var sh map[string][]uint32
	json.Unmarshal(all["sharded"], &sh)
	c, err := OpenCheckpoint(os.DirFS(filepath.Join(dir, "sharded")))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	layers, _ := c.Glob("model.layers.*.weight")
	if !slices.Equal(layers, []string{"model.layers.0.mlp.gate_up_proj.weight", "model.layers.0.self_attn.qkv_proj.weight"}) {
		t.Errorf("glob: %v", layers)
	}
	qkv, shape, err := c.Float32s("model.layers.0.self_attn.qkv_proj.weight")
	if err != nil {
		t.Fatal(err)
	}
	q, k, v, err := SplitQKV(qkv, shape, 8, 4)
	if err != nil {
		t.Fatal(err)
	}
	gu, shape, err := c.Float32s("model.layers.0.mlp.gate_up_proj.weight")
	if err != nil {
		t.Fatal(err)
	}
	gate, up, err := SplitGateUp(gu, shape)
	if err != nil {
		t.Fatal(err)
	}
	embed, _, err := c.Float32s("model.embed_tokens.weight")
	if err != nil {
		t.Fatal(err)
	}
	for name, have := range map[string][]float32{"q": q, "k": k, "v": v, "gate": gate, "up": up, "embed": embed} {
		if !slices.Equal(bitsOf(have), sh[name]) || len(sh[name]) == 0 {
			t.Errorf("sharded %s: %x, want %x", name, bitsOf(have), sh[name])
		}
	}
}

func bitsOf(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

func intsOf(dt DType, b []byte) []int64 {
	var out []int64
	le := binary.LittleEndian
	for i := 0; i < len(b); i += int(dt.Size()) {
		switch dt {
		case I8:
			out = append(out, int64(int8(b[i])))
		case U8:
			out = append(out, int64(b[i]))
		case I32:
			out = append(out, int64(int32(le.Uint32(b[i:]))))
		case U32:
			out = append(out, int64(le.Uint32(b[i:])))
		case I64:
			out = append(out, int64(le.Uint64(b[i:])))
		}
	}
	return out
}

// The committed fixture (Python-written) reads back as Python said.
func TestInteropFixture(t *testing.T) { checkInterop(t, interopDir) }

// make.py run now writes exactly the committed fixture, and it reads back.
func TestInteropPythonWrites(t *testing.T) {
	py := python(t)
	out := t.TempDir()
	if msg, err := exec.Command(py, filepath.Join(interopDir, "make.py"), out).CombinedOutput(); err != nil {
		t.Fatalf("make.py: %v\n%s", err, msg)
	}
	checkInterop(t, out)
	for _, name := range []string{"interop.safetensors", "expected.json", "sharded/model.safetensors.index.json",
		"sharded/model-00001-of-00002.safetensors", "sharded/model-00002-of-00002.safetensors"} {
		fresh, _ := os.ReadFile(filepath.Join(out, name))
		if *update {
			if err := os.WriteFile(filepath.Join(interopDir, name), fresh, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if old, _ := os.ReadFile(filepath.Join(interopDir, name)); !bytes.Equal(old, fresh) {
			t.Errorf("%s differs from make.py's output: run go test ./weights -run InteropPython -update", name)
		}
	}
}

// Files Go writes (a generic file and a quantized ctlens shard) are read by
// the Python reader, which also dequantizes our matrices from the
// documented layout; values must agree bit for bit with shaders.Weights.At.
func TestInteropPythonReads(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	generic := []Entry{
		{"a", F32, []int{2, 2}, f32Bytes([]float32{1, -2, float32(math.Inf(-1)), 0.1})},
		{"b", I64, []int{2}, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1<<62), math.MaxUint64)},
		{"c", U8, []int{3}, []byte{0, 128, 255}},
	}
	var buf bytes.Buffer
	if _, err := WriteFile(&buf, generic, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "generic.safetensors"), buf.Bytes(), 0o644)
	got := pyRead(t, py, filepath.Join(dir, "generic.safetensors"))
	if got.Metadata["k"] != "v" {
		t.Errorf("python metadata %v", got.Metadata)
	}
	if a := got.Tensors["a"]; !slices.Equal(a.Bits, bitsOf([]float32{1, -2, float32(math.Inf(-1)), 0.1})) {
		t.Errorf("python a: %+v", a)
	}
	if b := got.Tensors["b"]; !slices.Equal(b.Ints, []int64{1 << 62, -1}) {
		t.Errorf("python b: %+v", b)
	}
	if c := got.Tensors["c"]; !slices.Equal(c.Ints, []int64{0, 128, 255}) {
		t.Errorf("python c: %+v", c)
	}

	// A ctlens shard: every matrix type, K/32 odd so the scales end in a
	// padding half.
	var tensors []Tensor
	want := map[string]shaders.Weights{}
	for _, dt := range shaders.DTypes() {
		w := pack(t, dt, 3, 96, uint64(dt)+40)
		want[dt.String()] = w
		tensors = append(tensors, Matrix(dt.String(), w))
	}
	mdir, m := writeSample(t, tensors, WriteOptions{})
	got = pyRead(t, py, filepath.Join(mdir, m.Shards[0].File))
	for name, w := range want {
		if have := got.Tensors[name].Dequant; !slices.Equal(have, bitsOf(w.Dequant())) {
			t.Errorf("%s: python dequantizes %x, Go %x", name, have, bitsOf(w.Dequant()))
		}
	}
}

type pyTensor struct {
	expectedTensor
	Dequant []uint32 `json:"dequant"`
}

type pyFile struct {
	Metadata map[string]string   `json:"metadata"`
	Tensors  map[string]pyTensor `json:"tensors"`
}

func pyRead(t *testing.T, py, path string) pyFile {
	t.Helper()
	out, err := exec.Command(py, filepath.Join(interopDir, "read.py"), path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("read.py %s: %v\n%s", path, err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var f pyFile
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("read.py output: %v", err)
	}
	return f
}
