//go:build !js

package gpu

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/shaders"
)

// The Ops parity table, in the spirit of ggml's test-backend-ops: every
// method of model.Ops (driven from model.OpTable, so a method added there
// without a case here fails) runs on the GPU backend and on the CPU
// reference with the same inputs, and the outputs are compared. Kernel
// methods must also dispatch every kernel family their OpTable row names
// (MatMul: gemv and gemm), each variant the backend picks is reached
// (dtypes, epilogues, in place, split-K, vec4, samplers).

// kernelNMSE is the kernels' own parity bound (shaders: f32 rounding in
// another summation order, NMSE ~1e-13); activations are also within 2e-6
// absolute, which on O(1) values is far inside it.
const kernelNMSE = 1e-10

var opCases = map[string]func(p *pair){
	"Backend":         caseBackend,
	"Alloc":           caseAlloc,
	"Upload":          caseUpload,
	"Write":           caseWrite,
	"WriteU32":        caseWriteU32,
	"Read":            caseRead,
	"ReadU32":         caseReadU32,
	"Sync":            caseSync,
	"Free":            caseFree,
	"Copy":            caseCopy,
	"MatMul":          caseMatMul,
	"LayerNorm":       caseLayerNorm,
	"RMSNorm":         caseRMSNorm,
	"Softmax":         caseSoftmax,
	"Act":             caseAct,
	"SwiGLU":          caseSwiGLU,
	"Add":             caseAdd,
	"Patchify":        casePatchify,
	"Merge2x2":        caseMerge,
	"Gather":          caseGather,
	"Attention":       caseAttention,
	"DecodeAttention": caseDecodeAttention,
	"KVAppend":        caseKVAppend,
	"RoPE":            caseRoPE,
	"TaskRoute":       caseTaskRoute,
	"MoERoute":        caseMoERoute,
	"MoEPlan":         caseMoEPlan,
	"MoECombine":      caseMoECombine,
	"Sample":          caseSample,
}

func TestOpsParity(t *testing.T) {
	rows := map[string]bool{}
	for _, row := range model.OpTable {
		rows[row.Method] = true
		t.Run(row.Method, func(t *testing.T) {
			c, ok := opCases[row.Method]
			if !ok {
				t.Fatalf("no GPU parity case for Ops.%s: add one to opCases", row.Method)
			}
			p := newPair(t)
			c(p)
			p.sync()
			if row.Kind != model.OpKernel {
				return
			}
			classes := map[string]bool{}
			for _, k := range p.g.kernels {
				classes[k.class] = true
			}
			for _, f := range row.Families {
				if !classes[f] {
					t.Errorf("Ops.%s never dispatched a %s kernel (dispatched %v)", row.Method, f, classes)
				}
			}
		})
	}
	for name := range opCases {
		if !rows[name] {
			t.Errorf("parity case %s is not a row of model.OpTable", name)
		}
	}
}

// ---- the two backends side by side ---------------------------------------------

// twin is one tensor on both backends.
type twin struct{ c, g model.Tensor }

type pair struct {
	t   *testing.T
	c   *cpu.Backend
	g   *Backend
	rng *rand.Rand
}

func newPair(t *testing.T) *pair {
	return &pair{t: t, c: cpu.New(), g: New(device(t)), rng: rand.New(rand.NewSource(int64(len(t.Name()))))}
}

// both runs f on each backend; on(x) is x's tensor of that backend.
func (p *pair) both(f func(o model.Ops, on func(twin) model.Tensor)) {
	f(p.c, func(x twin) model.Tensor { return x.c })
	f(p.g, func(x twin) model.Tensor { return x.g })
}

func (p *pair) sync() {
	p.t.Helper()
	if err := p.c.Sync(); err != nil {
		p.t.Fatalf("cpu: %v", err)
	}
	if err := p.g.Sync(); err != nil {
		p.t.Fatalf("gpu: %v", err)
	}
}

func (p *pair) f32(name string, v []float32, shape ...int) twin {
	x := twin{p.c.Alloc(name, model.F32, shape...), p.g.Alloc(name, model.F32, shape...)}
	p.c.Write(x.c, 0, v)
	p.g.Write(x.g, 0, v)
	return x
}

func (p *pair) zeros(name string, shape ...int) twin {
	return twin{p.c.Alloc(name, model.F32, shape...), p.g.Alloc(name, model.F32, shape...)}
}

func (p *pair) u32(name string, v []uint32, shape ...int) twin {
	x := twin{p.c.Alloc(name, model.U32, shape...), p.g.Alloc(name, model.U32, shape...)}
	p.c.WriteU32(x.c, 0, v)
	p.g.WriteU32(x.g, 0, v)
	return x
}

func (p *pair) upload(name string, w shaders.Weights) twin {
	return twin{p.c.Upload(name, w), p.g.Upload(name, w)}
}

// rand is n values uniform in ±scale.
func (p *pair) rand(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (2*p.rng.Float32() - 1) * scale
	}
	return v
}

func (p *pair) weights(dt shaders.DType, n, k int) shaders.Weights {
	w, err := shaders.Pack(dt, p.rand(n*k, 1/float32(math.Sqrt(float64(k)))), n, k)
	if err != nil {
		p.t.Fatal(err)
	}
	return w
}

func (p *pair) read(x twin) (have, want []float32) {
	p.t.Helper()
	n := model.Numel(x.c)
	want, err := p.c.Read(x.c, 0, n)
	if err != nil {
		p.t.Fatalf("cpu: %v", err)
	}
	have, err = p.g.Read(x.g, 0, n)
	if err != nil {
		p.t.Fatalf("gpu: %v", err)
	}
	return have, want
}

// near requires x's values within NMSE tol of the CPU's.
func (p *pair) near(what string, x twin, tol float64) {
	p.t.Helper()
	have, want := p.read(x)
	if e := nmse(have, want); !(e <= tol) {
		p.t.Errorf("%s: NMSE %.3g > %g:%s", what, e, tol, firstDiffs(have, want, 1e-5))
	}
}

// exact requires x's values bit-identical to the CPU's (copies, gathers
// of f32 values, routing ids).
func (p *pair) exact(what string, x twin) {
	p.t.Helper()
	if x.c.DType() == model.U32 {
		n := model.Numel(x.c)
		want, err := p.c.ReadU32(x.c, 0, n)
		if err != nil {
			p.t.Fatalf("cpu: %v", err)
		}
		have, err := p.g.ReadU32(x.g, 0, n)
		if err != nil {
			p.t.Fatalf("gpu: %v", err)
		}
		if !slices.Equal(have, want) {
			p.t.Errorf("%s: have %v, want %v", what, head(have), head(want))
		}
		return
	}
	have, want := p.read(x)
	for i := range want {
		if math.Float32bits(have[i]) != math.Float32bits(want[i]) {
			p.t.Errorf("%s: differs:%s", what, firstDiffs(have, want, 0))
			return
		}
	}
}

func head[T any](v []T) []T { return v[:min(len(v), 24)] }

// ---- memory ----------------------------------------------------------------------

func caseBackend(p *pair) {
	if name := p.g.Backend(); !strings.HasPrefix(name, "gpu/") || len(name) == len("gpu/") {
		p.t.Errorf("Backend() = %q, want gpu/<adapter>", name)
	}
}

func caseAlloc(p *pair) {
	x := twin{p.c.Alloc("x", model.F32, 3, 5), p.g.Alloc("x", model.F32, 3, 5)}
	u := twin{p.c.Alloc("u", model.U32, 7), p.g.Alloc("u", model.U32, 7)}
	if !slices.Equal(x.g.Shape(), []int{3, 5}) || x.g.DType() != model.F32 || u.g.DType() != model.U32 {
		p.t.Errorf("shape %v dtype %s / %s", x.g.Shape(), x.g.DType(), u.g.DType())
	}
	p.exact("zeroed f32", x)
	p.exact("zeroed u32", u)
	// One tensor past the binding limit is refused by name.
	p.g.Alloc("huge", model.F32, 1<<20, 1<<12)
	if err := p.g.Sync(); err == nil || !strings.Contains(err.Error(), `"huge"`) || !strings.Contains(err.Error(), "limit") {
		p.t.Errorf("alloc of 16 GiB: %v, want a binding-limit error naming the tensor", err)
	}
}

func caseUpload(p *pair) {
	for _, dt := range shaders.DTypes() {
		const n, k = 9, 64
		w := p.upload(dt.String(), p.weights(dt, n, k))
		if !slices.Equal(w.g.Shape(), []int{n, k}) || w.g.DType() != model.DType(dt) {
			p.t.Errorf("%s: shape %v dtype %s", dt, w.g.Shape(), w.g.DType())
		}
		// Every row back through the gather kernel, which reads the packing.
		ids := p.u32("ids", []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8}, n)
		y := p.zeros("y", n, k)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Gather(on(y), on(ids), on(w), shaders.GatherParams{T: n, C: k, Rows: n})
		})
		p.exact(dt.String()+" rows", y)
	}
	// Words that do not match the packing are refused by name before
	// anything is allocated (a matrix past the binding limit is split into
	// pieces: pieces_test.go).
	lim := p.g.d.Info().Limits.MaxStorageBufferBindingSize
	p.g.Upload("huge.weight", shaders.Weights{DType: shaders.Int4, N: int(lim/1024) + 1, K: 2048})
	if err := p.g.Sync(); err == nil || !strings.Contains(err.Error(), `"huge.weight"`) {
		p.t.Errorf("upload past the binding limit: %v, want an error naming the tensor", err)
	}
}

func caseWrite(p *pair) {
	x := p.f32("x", p.rand(40, 1), 40)
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.Write(on(x), 13, []float32{1, 2, 3}) })
	p.exact("write at an offset", x)

	// Call order: a kernel reads x, then x is written, then a kernel
	// reads it again, all in one batch. The first must see the old values.
	y1, y2 := p.zeros("y1", 40), p.zeros("y2", 40)
	v := p.rand(40, 2)
	before := p.g.Stats()
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Act(on(y1), on(x), shaders.ActSiLU, shaders.ActParams{N: 40})
		o.Write(on(x), 0, v)
		o.Act(on(y2), on(x), shaders.ActSiLU, shaders.ActParams{N: 40})
	})
	d := p.g.Stats().Sub(before)
	p.near("kernel before the write", y1, kernelNMSE)
	p.near("kernel after the write", y2, kernelNMSE)
	if d.StagedWrites != 1 || d.Submits != 0 {
		p.t.Errorf("a write behind recorded work: %d staged, %d submits; want 1 staged through the batch, no submit", d.StagedWrites, d.Submits)
	}

	// A write too large for the staging arena submits the batch first,
	// keeping the order too.
	big := arenaBytes/4 + 10
	bx := p.zeros("big", big)
	by := p.zeros("big_out", big)
	bv := p.rand(big, 1)
	before = p.g.Stats()
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Act(on(by), on(bx), shaders.ActNone, shaders.ActParams{N: uint32(big)})
		o.Write(on(bx), 0, bv)
	})
	if d := p.g.Stats().Sub(before); d.Submits != 1 || d.StagedWrites != 0 {
		p.t.Errorf("a write past the arena: %d submits, %d staged; want the batch submitted first", d.Submits, d.StagedWrites)
	}
	p.exact("copy before the big write (zeros)", by)
	p.exact("big write", bx)

	// A write into an untouched tensor goes straight to the queue.
	before = p.g.Stats()
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Act(on(y1), on(x), shaders.ActSiLU, shaders.ActParams{N: 40})
		o.Write(on(y2), 0, v)
	})
	if d := p.g.Stats().Sub(before); d.StagedWrites != 0 || d.Submits != 0 {
		p.t.Errorf("a write into a tensor the batch does not use: %d staged, %d submits; want neither", d.StagedWrites, d.Submits)
	}
	p.exact("direct write", y2)
}

func caseWriteU32(p *pair) {
	table := p.f32("table", p.rand(5*4, 1), 5, 4)
	ids := p.u32("ids", []uint32{4, 3, 2, 1, 0, 7}, 6)
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.WriteU32(on(ids), 2, []uint32{0, 0}) })
	p.exact("write at an offset", ids)
	y1, y2 := p.zeros("y1", 6, 4), p.zeros("y2", 6, 4)
	gp := shaders.GatherParams{T: 6, C: 4, Rows: 5}
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Gather(on(y1), on(ids), on(table), gp)
		o.WriteU32(on(ids), 0, []uint32{1, 1, 1, 9, 2, 2})
		o.Gather(on(y2), on(ids), on(table), gp)
	})
	p.exact("gather before the write", y1)
	p.exact("gather after the write", y2)
}

func caseRead(p *pair) {
	v := p.rand(33, 1)
	x := p.f32("x", v, 33)
	have, err := p.g.Read(x.g, 7, 11)
	if err != nil || !slices.Equal(have, v[7:18]) {
		p.t.Errorf("read [7:18]: %v %v, want %v", have, err, v[7:18])
	}
	if have, err := p.g.Read(x.g, 33, 0); err != nil || len(have) != 0 {
		p.t.Errorf("empty read: %v %v", have, err)
	}
	before := p.g.Stats()
	if _, err := p.g.Read(x.g, 30, 4); err == nil || !strings.Contains(err.Error(), "out of range") {
		p.t.Errorf("read past the end: %v", err)
	}
	if d := p.g.Stats().Sub(before); d.Submits != 0 {
		p.t.Errorf("a refused read submitted %d batches", d.Submits)
	}
}

func caseReadU32(p *pair) {
	v := []uint32{9, 8, 7, 6, 5, 4, 3}
	x := p.u32("x", v, 7)
	have, err := p.g.ReadU32(x.g, 2, 3)
	if err != nil || !slices.Equal(have, v[2:5]) {
		p.t.Errorf("read [2:5]: %v %v", have, err)
	}
	f := p.zeros("f", 3)
	if _, err := p.g.ReadU32(f.g, 0, 1); err == nil || !strings.Contains(err.Error(), "want u32") {
		p.t.Errorf("ReadU32 of an f32 tensor: %v", err)
	}
}

func caseSync(p *pair) {
	before := p.g.Stats()
	if err := p.g.Sync(); err != nil {
		p.t.Fatal(err)
	}
	if d := p.g.Stats().Sub(before); d.Submits != 0 {
		p.t.Errorf("Sync with nothing pending submitted %d batches", d.Submits)
	}
	x, y := p.f32("x", p.rand(8, 1), 8), p.zeros("y", 8)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Act(on(y), on(x), shaders.ActGELUErf, shaders.ActParams{N: 8})
	})
	before = p.g.Stats()
	if err := p.g.Sync(); err != nil {
		p.t.Fatal(err)
	}
	if d := p.g.Stats().Sub(before); d.Submits != 1 || d.Readbacks != 1 || d.ReadBytes != 4 {
		p.t.Errorf("Sync after work: %+v, want one submit waited for by a 4-byte fence", d)
	}
	// The sticky error: reported once, and nothing runs meanwhile.
	p.g.Write(x.g, 6, []float32{1, 2, 3})
	p.g.Act(y.g, x.g, shaders.ActNone, shaders.ActParams{N: 8})
	if err := p.g.Sync(); err == nil || !strings.Contains(err.Error(), "out of range") {
		p.t.Errorf("Sync after a bad write: %v", err)
	}
	if err := p.g.Sync(); err != nil {
		p.t.Errorf("error not cleared: %v", err)
	}
	p.near("y (the act after the error did not run)", y, kernelNMSE)
}

func caseFree(p *pair) {
	x, y := p.f32("x", p.rand(8, 1), 8), p.zeros("y", 8)
	p.g.Act(y.g, x.g, shaders.ActSiLU, shaders.ActParams{N: 8})
	id := x.g.(*tensor).buf.id
	p.g.Free(x.g) // used by the open batch: destroyed after its submit
	if err := p.g.Sync(); err != nil {
		p.t.Fatalf("free of a tensor the open batch uses: %v", err)
	}
	for key := range p.g.slots {
		if key.binds(id) {
			p.t.Errorf("a bind group of the freed tensor stayed cached")
		}
	}
	p.g.Act(y.g, x.g, shaders.ActSiLU, shaders.ActParams{N: 8})
	if err := p.g.Sync(); err == nil || !strings.Contains(err.Error(), "used after Free") {
		p.t.Errorf("use after Free: %v", err)
	}
}

func caseCopy(p *pair) {
	a, b := p.f32("a", p.rand(30, 1), 30), p.f32("b", p.rand(20, 1), 20)
	u, v := p.u32("u", []uint32{1, 2, 3, 4, 5, 6}, 6), p.u32("v", make([]uint32, 6), 6)
	w := p.upload("w", p.weights(shaders.F32, 4, 5))
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Copy(on(b), 3, on(a), 11, 9)
		o.Copy(on(v), 1, on(u), 2, 4)
		o.Copy(on(a), 20, on(w), 5, 10) // an f32 weight's rows, as sub_GN/glb_GN
	})
	p.exact("f32 copy", b)
	p.exact("u32 copy", v)
	p.exact("copy from weights", a)
}

// ---- kernels -------------------------------------------------------------------

func caseMatMul(p *pair) {
	type mm struct {
		m, n, k int
		bias    bool
		act     shaders.Act
		acc     bool
		strided bool
		seg     []uint32 // (E, 2)
		expert  int
	}
	cases := []mm{
		{m: 1, n: 37, k: 64},
		{m: 1, n: 37, k: 64, bias: true, act: shaders.ActSiLU},
		{m: 2, n: 40, k: 96, acc: true},
		{m: 3, n: 9, k: 64, bias: true, act: shaders.ActGELUErf},
		{m: 4, n: 9, k: 64, strided: true},
		{m: 5, n: 33, k: 64, bias: true, act: shaders.ActQuickGELU, acc: true}, // first GEMM
		{m: 70, n: 65, k: 128, strided: true, bias: true},
		{m: 1, n: 17, k: 64, seg: []uint32{0, 1, 1, 0}, expert: 0, acc: true},
		{m: 40, n: 17, k: 64, seg: []uint32{0, 10, 10, 25, 35, 5}, expert: 1, bias: true, act: shaders.ActSiLU},
	}
	for _, dt := range shaders.DTypes() {
		for _, c := range cases {
			pr := shaders.MatMulDims(c.m, c.n, c.k)
			if c.strided {
				pr.LdX, pr.LdY, pr.YCol = uint32(c.k+32), uint32(c.n+12), 8
			}
			pr.Segment = uint32(c.expert)
			w := p.upload("w", p.weights(dt, c.n, c.k))
			x := p.f32("x", p.rand(c.m*int(pr.LdX), 1), c.m, int(pr.LdX))
			y := p.f32("y", p.rand(c.m*int(pr.LdY), 1), c.m, int(pr.LdY))
			var bias, seg twin
			if c.bias {
				bias = p.f32("b", p.rand(c.n, 1), c.n)
			}
			if c.seg != nil {
				seg = p.u32("seg", c.seg, len(c.seg)/2, 2)
			}
			p.both(func(ops model.Ops, on func(twin) model.Tensor) {
				ops.MatMul(on(y), on(x), on(w), model.MatMulOpts{Bias: on(bias), Act: c.act, Accumulate: c.acc, Seg: on(seg)}, pr)
			})
			p.near(fmt.Sprintf("%s %+v", dt, c), y, kernelNMSE)
		}
	}
}

func caseLayerNorm(p *pair) {
	x, y := p.f32("x", p.rand(5*48, 3), 5, 48), p.zeros("y", 5, 48)
	w, b := p.f32("w", p.rand(48, 1), 48), p.f32("b", p.rand(48, 1), 48)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.LayerNorm(on(y), on(x), on(w), on(b), shaders.LayerNormParams{Rows: 5, Cols: 48, Eps: 1e-5})
	})
	p.near("y", y, kernelNMSE)
}

func caseRMSNorm(p *pair) {
	x, y := p.f32("x", p.rand(3*70, 3), 3, 70), p.zeros("y", 3, 70)
	r, w := p.f32("r", p.rand(3*70, 1), 3, 70), p.f32("w", p.rand(70, 1), 70)
	pr := shaders.RMSNormParams{Rows: 3, Cols: 70, Eps: 1e-5}
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.RMSNorm(on(y), on(x), nil, on(w), pr) })
	p.near("plain", y, kernelNMSE)
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.RMSNorm(on(y), on(x), on(r), on(w), pr) })
	p.near("residual y", y, kernelNMSE)
	p.near("residual x += r", x, kernelNMSE)
}

func caseSoftmax(p *pair) {
	for _, cols := range []int{10, 300} { // the 32- and the 256-thread variant
		x, y := p.f32("x", p.rand(4*cols, 5), 4, cols), p.zeros("y", 4, cols)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Softmax(on(y), on(x), shaders.SoftmaxParams{Rows: 4, Cols: uint32(cols), Scale: 0.7})
		})
		p.near("softmax", y, kernelNMSE)
	}
	if len(p.g.kernels) != 2 {
		p.t.Errorf("softmax compiled %d variants, want the wg32 and wg256 ones", len(p.g.kernels))
	}
}

func caseAct(p *pair) {
	for _, a := range []shaders.Act{shaders.ActNone, shaders.ActSiLU, shaders.ActGELUErf, shaders.ActGELUTanh, shaders.ActQuickGELU} {
		x, y := p.f32("x", p.rand(300, 4), 300), p.zeros("y", 300)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Act(on(y), on(x), a, shaders.ActParams{N: 300})
			o.Act(on(x), on(x), a, shaders.ActParams{N: 250}) // in place, a prefix
		})
		p.near(a.String(), y, kernelNMSE)
		p.near(a.String()+" in place", x, kernelNMSE)
	}
}

func caseSwiGLU(p *pair) {
	x, y := p.f32("x", p.rand(3*2*50, 3), 3, 100), p.zeros("y", 3, 50)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.SwiGLU(on(y), on(x), shaders.SwiGLUParams{Rows: 3, F: 50})
	})
	p.near("y", y, kernelNMSE)
}

func caseAdd(p *pair) {
	a, b, y := p.f32("a", p.rand(60, 1), 60), p.f32("b", p.rand(12, 1), 12), p.zeros("y", 60)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Add(on(y), on(a), on(b), shaders.AddParams{N: 60, NB: 12})
		o.Add(on(a), on(a), on(b), shaders.AddParams{N: 50, NB: 7}) // in place, broadcast
	})
	p.exact("y", y)
	p.exact("a in place", a)
}

func casePatchify(p *pair) {
	pp, err := shaders.NewPatchifyParams(2, 2, 16, 12, 4, 1)
	if err != nil {
		p.t.Fatal(err)
	}
	x := p.f32("x", p.rand(2*2*16*12, 1), 2, 2, 16, 12)
	y := p.f32("y", p.rand(2*int(pp.Rows()*pp.K()), 1), 2, int(pp.Rows()), int(pp.K()))
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.Patchify(on(y), on(x), pp) })
	p.exact("patches", y)
}

func caseMerge(p *pair) {
	mp, err := shaders.NewMergeParams(2, 1, 4, 6, 8)
	if err != nil {
		p.t.Fatal(err)
	}
	x := p.f32("x", p.rand(2*25*8, 1), 2, 25, 8)
	y := p.zeros("y", 2*int(mp.Tokens()), 32)
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.Merge2x2(on(y), on(x), mp) })
	p.exact("merged", y)
}

func caseGather(p *pair) {
	ids := p.u32("ids", []uint32{3, 0, 7, 7, 2, 1 << 30, 6}, 7)
	for _, dt := range shaders.DTypes() {
		table := p.upload("table", p.weights(dt, 8, 64))
		y := p.f32("y", p.rand(7*64, 1), 7, 64)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Gather(on(y), on(ids), on(table), shaders.GatherParams{T: 7, C: 64, Rows: 8})
		})
		p.exact(dt.String()+" table (an id past it gives zeros)", y)
	}
	// The MoE row gather: an f32 activation as the table.
	act := p.f32("act", p.rand(8*6, 1), 8, 6)
	y := p.zeros("y", 7, 6)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Gather(on(y), on(ids), on(act), shaders.GatherParams{T: 7, C: 6, Rows: 8})
	})
	p.exact("activation table", y)
}

func caseAttention(p *pair) {
	// Fused causal GQA over 2 batches, as the vision tower's per-slice
	// attention is fused and the decoder's prefill is causal.
	const dh, h, hkv, t = 32, 4, 2, 19
	w := (h + 2*hkv) * dh
	qkv := p.f32("qkv", p.rand(2*t*w, 2), 2*t, w)
	out := p.zeros("out", 2*t, h*dh)
	ap := shaders.AttentionParams{T: t, Tk: t, H: h, Hkv: hkv, Scale: 0.2}.Fused(dh)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Attention(on(out), on(qkv), on(qkv), on(qkv), shaders.AttentionVariant{Dh: dh, Causal: true}, ap, 2)
	})
	p.near("fused causal", out, kernelNMSE)

	// A prefill after a cached prefix: q from a fused row, k and v caches.
	const past = 11
	kc, vc := p.f32("kc", p.rand((past+t)*hkv*dh, 2), past+t, hkv*dh), p.f32("vc", p.rand((past+t)*hkv*dh, 1), past+t, hkv*dh)
	out2 := p.zeros("out2", t, h*dh)
	cp := shaders.AttentionParams{T: t, Tk: past + t, H: h, Hkv: hkv, QStride: uint32(w), KStride: hkv * dh, VStride: hkv * dh,
		OStride: h * dh, QPos: past, Scale: 0.2}
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.Attention(on(out2), on(qkv), on(kc), on(vc), shaders.AttentionVariant{Dh: dh, Causal: true}, cp, 1)
	})
	p.near("cached prefix", out2, kernelNMSE)
}

func caseDecodeAttention(p *pair) {
	const dh, h, hkv, rows = 64, 8, 2, 1200
	kw := hkv * dh
	q := p.f32("q", p.rand((h+2*hkv)*dh, 2), 1, (h+2*hkv)*dh)
	kc, vc := p.f32("kc", p.rand(rows*kw, 2), rows, kw), p.f32("vc", p.rand(rows*kw, 1), rows, kw)
	out := p.zeros("out", 1, h*dh)
	// Below the split threshold, far above it (many splits), and the
	// largest context the cache holds.
	for _, npast := range []int{0, 37, 700, rows - 1} {
		dp := shaders.AttnDecodeParams{NPast: uint32(npast), H: h, Hkv: hkv, KStride: uint32(kw), VStride: uint32(kw), Scale: 0.125}
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.DecodeAttention(on(out), on(q), on(kc), on(vc), dh, dp)
		})
		p.near("npast="+strconv.Itoa(npast), out, kernelNMSE)
	}
	names := map[string]bool{}
	for _, k := range p.g.kernels {
		names[k.k.Name] = true
	}
	for _, want := range []string{"attn_decode/single/dh64/wg128", "attn_decode/split/dh64/wg128", "attn_decode/combine/dh64"} {
		if !names[want] {
			p.t.Errorf("kernel %s never ran (ran %v)", want, names)
		}
	}
}

func caseKVAppend(p *pair) {
	const h, hkv, dh, t = 4, 2, 16, 3
	src := p.f32("qkv", p.rand(t*(h+2*hkv)*dh, 1), t, (h+2*hkv)*dh)
	kc, vc := p.zeros("kc", 2*10, hkv*dh), p.zeros("vc", 2*10, hkv*dh)
	kv := shaders.FusedKVAppend(t, h, hkv, dh, 5)
	kv.KDstOff, kv.VDstOff = 10*hkv*dh, 10*hkv*dh // the second layer's rows
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.KVAppend(on(kc), on(vc), on(src), kv) })
	p.exact("k cache", kc)
	p.exact("v cache", vc)
}

func caseRoPE(p *pair) {
	const rows, heads, dh = 6, 3, 16
	x := p.f32("x", p.rand(rows*(heads*dh+8), 1), rows, heads*dh+8)
	f := p.f32("inv_freq", shaders.RoPEInvFreq(100, 12, nil), 6)
	rp := shaders.RoPEParams{Rows: rows, RowStride: heads*dh + 8, ColOff: 8, NHeads: heads, HeadDim: dh, RotDim: 12,
		PosOffset: 40, PosDiv: 2, MScale: 1.2}
	p.both(func(o model.Ops, on func(twin) model.Tensor) { o.RoPE(on(x), on(f), rp) })
	p.near("rotated", x, kernelNMSE)
}

func caseTaskRoute(p *pair) {
	logits := p.f32("logits", []float32{0.3, 1.7, -0.2}, 3)
	for _, force := range []int32{-1, 2} {
		task, probs := p.u32("task", []uint32{99}, 1), p.zeros("probs", 3)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.TaskRoute(on(task), on(probs), on(logits), shaders.TaskRouteParams{Groups: 3, Force: force})
		})
		p.exact("task", task)
		p.near("probs", probs, kernelNMSE)
	}
}

// routing makes a MoERoute's inputs and outputs: T tokens over G groups of
// Eg experts, group 1 chosen.
func (p *pair) routing(t, g, eg, k int) (ids, gates, probs, logits, task twin) {
	logits = p.f32("logits", p.rand(t*g*eg, 3), t, g*eg)
	task = p.u32("task", []uint32{1}, 1)
	ids, gates, probs = twin{p.c.Alloc("ids", model.U32, t, k), p.g.Alloc("ids", model.U32, t, k)}, p.zeros("gates", t, k), p.zeros("probs", t, eg)
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.MoERoute(on(ids), on(gates), on(probs), on(logits), on(task), shaders.MoERouteParams{
			Tokens: uint32(t), Groups: uint32(g), Experts: uint32(eg), K: uint32(k), Renorm: 1, GlobalIDs: 1})
	})
	return
}

func caseMoERoute(p *pair) {
	ids, gates, probs, _, _ := p.routing(50, 3, 4, 2)
	p.exact("expert ids", ids)
	p.near("gates", gates, kernelNMSE)
	p.near("probs", probs, kernelNMSE)
}

func caseMoEPlan(p *pair) {
	const t, g, eg, k = 50, 3, 4, 2
	ids, _, _, _, _ := p.routing(t, g, eg, k)
	seg := twin{p.c.Alloc("seg", model.U32, g*eg, 2), p.g.Alloc("seg", model.U32, g*eg, 2)}
	perm := twin{p.c.Alloc("perm", model.U32, t*k), p.g.Alloc("perm", model.U32, t*k)}
	slot := twin{p.c.Alloc("slot", model.U32, t*k), p.g.Alloc("slot", model.U32, t*k)}
	p.both(func(o model.Ops, on func(twin) model.Tensor) {
		o.MoEPlan(on(seg), on(perm), on(slot), on(ids), shaders.MoEPlanParams{Tokens: t, K: k, Experts: g * eg})
	})
	p.exact("segments", seg)
	p.exact("permutation", perm)
	p.exact("slots", slot)
}

func caseMoECombine(p *pair) {
	const t, k = 9, 2
	slots := make([]uint32, t*k)
	for i, j := range p.rng.Perm(t * k) {
		slots[i] = uint32(j)
	}
	slot := p.u32("slot", slots, t*k)
	gates := p.f32("gates", p.rand(t*k, 1), t, k)
	for _, c := range []int{32, 30} { // vec4 and scalar
		y := p.f32("y", p.rand(t*k*c, 1), t*k, c)
		out := p.f32("out", p.rand(t*c, 1), t, c)
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.MoECombine(on(out), on(gates), on(slot), on(y), shaders.MoECombineParams{Tokens: t, Cols: uint32(c), K: k})
		})
		p.near("combined", out, kernelNMSE)
	}
}

func caseSample(p *pair) {
	const v = 500
	l := p.rand(2*v, 3)
	for i := 0; i < 6; i++ { // a few peaks in the second row, so top-k/p has choices
		l[v+p.rng.Intn(v)] = 6 - 0.3*float32(i)
	}
	logits := p.f32("logits", l, 2, v)
	out := p.u32("out", make([]uint32, 4), 4)
	for step := range uint32(6) {
		sp := shaders.NewSampleParams(v, 0.8, 5, 0.9, 1234, step)
		sp.LogitsOffset, sp.OutIndex = v, 1+step%3
		p.both(func(o model.Ops, on func(twin) model.Tensor) {
			o.Sample(on(out), on(logits), shaders.SampleParams{Vocab: v}) // greedy, row 0, out[0]
			o.Sample(on(out), on(logits), sp)
		})
		p.exact("sampled ids", out)
	}
}
