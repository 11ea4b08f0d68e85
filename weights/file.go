package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sync"

	"github.com/x448/float16"
)

// File is a safetensors file opened for random access: the header is
// parsed up front and tensor bytes are read on demand, so a reader of one
// tensor of a 5 GB checkpoint touches only that tensor.
type File struct {
	Header *Header // parsed and validated when the file was opened
	r      io.ReaderAt
	closer io.Closer
}

// NewFile reads and validates the header of the size-byte safetensors file
// behind r. name is used in errors.
func NewFile(r io.ReaderAt, size int64, name string) (*File, error) {
	h, err := ReadHeader(io.NewSectionReader(r, 0, size), size, name)
	if err != nil {
		return nil, err
	}
	return &File{Header: h, r: r}, nil
}

// OpenFile opens name in fsys as a safetensors file. The fs.File must
// implement io.ReaderAt or io.Seeker (os files, fstest.MapFS and hackpadfs
// files do). Close it when done.
func OpenFile(fsys fs.FS, name string) (*File, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("weights: %w", err)
	}
	ra, ok := f.(io.ReaderAt)
	if !ok {
		s, ok := f.(io.ReadSeeker)
		if !ok {
			f.Close()
			return nil, fmt.Errorf("weights: %s: file supports neither ReadAt nor Seek", name)
		}
		ra = &seekReaderAt{r: s}
	}
	sf, err := NewFile(ra, st.Size(), name)
	if err != nil {
		f.Close()
		return nil, err
	}
	sf.closer = f
	return sf, nil
}

// Close closes the underlying file when OpenFile opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// seekReaderAt adapts a ReadSeeker to ReaderAt; the lock serialises the
// seek+read pairs.
type seekReaderAt struct {
	mu sync.Mutex
	r  io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.r.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.r, p)
}

// Raw returns a tensor's bytes as stored (little-endian, row-major).
func (f *File) Raw(name string) ([]byte, error) {
	t, ok := f.Header.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("weights: %s: no tensor %q", f.Header.File, name)
	}
	b := make([]byte, t.Bytes())
	if _, err := f.r.ReadAt(b, f.Header.DataStart+t.Begin); err != nil && !(err == io.EOF && len(b) == 0) {
		return nil, formatErr(f.Header.File, name, f.Header.DataStart+t.Begin, "reading %d bytes: %v", len(b), noEOF(err))
	}
	return b, nil
}

// Float32s reads a floating-point tensor (F32, F16, BF16 or F64) and
// converts it to float32, with its shape.
func (f *File) Float32s(name string) ([]float32, []int, error) {
	t, ok := f.Header.Lookup(name)
	if !ok {
		return nil, nil, fmt.Errorf("weights: %s: no tensor %q", f.Header.File, name)
	}
	if !isFloat(t.DType) {
		return nil, nil, formatErr(f.Header.File, name, f.Header.DataStart+t.Begin, "dtype %s is not a float type (want F32, F16, BF16 or F64)", t.DType)
	}
	b, err := f.Raw(name)
	if err != nil {
		return nil, nil, err
	}
	v, err := ToFloat32(t.DType, b)
	return v, t.Shape, err
}

func isFloat(d DType) bool { return d == F32 || d == F16 || d == BF16 || d == F64 }

// ToFloat32 converts little-endian F32, F16, BF16 or F64 data to float32.
// F64 values are rounded to nearest; the others convert exactly.
func ToFloat32(dt DType, b []byte) ([]float32, error) {
	if !isFloat(dt) {
		return nil, fmt.Errorf("weights: cannot convert %s to float32", dt)
	}
	n := int64(len(b)) / dt.Size()
	if n*dt.Size() != int64(len(b)) {
		return nil, fmt.Errorf("weights: %d bytes is not a whole number of %s", len(b), dt)
	}
	out := make([]float32, n)
	le := binary.LittleEndian
	switch dt {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = float16.Frombits(le.Uint16(b[2*i:])).Float32()
		}
	case BF16:
		// bfloat16 is the top half of a float32.
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	}
	return out, nil
}

// errNotFound is wrapped by lookups of absent tensors in checkpoints.
var errNotFound = errors.New("no such tensor")
