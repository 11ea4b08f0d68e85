package dicomread

// This file walks the byte structure of a DICOM file (PS3.10 7, PS3.5 7)
// without interpreting values. It does three things the value parser
// (suyashkumar/dicom) cannot do safely on untrusted input:
//
//   - check every length against the bytes that enclose it before anything
//     is allocated from it, so that a 40-byte file claiming a 4 GiB element
//     is a FormatError, not an out-of-memory crash (fatal in wasm);
//   - stop at the top-level Pixel Data element, so the header pass reads only
//     the header bytes of each file and the pixel pass streams the rest;
//   - keep the Basic and Extended Offset Tables of encapsulated pixel data,
//     which the value parser discards.
//
// The header bytes it captures are then handed to the value parser, which
// therefore only ever sees lengths that fit.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"

	"github.com/suyashkumar/dicom/pkg/tag"
)

const (
	undefinedLength = 0xFFFFFFFF
	// maxHeaderBytes bounds the data set read before Pixel Data. Real CT
	// headers are a few kB (enhanced multi-frame: a few MB); the bound stops
	// a deflate bomb from filling memory in the header pass.
	maxHeaderBytes = 64 << 20
	// maxDepth bounds sequence nesting; real files nest a handful deep.
	maxDepth = 32
)

var (
	tagItem         = Tag{0xFFFE, 0xE000}
	tagItemDelim    = Tag{0xFFFE, 0xE00D}
	tagSeqDelim     = Tag{0xFFFE, 0xE0DD}
	tagPixelData    = Tag{0x7FE0, 0x0010}
	tagFloatPixels  = Tag{0x7FE0, 0x0008}
	tagDoublePixels = Tag{0x7FE0, 0x0009}
	tagEOT          = Tag{0x7FE0, 0x0001}
	tagEOTLengths   = Tag{0x7FE0, 0x0002}
	tagTSUID        = Tag{0x0002, 0x0010}
	tagMetaLength   = Tag{0x0002, 0x0000}
	tagMediaSOP     = Tag{0x0002, 0x0002}
)

// pixelElem is what the walker learnt about the top-level Pixel Data.
type pixelElem struct {
	present bool
	vr      string // "OB", "OW", or "" in implicit VR
	length  uint32 // undefinedLength when encapsulated
	// eot and eotLengths are the raw values of the Extended Offset Table
	// (7FE0,0001) and its lengths (7FE0,0002), PS3.3 C.7.6.3.1.8.
	eot, eotLengths []byte
	// other is set when the pixels are Float or Double Float Pixel Data.
	other Tag
}

// rawFile is the structure of one file up to its Pixel Data.
type rawFile struct {
	syn       *syntax
	tsUID     string // as written in the meta group ("" without one)
	mediaSOP  string // Media Storage SOP Class UID, 1.2.840.10008.1.3.10 for DICOMDIR
	preamble  bool   // "DICM" found at byte 128 (PS3.10 7.1)
	header    []byte // the data set (inflated), up to the Pixel Data tag
	pixels    pixelElem
	remaining int64 // bytes of the stream after the Pixel Data element header, -1 if unknown
}

// walker reads a DICOM stream element by element.
type walker struct {
	r        *bufio.Reader
	size     int64 // total bytes of the stream, -1 if unknown (deflated, bare reader)
	n        int64 // bytes consumed
	bo       binary.ByteOrder
	implicit bool
	capture  *bytes.Buffer // when set, every byte consumed is appended here
	scratch  [12]byte
}

// sizer is implemented by readers that know their length (bytes.Reader,
// strings.Reader); os.File and fs.File give it through Stat instead.
type sizer interface{ Size() int64 }

func streamSize(r io.Reader) int64 {
	switch v := r.(type) {
	case sizer:
		return v.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return -1
}

func (w *walker) left() int64 {
	if w.size < 0 {
		return -1
	}
	return w.size - w.n
}

// read fills p from the stream, counting and capturing it.
func (w *walker) read(p []byte) error {
	k, err := io.ReadFull(w.r, p)
	w.n += int64(k)
	if w.capture != nil {
		if w.capture.Len()+k > maxHeaderBytes {
			return formatErrorf("header larger than %d MiB", maxHeaderBytes>>20)
		}
		w.capture.Write(p[:k])
	}
	if err != nil {
		return truncated(err)
	}
	return nil
}

// skip consumes n bytes, capturing them when capturing.
func (w *walker) skip(n int64) error {
	if l := w.left(); l >= 0 && n > l {
		return formatErrorf("value of %d bytes runs past the end of the file (%d bytes left): truncated file or wrong length", n, l)
	}
	var k int64
	var err error
	if w.capture != nil {
		if int64(w.capture.Len())+n > maxHeaderBytes {
			return formatErrorf("header larger than %d MiB", maxHeaderBytes>>20)
		}
		k, err = io.CopyN(w.capture, w.r, n)
	} else {
		k, err = io.CopyN(io.Discard, w.r, n)
	}
	w.n += k
	if err != nil {
		return truncated(err)
	}
	return nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return formatErrorf("file is truncated")
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	if _, ok := err.(flate.CorruptInputError); ok {
		return formatErrorf("deflated data set is corrupt: %v", err)
	}
	return err
}

func (w *walker) u16() (uint16, error) {
	if err := w.read(w.scratch[:2]); err != nil {
		return 0, err
	}
	return w.bo.Uint16(w.scratch[:2]), nil
}

func (w *walker) u32() (uint32, error) {
	if err := w.read(w.scratch[:4]); err != nil {
		return 0, err
	}
	return w.bo.Uint32(w.scratch[:4]), nil
}

// elemHeader is one element's tag, VR and value length (PS3.5 7.1.1).
type elemHeader struct {
	tag    Tag
	vr     string // "" in implicit VR and for items and delimiters
	length uint32
}

// longVR reports the explicit VRs with a 4-byte length after two reserved
// bytes (PS3.5 Table 7.1-1).
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// next reads an element header. Items and delimiters (group FFFE) carry no
// VR in any transfer syntax (PS3.5 7.5).
func (w *walker) next(implicit bool) (elemHeader, error) {
	var h elemHeader
	g, err := w.u16()
	if err != nil {
		return h, err
	}
	e, err := w.u16()
	if err != nil {
		return h, err
	}
	h.tag = Tag{g, e}
	if implicit || g == 0xFFFE {
		h.length, err = w.u32()
		return h, err
	}
	if err := w.read(w.scratch[:2]); err != nil {
		return h, err
	}
	a, b := w.scratch[0], w.scratch[1]
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return h, tagged(h.tag, "VR", formatErrorf("invalid value representation %q (wrong transfer syntax?)", w.scratch[:2]))
	}
	h.vr = string(w.scratch[:2])
	if w.capture != nil && (h.vr == "OV" || h.vr == "SV" || h.vr == "UV") {
		// The value parser predates these VRs and would read their
		// 4-byte length as 2 bytes; UN has the same layout and is read
		// as plain bytes, so the captured copy says UN.
		b := w.capture.Bytes()
		copy(b[len(b)-2:], "UN")
	}
	if longVR(h.vr) {
		if err := w.skip(2); err != nil {
			return h, err
		}
		h.length, err = w.u32()
		return h, err
	}
	l, err := w.u16()
	h.length = uint32(l)
	return h, err
}

// dictVR is the VR of a tag in implicit VR, from the value parser's own
// dictionary, so that walker and parser agree on what is a sequence.
func dictVR(t Tag) string {
	info, err := tag.Find(tag.Tag(t))
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	return info.VRs[0]
}

// walkItems walks the items of a sequence or of an undefined-length byte
// value until the sequence delimiter or until length bytes are consumed.
// Items of a sequence hold data sets; items of encapsulated values hold
// bytes (asData false).
func (w *walker) walkItems(length uint32, implicit bool, asData bool, depth int) error {
	if depth > maxDepth {
		return formatErrorf("sequences nested deeper than %d", maxDepth)
	}
	end := int64(-1)
	if length != undefinedLength {
		if l := w.left(); l >= 0 && int64(length) > l {
			return formatErrorf("sequence of %d bytes runs past the end of the file (%d bytes left): truncated file or wrong length", length, l)
		}
		end = w.n + int64(length)
	}
	for end < 0 || w.n < end {
		h, err := w.next(true)
		if err != nil {
			return err
		}
		switch h.tag {
		case tagSeqDelim:
			if end >= 0 {
				return formatErrorf("sequence delimiter inside a sequence of defined length")
			}
			return nil
		case tagItem:
		default:
			return formatErrorf("found %v where a sequence item was expected", h.tag)
		}
		if end >= 0 && h.length != undefinedLength && w.n+int64(h.length) > end {
			return formatErrorf("item of %d bytes runs past its sequence", h.length)
		}
		switch {
		case !asData && h.length == undefinedLength:
			return formatErrorf("fragment of undefined length")
		case !asData:
			if err := w.skip(int64(h.length)); err != nil {
				return err
			}
		default:
			if err := w.walkDataset(h.length, implicit, depth+1); err != nil {
				return err
			}
		}
	}
	if w.n != end {
		return formatErrorf("items overrun their sequence by %d bytes", w.n-end)
	}
	return nil
}

// walkDataset walks the elements of an item's data set, of length bytes or
// up to the item delimiter.
func (w *walker) walkDataset(length uint32, implicit bool, depth int) error {
	if depth > maxDepth {
		return formatErrorf("sequences nested deeper than %d", maxDepth)
	}
	end := int64(-1)
	if length != undefinedLength {
		if l := w.left(); l >= 0 && int64(length) > l {
			return formatErrorf("item of %d bytes runs past the end of the file (%d bytes left): truncated file or wrong length", length, l)
		}
		end = w.n + int64(length)
	}
	for end < 0 || w.n < end {
		h, err := w.next(implicit)
		if err != nil {
			return err
		}
		if h.tag == tagItemDelim {
			if end >= 0 {
				return formatErrorf("item delimiter inside an item of defined length")
			}
			return nil
		}
		if end >= 0 && h.length != undefinedLength && w.n+int64(h.length) > end {
			return tagged(h.tag, "element", formatErrorf("value of %d bytes runs past its item", h.length))
		}
		if err := w.value(h, implicit, depth); err != nil {
			return tagged(h.tag, "element", err)
		}
	}
	if w.n != end {
		return formatErrorf("elements overrun their item by %d bytes", w.n-end)
	}
	return nil
}

// value walks or skips the value of one element.
func (w *walker) value(h elemHeader, implicit bool, depth int) error {
	vr := h.vr
	if implicit {
		vr = dictVR(h.tag)
	}
	switch {
	case vr == "SQ":
		return w.walkItems(h.length, implicit, true, depth+1)
	case h.length != undefinedLength:
		return w.skip(int64(h.length))
	case vr == "UN":
		// An undefined-length UN is a sequence encoded in implicit VR
		// little endian, whatever the transfer syntax (PS3.5 6.2.2 note);
		// in implicit VR, private and unknown tags come here too.
		return w.walkItems(h.length, true, true, depth+1)
	default:
		// OB/OW of undefined length: encapsulated bytes (PS3.5 A.4).
		return w.walkItems(h.length, implicit, false, depth+1)
	}
}

// readMeta reads the preamble and the File Meta Information (PS3.10 7.1),
// sets the transfer syntax and, for a deflated one, switches the stream to
// the inflated data set.
func (w *walker) readMeta(f *rawFile) error {
	pre, err := w.r.Peek(132)
	if err == nil && string(pre[128:132]) == "DICM" {
		f.preamble = true
		if err := w.skip(132); err != nil {
			return err
		}
	} else if !looksLikeDataset(pre) {
		return formatErrorf("not a DICOM file (no \"DICM\" at byte 128 and no data set at byte 0)")
	}
	// The meta group is always explicit VR little endian (PS3.10 7.1).
	w.bo, w.implicit = binary.LittleEndian, false
	metaEnd := int64(-1)
	for {
		b, err := w.r.Peek(6)
		if err != nil || binary.LittleEndian.Uint16(b) != 0x0002 {
			break
		}
		if metaEnd >= 0 && w.n >= metaEnd {
			break
		}
		// A meta group written in implicit VR is a common fault; accept it
		// when the VR bytes are not letters.
		implicitMeta := b[4] < 'A' || b[4] > 'Z'
		h, err := w.next(implicitMeta)
		if err != nil {
			return tagged(Tag{0x0002, 0}, "File Meta Information", err)
		}
		if h.length == undefinedLength || (w.left() >= 0 && int64(h.length) > w.left()) || h.length > 1<<16 {
			return tagged(h.tag, "meta element", formatErrorf("length %d is not possible here", h.length))
		}
		val := make([]byte, h.length)
		if err := w.read(val); err != nil {
			return tagged(h.tag, "meta element", err)
		}
		switch h.tag {
		case tagMetaLength:
			if len(val) == 4 {
				metaEnd = w.n + int64(binary.LittleEndian.Uint32(val))
			}
		case tagTSUID:
			f.tsUID = trimUID(val)
		case tagMediaSOP:
			f.mediaSOP = trimUID(val)
		}
	}
	if f.tsUID == "" {
		// No meta group (or none naming the syntax): PS3.5 A.1 makes
		// implicit VR little endian the default; a file that starts with
		// an explicit VR is read as explicit VR little endian.
		f.syn = lookupSyntax("1.2.840.10008.1.2")
		if b, err := w.r.Peek(6); err == nil && b[4] >= 'A' && b[4] <= 'Z' && b[5] >= 'A' && b[5] <= 'Z' {
			f.syn = lookupSyntax("1.2.840.10008.1.2.1")
		}
	} else {
		f.syn = lookupSyntax(f.tsUID)
	}
	w.bo, w.implicit = f.syn.byteOrder(), f.syn.implicit
	if f.syn.deflated {
		// PS3.5 A.5: the data set after the meta group is raw deflate
		// (RFC 1951, no zlib header). Its inflated size is unknown.
		w.r = bufio.NewReaderSize(flate.NewReader(w.r), 64<<10)
		w.size = -1
		w.n = 0
	}
	return nil
}

// looksLikeDataset accepts a file without preamble when it starts with a
// plausible group 0008 element, as old ACR-NEMA style files do.
func looksLikeDataset(b []byte) bool {
	if len(b) < 8 {
		return false
	}
	g := binary.LittleEndian.Uint16(b)
	return g == 0x0008 || (g == 0x0002 && b[4] >= 'A' && b[4] <= 'Z')
}

func trimUID(b []byte) string {
	return string(bytes.TrimRight(b, "\x00 "))
}

// scanOptions says what scan keeps.
type scanOptions struct {
	captureHeader bool // keep the data set bytes before Pixel Data
	// buf, when set, is reused (Reset) instead of allocating a reader:
	// an import reads hundreds of files one after another.
	buf *bufio.Reader
}

// scan reads r up to and including the top-level Pixel Data element header
// and returns the file's structure; r is then positioned at the first byte
// of the pixel value (native) or of its first item (encapsulated).
func scan(r io.Reader, opt scanOptions) (*rawFile, *walker, error) {
	br := opt.buf
	if br == nil {
		br = bufio.NewReaderSize(r, 64<<10)
	} else {
		br.Reset(r)
	}
	w := &walker{r: br, size: streamSize(r)}
	f := &rawFile{remaining: -1}
	if err := w.readMeta(f); err != nil {
		return nil, nil, err
	}
	if opt.captureHeader {
		w.capture = &bytes.Buffer{}
	}
	for {
		if _, err := w.r.Peek(1); err == io.EOF {
			break // end of the data set: no pixel data
		}
		start := w.n
		mark := 0
		if w.capture != nil {
			mark = w.capture.Len()
		}
		h, err := w.next(w.implicit)
		if err != nil {
			return nil, nil, err
		}
		if h.tag == tagPixelData || h.tag == tagFloatPixels || h.tag == tagDoublePixels {
			if w.capture != nil {
				w.capture.Truncate(mark) // the header ends before Pixel Data
			}
			f.pixels.present = true
			f.pixels.vr = h.vr
			f.pixels.length = h.length
			if h.tag != tagPixelData {
				f.pixels.other = h.tag
			}
			f.remaining = w.left()
			break
		}
		if h.tag.Group == 0xFFFE {
			return nil, nil, tagged(h.tag, "item", formatErrorf("item or delimiter at the top level of the data set (at byte %d)", start))
		}
		if h.tag == tagEOT || h.tag == tagEOTLengths {
			// Keep the offset tables (small: 8 bytes per frame).
			if h.length == undefinedLength || h.length > 8<<20 || (w.left() >= 0 && int64(h.length) > w.left()) {
				return nil, nil, tagged(h.tag, "Extended Offset Table", formatErrorf("length %d is not possible here", h.length))
			}
			val := make([]byte, h.length)
			if err := w.read(val); err != nil {
				return nil, nil, tagged(h.tag, "Extended Offset Table", err)
			}
			if h.tag == tagEOT {
				f.pixels.eot = val
			} else {
				f.pixels.eotLengths = val
			}
			continue
		}
		if err := w.value(h, w.implicit, 0); err != nil {
			return nil, nil, tagged(h.tag, elementName(h.tag), err)
		}
	}
	if w.capture != nil {
		f.header = w.capture.Bytes()
		w.capture = nil
	}
	return f, w, nil
}

// elementName is the dictionary keyword of t, for messages.
func elementName(t Tag) string {
	if info, err := tag.Find(tag.Tag(t)); err == nil {
		return info.Name
	}
	if t.Group%2 == 1 {
		return "private element"
	}
	return "element"
}
