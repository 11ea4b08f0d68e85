package dicomread

// Typed access to the elements of a data set parsed by suyashkumar/dicom.
// Every getter distinguishes "absent" from "present but malformed": the
// first is often allowed, the second is a FormatError naming the tag.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
)

// elems indexes one data set (the top level or one sequence item) by tag.
type elems map[Tag]*dicom.Element

func indexElems(list []*dicom.Element) elems {
	m := make(elems, len(list))
	for _, e := range list {
		if e != nil {
			m[Tag(e.Tag)] = e
		}
	}
	return m
}

// value returns the element's value, with an element written as UN but
// known to the dictionary read as its real VR, as PS3.5 6.2.2 allows (and
// as pydicom does): its bytes are the value in little endian.
func (m elems) value(t Tag) any {
	e := m[t]
	if e == nil || e.Value == nil {
		return nil
	}
	v := e.Value.GetValue()
	b, ok := v.([]byte)
	if !ok || e.RawValueRepresentation != "UN" {
		return v
	}
	switch vr := dictVR(t); vr {
	case "US", "SS", "AT": // AT: group, element pairs, as the parser gives them
		out := make([]int, len(b)/2)
		for i := range out {
			u := binary.LittleEndian.Uint16(b[2*i:])
			out[i] = int(u)
			if vr == "SS" {
				out[i] = int(int16(u))
			}
		}
		return out
	case "UL":
		out := make([]int, len(b)/4)
		for i := range out {
			out[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return out
	case "FD":
		out := make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return out
	case "OB", "OW", "UN", "SQ", "FL", "SL", "OF", "OD", "OL", "OV", "SV", "UV":
		return v
	default: // text VRs
		return strings.Split(strings.TrimRight(string(b), " \x00"), `\`)
	}
}

// strs returns the string values of t (nil when absent or empty).
func (m elems) strs(t Tag) []string {
	switch v := m.value(t).(type) {
	case []string:
		if len(v) == 1 && strings.TrimSpace(v[0]) == "" {
			return nil
		}
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = strings.TrimSpace(strings.TrimRight(s, "\x00"))
		}
		return out
	case []int:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = strconv.Itoa(x)
		}
		return out
	case []float64:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return out
	}
	return nil
}

// str returns the values of t joined by backslash, as DICOM writes them.
func (m elems) str(t Tag) string { return strings.Join(m.strs(t), `\`) }

// floats returns the numeric values of t: DS and IS strings are parsed, FD,
// FL, US, SS, UL, SL values are taken as they are.
func (m elems) floats(t Tag) ([]float64, error) {
	e := m[t]
	if e == nil || e.Value == nil {
		return nil, nil
	}
	v := m.value(t)
	switch v := v.(type) {
	case []float64:
		return v, nil
	case []int:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out, nil
	case []string:
		var out []float64
		for _, s := range v {
			s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
			if s == "" {
				continue
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, formatErrorf("%q is not a number", s)
			}
			out = append(out, f)
		}
		return out, nil
	case []byte:
		return nil, formatErrorf("value is raw bytes (VR %s), not a number", e.RawValueRepresentation)
	}
	return nil, formatErrorf("value of type %T is not a number", v)
}

// floatN returns exactly n numbers for t; ok is false when t is absent.
func (m elems) floatN(t Tag, name string, n int) ([]float64, bool, error) {
	v, err := m.floats(t)
	if err != nil {
		return nil, false, tagged(t, name, err)
	}
	if v == nil {
		return nil, false, nil
	}
	if len(v) != n {
		return nil, false, tagged(t, name, formatErrorf("has %d values, want %d", len(v), n))
	}
	return v, true, nil
}

// float1 returns the first number of t.
func (m elems) float1(t Tag, name string) (float64, bool, error) {
	v, err := m.floats(t)
	if err != nil {
		return 0, false, tagged(t, name, err)
	}
	if len(v) == 0 {
		return 0, false, nil
	}
	return v[0], true, nil
}

// int1 returns the first value of t as an integer.
func (m elems) int1(t Tag, name string) (int, bool, error) {
	f, ok, err := m.float1(t, name)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false, tagged(t, name, formatErrorf("%v is not an integer", f))
	}
	return int(f), true, nil
}

// items returns the items of sequence t, each indexed.
func (m elems) items(t Tag) []elems {
	e := m[t]
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([]elems, 0, len(seq))
	for _, it := range seq {
		if it == nil {
			continue
		}
		list, _ := it.GetValue().([]*dicom.Element)
		out = append(out, indexElems(list))
	}
	return out
}

// item returns the first item of sequence t, or nil.
func (m elems) item(t Tag) elems {
	if it := m.items(t); len(it) > 0 {
		return it[0]
	}
	return nil
}

// parseDataset parses the header bytes the walker captured with
// suyashkumar/dicom. Any panic inside the parser on hostile input becomes a
// FormatError: the walker has already bounded every length, so what is
// left are value-level surprises (a wrong VR on a well-known tag).
func parseDataset(header []byte, syn *syntax) (out elems, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, formatErrorf("malformed data set (parser: %v)", p)
		}
	}()
	// The parser is handed a meta group of our own naming the syntax the
	// bytes are in (inflated already, for the deflated one). Without it,
	// it guesses the syntax by parsing the first element under each
	// candidate, and a wrong guess allocates whatever length it reads.
	buf := append(metaGroup(syn), header...)
	p, err := dicom.NewParser(bytes.NewReader(buf), int64(len(buf)), nil,
		dicom.SkipPixelData(), dicom.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return nil, formatErrorf("data set: %v", err)
	}
	var list []*dicom.Element
	for {
		e, err := p.Next()
		if err != nil {
			if errors.Is(err, dicom.ErrorEndOfDICOM) || errors.Is(err, io.EOF) {
				break
			}
			return nil, formatErrorf("data set: %v", err)
		}
		if e.Tag.Group == 0x0002 {
			continue // ours
		}
		list = append(list, e)
	}
	return indexElems(list), nil
}

// metaGroup encodes a preamble and a File Meta Information group (PS3.10
// 7.1) whose Transfer Syntax UID names the encoding of syn's data set.
func metaGroup(syn *syntax) []byte {
	ts := "1.2.840.10008.1.2.1"
	switch {
	case syn.implicit:
		ts = "1.2.840.10008.1.2"
	case syn.bigEnd:
		ts = "1.2.840.10008.1.2.2"
	}
	if len(ts)%2 == 1 {
		ts += "\x00" // UI values are padded to even length with NUL
	}
	le := binary.LittleEndian
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	elem := func(g, e uint16, vr string, val []byte) {
		var h [8]byte
		le.PutUint16(h[0:], g)
		le.PutUint16(h[2:], e)
		copy(h[4:], vr)
		le.PutUint16(h[6:], uint16(len(val)))
		b.Write(h[:])
		b.Write(val)
	}
	var n [4]byte
	le.PutUint32(n[:], uint32(8+len(ts)))
	elem(0x0002, 0x0000, "UL", n[:])
	elem(0x0002, 0x0010, "UI", []byte(ts))
	return b.Bytes()
}

// uid returns a UI value without padding.
func (m elems) uid(t Tag) string { return strings.Trim(m.str(t), "\x00 ") }
