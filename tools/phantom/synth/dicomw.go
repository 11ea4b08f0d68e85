package synth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// This file is a small DICOM writer for Explicit VR Little Endian
// (PS3.5 §7.1.2, transfer syntax 1.2.840.10008.1.2.1). It exists instead of
// github.com/suyashkumar/dicom's writer because that one (v1.1.0) encodes
// native pixel data one binary.Write call per pixel into an in-memory
// buffer and buffers every element before writing it, where the generator
// wants to stream frames produced in parallel straight to the file; and
// because here every byte has to be under our control for byte-identical
// output. suyashkumar/dicom is still used by the tests to read the files back.

const (
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
	ctImageStorage         = "1.2.840.10008.5.1.4.1.1.2"
	enhancedCTImageStorage = "1.2.840.10008.5.1.4.1.1.2.1"
)

// tg builds a tag from group and element.
func tg(group, elem uint16) uint32 { return uint32(group)<<16 | uint32(elem) }

// elem is one data element with its value already encoded (even length).
// Sequences keep their items and are encoded with defined lengths.
type elem struct {
	tag   uint32
	vr    string
	value []byte
	items [][]elem
}

// longVR lists the VRs with a 4-byte length after two reserved bytes
// (PS3.5 Table 7.1-1).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// str encodes string values joined by backslashes, padded to even length
// with a NUL for UI and a space otherwise (PS3.5 §6.2).
func str(tag uint32, vr string, vals ...string) elem {
	s := strings.Join(vals, `\`)
	b := []byte(s)
	if len(b)%2 == 1 {
		if vr == "UI" {
			b = append(b, 0)
		} else {
			b = append(b, ' ')
		}
	}
	return elem{tag: tag, vr: vr, value: b}
}

// ds encodes decimal strings: the shortest decimal that reads back as the
// same float64, which is at most 16 characters for the values we write.
func ds(tag uint32, vals ...float64) elem {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmtDS(v)
	}
	return str(tag, "DS", s...)
}

func fmtDS(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if len(s) > 16 {
		s = strconv.FormatFloat(v, 'g', 10, 64)
	}
	return s
}

// is encodes integer strings.
func is(tag uint32, vals ...int) elem {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.Itoa(v)
	}
	return str(tag, "IS", s...)
}

// num encodes binary numbers: US, SS, UL, SL, FL, FD.
func num(tag uint32, vr string, vals ...float64) elem {
	var buf bytes.Buffer
	for _, v := range vals {
		switch vr {
		case "US":
			binary.Write(&buf, binary.LittleEndian, uint16(v))
		case "SS":
			binary.Write(&buf, binary.LittleEndian, int16(v))
		case "UL":
			binary.Write(&buf, binary.LittleEndian, uint32(v))
		case "SL":
			binary.Write(&buf, binary.LittleEndian, int32(v))
		case "FL":
			binary.Write(&buf, binary.LittleEndian, math.Float32bits(float32(v)))
		case "FD":
			binary.Write(&buf, binary.LittleEndian, math.Float64bits(v))
		default:
			panic("synth: num with VR " + vr)
		}
	}
	return elem{tag: tag, vr: vr, value: buf.Bytes()}
}

// at encodes attribute tags (VR AT): group then element, each 16 bits.
func at(tag uint32, tags ...uint32) elem {
	var buf bytes.Buffer
	for _, t := range tags {
		binary.Write(&buf, binary.LittleEndian, uint16(t>>16))
		binary.Write(&buf, binary.LittleEndian, uint16(t))
	}
	return elem{tag: tag, vr: "AT", value: buf.Bytes()}
}

// ob encodes other-byte data.
func ob(tag uint32, b []byte) elem {
	if len(b)%2 == 1 {
		b = append(b, 0)
	}
	return elem{tag: tag, vr: "OB", value: b}
}

// sq encodes a sequence of items.
func sq(tag uint32, items ...[]elem) elem { return elem{tag: tag, vr: "SQ", items: items} }

// encode appends the elements, sorted by tag as PS3.5 §7.1 requires.
func encode(buf *bytes.Buffer, els []elem) error {
	sorted := append([]elem(nil), els...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].tag < sorted[j].tag })
	for i, e := range sorted {
		if i > 0 && sorted[i-1].tag == e.tag {
			return fmt.Errorf("dicom writer: tag (%04X,%04X) twice", e.tag>>16, e.tag&0xFFFF)
		}
		val := e.value
		if e.vr == "SQ" {
			var items bytes.Buffer
			for _, it := range e.items {
				var body bytes.Buffer
				if err := encode(&body, it); err != nil {
					return err
				}
				// Item (FFFE,E000) with its defined length (PS3.5 §7.5.1).
				binary.Write(&items, binary.LittleEndian, [2]uint16{0xFFFE, 0xE000})
				binary.Write(&items, binary.LittleEndian, uint32(body.Len()))
				items.Write(body.Bytes())
			}
			val = items.Bytes()
		}
		if err := header(buf, e.tag, e.vr, len(val)); err != nil {
			return err
		}
		buf.Write(val)
	}
	return nil
}

// header writes tag, VR and length (PS3.5 §7.1.2).
func header(w io.Writer, tag uint32, vr string, n int) error {
	var b [12]byte
	binary.LittleEndian.PutUint16(b[0:], uint16(tag>>16))
	binary.LittleEndian.PutUint16(b[2:], uint16(tag))
	copy(b[4:6], vr)
	if longVR(vr) {
		binary.LittleEndian.PutUint32(b[8:], uint32(n))
		_, err := w.Write(b[:12])
		return err
	}
	if n > 0xFFFF {
		return fmt.Errorf("dicom writer: (%04X,%04X) %s value of %d bytes exceeds 65534", tag>>16, tag&0xFFFF, vr, n)
	}
	binary.LittleEndian.PutUint16(b[6:], uint16(n))
	_, err := w.Write(b[:8])
	return err
}

// implementationUID identifies this writer in the file meta information;
// a fixed 2.25 UUID-derived value, generated once.
const implementationUID = "2.25.249134327040893137826862063316432207763"

// fileHeader returns the preamble, "DICM", the file meta group (PS3.10
// §7.1) and the data set up to, not including, Pixel Data, followed by the
// Pixel Data element header announcing pixelBytes bytes of OW.
func fileHeader(sopClass, sopInstance string, ds []elem, pixelBytes int) ([]byte, error) {
	var meta bytes.Buffer
	if err := encode(&meta, []elem{
		ob(tg(0x0002, 0x0001), []byte{0, 1}),
		str(tg(0x0002, 0x0002), "UI", sopClass),
		str(tg(0x0002, 0x0003), "UI", sopInstance),
		str(tg(0x0002, 0x0010), "UI", explicitVRLittleEndian),
		str(tg(0x0002, 0x0012), "UI", implementationUID),
		str(tg(0x0002, 0x0013), "SH", "CTLENS_PHANTOM1"),
	}); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	if err := encode(&out, []elem{num(tg(0x0002, 0x0000), "UL", float64(meta.Len()))}); err != nil {
		return nil, err
	}
	out.Write(meta.Bytes())
	if err := encode(&out, ds); err != nil {
		return nil, err
	}
	if pixelBytes%2 == 1 {
		return nil, fmt.Errorf("dicom writer: odd pixel data length %d", pixelBytes)
	}
	if err := header(&out, tg(0x7FE0, 0x0010), "OW", pixelBytes); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
