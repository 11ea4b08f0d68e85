package shaders

import "fmt"

// Buffer is one named buffer of a Case: its initial contents, or, for an
// output that starts as zeros, only its size in bytes.
type Buffer struct {
	Name string
	Init []byte
	Size int
}

// Step is one dispatch of a Case: a kernel, its Params, the buffers bound to
// its storage bindings (Kernel.Bindings[1:], in order; nil means "the
// buffers named like the bindings") and the grid in workgroups.
type Step struct {
	Kernel Kernel
	Params any
	Bind   []string
	Grid   [3]uint32
}

// Tol is how close a kernel's output must be to the reference.
type Tol struct {
	// NMSE bounds Σ(have−want)² / Σ want² (ggml's test-backend-ops metric).
	NMSE float64
	// MaxAbs, when > 0, also bounds every |have−want|.
	MaxAbs float64
	// Exact demands bit equality (integer outputs, sampled ids).
	Exact bool
}

// Check compares one buffer after the steps ran. Want holds the reference's
// float32 values (or WantU32 the integer ones); Index, when set, says which
// elements Want holds, for outputs too large to check whole.
type Check struct {
	Buffer  string
	Want    []float32
	WantU32 []uint32
	Index   []int
	Tol     Tol
	// Why explains a tolerance looser than the family's default.
	Why string
}

// Case is one parity test: run Steps on buffers initialised as Buffers,
// then compare Checks against the Go reference's values.
type Case struct {
	Family  string // "rmsnorm"
	Name    string // "residual/T=3,C=1000": the variant and the shape
	Buffers []Buffer
	Steps   []Step
	Checks  []Check
	// Heavy cases (large shapes) run only outside -short.
	Heavy bool
}

// FullName is Family/Name, the name tests and the browser report use.
func (c Case) FullName() string { return c.Family + "/" + c.Name }

// Validate reports structural mistakes in a case (unknown buffer names,
// binding count mismatches) before anything runs.
func (c Case) Validate() error {
	have := map[string]bool{}
	for _, b := range c.Buffers {
		if have[b.Name] {
			return fmt.Errorf("%s: buffer %q twice", c.FullName(), b.Name)
		}
		have[b.Name] = true
	}
	for i, s := range c.Steps {
		if len(s.Kernel.Bindings) == 0 || s.Kernel.Bindings[0].Access != Uniform {
			return fmt.Errorf("%s: step %d (%s): binding 0 must be the uniform Params", c.FullName(), i, s.Kernel.Name)
		}
		names := s.BufferNames()
		if len(names) != len(s.Kernel.Bindings)-1 {
			return fmt.Errorf("%s: step %d (%s): %d buffers for %d storage bindings", c.FullName(), i, s.Kernel.Name, len(names), len(s.Kernel.Bindings)-1)
		}
		for _, n := range names {
			if !have[n] {
				return fmt.Errorf("%s: step %d (%s): unknown buffer %q", c.FullName(), i, s.Kernel.Name, n)
			}
		}
	}
	for _, ch := range c.Checks {
		if !have[ch.Buffer] {
			return fmt.Errorf("%s: check of unknown buffer %q", c.FullName(), ch.Buffer)
		}
	}
	return nil
}

// BufferNames lists the case buffers bound to the step's storage bindings.
func (s Step) BufferNames() []string {
	if s.Bind != nil {
		return s.Bind
	}
	var out []string
	for _, b := range s.Kernel.Bindings[1:] {
		out = append(out, b.Name)
	}
	return out
}

// family registers a kernel family: its WGSL files (so a test can check
// that every file has a descriptor) and its cases.
type family struct {
	Name  string
	Files []string
	Cases func() []Case
}

var families []family

func register(f family) { families = append(families, f) }

// Families lists the registered kernel families by name.
func Families() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.Name)
	}
	return out
}

// FamilyFiles lists the WGSL files each family renders from.
func FamilyFiles() map[string][]string {
	out := map[string][]string{}
	for _, f := range families {
		out[f.Name] = f.Files
	}
	return out
}

// Cases returns every registered family's parity cases.
func Cases() []Case {
	var out []Case
	for _, f := range families {
		out = append(out, f.Cases()...)
	}
	return out
}

// EmbeddedFiles lists the .wgsl files compiled into the package.
func EmbeddedFiles() []string {
	ents, _ := sources.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}
