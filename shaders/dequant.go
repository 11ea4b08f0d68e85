package shaders

import "fmt"

// DequantParams is the uniform of the dequant kernel.
type DequantParams struct {
	N uint32 // elements
}

const dequantWG = 256

// Dequant returns the kernel expanding weights of type dt to f32.
// Bindings: params, w, [wscale], y.
func Dequant(dt DType) Kernel {
	nb := len(weightBindings(dt)) + 1
	out := fmt.Sprintf("@group(0) @binding(0) var<uniform> P: Params;\n@group(0) @binding(%d) var<storage, read_write> y: array<f32>;\n", nb)
	bs := append([]Binding{{"params", Uniform}}, weightBindings(dt)...)
	bs = append(bs, Binding{"y", ReadWrite})
	return Kernel{
		Name:     "dequant/" + dt.String() + "/wg256",
		File:     "dequant.wgsl",
		Source:   render(DequantParams{}, []Const{{"WG", dequantWG}}, "", out, weightSource(dt, 1), "dequant.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// DequantGrid covers n elements, four per thread.
func DequantGrid(n uint32) [3]uint32 { return Grid1D(ceilDiv(n, 4*dequantWG)) }

func init() {
	register(family{Name: "dequant", Files: append([]string{"dequant.wgsl"}, weightFiles()...), Cases: dequantCases})
}

func dequantCases() []Case {
	var out []Case
	for _, dt := range DTypes() {
		// Rows not a multiple of anything; K the smallest legal and a
		// typical one; element counts with a scalar tail for f32.
		shapes := [][2]int{{1, 32}, {3, 64}, {7, 96}, {33, 1024}}
		if dt == F32 || dt == F16 {
			shapes = append(shapes, [2]int{5, 6})
		}
		for _, s := range shapes {
			n, k := s[0], s[1]
			src := randF32(int64(n*1000+k)+int64(dt), n*k, 2)
			src[0] = 0 // an all-but-zero group and exact zero
			w, err := Pack(dt, src, n, k)
			if err != nil {
				panic(err)
			}
			cnt := uint32(n * k)
			out = append(out, Case{
				Family:  "dequant",
				Name:    fmt.Sprintf("%s/N=%d,K=%d", dt, n, k),
				Buffers: append(w.Buffers("w"), Buffer{Name: "y", Size: 4 * n * k}),
				Steps:   []Step{{Kernel: Dequant(dt), Params: DequantParams{N: cnt}, Grid: DequantGrid(cnt)}},
				// Dequantization is exact arithmetic (q·s with q small).
				Checks: []Check{{Buffer: "y", Want: w.Dequant(), Tol: Tol{Exact: true}}},
			})
		}
	}
	return out
}
