package shaders

import (
	"strings"
	"testing"
)

// allGEMV lists every gemv variant (PackedDot4 with int8 weights only).
func allGEMV() []GEMVVariant {
	var out []GEMVVariant
	for _, f := range allMatMulFeatures() {
		for _, rows := range []uint8{1, 2, 4} {
			for _, sg := range []bool{false, true} {
				for _, dp4 := range []bool{false, true} {
					if dp4 && f.DType != Int8 {
						continue
					}
					out = append(out, GEMVVariant{f.DType, f.Bias, f.Act, f.Accumulate, f.Segmented, rows, sg, dp4})
				}
			}
		}
	}
	return out
}

// allGEMM lists every gemm variant.
func allGEMM() []GEMMVariant {
	var out []GEMMVariant
	for _, f := range allMatMulFeatures() {
		out = append(out, GEMMVariant{f.DType, f.Bias, f.Act, f.Accumulate, f.Segmented})
	}
	return out
}

func allMatMulFeatures() []matmulFeatures {
	var out []matmulFeatures
	for _, dt := range DTypes() {
		for _, act := range Acts() {
			for bits := 0; bits < 8; bits++ {
				out = append(out, matmulFeatures{dt, bits&1 != 0, act, bits&2 != 0, bits&4 != 0})
			}
		}
	}
	return out
}

// Variant names are the pipeline-cache keys' readable part and the case
// names: distinct variants must not share one. Every variant also fits
// WebGPU's default workgroup memory and storage-buffer count.
func TestGEMVVariants(t *testing.T) {
	seen := map[string]GEMVVariant{}
	for _, v := range allGEMV() {
		k := GEMV(v)
		if o, ok := seen[k.Name]; ok {
			t.Fatalf("%+v and %+v are both named %s", o, v, k.Name)
		}
		seen[k.Name] = v
		if b := gemvWorkgroupBytes(v); b > 16384 {
			t.Errorf("%s: %d bytes of workgroup memory", k.Name, b)
		}
		checkMatMulKernel(t, k, v.features())
		if k.NeedsSubgroups != v.Subgroups || strings.HasPrefix(k.Source, "enable subgroups;") != v.Subgroups {
			t.Errorf("%s: subgroups flag and enable line disagree", k.Name)
		}
		// naga rejects dot4I8Packed: only the flagged variants may use it.
		if k.NeedsPackedDot4 != v.PackedDot4 || strings.Contains(k.Source, "dot4I8Packed(") != v.PackedDot4 {
			t.Errorf("%s: packed-dot4 flag and source disagree", k.Name)
		}
	}
	// Grids: z covers M in tiles of Rows, x·y the rows of W in blocks.
	g := GEMVGrid(GEMVVariant{Rows: 4}, MatMulDims(7, 3072, 64))
	if g != [3]uint32{3072 / gemvNG, 1, 2} {
		t.Errorf("grid %v", g)
	}
	if g := GEMVGrid(GEMVVariant{}, MatMulDims(1, 1, 64)); g != [3]uint32{1, 1, 1} {
		t.Errorf("grid for N=1: %v", g)
	}
	if g := GEMVGrid(GEMVVariant{}, MatMulDims(1, 3072, 64)); g != [3]uint32{3072 / (4 * gemvNG), 1, 1} {
		t.Errorf("grid for M=1: %v", g)
	}
	for m, want := range map[int]uint8{1: 1, 2: 2, 3: 4, 8: 4} {
		if GEMVRows(m) != want {
			t.Errorf("GEMVRows(%d) = %d, want %d", m, GEMVRows(m), want)
		}
	}
}

func TestGEMMVariants(t *testing.T) {
	seen := map[string]GEMMVariant{}
	for _, v := range allGEMM() {
		k := GEMM(v)
		if o, ok := seen[k.Name]; ok {
			t.Fatalf("%+v and %+v are both named %s", o, v, k.Name)
		}
		seen[k.Name] = v
		checkMatMulKernel(t, k, v.features())
	}
	if b := gemmWorkgroupBytes(); b > 16384 {
		t.Errorf("gemm: %d bytes of workgroup memory", b)
	}
	if g := GEMMGrid(MatMulDims(577, 4096, 1024)); g != [3]uint32{64, 10, 1} {
		t.Errorf("grid %v", g)
	}
}

// checkMatMulKernel checks the bindings against the variant: order
// params, x, w, [wscale], [b], [seg], y, each declared at its index.
func checkMatMulKernel(t *testing.T, k Kernel, f matmulFeatures) {
	t.Helper()
	want := []string{"params", "x", "w"}
	if f.DType.Scaled() {
		want = append(want, "wscale")
	}
	if f.Bias {
		want = append(want, "b")
	}
	if f.Segmented {
		want = append(want, "seg")
	}
	want = append(want, "y")
	var have []string
	for _, b := range k.Bindings {
		have = append(have, b.Name)
	}
	if strings.Join(have, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: bindings %v, want %v", k.Name, have, want)
	}
	for i, name := range want[1:] {
		decl := "@binding(" + itoa(i+1) + ") var<storage, read"
		if !strings.Contains(k.Source, decl) || !strings.Contains(k.Source, "> "+name+": array<") {
			t.Errorf("%s: %s is not declared at binding %d", k.Name, name, i+1)
		}
	}
	if k.Bindings[len(k.Bindings)-1].Access != ReadWrite {
		t.Errorf("%s: y is not read_write", k.Name)
	}
}
