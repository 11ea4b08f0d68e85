package shaders

import "sync"

// Helpers shared by the elementwise, normalisation and vision-glue kernels
// (act_apply, add, layernorm, softmax, swiglu, patchify, merge, gather).

// casesOnce builds a family's cases once per process. Cases() is called by
// several tests (once per family in TestEveryFileHasADescriptor), and these
// families hold model-sized inputs (CLIP-L position tables, a 67 MB heavy
// case) that take a tenth of a second or more to generate and reference.
// The cases are read-only data, so sharing them between calls is safe.
func casesOnce(build func() []Case) func() []Case { return sync.OnceValue(build) }

// placeName is the variant-name part of an in-place switch.
func placeName(inPlace bool) string {
	if inPlace {
		return "inplace"
	}
	return "out"
}

// poisonF32 is an output buffer's initial contents for kernels that must
// write every element (zero rows included), since parity zero-fills
// outputs given only a Size: a value no reference produces.
func poisonF32(n int) []byte {
	g := make([]float32, n)
	for i := range g {
		g[i] = -12345.5
	}
	return F32Bytes(g)
}
