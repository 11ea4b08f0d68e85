package engine

import (
	"fmt"
	"sync"

	"ctlens/model"
	"ctlens/shaders"
)

// Reads returns the tensors model.LoadWeights reads for cfg from a source
// that holds the named tensors with these shapes, by dry-running the
// loader on zeros with a backend that keeps nothing. The converter writes
// exactly these: a checkpoint may hold tensors the model never reads
// (vision layers past the feature layer, separators a layout drops, a
// dense FFN an MoE layer without shared expert replaces, buffers,
// duplicates of tied weights), and a missing or misshapen tensor fails
// here, before anything is written, with the loader's own message.
//
// The zeros come from one buffer the size of the largest tensor (fresh
// pages the kernel maps on demand), so the dry run of a 4B-parameter
// checkpoint holds about one tensor's copy at a time.
func Reads(cfg model.Config, shapes map[string][]int) (map[string]bool, error) {
	largest := 0
	for _, s := range shapes {
		largest = max(largest, numel(s))
	}
	src := &shapeSource{shapes: shapes, zeros: make([]byte, 4*largest), read: map[string]bool{}}
	if _, err := model.LoadWeights(nullOps{}, cfg, src); err != nil {
		return nil, err
	}
	return src.read, nil
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// shapeSource serves zero f32 tensors of the given shapes and records
// which ones were asked for.
type shapeSource struct {
	shapes map[string][]int
	zeros  []byte
	mu     sync.Mutex
	read   map[string]bool
}

func (s *shapeSource) Tensor(name string) (model.SourceTensor, error) {
	shape, ok := s.shapes[name]
	if !ok {
		return model.SourceTensor{}, fmt.Errorf("tensor %q: %w", name, model.ErrNoTensor)
	}
	s.mu.Lock()
	s.read[name] = true
	s.mu.Unlock()
	return model.SourceTensor{Shape: shape, DType: shaders.F32, Data: s.zeros[:4*numel(shape)]}, nil
}

// nullOps is a backend that keeps nothing: LoadWeights only allocates,
// uploads and writes, so the kernel methods (the embedded nil Ops) are
// never called.
type nullOps struct{ model.Ops }

type nullTensor struct {
	shape []int
	dt    model.DType
}

func (t nullTensor) Shape() []int       { return t.shape }
func (t nullTensor) DType() model.DType { return t.dt }

func (nullOps) Backend() string { return "null" }
func (nullOps) Alloc(name string, dt model.DType, shape ...int) model.Tensor {
	return nullTensor{shape, dt}
}
func (nullOps) Upload(name string, w shaders.Weights) model.Tensor {
	return nullTensor{[]int{w.N, w.K}, model.DType(w.DType)}
}
func (nullOps) Write(model.Tensor, int, []float32) {}
func (nullOps) Sync() error                        { return nil }
