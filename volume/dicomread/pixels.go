package dicomread

// The pixel pass of one file: native or encapsulated Pixel Data (PS3.5 A.4)
// to Hounsfield units, frame by frame, straight into the caller's buffer.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// PaddingHU is the value written where a pixel is padding (PS3.3
// C.7.5.1.1.2: Pixel Padding Value / Range Limit), that is outside the
// reconstructed field of view: air, so that windows, statistics and models
// see a plausible value instead of the scanner's -2000 or -3024.
const PaddingHU int16 = -1024

// DecodePixels reads the pixel data of the file whose header is h (as
// ReadHeader returned it for the same bytes) and writes each frame, in HU
// (PS3.3 C.11.1: stored × slope + intercept, rounded to the nearest integer
// and clamped to int16), into dst(frame). dst must return a slice of
// Rows×Columns values, or nil to skip that frame. Pixel padding becomes
// PaddingHU. Values are not inverted for MONOCHROME1: that is a display
// instruction (PS3.3 C.7.6.3.1.2), applied after the VOI window, and HU
// must stay HU.
func DecodePixels(r io.Reader, h *Header, dst func(frame int) []int16) error {
	if err := decodeChecked(r, h, dst, &scratch{}); err != nil {
		return &FileError{Err: err}
	}
	return nil
}

// decodeChecked refuses what cannot be decoded, then decodes.
func decodeChecked(r io.Reader, h *Header, dst func(frame int) []int16, sc *scratch) error {
	if err := h.imageError(); err != nil {
		return err
	}
	if err := h.sizeError(); err != nil {
		return err
	}
	return decodePixels(r, h, dst, sc)
}

// scratch holds what the pixel pass can reuse from one file to the next:
// the native frame buffer and the stored → HU table, which is the same for
// every file of a typical series.
type scratch struct {
	// clamps is set when a stored value (or, for tables, a possible one)
	// maps outside int16 and is clamped; Load then counts and reports.
	clamps bool
	br     *bufio.Reader
	buf    []byte
	lut    []int16
	lutKey lutKey
}

// lutKey is everything a stored → HU table depends on.
type lutKey struct {
	bitsAllocated, bitsStored, highBit, pixelRep int
	pad                                          bool
	padLo, padHi                                 int64
	slope, intercept                             float64
}

func (s *scratch) frameBuf(n int64) []byte {
	if int64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	return s.buf[:n]
}

func decodePixels(r io.Reader, h *Header, dst func(frame int) []int16, sc *scratch) error {
	if sc.br == nil {
		sc.br = bufio.NewReaderSize(nil, 64<<10)
	}
	raw, w, err := scan(r, scanOptions{buf: sc.br})
	if err != nil {
		return err
	}
	if !raw.pixels.present || raw.syn.uid != h.TransferSyntaxUID {
		return formatErrorf("file changed since its header was read")
	}
	conv := newConverter(h, sc)
	if !raw.syn.encaps {
		return conv.native(w, raw, dst)
	}
	if raw.pixels.length != undefinedLength {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("encapsulated transfer syntax %s but Pixel Data has a defined length", raw.syn))
	}
	return conv.encapsulated(w, raw, dst)
}

// converter turns the stored values of one file's frames into HU.
type converter struct {
	h     *Header
	sc    *scratch
	shift uint
	mask  uint32
}

func newConverter(h *Header, sc *scratch) *converter {
	return &converter{
		h:     h,
		sc:    sc,
		shift: uint(h.HighBit + 1 - h.BitsStored),
		mask:  uint32(1)<<uint(h.BitsStored) - 1,
	}
}

// value maps one raw sample (BitsAllocated wide) to its stored value:
// the BitsStored bits ending at HighBit, sign-extended for
// PixelRepresentation 1 (PS3.3 C.7.6.3.1, PS3.5 8.1.1).
func (c *converter) value(u uint32) int64 {
	v := (u >> c.shift) & c.mask
	if c.h.PixelRepresentation == 1 && v&(1<<uint(c.h.BitsStored-1)) != 0 {
		return int64(v) - int64(1)<<uint(c.h.BitsStored)
	}
	return int64(v)
}

// hu maps a raw sample of frame f to HU, padding included.
func (c *converter) hu(u uint32, f *Frame, padLo, padHi int64, pad bool) int16 {
	v := c.value(u)
	if pad && v >= padLo && v <= padHi {
		return PaddingHU
	}
	x := math.Round(float64(v)*f.Slope + f.Intercept)
	if x < math.MinInt16 || x > math.MaxInt16 {
		c.sc.clamps = true // for 8/16 bits: the table maps some value out of range
		return int16(math.Max(math.MinInt16, math.Min(math.MaxInt16, x)))
	}
	return int16(x)
}

// padRange returns the stored-value range that is padding.
func (c *converter) padRange() (lo, hi int64, ok bool) {
	if !c.h.HasPadding {
		return 0, 0, false
	}
	// The padding attributes are written like the pixels (US or SS by
	// PixelRepresentation); take their low bits as a raw sample would be.
	lo = c.value(uint32(c.h.PaddingValue) << c.shift)
	hi = lo
	if c.h.HasPaddingLimit {
		hi = c.value(uint32(c.h.PaddingLimit) << c.shift)
		if hi < lo {
			lo, hi = hi, lo
		}
	}
	return lo, hi, true
}

// lutFor returns the raw → HU table (BitsAllocated-wide stored bits, 8
// or 16) for frame f, rebuilt only when something it depends on differs
// from the last frame's: across a series it is usually built once.
func (c *converter) lutFor(f *Frame) []int16 {
	h := c.h
	lo, hi, pad := c.padRange()
	key := lutKey{h.BitsAllocated, h.BitsStored, h.HighBit, h.PixelRepresentation, pad, lo, hi, f.Slope, f.Intercept}
	n := 1 << uint(h.BitsAllocated)
	if len(c.sc.lut) == n && key == c.sc.lutKey {
		return c.sc.lut
	}
	if cap(c.sc.lut) < n {
		c.sc.lut = make([]int16, n)
	}
	lut := c.sc.lut[:n]
	for u := range n {
		lut[u] = c.hu(uint32(u), f, lo, hi, pad)
	}
	c.sc.lut, c.sc.lutKey = lut, key
	return lut
}

// fromNative converts one frame of native bytes in byte order bo.
func (c *converter) fromNative(src []byte, bo binary.ByteOrder, f *Frame, out []int16) {
	n := len(out)
	switch c.h.BitsAllocated {
	case 8:
		lut := c.lutFor(f)
		for i, b := range src[:n] {
			out[i] = lut[b]
		}
	case 16:
		lut := c.lutFor(f)
		src = src[:2*n]
		if bo == binary.LittleEndian {
			for i := range out {
				out[i] = lut[uint16(src[2*i])|uint16(src[2*i+1])<<8]
			}
		} else {
			for i := range out {
				out[i] = lut[uint16(src[2*i+1])|uint16(src[2*i])<<8]
			}
		}
	case 32:
		lo, hi, pad := c.padRange()
		for i := range out {
			out[i] = c.hu(bo.Uint32(src[4*i:]), f, lo, hi, pad)
		}
	}
}

// fromSamples converts one frame of codec samples.
func (c *converter) fromSamples(src []uint16, f *Frame, out []int16) {
	lut := c.lutFor(f)
	m := uint16(len(lut) - 1)
	for i := range out {
		out[i] = lut[src[i]&m]
	}
}

func (c *converter) frameOut(dst func(int) []int16, i int) ([]int16, error) {
	out := dst(i)
	if out != nil && len(out) != c.h.Rows*c.h.Columns {
		return nil, fmt.Errorf("volume: destination for frame %d has %d values, want %d", i, len(out), c.h.Rows*c.h.Columns)
	}
	return out, nil
}

// native streams uncompressed frames (PS3.5 8.1.1) from the walker.
func (c *converter) native(w *walker, raw *rawFile, dst func(int) []int16) error {
	h := c.h
	fb := h.frameBytes()
	want := fb * int64(h.NumberOfFrames)
	have := int64(raw.pixels.length)
	if raw.pixels.length == undefinedLength {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("undefined length with native transfer syntax %s", raw.syn))
	}
	if have < want {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("%d bytes, want %d for %d frame(s) of %d×%d×%d bits",
			have, want, h.NumberOfFrames, h.Columns, h.Rows, h.BitsAllocated))
	}
	if l := w.left(); l >= 0 && l < want {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("file is truncated: %d bytes of pixel data left, want %d", l, want))
	}
	buf := c.sc.frameBuf(fb)
	bo := raw.syn.byteOrder()
	for i := 0; i < h.NumberOfFrames; i++ {
		out, err := c.frameOut(dst, i)
		if err != nil {
			return err
		}
		if out == nil {
			if err := w.skip(fb); err != nil {
				return tagged(tagPixelData, "Pixel Data", err)
			}
			continue
		}
		if err := w.read(buf); err != nil {
			return tagged(tagPixelData, "Pixel Data", err)
		}
		c.fromNative(buf, bo, &h.Frames[i], out)
	}
	return nil
}

// readItem reads one item of encapsulated pixel data; end is true at the
// sequence delimiter. The buffer grows with the bytes actually read, so a
// forged length cannot allocate more than the file holds.
func (w *walker) readItem() (data []byte, end bool, err error) {
	eh, err := w.next(true)
	if err != nil {
		return nil, false, err
	}
	switch eh.tag {
	case tagSeqDelim:
		return nil, true, nil
	case tagItem:
	default:
		return nil, false, formatErrorf("found %v where a pixel data item was expected", eh.tag)
	}
	if eh.length == undefinedLength {
		return nil, false, formatErrorf("pixel data item of undefined length")
	}
	if l := w.left(); l >= 0 && int64(eh.length) > l {
		return nil, false, formatErrorf("pixel data item of %d bytes runs past the end of the file (%d bytes left): truncated file or wrong length", eh.length, l)
	}
	var b bytes.Buffer
	b.Grow(int(min(eh.length, 1<<20)))
	k, err := io.CopyN(&b, w.r, int64(eh.length))
	w.n += k
	if err != nil {
		return nil, false, truncated(err)
	}
	return b.Bytes(), false, nil
}

// encapsulated reads the fragments of encapsulated pixel data (PS3.5
// A.4), joins them into frames and decodes each into the caller's buffer.
// The file's compressed bytes are held while its frames are decoded (one
// file at a time); decoded frames go straight to their destination.
//
// Frame boundaries come, in this order, from the Basic Offset Table (the
// first item), the Extended Offset Table (7FE0,0001), one fragment per
// frame when the counts match, or, failing those, from the frames
// themselves: a JPEG family frame starts with an SOI marker (FFD8) or a
// JPEG 2000 codestream with SOC (FF4F); an RLE frame starts with its
// 64-byte header (PS3.5 G.5) whose segment count is fixed by the pixel
// format; an uncompressed frame has a known size. One frame takes every
// fragment.
func (c *converter) encapsulated(w *walker, raw *rawFile, dst func(int) []int16) error {
	h := c.h
	codec := codecs[raw.syn.codec]
	bot, end, err := w.readItem()
	if err != nil || end {
		if err == nil {
			err = formatErrorf("no Basic Offset Table item")
		}
		return tagged(tagPixelData, "Pixel Data", err)
	}
	var frags [][]byte
	for {
		data, end, err := w.readItem()
		if err != nil {
			return tagged(tagPixelData, "Pixel Data", err)
		}
		if end {
			break
		}
		frags = append(frags, data)
	}
	starts := c.frameStarts(frags, bot, raw)
	if len(starts) != h.NumberOfFrames {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("found %d frame(s) in %d fragment(s), want %d (Number of Frames)",
			len(starts), len(frags), h.NumberOfFrames))
	}
	for k, first := range starts {
		out, err := c.frameOut(dst, k)
		if err != nil {
			return err
		}
		if out == nil {
			continue
		}
		last := len(frags)
		if k+1 < len(starts) {
			last = starts[k+1]
		}
		data := frags[first]
		if last-first > 1 {
			data = bytes.Join(frags[first:last], nil)
		}
		d, err := codec(data, h)
		if err != nil {
			return tagged(tagPixelData, fmt.Sprintf("Pixel Data frame %d (%s)", k+1, raw.syn.name), err)
		}
		if err := c.emit(d, k, out); err != nil {
			return tagged(tagPixelData, fmt.Sprintf("Pixel Data frame %d", k+1), err)
		}
	}
	return nil
}

// frameStarts returns the index of the first fragment of each frame.
func (c *converter) frameStarts(frags [][]byte, bot []byte, raw *rawFile) []int {
	n := c.h.NumberOfFrames
	if len(frags) == 0 {
		return nil
	}
	if off := c.offsets(bot, raw); off != nil {
		// Offsets count from the first fragment's item tag; each item
		// is an 8-byte header and its value.
		var starts []int
		var pos int64
		j := 0
		for i, f := range frags {
			if j < len(off) && pos == off[j] {
				starts = append(starts, i)
				j++
			}
			pos += 8 + int64(len(f))
		}
		if len(starts) == n {
			return starts
		}
		// A table that does not land on fragment boundaries is wrong;
		// fall back to the frames themselves.
	}
	if n == 1 {
		return []int{0}
	}
	if len(frags) == n {
		seq := make([]int, n)
		for i := range seq {
			seq[i] = i
		}
		return seq
	}
	// peek returns up to k bytes from the start of fragment i onwards.
	peek := func(i, k int) []byte {
		var b []byte
		for ; i < len(frags) && len(b) < k; i++ {
			b = append(b, frags[i][:min(len(frags[i]), k-len(b))]...)
		}
		return b
	}
	starts := []int{0}
	var size int64 = int64(len(frags[0]))
	for i := 1; i < len(frags); i++ {
		var begins bool
		switch raw.syn.codec {
		case "rle":
			begins = isRLEHeader(peek(i, 64), uint32(c.h.SamplesPerPixel*c.h.BitsAllocated/8))
		case "raw":
			begins = size >= c.h.frameBytes()
		default:
			b := peek(i, 2)
			begins = len(b) == 2 && b[0] == 0xFF && (b[1] == 0xD8 || b[1] == 0x4F)
		}
		if begins {
			starts = append(starts, i)
			size = 0
		}
		size += int64(len(frags[i]))
	}
	return starts
}

// offsets returns the frame start offsets from the Basic Offset Table
// (PS3.5 A.4, Table A.4-1) or the Extended Offset Table, or nil when
// neither is usable: empty, of the wrong count, or not increasing from 0.
func (c *converter) offsets(bot []byte, raw *rawFile) []int64 {
	n := c.h.NumberOfFrames
	var off []int64
	bo := binary.LittleEndian // encapsulated syntaxes are little endian
	switch {
	case len(bot) == 4*n && n > 0:
		for i := range n {
			off = append(off, int64(bo.Uint32(bot[4*i:])))
		}
	case len(bot) == 0 && len(raw.pixels.eot) == 8*n && n > 0:
		for i := range n {
			off = append(off, int64(bo.Uint64(raw.pixels.eot[8*i:])))
		}
	default:
		return nil
	}
	if off[0] != 0 {
		return nil
	}
	for i := 1; i < len(off); i++ {
		if off[i] <= off[i-1] {
			return nil
		}
	}
	return off
}

// isRLEHeader reports whether b starts with an RLE header (PS3.5 G.5) of
// segs segments: the count, the first offset 64, increasing offsets, and
// zeros in the unused entries. Chance data matches it with probability
// about 2^-400.
func isRLEHeader(b []byte, segs uint32) bool {
	if len(b) < 64 || segs < 1 || segs > 15 {
		return false
	}
	le := binary.LittleEndian
	if le.Uint32(b) != segs || le.Uint32(b[4:]) != 64 {
		return false
	}
	prev := uint32(64)
	for i := uint32(1); i < 15; i++ {
		o := le.Uint32(b[4+4*i:])
		switch {
		case i < segs && o <= prev:
			return false
		case i >= segs && o != 0:
			return false
		}
		if i < segs {
			prev = o
		}
	}
	return true
}

// emit converts one decoded frame into out.
func (c *converter) emit(d decoded, frame int, out []int16) error {
	h := c.h
	f := &h.Frames[frame]
	n := h.Rows * h.Columns
	switch {
	case d.samples != nil:
		if len(d.samples) < n {
			return formatErrorf("decoded frame %d has %d samples, want %d", frame+1, len(d.samples), n)
		}
		if h.BitsAllocated == 32 {
			return unsupportedf("32-bit samples from a codec")
		}
		c.fromSamples(d.samples, f, out)
	case d.native != nil:
		if int64(len(d.native)) < h.frameBytes() {
			return formatErrorf("decoded frame %d has %d bytes, want %d", frame+1, len(d.native), h.frameBytes())
		}
		c.fromNative(d.native, binary.LittleEndian, f, out)
	default:
		return errors.New("volume: codec returned no pixels")
	}
	return nil
}
