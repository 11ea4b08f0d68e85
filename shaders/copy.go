package shaders

// CopyParams is the uniform of the copy kernel.
type CopyParams struct {
	N4 uint32 // number of vec4 (16-byte) elements
}

const copyWG = 256

// Copy is the plain copy kernel, the bandwidth roofline of a device.
func Copy() Kernel {
	return Kernel{
		Name:   "copy/vec4/wg256",
		File:   "copy.wgsl",
		Source: render(CopyParams{}, []Const{{"WG", copyWG}}, "", "copy.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"x", Read}, {"y", ReadWrite},
		},
	}
}

// CopyGrid is the dispatch grid for n4 vec4 elements.
func CopyGrid(n4 uint32) [3]uint32 { return Grid1D(ceilDiv(n4, copyWG)) }

func init() {
	register(family{Name: "copy", Files: []string{"copy.wgsl"}, Cases: copyCases})
}

func copyCases() []Case {
	var out []Case
	for _, n4 := range []int{1, 255, 257, 70000 * 4} {
		x := randF32(int64(n4), 4*n4, 1)
		out = append(out, Case{
			Family:  "copy",
			Name:    "n4=" + itoa(n4),
			Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "y", Size: 16 * n4}},
			Steps:   []Step{{Kernel: Copy(), Params: CopyParams{N4: uint32(n4)}, Grid: CopyGrid(uint32(n4))}},
			Checks:  []Check{{Buffer: "y", Want: x, Tol: Tol{Exact: true}}},
		})
	}
	return out
}
