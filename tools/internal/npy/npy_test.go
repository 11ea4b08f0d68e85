package npy

import (
	"bytes"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRoundTrip writes and reads back arrays of every shape kind: scalar,
// empty, 1-D (Python's one-element tuple syntax), N-D, for both dtypes.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		data  any
	}{
		{"scalar-f4", []int{}, []float32{3.5}},
		{"empty-f4", []int{0, 3}, []float32{}},
		{"vec-f4", []int{4}, []float32{1, -2, float32(math.Inf(1)), 1e-30}},
		{"mat-f4", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"4d-i8", []int{1, 2, 1, 2}, []int64{-1, 0, 1 << 40, math.MinInt64}},
		{"vec-i8", []int{3}, []int64{7, 8, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Bytes(c.shape, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if (len(b)-len(dataBytes(c.data)))%align != 0 {
				t.Errorf("data starts at %d, not a multiple of %d", len(b)-len(dataBytes(c.data)), align)
			}
			a, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Shape, c.shape) {
				t.Errorf("shape: have %v, want %v", a.Shape, c.shape)
			}
			switch want := c.data.(type) {
			case []float32:
				have, err := a.Float32s()
				if err != nil || !slices.Equal(have, want) {
					t.Errorf("have %v (%v), want %v", have, err, want)
				}
				if _, err := a.Int64s(); err == nil {
					t.Error("Int64s of <f4 did not fail")
				}
			case []int64:
				have, err := a.Int64s()
				if err != nil || !slices.Equal(have, want) {
					t.Errorf("have %v (%v), want %v", have, err, want)
				}
			}
		})
	}
}

func dataBytes(data any) []byte {
	switch d := data.(type) {
	case []float32:
		return make([]byte, 4*len(d))
	case []int64:
		return make([]byte, 8*len(d))
	}
	return nil
}

// TestVersion2Header: a shape whose header passes 65535 bytes switches to
// format 2.0 (u32 length), as numpy does, and reads back.
func TestVersion2Header(t *testing.T) {
	// 23000 dims of "1, " make a 69 kB header; a zero dim keeps the data empty.
	shape := make([]int, 23000)
	for i := range shape {
		shape[i] = 1
	}
	shape[0] = 0
	b, err := Bytes(shape, []float32{})
	if err != nil {
		t.Fatal(err)
	}
	if b[6] != 2 {
		t.Fatalf("version %d.%d, want 2.0 for a %d-byte header", b[6], b[7], len(b))
	}
	a, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, shape) {
		t.Error("shape differs after the round trip")
	}
}

// TestBadFiles: each malformed input fails with a FormatError that says
// what is wrong.
func TestBadFiles(t *testing.T) {
	good, _ := Bytes([]int{2}, []float32{1, 2})
	header := func(dict string) []byte {
		b := []byte(magic + "\x01\x00")
		b = append(b, byte(len(dict)), byte(len(dict)>>8))
		return append(b, dict...)
	}
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"not-npy", []byte("PK\x03\x04 zip file"), "magic"},
		{"version", append([]byte(magic+"\x09\x00"), good[8:]...), "version"},
		{"truncated-data", good[:len(good)-1], "data"},
		{"big-endian", header("{'descr': '>f4', 'fortran_order': False, 'shape': (0,), }\n"), "big-endian"},
		{"fortran", header("{'descr': '<f4', 'fortran_order': True, 'shape': (0,), }\n"), "Fortran"},
		{"dtype", header("{'descr': '<c8', 'fortran_order': False, 'shape': (0,), }\n"), "not supported"},
		{"missing-key", header("{'descr': '<f4', 'shape': (0,), }\n"), "keys"},
		{"bad-shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }\n"), "shape"},
		{"huge-shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n"), "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.in))
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("have %v, want a FormatError mentioning %q", err, c.want)
			}
		})
	}
	if err := Write(&bytes.Buffer{}, []int{3}, []float32{1, 2}); err == nil {
		t.Error("Write with a shape that does not match the data did not fail")
	}
}

// numpy runs a Python snippet with numpy, failing with the package to
// install when numpy is missing: the interop tests are the point of this
// package and must not pass silently without it.
func numpy(t *testing.T, script string) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Fatalf("python3 with numpy is needed for this test: %v\nhint: apt-get install python3-numpy", err)
	}
	out, err := exec.Command(py, "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	return string(out)
}

// TestReadsNumpy reads files numpy wrote: float32, float64 and int64 (what
// a dump script writes), 3-D and scalar.
func TestReadsNumpy(t *testing.T) {
	dir := t.TempDir()
	numpy(t, `
import numpy as np, os
d = `+"'"+dir+"'"+`
np.save(os.path.join(d, 'f4.npy'), np.arange(24, dtype='<f4').reshape(2, 3, 4) / 7)
np.save(os.path.join(d, 'f8.npy'), np.array([0.1, -2.5]))
np.save(os.path.join(d, 'i8.npy'), np.array([[1, -2, 3]], dtype='<i8'))
np.save(os.path.join(d, 's.npy'), np.float32(1.25))
`)
	a, err := ReadFile(filepath.Join(dir, "f4.npy"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := a.Float32s()
	if !slices.Equal(a.Shape, []int{2, 3, 4}) || len(f) != 24 || f[23] != float32(23)/7 {
		t.Errorf("f4: shape %v, last %v", a.Shape, f[len(f)-1])
	}
	a, err = ReadFile(filepath.Join(dir, "f8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := a.Float32s(); !slices.Equal(f, []float32{0.1, -2.5}) {
		t.Errorf("f8: %v", f)
	}
	a, err = ReadFile(filepath.Join(dir, "i8.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if i, _ := a.Int64s(); !slices.Equal(a.Shape, []int{1, 3}) || !slices.Equal(i, []int64{1, -2, 3}) {
		t.Errorf("i8: %v %v", a.Shape, i)
	}
	a, err = ReadFile(filepath.Join(dir, "s.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := a.Float32s(); len(a.Shape) != 0 || !slices.Equal(f, []float32{1.25}) {
		t.Errorf("scalar: %v %v", a.Shape, f)
	}
}

// TestNumpyReadsOurs: numpy loads what Write wrote, with dtype, shape and
// values intact.
func TestNumpyReadsOurs(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "f.npy"), []int{2, 2}, []float32{1.5, -2, 3, 0.25}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "i.npy"), []int{1, 3}, []int64{5, -6, 1 << 40}); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "v.npy"), []int{1}, []float32{7}); err != nil {
		t.Fatal(err)
	}
	out := numpy(t, `
import numpy as np, os
d = `+"'"+dir+"'"+`
f = np.load(os.path.join(d, 'f.npy')); i = np.load(os.path.join(d, 'i.npy')); v = np.load(os.path.join(d, 'v.npy'))
print(f.dtype, f.shape, f.flags['C_CONTIGUOUS'], f.tolist())
print(i.dtype, i.shape, i.tolist())
print(v.dtype, v.shape, v.tolist())
`)
	want := "float32 (2, 2) True [[1.5, -2.0], [3.0, 0.25]]\nint64 (1, 3) [[5, -6, 1099511627776]]\nfloat32 (1,) [7.0]\n"
	if out != want {
		t.Errorf("numpy read:\n%s\nwant:\n%s", out, want)
	}
}

// FuzzRead: no input makes Read panic or allocate beyond what it reads;
// whatever it accepts writes back (for the written dtypes) identically.
func FuzzRead(f *testing.F) {
	for _, c := range [][]byte{
		must(Bytes([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})),
		must(Bytes([]int{}, []int64{9})),
		[]byte(magic + "\x01\x00\x10\x00{'descr': '<f4'}"),
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		var data any
		switch a.Descr {
		case "<f4":
			data, _ = a.Float32s()
		case "<i8":
			data, _ = a.Int64s()
		default:
			return
		}
		b, err := Bytes(a.Shape, data)
		if err != nil {
			t.Fatal(err)
		}
		a2, err := Read(bytes.NewReader(b))
		if err != nil || !slices.Equal(a2.Shape, a.Shape) {
			t.Fatalf("re-read: %v %v vs %v", err, a2, a.Shape)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
