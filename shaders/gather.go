package shaders

import (
	"fmt"
	"math"
)

// GatherParams is the uniform of the gather kernel; NewGatherParams checks
// a shape against the table's dtype.
type GatherParams struct {
	T    uint32 // ids, output rows
	C    uint32 // row length; a multiple of the dtype's KMultiple
	Rows uint32 // table rows: ids ≥ Row0+Rows give zero rows
	// Row0 is the first row of the whole table that this table holds, for
	// a table stored as row pieces; ids < Row0 are out of range too.
	Row0 uint32
	// Keep, when 1, leaves the output rows of out-of-range ids untouched
	// instead of zeroing them (pieces after the first of a pieced table).
	Keep uint32
}

// NewGatherParams checks a gather of t rows of c from a table of rows×c
// weights of dtype dt: c must be a multiple of dt.KMultiple() (the packed
// layouts and w_load4's alignment rely on it) and the output within 2³²
// elements (u32 indices).
func NewGatherParams(dt DType, t, c, rows int) (GatherParams, error) {
	if t < 0 || c < 1 || rows < 1 || c%dt.KMultiple() != 0 {
		return GatherParams{}, fmt.Errorf("shaders: gather of %d rows of C=%d from %d %s rows: need C ≥ 1 a multiple of %d", t, c, rows, dt, dt.KMultiple())
	}
	if uint64(t)*uint64(c) > math.MaxUint32 || uint64(rows)*uint64(c) > math.MaxUint32 {
		return GatherParams{}, fmt.Errorf("shaders: gather of (%d, %d) from (%d, %d) exceeds 2³² elements", t, c, rows, c)
	}
	return GatherParams{T: uint32(t), C: uint32(c), Rows: uint32(rows)}, nil
}

const gatherWG = 256

// Gather returns the row-gather kernel for a table of dtype dt. Bindings:
// params, ids, w, [wscale], y.
func Gather(dt DType) Kernel {
	nw := len(weightBindings(dt))
	bind := "@group(0) @binding(0) var<uniform> P: Params;\n" +
		"@group(0) @binding(1) var<storage, read> ids: array<u32>;\n" +
		fmt.Sprintf("@group(0) @binding(%d) var<storage, read_write> y: array<f32>;\n", 2+nw)
	bs := append([]Binding{{"params", Uniform}, {"ids", Read}}, weightBindings(dt)...)
	bs = append(bs, Binding{"y", ReadWrite})
	return Kernel{
		Name:     "gather/" + dt.String() + "/wg256",
		File:     "gather.wgsl",
		Source:   render(GatherParams{}, []Const{{"WG", gatherWG}}, "", bind, weightSource(dt, 2), "gather.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// GatherGrid covers T rows of ⌈C/4⌉ four-channel groups, one per thread.
func GatherGrid(p GatherParams) [3]uint32 {
	return Grid1D(ceilDiv(p.T*ceilDiv(p.C, 4), gatherWG))
}

func init() {
	register(family{Name: "gather", Files: []string{"gather.wgsl"}, Cases: casesOnce(gatherCases)})
}

func gatherCases() []Case {
	var out []Case
	for _, dt := range DTypes() {
		type shape struct{ rows, c, t int }
		// One id; ids not a multiple of anything; Phi-3's width (3072)
		// from a vocabulary-like table; CLIP-L's width for the f32 MoE
		// token gather.
		shapes := []shape{{1, 32, 1}, {50, 64, 7}, {40, 3072, 9}, {100, 1024, 300}}
		if dt == F32 || dt == F16 {
			// Widths with a scalar tail (f32: C % 4 = 1, 3; f16: C % 4 = 2).
			shapes = append(shapes, shape{5, 2, 3}, shape{9, 6, 5})
			if dt == F32 {
				shapes = append(shapes, shape{1, 1, 1}, shape{6, 7, 4})
			}
		}
		for i, s := range shapes {
			seed := int64(900+100*int(dt)) + int64(i)
			tab := randF32(seed, s.rows*s.c, 2)
			tab[0] = 0
			w, err := Pack(dt, tab, s.rows, s.c)
			if err != nil {
				panic(err)
			}
			ids := gatherIDs(seed, s.t, s.rows)
			out = append(out, gatherCase(dt, fmt.Sprintf("rows=%d,C=%d,T=%d", s.rows, s.c, s.t), w, ids))
		}
		out = append(out, gatherPieceCases(dt)...)
	}
	return out
}

// gatherPieceCases gather from a 60-row table stored as three row pieces,
// as a table past the binding limit is: piece 0 with keep = 0 (zeros for
// ids outside it), the others with keep = 1, in one batch, must equal the
// gather from the whole table; and one keep = 1 dispatch alone must leave
// the rows of ids outside its piece untouched.
func gatherPieceCases(dt DType) []Case {
	const rows, c = 60, 64
	tab := randF32(int64(7000+int(dt)), rows*c, 2)
	whole, err := Pack(dt, tab, rows, c)
	if err != nil {
		panic(err)
	}
	ids := []uint32{0, 19, 20, 43, 44, 59, 60, 31, 5, 50, math.MaxUint32, 20}
	cuts := [][2]int{{0, 20}, {20, 44}, {44, 60}}
	var bufs []Buffer
	var steps []Step
	for i, cut := range cuts {
		pw, err := Pack(dt, tab[cut[0]*c:cut[1]*c], cut[1]-cut[0], c)
		if err != nil {
			panic(err)
		}
		name := fmt.Sprintf("w%d", i)
		bufs = append(bufs, pw.Buffers(name)...)
		p, err := NewGatherParams(dt, len(ids), c, cut[1]-cut[0])
		if err != nil {
			panic(err)
		}
		p.Row0 = uint32(cut[0])
		p.Keep = uint32(min(i, 1))
		bind := []string{"ids", name}
		if dt.Scaled() {
			bind = append(bind, name+"scale")
		}
		steps = append(steps, Step{Kernel: Gather(dt), Params: p, Bind: append(bind, "y"), Grid: GatherGrid(p)})
	}
	n := len(ids) * c
	want := make([]float32, n)
	GatherRef(want, ids, whole)
	bufs = append(bufs, Buffer{Name: "ids", Init: U32Bytes(ids)}, Buffer{Name: "y", Init: poisonF32(n)})
	all := Case{
		Family: "gather", Name: dt.String() + "/wg256/pieces=3,rows=60,C=64",
		Buffers: bufs, Steps: steps,
		Checks: []Check{{Buffer: "y", Want: want, Tol: Tol{Exact: true}}},
	}
	// The middle piece alone, keep = 1: only its ids' rows change.
	mid := BytesF32(poisonF32(n))
	pw, _ := Pack(dt, tab[20*c:44*c], 24, c)
	GatherPieceRef(mid, ids, pw, 20, true)
	alone := Case{
		Family: "gather", Name: dt.String() + "/wg256/piece=20..44,keep",
		Buffers: append(append([]Buffer{}, bufs...), Buffer{Name: "y1", Init: poisonF32(n)}),
		Steps: []Step{{Kernel: Gather(dt), Params: steps[1].Params, Grid: steps[1].Grid,
			Bind: append(append([]string{}, steps[1].Bind[:len(steps[1].Bind)-1]...), "y1")}},
		Checks: []Check{{Buffer: "y1", Want: mid, Tol: Tol{Exact: true}}},
	}
	return []Case{all, alone}
}

// gatherIDs draws t ids in [0, rows) and, when there are enough, plants the
// breaking ones: the first and last rows, a repeat, rows (one past the
// end), a large id whose id·C wraps u32 for wide rows, and 0xFFFFFFFF.
func gatherIDs(seed int64, t, rows int) []uint32 {
	r := randF32(seed+7, t, 1)
	ids := make([]uint32, t)
	for i := range ids {
		ids[i] = uint32((r[i] + 1) / 2 * float32(rows))
		ids[i] = min(ids[i], uint32(rows-1))
	}
	if t >= 7 {
		copy(ids, []uint32{0, uint32(rows - 1), uint32(rows), ids[3], ids[3], 1 << 22, math.MaxUint32})
	}
	return ids
}

func gatherCase(dt DType, shape string, w Weights, ids []uint32) Case {
	p, err := NewGatherParams(dt, len(ids), w.K, w.N)
	if err != nil {
		panic(err)
	}
	y := make([]float32, len(ids)*w.K)
	GatherRef(y, ids, w)
	bufs := append([]Buffer{{Name: "ids", Init: U32Bytes(ids)}}, w.Buffers("w")...)
	// y starts as garbage: rows for out-of-range ids must be written zeros.
	bufs = append(bufs, Buffer{Name: "y", Init: poisonF32(len(y))})
	return Case{
		Family:  "gather",
		Name:    dt.String() + "/wg256/" + shape,
		Buffers: bufs,
		Steps:   []Step{{Kernel: Gather(dt), Params: p, Grid: GatherGrid(p)}},
		// Dequantization is exact arithmetic (q·s with q small), as in dequant.
		Checks: []Check{{Buffer: "y", Want: y, Tol: Tol{Exact: true}}},
	}
}
