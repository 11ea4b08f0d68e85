// Package npy reads and writes NumPy .npy files, the exchange format of
// the parity dumps (ctlens hf-dump) with Python reference implementations.
//
// Format (numpy/lib/format.py, "NEP 1"): the magic "\x93NUMPY", a major
// and minor version byte, the header length (little-endian u16 in version
// 1.0, u32 in 2.0), then the header: a Python dict literal
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and ended by '\n' so that the data starts on a
// multiple of 64 bytes, then the elements in C order.
//
// Written files are float32 ('<f4') or int64 ('<i8'), C order. Reading
// also takes '<f8' and '<i4' (NumPy's defaults for np.array of floats and,
// on some platforms, ints), converted on request by Float32s and Int64s.
// Big-endian data and Fortran order are refused rather than reordered: a
// dump script can always pass np.ascontiguousarray(x, '<f4').
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// magic opens every .npy file.
const magic = "\x93NUMPY"

// align is what numpy pads the header to since 1.? (format.py ARRAY_ALIGN).
const align = 64

// maxHeader bounds a header we accept: numpy itself refuses headers over
// 10 000 bytes by default, and a corrupt length must not make us allocate.
const maxHeader = 1 << 20

// maxElems bounds the elements of an array we read (2^36: 256 GiB of f32,
// beyond any dump yet small enough that byte counts cannot overflow).
const maxElems = 1 << 36

// Array is a decoded .npy file: its dtype descriptor, shape and elements
// (one of the slice fields set, by Descr).
type Array struct {
	Descr string // '<f4', '<f8', '<i4' or '<i8'
	Shape []int  // () for a scalar
	f32   []float32
	f64   []float64
	i32   []int32
	i64   []int64
}

// Len is the number of elements, the product of Shape.
func (a *Array) Len() int { return numel(a.Shape) }

// Float32s returns the elements as float32 ('<f4' as stored, '<f8'
// rounded to nearest).
func (a *Array) Float32s() ([]float32, error) {
	switch a.Descr {
	case "<f4":
		return a.f32, nil
	case "<f8":
		out := make([]float32, len(a.f64))
		for i, v := range a.f64 {
			out[i] = float32(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("npy: dtype %s is not a float type (want <f4 or <f8)", a.Descr)
}

// Int64s returns the elements as int64 ('<i8' or '<i4').
func (a *Array) Int64s() ([]int64, error) {
	switch a.Descr {
	case "<i8":
		return a.i64, nil
	case "<i4":
		out := make([]int64, len(a.i32))
		for i, v := range a.i32 {
			out[i] = int64(v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("npy: dtype %s is not an integer type (want <i8 or <i4)", a.Descr)
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// ---- writing ---------------------------------------------------------------

// Write writes data ([]float32 as '<f4' or []int64 as '<i8') of the given
// shape in C order. It uses format version 1.0 unless the header needs
// more than 65535 bytes (version 2.0), as numpy does.
func Write(w io.Writer, shape []int, data any) error {
	var descr string
	var n int
	switch d := data.(type) {
	case []float32:
		descr, n = "<f4", len(d)
	case []int64:
		descr, n = "<i8", len(d)
	default:
		return fmt.Errorf("npy: cannot write %T (want []float32 or []int64)", data)
	}
	for _, s := range shape {
		if s < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
	}
	if numel(shape) != n {
		return fmt.Errorf("npy: shape %v holds %d elements, data has %d", shape, numel(shape), n)
	}
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += "," // Python's one-element tuple
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)

	// Version 1.0 has a u16 length after 10 bytes; 2.0 a u32 after 12.
	major, pre := byte(1), 10
	if len(dict)+1+pre > math.MaxUint16 {
		major, pre = 2, 12
	}
	total := (pre + len(dict) + 1 + align - 1) / align * align
	hlen := total - pre
	header := dict + strings.Repeat(" ", hlen-len(dict)-1) + "\n"

	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	bw.WriteByte(major)
	bw.WriteByte(0)
	if major == 1 {
		binary.Write(bw, binary.LittleEndian, uint16(hlen))
	} else {
		binary.Write(bw, binary.LittleEndian, uint32(hlen))
	}
	bw.WriteString(header)
	var buf [8]byte
	switch d := data.(type) {
	case []float32:
		for _, v := range d {
			binary.LittleEndian.PutUint32(buf[:4], math.Float32bits(v))
			bw.Write(buf[:4])
		}
	case []int64:
		for _, v := range d {
			binary.LittleEndian.PutUint64(buf[:], uint64(v))
			bw.Write(buf[:])
		}
	}
	return bw.Flush()
}

// WriteFile writes data of shape to path (see Write).
func WriteFile(path string, shape []int, data any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, shape, data); err != nil {
		f.Close()
		return fmt.Errorf("npy: %s: %w", path, err)
	}
	return f.Close()
}

// ---- reading ---------------------------------------------------------------

// FormatError is a file that is not a .npy file we can read.
type FormatError struct {
	File string
	Msg  string
}

// Error reads "npy: FILE: what is wrong".
func (e *FormatError) Error() string {
	if e.File == "" {
		return "npy: " + e.Msg
	}
	return "npy: " + e.File + ": " + e.Msg
}

// Read decodes a .npy file from r.
func Read(r io.Reader) (*Array, error) {
	bad := func(format string, a ...any) error { return &FormatError{Msg: fmt.Sprintf(format, a...)} }
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, bad("reading the magic: %v", err)
	}
	if string(pre[:6]) != magic {
		return nil, bad("not a .npy file (no \\x93NUMPY magic)")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, bad("reading the header length: %v", err)
		}
		hlen = int(n)
	case 2, 3:
		// 3.0 only changes the header's encoding to UTF-8, which an ASCII
		// dict of these keys does not notice.
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return nil, bad("reading the header length: %v", err)
		}
		if n > maxHeader {
			return nil, bad("header of %d bytes exceeds %d", n, maxHeader)
		}
		hlen = int(n)
	default:
		return nil, bad("format version %d.%d is not supported (1.0, 2.0, 3.0)", pre[6], pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, bad("reading the %d-byte header: %v", hlen, err)
	}
	a, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}
	size := map[string]int{"<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8}[a.Descr]
	n := a.Len()
	data, err := readN(r, nil, size*n)
	if err != nil {
		return nil, bad("data: want %d bytes for shape %v: %v", size*n, a.Shape, err)
	}
	switch a.Descr {
	case "<f4":
		a.f32 = make([]float32, n)
		for i := range a.f32 {
			a.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case "<f8":
		a.f64 = make([]float64, n)
		for i := range a.f64 {
			a.f64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
	case "<i4":
		a.i32 = make([]int32, n)
		for i := range a.i32 {
			a.i32[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case "<i8":
		a.i64 = make([]int64, n)
		for i := range a.i64 {
			a.i64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
		}
	}
	return a, nil
}

// readN reads exactly n bytes, growing buf as they arrive, so a header
// that claims a huge shape fails on the short read instead of allocating
// the claimed size up front.
func readN(r io.Reader, buf []byte, n int) ([]byte, error) {
	for len(buf) < n {
		chunk := min(n-len(buf), 1<<26)
		start := len(buf)
		buf = append(buf, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// ReadFile decodes the .npy file at path.
func ReadFile(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := Read(bufio.NewReader(f))
	var fe *FormatError
	if errors.As(err, &fe) {
		fe.File = path
	}
	return a, err
}

// parseHeader reads the header dict: exactly the keys descr, fortran_order
// and shape, as format.py requires.
func parseHeader(h string) (*Array, error) {
	bad := func(format string, a ...any) error {
		return &FormatError{Msg: "header " + strconv.Quote(strings.TrimSpace(h)) + ": " + fmt.Sprintf(format, a...)}
	}
	p := &parser{s: strings.TrimSpace(h)}
	a := &Array{}
	seen := map[string]bool{}
	if !p.eat("{") {
		return nil, bad("not a dict")
	}
	for !p.eat("}") {
		key, ok := p.str()
		if !ok || !p.eat(":") {
			return nil, bad("want 'key': value")
		}
		switch key {
		case "descr":
			d, ok := p.str()
			if !ok {
				return nil, bad("descr is not a string")
			}
			switch d {
			case "<f4", "<f8", "<i4", "<i8":
			case ">f4", ">f8", ">i4", ">i8":
				return nil, bad("big-endian dtype %s; write it with np.ascontiguousarray(x, '<%s')", d, d[1:])
			default:
				return nil, bad("dtype %s is not supported (<f4, <f8, <i4, <i8)", d)
			}
			a.Descr = d
		case "fortran_order":
			switch {
			case p.eat("False"):
			case p.eat("True"):
				return nil, bad("Fortran order; write it with np.ascontiguousarray(x)")
			default:
				return nil, bad("fortran_order is not True or False")
			}
		case "shape":
			shape, ok := p.tuple()
			if !ok {
				return nil, bad("shape is not a tuple of non-negative ints")
			}
			a.Shape = shape
		default:
			return nil, bad("unexpected key %q", key)
		}
		seen[key] = true
		if !p.eat(",") && !p.peek("}") {
			return nil, bad("want ',' or '}'")
		}
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return nil, bad("want the keys descr, fortran_order and shape")
	}
	if p.s != "" {
		return nil, bad("trailing %q", p.s)
	}
	// Bound the element count before anything multiplies it (a corrupt
	// shape must neither overflow nor allocate).
	n := 1
	for _, s := range a.Shape {
		if s > 0 && n > maxElems/s {
			return nil, bad("shape %v exceeds %d elements", a.Shape, maxElems)
		}
		n *= s
	}
	return a, nil
}

// parser is a cursor over the header's Python literal.
type parser struct{ s string }

func (p *parser) skip() { p.s = strings.TrimLeft(p.s, " \t\n") }

func (p *parser) peek(tok string) bool {
	p.skip()
	return strings.HasPrefix(p.s, tok)
}

func (p *parser) eat(tok string) bool {
	if p.peek(tok) {
		p.s = p.s[len(tok):]
		return true
	}
	return false
}

// str reads a quoted string without escapes ('…' or "…").
func (p *parser) str() (string, bool) {
	p.skip()
	if p.s == "" || (p.s[0] != '\'' && p.s[0] != '"') {
		return "", false
	}
	end := strings.IndexByte(p.s[1:], p.s[0])
	if end < 0 {
		return "", false
	}
	v := p.s[1 : 1+end]
	p.s = p.s[2+end:]
	return v, true
}

// tuple reads (a, b, …), (a,) or ().
func (p *parser) tuple() ([]int, bool) {
	if !p.eat("(") {
		return nil, false
	}
	out := []int{}
	for !p.eat(")") {
		p.skip()
		i := 0
		for i < len(p.s) && p.s[i] >= '0' && p.s[i] <= '9' {
			i++
		}
		// Python 2 era files write 3L; the suffix is harmless.
		n, err := strconv.Atoi(p.s[:i])
		if err != nil || n < 0 {
			return nil, false
		}
		p.s = strings.TrimPrefix(p.s[i:], "L")
		out = append(out, n)
		if !p.eat(",") && !p.peek(")") {
			return nil, false
		}
	}
	return out, true
}

// Bytes encodes an array in memory (tests, small files).
func Bytes(shape []int, data any) ([]byte, error) {
	var b bytes.Buffer
	err := Write(&b, shape, data)
	return b.Bytes(), err
}
