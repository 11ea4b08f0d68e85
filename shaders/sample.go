package shaders

import (
	"fmt"
	"math/rand"
)

// SampleVariant selects a sample kernel.
type SampleVariant struct {
	// Greedy compiles only the argmax path; the full sampler also takes it
	// at run time when InvTemp ≤ 0.
	Greedy bool
}

func (v SampleVariant) String() string {
	if v.Greedy {
		return "sample/argmax/wg256"
	}
	return "sample/topkp/wg256"
}

// SampleParams is the uniform of the sample kernel (see sample.wgsl).
type SampleParams struct {
	Vocab        uint32  // V
	LogitsOffset uint32  // first logit of the row, in floats
	OutIndex     uint32  // the id goes to out[OutIndex]
	TopK         uint32  // keep the TopK largest (ties kept); 0 or ≥ V: off
	TopP         float32 // nucleus mass in (0, 1); otherwise off
	InvTemp      float32 // 1 / temperature; ≤ 0: greedy argmax
	Seed         uint32
	Step         uint32 // the draw's counter: u = hash(Seed, Step)
}

// NewSampleParams fills SampleParams from the usual generation settings; a
// temperature ≤ 0 means greedy decoding. The reciprocal is taken here, once,
// because a WGSL division may be off by 2.5 ulp while a multiply is exact.
func NewSampleParams(vocab uint32, temperature float32, topK uint32, topP float32, seed, step uint32) SampleParams {
	p := SampleParams{Vocab: vocab, TopK: topK, TopP: topP, Seed: seed, Step: step}
	if temperature > 0 {
		p.InvTemp = 1 / temperature
	}
	return p
}

// Sample returns the sampling kernel for v. Bindings: params, logits, out.
func Sample(v SampleVariant) Kernel {
	return Kernel{
		Name:     v.String(),
		File:     "sample.wgsl",
		Source:   render(SampleParams{}, []Const{{"WG", SampleWG}, {"GREEDY", v.Greedy}}, "", "sample.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"logits", Read}, {"out", ReadWrite}},
	}
}

// SampleGrid is a single workgroup.
func SampleGrid() [3]uint32 { return [3]uint32{1, 1, 1} }

func init() {
	register(family{Name: "sample", Files: []string{"sample.wgsl"}, Cases: sampleCases})
}

// sampleMinMargin is the smallest distance, as a fraction of the kept
// mass, that a case's top-p cumulative fractions and draw target keep from
// a boundary. float32 sums of the same terms in the same order differ
// between devices only by exp's few ulp per term (WebGPU allows 3 + 2|x|
// ulp), far below this.
const sampleMinMargin = 1e-4

// peakedLogits returns V logits with `top` well-separated candidates at
// random positions (spaced 0.5 apart, so neighbours' weights differ by
// e^0.5) over a background far below them (−14 ± 2): the shape of a
// language model's next-token logits, on which float32 summation order
// cannot move a draw across a boundary.
func peakedLogits(seed int64, v, top int) []float32 {
	r := rand.New(rand.NewSource(seed))
	l := make([]float32, v)
	for i := range l {
		l[i] = -14 + 4*(r.Float32()-0.5)
	}
	for n, i := range r.Perm(v)[:min(top, v)] {
		l[i] = 2 - 0.5*float32(n)
	}
	return l
}

// drawableSteps returns n steps from `from` on whose draws the oracle and
// the reference agree with margin: a step whose random number lands within
// rounding of an interval's end is ambiguous by nature and is skipped.
func drawableSteps(logits []float32, p SampleParams, from uint32, n int) []uint32 {
	o := newSampleOracle(logits, p)
	tr := samplePrepare(logits, p, false)
	var out []uint32
	for s := from; len(out) < n; s++ {
		if s > from+uint32(100*n) {
			panic(fmt.Sprintf("sample: no %d unambiguous draws for %+v", n, p))
		}
		id, margin := o.draw(p.Seed, s)
		tr.draw(p.Seed, s)
		if margin >= sampleMinMargin && id == tr.id {
			out = append(out, s)
		}
	}
	return out
}

// sampleCase runs `draws` dispatches of one variant on one logits buffer,
// as a decode loop would: each writes its id to out[OutIndex] with its own
// Step, all in one batch, nothing read back in between.
func sampleCase(name string, v SampleVariant, logits []float32, p SampleParams, draws int) Case {
	steps := []uint32{p.Step}
	if !v.Greedy && p.InvTemp > 0 {
		steps = drawableSteps(logits, p, p.Step, draws)
	}
	outLen := int(p.OutIndex) + len(steps) + 1
	want := make([]uint32, outLen) // untouched slots stay 0
	c := Case{
		Family:  "sample",
		Name:    fmt.Sprintf("%s/%s", v.String()[len("sample/"):], name),
		Buffers: []Buffer{{Name: "logits", Init: F32Bytes(logits)}, {Name: "out", Size: 4 * outLen}},
	}
	tr := samplePrepare(logits, p, v.Greedy)
	for n, s := range steps {
		q := p
		q.Step = s
		q.OutIndex = p.OutIndex + uint32(n)
		tr.draw(q.Seed, q.Step)
		want[q.OutIndex] = tr.id
		c.Steps = append(c.Steps, Step{Kernel: Sample(v), Params: q, Grid: SampleGrid()})
	}
	c.Checks = []Check{{Buffer: "out", WantU32: want, Tol: Tol{Exact: true}}}
	return c
}

func sampleCases() []Case {
	var out []Case
	greedy := SampleVariant{Greedy: true}
	full := SampleVariant{}
	// argmax: size 1, below the workgroup, Phi-3's and a large vocabulary,
	// ties (the lowest index wins), all equal, all negative, a row of a
	// (3, V) logits buffer written to a later slot.
	add := func(c Case) { out = append(out, c) }
	add(sampleCase("V=1", greedy, []float32{-3}, SampleParams{Vocab: 1}, 1))
	add(sampleCase("V=7", greedy, randF32(900, 7, 5), SampleParams{Vocab: 7}, 1))
	tie := randF32(901, 32064, 5)
	tie[30000], tie[100], tie[31000] = 9, 9, 9
	add(sampleCase("V=32064,tie", greedy, tie, SampleParams{Vocab: 32064}, 1))
	add(sampleCase("V=130000", greedy, randF32(902, 130000, 20), SampleParams{Vocab: 130000}, 1))
	add(sampleCase("V=1000,equal", greedy, make([]float32, 1000), SampleParams{Vocab: 1000}, 1))
	neg := randF32(903, 777, 1)
	for i := range neg {
		neg[i] -= 50
	}
	add(sampleCase("V=777,negative", greedy, neg, SampleParams{Vocab: 777}, 1))
	rows := randF32(904, 3*5000, 8)
	add(sampleCase("V=5000,row=2,out=3", greedy, rows, SampleParams{Vocab: 5000, LogitsOffset: 2 * 5000, OutIndex: 3}, 1))

	// The full sampler, several draws each (steps chosen away from
	// boundaries), covering each filter alone and together.
	type sc struct {
		name  string
		v     int
		top   int // well-separated candidates; 0: dense random logits
		temp  float32
		k     uint32
		p     float32
		draws int
	}
	for i, s := range []sc{
		{"topk=5", 1000, 12, 1, 5, 0, 12},
		{"topp=0.8", 1000, 12, 1, 0, 0.8, 12},
		{"topk=8,topp=0.9,T=0.7", 32064, 20, 0.7, 8, 0.9, 12},
		{"plain,T=1", 32064, 16, 1, 0, 0, 12},
		{"topk=1", 32064, 16, 1, 1, 0, 4}, // equals argmax
		{"T=0.01", 32064, 16, 0.01, 0, 0, 4},
		{"T=100,topk=40", 1000, 40, 100, 40, 0, 12}, // flat: 40 near-equal choices
		{"T=100,topp=0.5", 1000, 1000, 100, 0, 0.5, 8},
		{"topk=40,topp=0.95,T=0.8", 130000, 30, 0.8, 40, 0.95, 8},
		{"topp=0.9", 130000, 30, 1, 0, 0.9, 4},
		{"V=1", 1, 1, 1, 0, 0.9, 2},
		{"V=3", 3, 3, 2, 2, 0.99, 6},
		// Dense logits: hundreds of comparable weights, so the draw's
		// running sums cross many chunks (steps near a boundary are skipped).
		{"dense", 1000, 0, 1, 0, 0, 12},
		{"dense,topp=0.5,topk=250", 300, 0, 1.2, 250, 0.5, 12},
	} {
		l := peakedLogits(int64(910+i), s.v, s.top)
		if s.top == 0 {
			l = randF32(int64(910+i), s.v, 3) // dense: many comparable weights
		}
		p := NewSampleParams(uint32(s.v), s.temp, s.k, s.p, uint32(0x9e3779b9*uint32(i+1)), 0)
		add(sampleCase(fmt.Sprintf("V=%d,%s", s.v, s.name), full, l, p, s.draws))
	}
	// Temperature 0 in the full sampler takes the greedy path at run time.
	z := NewSampleParams(32064, 0, 50, 0.9, 7, 0)
	add(sampleCase("V=32064,T=0", full, tie, z, 1))
	return out
}
