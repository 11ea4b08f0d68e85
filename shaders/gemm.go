package shaders

import "strings"

// GEMMVariant selects a gemm kernel: Y = act(X·Wᵀ + b) (+ Y) tiled through
// workgroup memory, for prefill and the vision tower.
type GEMMVariant struct {
	DType      DType
	Bias       bool // add b[n] before the activation
	Act        Act  // activation fused into the epilogue
	Accumulate bool // Y += result: the fused residual add
	// Segmented reads the rows from seg (mixture of experts,
	// MatMulParams.Segment); the grid covers the bound M and tiles past the
	// segment's count return at once.
	Segmented bool
}

// gemm tiling: a 64×64 tile of Y per workgroup of 16×16 threads, each
// computing 4×4 outputs, in steps of 16 along K. Two tiles of 64 rows ×
// (16/4 + 1) vec4 (one of padding) are 10 KiB of workgroup memory, under
// WebGPU's default 16 KiB; 16 FMAs per two workgroup vec4 loads per k.
const (
	gemmBM = 64
	gemmBN = 64
	gemmBK = 16
	gemmTX = 16 // threads along N
	gemmTY = 16 // threads along M
	gemmTM = gemmBM / gemmTY
	gemmWG = gemmTX * gemmTY
	// gemmXStr is a tile row in vec4s: BK/4 plus one of padding.
	gemmXStr = gemmBK/4 + 1
)

// The loader gives each thread exactly one vec4 of each tile, and the
// kernel's inner loop is written for 4 columns per thread.
var _ = [1]struct{}{}[gemmBM*gemmBK/4-gemmWG]
var _ = [1]struct{}{}[gemmBN-4*gemmTX]

func (v GEMMVariant) features() matmulFeatures {
	return matmulFeatures{v.DType, v.Bias, v.Act, v.Accumulate, v.Segmented}
}

func (v GEMMVariant) String() string {
	return "gemm/" + v.features().name() + "/t64x64k16"
}

// GEMM returns the kernel for v. Bindings: params, x, w, [wscale], [b], [seg], y.
func GEMM(v GEMMVariant) Kernel {
	f := v.features()
	binds, bs := f.source()
	consts := append(f.consts(),
		Const{"WG", gemmWG}, Const{"BM", gemmBM}, Const{"BN", gemmBN}, Const{"BK", gemmBK},
		Const{"TX", gemmTX}, Const{"TY", gemmTY}, Const{"TM", gemmTM}, Const{"XSTR", gemmXStr},
		Const{"XS_LEN", gemmBM * gemmXStr}, Const{"WS_LEN", gemmBN * gemmXStr})
	return Kernel{
		Name:     v.String(),
		File:     "gemm.wgsl",
		Source:   render(MatMulParams{}, consts, "", binds, "act.wgsl", "matmul.wgsl", "gemm.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// gemmWorkgroupBytes is the workgroup memory the kernel declares.
func gemmWorkgroupBytes() int { return 16 * (gemmBM + gemmBN) * gemmXStr }

// GEMMGrid is one workgroup per 64×64 tile of Y; with Segmented, p.M is
// the bound on the segment count.
func GEMMGrid(p MatMulParams) [3]uint32 {
	return [3]uint32{ceilDiv(p.N, gemmBN), max(1, ceilDiv(p.M, gemmBM)), 1}
}

func init() {
	register(family{
		Name:  "gemm",
		Files: append([]string{"gemm.wgsl"}, matmulFiles...),
		Cases: gemmCases,
	})
}

func gemmCases() []Case {
	var out []Case
	add := func(c mmCase) { out = append(out, c.gemm()) }
	// Every dtype over M = 1, 17, 100, 577 (CLIP's tokens) with N and K
	// below, at and across tile edges; f32 with K not a multiple of 4 or
	// of BK, f16 with K ≡ 2 mod 4.
	add(mmCase{dt: F32, m: 1, n: 1, k: 7})
	add(mmCase{dt: F32, m: 17, n: 3, k: 33})
	add(mmCase{dt: F32, m: 100, n: 257, k: 96})
	add(mmCase{dt: F32, m: 65, n: 65, k: 17})
	add(mmCase{dt: F16, m: 17, n: 257, k: 1024})
	add(mmCase{dt: F16, m: 577, n: 65, k: 34})
	add(mmCase{dt: Int8, m: 1, n: 257, k: 96})
	add(mmCase{dt: Int8, m: 100, n: 33, k: 1024})
	add(mmCase{dt: Int4, m: 17, n: 129, k: 3072})
	add(mmCase{dt: Int4, m: 577, n: 3, k: 32})
	// Epilogue features, each activation once.
	add(mmCase{dt: F32, m: 17, n: 33, k: 33, bias: true})
	add(mmCase{dt: F16, m: 100, n: 257, k: 96, bias: true, act: ActGELUErf})
	add(mmCase{dt: F32, m: 33, n: 65, k: 64, bias: true, act: ActGELUTanh})
	add(mmCase{dt: Int8, m: 70, n: 17, k: 64, bias: true, act: ActQuickGELU})
	add(mmCase{dt: Int4, m: 17, n: 257, k: 96, act: ActSiLU})
	add(mmCase{dt: Int4, m: 100, n: 65, k: 1024, acc: true})
	add(mmCase{dt: F32, m: 3, n: 5, k: 7, bias: true, act: ActQuickGELU, acc: true})
	// Strides: a slice of a wider x written into columns of a fused y.
	add(mmCase{dt: F32, m: 70, n: 65, k: 19, ldx: 23, ldy: 150, ycol: 77})
	add(mmCase{dt: F16, m: 17, n: 33, k: 64, ldx: 100, ldy: 99, ycol: 33, bias: true, acc: true})
	// Mixture of experts: a segment across tiles, one inside a tile, an
	// empty one (every workgroup returns; y unchanged).
	moe := []uint32{0, 30, 30, 100, 130, 7, 137, 0}
	for e := 0; e < 4; e++ {
		add(mmCase{dt: Int4, m: 137, n: 65, k: 64, seg: moe, expert: e})
	}
	add(mmCase{dt: F32, m: 9, n: 17, k: 13, seg: []uint32{2, 5}, acc: true, act: ActSiLU})
	// Inputs that break things.
	add(mmCase{dt: Int8, m: 17, n: 33, k: 64, bias: true, act: ActGELUErf, x: xZeros})
	add(mmCase{dt: F16, m: 65, n: 70, k: 96, x: xImpulse})
	add(mmCase{dt: F32, m: 17, n: 65, k: 7, x: xImpulse})
	add(mmCase{dt: F32, m: 33, n: 17, k: 1024, x: xLarge})
	// CLIP ViT-L/14 at 336 px: 577 tokens through the MLP's fc1 (f16,
	// quick-GELU) and Phi-3-mini prefill (int4) with the residual add.
	add(mmCase{dt: F16, m: 577, n: 4096, k: 1024, bias: true, act: ActQuickGELU, heavy: true})
	add(mmCase{dt: Int4, m: 100, n: 3072, k: 8192, acc: true, heavy: true})
	return out
}

// gemm builds the gemm case of c.
func (c mmCase) gemm() Case {
	v := GEMMVariant{DType: c.dt, Bias: c.bias, Act: c.act, Accumulate: c.acc, Segmented: c.seg != nil}
	p := c.params()
	return c.build("gemm", strings.TrimPrefix(v.String(), "gemm/"), Step{Kernel: GEMM(v), Params: p, Grid: GEMMGrid(p)},
		[2]int{gemmBM, gemmBN})
}
