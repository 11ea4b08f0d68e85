package dicomread

// A small DICOM writer for tests: enough of PS3.10 and PS3.5 to build the
// synthetic series the geometry, pixel and bad-input tests need, in every
// native and encapsulated layout, with full control over what is written
// (including what must not be).

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

const (
	tsImplicit = "1.2.840.10008.1.2"
	tsExplicit = "1.2.840.10008.1.2.1"
	tsDeflate  = "1.2.840.10008.1.2.1.99"
	tsBig      = "1.2.840.10008.1.2.2"
	tsRLE      = "1.2.840.10008.1.2.5"
	tsEncRaw   = "1.2.840.10008.1.2.1.98"
	tsJPEGLS   = "1.2.840.10008.1.2.4.80"
)

// wel is one element to write: its value is already encoded, except for
// sequences (items) which are encoded with the data set's syntax.
type wel struct {
	tag   Tag
	vr    string
	val   []byte
	items [][]wel // for SQ
	undef bool    // sequence/items of undefined length
}

type wenc struct {
	bo       binary.ByteOrder
	implicit bool
}

func encFor(ts string) wenc {
	switch ts {
	case tsImplicit:
		return wenc{binary.LittleEndian, true}
	case tsBig:
		return wenc{binary.BigEndian, false}
	}
	return wenc{binary.LittleEndian, false}
}

func (e wenc) header(b *bytes.Buffer, t Tag, vr string, n uint32) {
	var x [4]byte
	e.bo.PutUint16(x[:], t.Group)
	b.Write(x[:2])
	e.bo.PutUint16(x[:], t.Element)
	b.Write(x[:2])
	if e.implicit || t.Group == 0xFFFE {
		e.bo.PutUint32(x[:], n)
		b.Write(x[:4])
		return
	}
	b.WriteString(vr)
	if longVR(vr) {
		b.Write([]byte{0, 0})
		e.bo.PutUint32(x[:], n)
		b.Write(x[:4])
		return
	}
	e.bo.PutUint16(x[:], uint16(n))
	b.Write(x[:2])
}

// dataset encodes elements in tag order.
func (e wenc) dataset(els []wel) []byte {
	els = slices.Clone(els)
	slices.SortStableFunc(els, func(a, b wel) int {
		return int(uint32(a.tag.Group)<<16|uint32(a.tag.Element)) - int(uint32(b.tag.Group)<<16|uint32(b.tag.Element))
	})
	var b bytes.Buffer
	for _, el := range els {
		if el.vr == "SQ" {
			var body bytes.Buffer
			for _, it := range el.items {
				ib := e.dataset(it)
				if el.undef {
					e.header(&body, tagItem, "", undefinedLength)
					body.Write(ib)
					e.header(&body, tagItemDelim, "", 0)
				} else {
					e.header(&body, tagItem, "", uint32(len(ib)))
					body.Write(ib)
				}
			}
			if el.undef {
				e.header(&b, el.tag, "SQ", undefinedLength)
				b.Write(body.Bytes())
				e.header(&b, tagSeqDelim, "", 0)
			} else {
				e.header(&b, el.tag, "SQ", uint32(body.Len()))
				b.Write(body.Bytes())
			}
			continue
		}
		if el.undef { // encapsulated pixel data: val holds the items already
			e.header(&b, el.tag, el.vr, undefinedLength)
			b.Write(el.val)
			continue
		}
		e.header(&b, el.tag, el.vr, uint32(len(el.val)))
		b.Write(el.val)
	}
	return b.Bytes()
}

// Value encoders.
func vStr(vr string, s ...string) []byte {
	v := strings.Join(s, `\`)
	if len(v)%2 == 1 {
		if vr == "UI" {
			v += "\x00"
		} else {
			v += " "
		}
	}
	return []byte(v)
}

func vDS(x ...float64) []byte {
	s := make([]string, len(x))
	for i, f := range x {
		s[i] = strconv.FormatFloat(f, 'g', 10, 64)
	}
	return vStr("DS", s...)
}

func vUS(bo binary.ByteOrder, x ...int) []byte {
	b := make([]byte, 2*len(x))
	for i, v := range x {
		bo.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func els(e wenc, kv ...any) []wel {
	var out []wel
	for i := 0; i < len(kv); i += 3 {
		t, vr := kv[i].(Tag), kv[i+1].(string)
		var val []byte
		switch v := kv[i+2].(type) {
		case string:
			val = vStr(vr, v)
		case []string:
			val = vStr(vr, v...)
		case int:
			if vr == "IS" {
				val = vStr(vr, strconv.Itoa(v))
			} else {
				val = vUS(e.bo, v)
			}
		case float64:
			val = vDS(v)
		case []float64:
			val = vDS(v...)
		case []byte:
			val = v
		}
		out = append(out, wel{tag: t, vr: vr, val: val})
	}
	return out
}

// fileBytes writes preamble, meta group and data set (deflated for the
// deflated syntax), PS3.10 7.1.
func fileBytes(ts, sopClass, sopInstance string, ds []byte) []byte {
	var meta bytes.Buffer
	le := wenc{binary.LittleEndian, false}
	le.header(&meta, Tag{2, 1}, "OB", 2)
	meta.Write([]byte{0, 1})
	for _, kv := range []struct {
		t Tag
		v string
	}{{Tag{2, 2}, sopClass}, {Tag{2, 3}, sopInstance}, {Tag{2, 0x10}, ts}, {Tag{2, 0x12}, "1.2.3.4.5"}} {
		v := vStr("UI", kv.v)
		le.header(&meta, kv.t, "UI", uint32(len(v)))
		meta.Write(v)
	}
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	le.header(&b, Tag{2, 0}, "UL", 4)
	binary.Write(&b, binary.LittleEndian, uint32(meta.Len()))
	b.Write(meta.Bytes())
	if ts == tsDeflate {
		w, _ := flate.NewWriter(&b, flate.BestSpeed)
		w.Write(ds)
		w.Close()
	} else {
		b.Write(ds)
	}
	return b.Bytes()
}

// slice describes one synthetic CT image (or an enhanced multi-frame one).
type slice struct {
	ts                  string
	study, series, sop  string
	frameOfRef          string
	seriesNumber        int
	description         string
	modality            string
	rows, cols          int
	pos                 [3]float64
	iop                 [6]float64
	spacing             [2]float64 // row spacing, column spacing
	thickness           float64
	noSlope             bool
	slope, intercept    float64
	bitsStored          int // default 16
	signed              bool
	photometric         string
	padding             *int
	paddingLimit        *int
	instance            int
	temporal            int
	gantryTilt          float64
	window              []float64 // center, width
	stored              []int     // rows*cols stored values (before masking)
	highGarbage         bool      // set the bits above BitsStored
	noPixels            bool
	sopClass            string
	extra               []wel
	frames              [][]int      // enhanced multi-frame: stored values per frame
	framePos            [][3]float64 // per-frame positions
	frameRescale        [][2]float64 // per-frame slope, intercept (nil: shared)
	fragments           int          // encapsulated: fragments per frame
	noBOT               bool
	pixelLengthOverride int // native: write this Pixel Data length instead
}

const ctImage = "1.2.840.10008.5.1.4.1.1.2"

func (s slice) defaults() slice {
	if s.ts == "" {
		s.ts = tsExplicit
	}
	if s.study == "" {
		s.study = "1.2.826.0.1.1"
	}
	if s.series == "" {
		s.series = "1.2.826.0.1.1.1"
	}
	if s.frameOfRef == "" {
		s.frameOfRef = "1.2.826.0.1.1.9"
	}
	if s.modality == "" {
		s.modality = "CT"
	}
	if s.iop == ([6]float64{}) {
		s.iop = [6]float64{1, 0, 0, 0, 1, 0}
	}
	if s.spacing == ([2]float64{}) {
		s.spacing = [2]float64{0.7, 0.6}
	}
	if s.slope == 0 {
		s.slope = 1
	}
	if s.bitsStored == 0 {
		s.bitsStored = 16
	}
	if s.photometric == "" {
		s.photometric = "MONOCHROME2"
	}
	if s.sopClass == "" {
		s.sopClass = ctImage
	}
	return s
}

// encode writes the slice as a DICOM file.
func (s slice) encode() []byte {
	s = s.defaults()
	e := encFor(s.ts)
	pr := 0
	if s.signed {
		pr = 1
	}
	l := els(e,
		Tag{8, 0x16}, "UI", s.sopClass,
		Tag{8, 0x18}, "UI", s.sop,
		Tag{8, 0x60}, "CS", s.modality,
		Tag{0x10, 0x10}, "PN", "Test^Patient",
		Tag{0x10, 0x20}, "LO", "PID-1",
		Tag{0x20, 0x0D}, "UI", s.study,
		Tag{0x20, 0x0E}, "UI", s.series,
		Tag{0x20, 0x11}, "IS", s.seriesNumber,
		Tag{0x20, 0x13}, "IS", s.instance,
		Tag{0x20, 0x52}, "UI", s.frameOfRef,
	)
	l = append(l, s.extra...)
	if s.description != "" {
		l = append(l, els(e, Tag{8, 0x103E}, "LO", s.description)...)
	}
	if s.temporal != 0 {
		l = append(l, els(e, Tag{0x20, 0x100}, "IS", s.temporal)...)
	}
	if s.gantryTilt != 0 {
		l = append(l, els(e, Tag{0x18, 0x1120}, "DS", s.gantryTilt)...)
	}
	if s.noPixels {
		return fileBytes(s.ts, s.sopClass, s.sop, e.dataset(l))
	}
	l = append(l, els(e,
		Tag{0x28, 0x02}, "US", 1,
		Tag{0x28, 0x04}, "CS", s.photometric,
		Tag{0x28, 0x10}, "US", s.rows,
		Tag{0x28, 0x11}, "US", s.cols,
		Tag{0x28, 0x100}, "US", 16,
		Tag{0x28, 0x101}, "US", s.bitsStored,
		Tag{0x28, 0x102}, "US", s.bitsStored-1,
		Tag{0x28, 0x103}, "US", pr,
	)...)
	if s.window != nil {
		l = append(l, els(e, Tag{0x28, 0x1050}, "DS", s.window[0], Tag{0x28, 0x1051}, "DS", s.window[1])...)
	}
	padVR := "US"
	if s.signed {
		padVR = "SS"
	}
	if s.padding != nil {
		l = append(l, wel{tag: Tag{0x28, 0x120}, vr: padVR, val: vUS(e.bo, *s.padding)})
	}
	if s.paddingLimit != nil {
		l = append(l, wel{tag: Tag{0x28, 0x121}, vr: padVR, val: vUS(e.bo, *s.paddingLimit)})
	}
	frames := s.frames
	if frames == nil {
		frames = [][]int{s.stored}
		l = append(l, els(e,
			Tag{0x20, 0x32}, "DS", s.pos[:],
			Tag{0x20, 0x37}, "DS", s.iop[:],
			Tag{0x28, 0x30}, "DS", s.spacing[:],
		)...)
		if s.thickness != 0 {
			l = append(l, els(e, Tag{0x18, 0x50}, "DS", s.thickness)...)
		}
		if !s.noSlope {
			l = append(l, els(e, Tag{0x28, 0x1052}, "DS", s.intercept, Tag{0x28, 0x1053}, "DS", s.slope)...)
		}
	} else {
		l = append(l, s.functionalGroups(e)...)
	}
	l = append(l, s.pixelData(e, frames))
	return fileBytes(s.ts, s.sopClass, s.sop, e.dataset(l))
}

// functionalGroups writes the enhanced CT functional groups (PS3.3
// C.7.6.16): orientation, spacing and (unless per-frame) rescale shared;
// position (and rescale) per frame.
func (s slice) functionalGroups(e wenc) []wel {
	sq := func(t Tag, item []wel) wel { return wel{tag: t, vr: "SQ", items: [][]wel{item}, undef: true} }
	shared := []wel{
		sq(tPlaneOrientSeq, els(e, tOrientation, "DS", s.iop[:])),
		sq(tPixelMeasures, els(e, tPixelSpacing, "DS", s.spacing[:], tSliceThickness, "DS", 1.0)),
	}
	if s.frameRescale == nil {
		shared = append(shared, sq(tPixelValueXf, els(e, tIntercept, "DS", s.intercept, tSlope, "DS", s.slope)))
	}
	var per [][]wel
	for i := range s.frames {
		it := []wel{sq(tPlanePosSeq, els(e, tPosition, "DS", s.framePos[i][:]))}
		if s.frameRescale != nil {
			it = append(it, sq(tPixelValueXf, els(e, tIntercept, "DS", s.frameRescale[i][1], tSlope, "DS", s.frameRescale[i][0])))
		}
		it = append(it, sq(tFrameContent, els(e, tInStackPos, "UL", []byte{byte(i + 1), 0, 0, 0})))
		per = append(per, it)
	}
	return []wel{
		{tag: tFrames, vr: "IS", val: vStr("IS", strconv.Itoa(len(s.frames)))},
		{tag: tSharedFG, vr: "SQ", items: [][]wel{shared}},
		{tag: tPerFrameFG, vr: "SQ", items: per, undef: true},
	}
}

// raw16 packs stored values as 16-bit samples in byte order bo, with the
// bits above BitsStored set when asked (they must be ignored, PS3.5 8.1.1).
func (s slice) raw16(bo binary.ByteOrder, vals []int) []byte {
	b := make([]byte, 2*len(vals))
	mask := uint16(1)<<uint(s.bitsStored) - 1
	if s.bitsStored == 16 {
		mask = 0xFFFF
	}
	for i, v := range vals {
		u := uint16(v) & mask
		if s.highGarbage {
			u |= ^mask
		}
		bo.PutUint16(b[2*i:], u)
	}
	return b
}

func (s slice) pixelData(e wenc, frames [][]int) wel {
	switch s.ts {
	case tsRLE, tsEncRaw, tsJPEGLS:
		var enc [][]byte
		for _, f := range frames {
			raw := s.raw16(binary.LittleEndian, f)
			if s.ts == tsRLE {
				raw = rleEncode16(raw)
			}
			enc = append(enc, raw)
		}
		return wel{tag: tagPixelData, vr: "OB", undef: true, val: encapsulate(enc, max(1, s.fragments), !s.noBOT)}
	}
	var b []byte
	for _, f := range frames {
		b = append(b, s.raw16(e.bo, f)...)
	}
	if s.pixelLengthOverride != 0 {
		if s.pixelLengthOverride < len(b) {
			b = b[:s.pixelLengthOverride]
		} else {
			b = append(b, make([]byte, s.pixelLengthOverride-len(b))...)
		}
	}
	return wel{tag: tagPixelData, vr: "OW", val: b}
}

// encapsulate writes the items of encapsulated pixel data (PS3.5 A.4):
// the Basic Offset Table, then each frame cut into frags fragments.
func encapsulate(frames [][]byte, frags int, bot bool) []byte {
	var items bytes.Buffer
	le := wenc{binary.LittleEndian, true}
	var offsets []uint32
	for _, f := range frames {
		offsets = append(offsets, uint32(items.Len()))
		n := (len(f) + frags - 1) / frags
		n += n % 2
		for start := 0; start < len(f); start += n {
			part := f[start:min(start+n, len(f))]
			if len(part)%2 == 1 {
				part = append(slices.Clone(part), 0)
			}
			le.header(&items, tagItem, "", uint32(len(part)))
			items.Write(part)
		}
	}
	var b bytes.Buffer
	if bot {
		le.header(&b, tagItem, "", uint32(4*len(offsets)))
		for _, o := range offsets {
			binary.Write(&b, binary.LittleEndian, o)
		}
	} else {
		le.header(&b, tagItem, "", 0)
	}
	b.Write(items.Bytes())
	le.header(&b, tagSeqDelim, "", 0)
	return b.Bytes()
}

// rleEncode16 writes one RLE Lossless frame (PS3.5 Annex G) of 16-bit
// little-endian samples: two segments (high bytes, then low bytes), each
// as PackBits literal runs of at most 128 bytes plus replicate runs for
// repeated bytes.
func rleEncode16(raw []byte) []byte {
	n := len(raw) / 2
	hi, lo := make([]byte, n), make([]byte, n)
	for i := range n {
		lo[i], hi[i] = raw[2*i], raw[2*i+1]
	}
	seg := func(p []byte) []byte {
		var out []byte
		for i := 0; i < len(p); {
			j := i + 1
			for j < len(p) && j-i < 128 && p[j] == p[i] {
				j++
			}
			if j-i >= 3 {
				out = append(out, byte(257-(j-i)), p[i])
				i = j
				continue
			}
			j = i
			for j < len(p) && j-i < 128 && !(j+2 < len(p) && p[j] == p[j+1] && p[j] == p[j+2]) {
				j++
			}
			if j == i {
				j = i + 1
			}
			out = append(out, byte(j-i-1))
			out = append(out, p[i:j]...)
			i = j
		}
		if len(out)%2 == 1 {
			out = append(out, 0x80) // no-op run pads the segment to even length
		}
		return out
	}
	s0, s1 := seg(hi), seg(lo)
	h := make([]byte, 64)
	binary.LittleEndian.PutUint32(h, 2)
	binary.LittleEndian.PutUint32(h[4:], 64)
	binary.LittleEndian.PutUint32(h[8:], uint32(64+len(s0)))
	return append(append(h, s0...), s1...)
}

// linearField is the test pattern: HU as an affine function of the LPS
// position, so that any correct geometry (and any trilinear resampling,
// which reproduces affine functions) can be checked voxel by voxel.
type linearField struct {
	grad [3]float64
	bias float64
}

func (f linearField) at(p [3]float64) float64 { return dot(f.grad, p) + f.bias }

// fill returns the stored values of a slice at pos with the given axes, for
// slope and intercept.
func (f linearField) fill(s slice) []int {
	s = s.defaults()
	row := [3]float64{s.iop[0], s.iop[1], s.iop[2]}
	col := [3]float64{s.iop[3], s.iop[4], s.iop[5]}
	v := make([]int, s.rows*s.cols)
	for j := range s.rows {
		for i := range s.cols {
			p := add(s.pos, add(scale(row, float64(i)*s.spacing[1]), scale(col, float64(j)*s.spacing[0])))
			v[j*s.cols+i] = int(math.Round((f.at(p) - s.intercept) / s.slope))
		}
	}
	return v
}

func uid(parts ...any) string {
	s := "1.2.826.0.1"
	for _, p := range parts {
		s += fmt.Sprintf(".%v", p)
	}
	return s
}
