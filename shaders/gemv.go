package shaders

import (
	"fmt"
	"math"
	"strings"
)

// GEMVVariant selects a gemv kernel: y = act(x·Wᵀ + b) (+ y) for a few rows
// of x (decode). The zero value beyond DType is the plain M=1 kernel.
type GEMVVariant struct {
	DType      DType
	Bias       bool // add b[n] before the activation
	Act        Act  // activation fused into the epilogue
	Accumulate bool // y += result: the fused residual add
	// Segmented reads the rows from seg (mixture of experts, MatMulParams.Segment).
	Segmented bool
	// Rows is MT, the rows of x a thread multiplies with each weight vec4
	// it loads: 1, 2 or 4 (0 means 1); the grid's z covers M in tiles of
	// Rows. GEMVRows picks it from M.
	Rows uint8
	// Subgroups reduces with subgroupAdd: browser only (NeedsSubgroups).
	Subgroups bool
	// PackedDot4 (Int8 only) quantizes x to int8 per block of 32 inside
	// the kernel and multiplies with dot4I8Packed: browser only
	// (NeedsPackedDot4). Its reference is MatMulDP4Ref, not MatMulRef:
	// quantizing x changes the result, within MatMulDP4Bound.
	PackedDot4 bool
}

// gemv geometry: WG threads as NG groups of TPR threads, each group
// owning RPT rows of W, and each thread ACC = RPT·MT = 4 partial sums
// whatever the Rows: MT = 1 (decode) reads each x vec4 once for 4 rows of
// W, MT = 4 reads each weight once for 4 rows of x. 32 threads per row keep
// K=3072 at 24 vec4 steps per thread.
const (
	gemvWG  = 256
	gemvTPR = 32
	gemvNG  = gemvWG / gemvTPR
	gemvAcc = 4
	// gemvSGSlots bounds the subgroups of a workgroup: WebGPU subgroup
	// sizes are at least 4.
	gemvSGSlots = gemvWG / 4
	// gemvDP4Chunk is the x elements (all MT rows) a PackedDot4 workgroup
	// quantizes at a time: 16 per thread, two threads per block of 32.
	gemvDP4Chunk = 16 * gemvWG
)

// rowsPerWorkgroup is RPW, the rows of W one workgroup covers.
func (v GEMVVariant) rowsPerWorkgroup() int { return gemvNG * gemvAcc / v.rows() }

func (v GEMVVariant) features() matmulFeatures {
	return matmulFeatures{v.DType, v.Bias, v.Act, v.Accumulate, v.Segmented}
}

func (v GEMVVariant) rows() int {
	switch v.Rows {
	case 0, 1:
		return 1
	case 2, 4:
		return int(v.Rows)
	}
	panic(fmt.Sprintf("shaders: gemv Rows=%d (want 1, 2 or 4)", v.Rows))
}

func (v GEMVVariant) String() string {
	s := "gemv/" + v.features().name() + fmt.Sprintf("/m%d", v.rows())
	if v.PackedDot4 {
		s += "/dp4"
	}
	if v.Subgroups {
		s += "/sg"
	}
	return s + fmt.Sprintf("/wg%d", gemvWG)
}

// GEMVRows is the Rows a gemv of m rows of x should use: exact for 1 and 2,
// else 4 (more tiles along the grid's z beyond 4 rows).
func GEMVRows(m int) uint8 {
	switch {
	case m <= 1:
		return 1
	case m == 2:
		return 2
	}
	return 4
}

// GEMV returns the kernel for v. Bindings: params, x, w, [wscale], [b],
// [seg], y, the same for every variant of one set of features, so a
// variant picked at run time (GEMVPick) is a drop-in replacement.
func GEMV(v GEMVVariant) Kernel {
	if v.PackedDot4 && v.DType != Int8 {
		panic(fmt.Sprintf("shaders: gemv PackedDot4 with %s weights (int8 only)", v.DType))
	}
	f := v.features()
	binds, bs := f.source()
	mt := v.rows()
	consts := append(f.consts(),
		Const{"WG", gemvWG}, Const{"TPR", gemvTPR}, Const{"NG", gemvNG}, Const{"MT", mt},
		Const{"RPT", gemvAcc / mt}, Const{"ACC", gemvAcc}, Const{"RPW", v.rowsPerWorkgroup()})
	dot := "gemv_dot.wgsl"
	if v.DType.Scaled() { // int8, int4: a group of 32 at a time
		dot = "gemv_group.wgsl"
	}
	if v.PackedDot4 {
		dot = "gemv_dp4.wgsl"
		kc := gemvDP4Chunk / mt
		consts = append(consts, Const{"DP4_KC", kc}, Const{"DP4_KCB", kc / GroupSize},
			Const{"DP4_XQ", gemvDP4Chunk / 4}, Const{"DP4_XS", gemvDP4Chunk / GroupSize},
			Const{"DP4_MTW", 8 * mt}, Const{"DP4_INV127", math.Float32bits(dp4Inv127)})
	}
	entry, enable := "gemv_workgroup.wgsl", ""
	if v.Subgroups {
		entry, enable = "gemv_subgroups.wgsl", "subgroups"
		consts = append(consts, Const{"SG_SUMS", gemvSGSlots * gemvNG * gemvAcc})
	} else {
		consts = append(consts, Const{"PARTIAL", gemvWG * gemvAcc})
	}
	return Kernel{
		Name:            v.String(),
		File:            "gemv.wgsl",
		Source:          render(MatMulParams{}, consts, enable, binds, "act.wgsl", "matmul.wgsl", "gemv.wgsl", dot, entry),
		Entry:           "main",
		Bindings:        bs,
		NeedsSubgroups:  v.Subgroups,
		NeedsPackedDot4: v.PackedDot4,
	}
}

// gemvWorkgroupBytes is the workgroup memory the variant declares.
func gemvWorkgroupBytes(v GEMVVariant) int {
	b := 4 * gemvWG * gemvAcc
	if v.Subgroups {
		b = 4*gemvSGSlots*gemvNG*gemvAcc + 4
	}
	if v.PackedDot4 {
		// codes, a scale per block, a max per half block
		b += gemvDP4Chunk + 4*gemvDP4Chunk/GroupSize + 4*gemvWG
	}
	return b
}

// GEMVGrid covers N in blocks of RPW rows (x·y) and M in tiles of the
// variant's Rows (z); with Segmented, p.M is the bound on the segment count.
func GEMVGrid(v GEMVVariant, p MatMulParams) [3]uint32 {
	g := Grid1D(ceilDiv(p.N, uint32(v.rowsPerWorkgroup())))
	g[2] = max(1, ceilDiv(p.M, uint32(v.rows())))
	return g
}

func init() {
	register(family{
		Name:  "gemv",
		Files: append([]string{"gemv.wgsl", "gemv_dot.wgsl", "gemv_group.wgsl", "gemv_dp4.wgsl", "gemv_workgroup.wgsl", "gemv_subgroups.wgsl"}, matmulFiles...),
		Cases: gemvCases,
	})
}

func gemvCases() []Case {
	var out []Case
	add := func(c mmCase) { out = append(out, c.gemv()) }

	// Each dtype at M=1 with N=1 (a single row, 7 idle rows of threads),
	// odd N and the K sizes the kernels meet; f32 with K not a multiple of 4
	// (scalar tail) and f16 with K ≡ 2 mod 4.
	for _, s := range [][3]int{{1, 1, 7}, {1, 3, 33}, {1, 257, 96}, {1, 5, 1025}} {
		add(mmCase{dt: F32, m: s[0], n: s[1], k: s[2]})
	}
	add(mmCase{dt: F16, m: 1, n: 257, k: 1024})
	add(mmCase{dt: F16, m: 1, n: 3, k: 34})
	for _, dt := range []DType{Int8, Int4} {
		for _, s := range [][3]int{{1, 1, 32}, {1, 257, 96}, {1, 3, 1024}, {1, 33, 3072}} {
			add(mmCase{dt: dt, m: s[0], n: s[1], k: s[2]})
		}
	}
	// Epilogue features, each activation once, spread over the dtypes.
	add(mmCase{dt: F32, m: 1, n: 33, k: 33, bias: true})
	add(mmCase{dt: Int4, m: 1, n: 257, k: 96, bias: true, act: ActSiLU})
	add(mmCase{dt: F16, m: 1, n: 65, k: 96, bias: true, act: ActGELUErf})
	add(mmCase{dt: Int8, m: 1, n: 17, k: 64, act: ActGELUTanh})
	add(mmCase{dt: F32, m: 1, n: 9, k: 20, bias: true, act: ActQuickGELU})
	add(mmCase{dt: Int4, m: 1, n: 257, k: 1024, acc: true})
	add(mmCase{dt: F32, m: 1, n: 3, k: 7, bias: true, act: ActGELUErf, acc: true})
	// Several rows of x: each Rows, M below, at and above a tile.
	add(mmCase{dt: F32, m: 2, n: 33, k: 33, rows: 2})
	add(mmCase{dt: Int4, m: 3, n: 257, k: 96, rows: 4, bias: true})
	add(mmCase{dt: F16, m: 4, n: 17, k: 1024, rows: 4, acc: true})
	add(mmCase{dt: Int8, m: 7, n: 9, k: 96, rows: 4, act: ActSiLU})
	add(mmCase{dt: F32, m: 5, n: 9, k: 13, rows: 1})
	// Strides: a slice of a wider x written into columns of a fused y.
	add(mmCase{dt: F32, m: 3, n: 9, k: 7, rows: 4, ldx: 11, ldy: 30, ycol: 13})
	add(mmCase{dt: Int4, m: 1, n: 33, k: 64, ldx: 96, ldy: 100, ycol: 50, acc: true})
	// Mixture of experts: one segment of a gathered batch, an empty one.
	add(mmCase{dt: Int4, m: 6, n: 33, k: 64, rows: 4, seg: []uint32{0, 2, 2, 3, 5, 1}, expert: 1})
	add(mmCase{dt: F32, m: 1, n: 9, k: 7, seg: []uint32{0, 1, 1, 0}, expert: 1, acc: true})
	// Inputs that break things: zeros (y = act(b)),
	// an impulse (y = one column of W), huge values.
	add(mmCase{dt: Int8, m: 1, n: 33, k: 64, bias: true, act: ActGELUErf, x: xZeros})
	add(mmCase{dt: F16, m: 1, n: 257, k: 96, x: xImpulse})
	add(mmCase{dt: F32, m: 2, n: 17, k: 1024, rows: 2, x: xLarge})
	add(mmCase{dt: Int4, m: 1, n: 9, k: 1024, x: xLarge, act: ActSiLU})
	// The browser-only subgroup reduction (skipped natively).
	add(mmCase{dt: Int4, m: 1, n: 257, k: 1024, bias: true, sg: true})
	add(mmCase{dt: F32, m: 3, n: 9, k: 7, rows: 4, act: ActSiLU, acc: true, sg: true})
	add(mmCase{dt: F16, m: 2, n: 1, k: 34, rows: 2, sg: true, seg: []uint32{0, 2}})
	// Packed int8 dot products (browser only, skipped natively), checked
	// against the reference that quantizes x the same way: the int8 shapes
	// above, each epilogue feature once, several rows of x (chunks of
	// 4096/Rows columns: K = 1056 ends on a one-block chunk, K = 8192 takes
	// two at Rows = 1), strides, a segment, the inputs that break things,
	// and both reductions.
	for _, s := range [][3]int{{1, 1, 32}, {1, 257, 96}, {1, 3, 1024}, {1, 33, 3072}} {
		add(mmCase{dt: Int8, m: s[0], n: s[1], k: s[2], dp4: true})
	}
	add(mmCase{dt: Int8, m: 1, n: 65, k: 96, bias: true, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 17, k: 64, act: ActGELUTanh, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 257, k: 1024, acc: true, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 9, k: 8192, dp4: true})
	add(mmCase{dt: Int8, m: 2, n: 17, k: 2048, rows: 2, dp4: true})
	add(mmCase{dt: Int8, m: 3, n: 33, k: 1056, rows: 4, bias: true, dp4: true})
	add(mmCase{dt: Int8, m: 7, n: 9, k: 96, rows: 4, act: ActSiLU, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 33, k: 64, ldx: 96, ldy: 100, ycol: 50, acc: true, dp4: true})
	add(mmCase{dt: Int8, m: 6, n: 33, k: 64, rows: 4, seg: []uint32{0, 2, 2, 3, 5, 1}, expert: 1, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 33, k: 64, bias: true, act: ActGELUErf, x: xZeros, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 257, k: 96, x: xImpulse, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 9, k: 1024, x: xLarge, act: ActSiLU, dp4: true})
	add(mmCase{dt: Int8, m: 1, n: 257, k: 1024, bias: true, sg: true, dp4: true})
	add(mmCase{dt: Int8, m: 3, n: 9, k: 96, rows: 4, acc: true, sg: true, dp4: true})
	// Phi-3-mini at decode: q/k/v-sized and gate_up projections (int4),
	// and down_proj with the residual add.
	add(mmCase{dt: Int4, m: 1, n: 3072, k: 3072, heavy: true})
	add(mmCase{dt: Int4, m: 1, n: 8192, k: 3072, heavy: true})
	add(mmCase{dt: Int4, m: 1, n: 3072, k: 8192, acc: true, heavy: true})
	return out
}

// gemv builds the gemv case of c.
func (c mmCase) gemv() Case {
	v := GEMVVariant{DType: c.dt, Bias: c.bias, Act: c.act, Accumulate: c.acc,
		Segmented: c.seg != nil, Rows: c.rows, Subgroups: c.sg, PackedDot4: c.dp4}
	p := c.params()
	k := GEMV(v)
	return c.build("gemv", strings.TrimPrefix(v.String(), "gemv/"), Step{Kernel: k, Params: p, Grid: GEMVGrid(v, p)},
		[2]int{v.rows(), v.rowsPerWorkgroup()})
}
