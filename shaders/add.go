package shaders

import (
	"fmt"
	"math"
	"strings"
)

// AddVariant selects an add kernel.
type AddVariant struct {
	InPlace bool // a += b instead of y = a + b
}

func (v AddVariant) String() string { return "add/" + placeName(v.InPlace) + "/wg256" }

// AddParams is the uniform of the add kernel.
type AddParams struct {
	N  uint32 // elements of a and of the output
	NB uint32 `wgsl:"nb"` // elements of b, repeated: out[i] = a[i] + b[i mod NB]; ≥ 1
}

const addWG = 256

// Add returns the kernel for v. Bindings: params, a, b, and y when out of
// place (a is read_write when in place).
func Add(v AddVariant) Kernel {
	const head = "@group(0) @binding(0) var<uniform> P: Params;\n"
	var bind string
	var bs []Binding
	if v.InPlace {
		bind = head + "@group(0) @binding(1) var<storage, read_write> a: array<f32>;\n" +
			"@group(0) @binding(2) var<storage, read> b: array<f32>;\n" +
			"fn store_y(i: u32, v: f32) { a[i] = v; }\n"
		bs = []Binding{{"params", Uniform}, {"a", ReadWrite}, {"b", Read}}
	} else {
		bind = head + "@group(0) @binding(1) var<storage, read> a: array<f32>;\n" +
			"@group(0) @binding(2) var<storage, read> b: array<f32>;\n" +
			"@group(0) @binding(3) var<storage, read_write> y: array<f32>;\n" +
			"fn store_y(i: u32, v: f32) { y[i] = v; }\n"
		bs = []Binding{{"params", Uniform}, {"a", Read}, {"b", Read}, {"y", ReadWrite}}
	}
	return Kernel{
		Name:     v.String(),
		File:     "add.wgsl",
		Source:   render(AddParams{}, []Const{{"WG", addWG}}, "", bind, "add.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// AddGrid covers the N outputs, one per thread. NB = 0 would divide by
// zero in the kernel, so it is refused here.
func AddGrid(p AddParams) [3]uint32 {
	if p.NB == 0 {
		panic("shaders: add with an empty b (NB = 0)")
	}
	return Grid1D(ceilDiv(p.N, addWG))
}

func init() {
	register(family{Name: "add", Files: []string{"add.wgsl"}, Cases: casesOnce(addCases)})
}

func addCases() []Case {
	var out []Case
	type shape struct {
		name  string
		n, nb int
	}
	// Size 1, a scalar broadcast, a bias over rows not a multiple of the
	// workgroup, the residual add at Phi-3's width, CLIP-L's position
	// embeddings (577 tokens × 1024) added to each of 4 slices, and nb
	// not dividing n (the modulo, not a row structure, defines it).
	shapes := []shape{
		{"n=1,nb=1", 1, 1},
		{"n=300,nb=1", 300, 1},
		{"T=7,C=333,bias", 7 * 333, 333},
		{"T=5,C=3072,residual", 5 * 3072, 5 * 3072},
		{"D=4,tokens=577,C=1024,pos", 4 * 577 * 1024, 577 * 1024},
		{"n=1000,nb=7", 1000, 7},
	}
	for _, inPlace := range []bool{false, true} {
		v := AddVariant{InPlace: inPlace}
		for i, s := range shapes {
			a := randF32(int64(600+i), s.n, 10)
			b := randF32(int64(650+i), s.nb, 1)
			if s.n == 1000 {
				// Breaking values: cancellation to exact zero, ±large
				// plus small, and signed zeros.
				a[0], a[1], a[2], a[3] = -b[0], 1e30, -1e30, 0
				b[3] = float32(math.Copysign(0, -1))
			}
			out = append(out, addCase(v, s.name, a, b))
		}
	}
	return out
}

func addCase(v AddVariant, shape string, a, b []float32) Case {
	p := AddParams{N: uint32(len(a)), NB: uint32(len(b))}
	y := make([]float32, len(a))
	AddRef(y, a, b)
	bufs := []Buffer{{Name: "a", Init: F32Bytes(a)}, {Name: "b", Init: F32Bytes(b)}}
	chk := "a"
	if !v.InPlace {
		bufs = append(bufs, Buffer{Name: "y", Size: 4 * len(a)})
		chk = "y"
	}
	return Case{
		Family:  "add",
		Name:    fmt.Sprintf("%s/%s", strings.TrimPrefix(v.String(), "add/"), shape),
		Buffers: bufs,
		Steps:   []Step{{Kernel: Add(v), Params: p, Grid: AddGrid(p)}},
		// WGSL's f32 addition is correctly rounded, as Go's is.
		Checks: []Check{{Buffer: chk, Want: y, Tol: Tol{Exact: true}}},
	}
}
