package codec

import "encoding/binary"

// Entropy-coded segment reading and Huffman decoding, ITU-T T.81 Annex C
// (table specification), F.2.2.3/F.2.2.4 (DECODE and RECEIVE/EXTEND),
// B.1.1.5 (byte stuffing) and B.1.1.2 (fill bytes before markers).

// bitReader delivers the bits of one entropy-coded segment (the data
// between SOS or RSTn and the next marker). It removes stuffed zero bytes
// (0xFF 0x00 -> 0xFF) and stops at the first marker; after that it supplies
// zero bits so that the hot decode loops need no end-of-data branches, and
// counts them in pad so that a scan which consumed any of them can be
// reported as truncated instead of silently producing garbage.
type bitReader struct {
	data     []byte
	pos      int    // next byte of data not yet loaded into acc
	acc      uint64 // the low n bits are the next bits of the stream, MSB first
	n        uint   // number of valid bits in acc
	pad      int    // how many of the low bits of acc (and bits already consumed) were invented zeros
	atMarker bool   // pos rests on the 0xFF that starts a marker
}

// reset starts reading a new entropy-coded segment at pos.
func (r *bitReader) reset(pos int) {
	r.pos = pos
	r.acc = 0
	r.n = 0
	r.pad = 0
	r.atMarker = false
}

// fill tops up acc to at least 57 valid bits.
func (r *bitReader) fill() {
	// Fast path: when the next 8 bytes hold no 0xFF there is neither
	// stuffing nor a marker among them, so whole bytes can be taken at once.
	if !r.atMarker && r.pos+8 <= len(r.data) {
		w := binary.BigEndian.Uint64(r.data[r.pos:])
		if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - r.n) / 8 // whole bytes that fit; n <= 56 so k >= 1
			r.acc = r.acc<<(8*k) | w>>(64-8*k)
			r.n += 8 * k
			r.pos += int(k)
			return
		}
	}
	for r.n <= 56 {
		if r.atMarker || r.pos >= len(r.data) {
			r.acc <<= 8
			r.n += 8
			r.pad += 8
			continue
		}
		b := r.data[r.pos]
		if b == 0xFF {
			// B.1.1.5: an 0xFF data byte is always followed by a stuffed
			// 0x00; anything else means a marker (possibly preceded by fill
			// bytes, B.1.1.2) ends the segment.
			if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0x00 {
				r.pos += 2
			} else {
				r.atMarker = true
				continue
			}
		} else {
			r.pos++
		}
		r.acc = r.acc<<8 | uint64(b)
		r.n += 8
	}
}

// overrun reports whether invented padding bits have been consumed, i.e.
// the segment ended before the decoder had read everything it needed.
func (r *bitReader) overrun() bool { return int(r.n) < r.pad }

// bits returns the next k bits (k <= 16) as an unsigned number.
func (r *bitReader) bits(k uint) int {
	if r.n < k {
		r.fill()
	}
	r.n -= k
	return int(r.acc>>r.n) & (1<<k - 1)
}

// bit returns the next bit.
func (r *bitReader) bit() int {
	if r.n == 0 {
		r.fill()
	}
	r.n--
	return int(r.acc>>r.n) & 1
}

// receiveExtend reads s additional bits and maps them to a signed value
// (F.2.2.1 RECEIVE followed by EXTEND, Figure F.12): values whose leading
// bit is 0 are negative.
func (r *bitReader) receiveExtend(s uint) int {
	if s == 0 {
		return 0
	}
	v := r.bits(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// nextMarker returns the offset of the marker that ends the current
// segment. Bytes between the end of the entropy-coded data and the marker
// are skipped: some encoders leave a few, and T.81 assigns them no meaning.
// Returns len(data) if no marker follows.
func (r *bitReader) nextMarker() int {
	p := r.pos
	for p < len(r.data) {
		if r.data[p] == 0xFF && (p+1 >= len(r.data) || r.data[p+1] != 0x00) {
			return p
		}
		p++
	}
	return p
}

// lookBits is the width of the direct-lookup table: codes up to this
// length (which in practice carry almost all symbols) decode with a single
// table access.
const lookBits = 9

// huffTable is one decoding table built from a DHT segment (B.2.4.2).
type huffTable struct {
	defined bool
	// look maps the next lookBits bits to codeLength<<8 | symbol, or 0 when
	// the code is longer than lookBits.
	look [1 << lookBits]uint16
	// maxcode, valptr: the F.2.2.3 DECODE procedure for long codes.
	// maxcode[l] is the largest code of length l, or -1 if none;
	// vals[valptr[l]+code] is the symbol of a length-l code.
	maxcode [17]int32
	valptr  [17]int32
	vals    [256]uint8
	nvals   int
}

// build generates the code table from the list of code counts per length
// (BITS) and the symbols (HUFFVAL), as in Annex C (Figures C.1 to C.3).
// It reports false if the counts describe more codes of some length than
// can exist, which would make the code not prefix-free.
func (h *huffTable) build(counts *[17]int, vals []byte) bool {
	*h = huffTable{}
	copy(h.vals[:], vals)
	h.nvals = len(vals)
	code, k := 0, 0
	for l := 1; l <= 16; l++ {
		cnt := counts[l]
		h.maxcode[l] = -1
		if cnt > 0 {
			first := code
			code += cnt
			if code > 1<<l {
				return false
			}
			h.maxcode[l] = int32(code - 1)
			h.valptr[l] = int32(k - first)
			if l <= lookBits {
				shift := lookBits - l
				for i := 0; i < cnt; i++ {
					e := uint16(l)<<8 | uint16(vals[k+i])
					base := (first + i) << shift
					for s := 0; s < 1<<shift; s++ {
						h.look[base+s] = e
					}
				}
			}
			k += cnt
		}
		code <<= 1
	}
	h.defined = true
	return true
}

// decode reads one Huffman-coded symbol. ok is false if the bits match no
// code of the table (possible because T.81 tables need not be complete).
func (r *bitReader) decode(h *huffTable) (sym int, ok bool) {
	if r.n < 16 {
		r.fill()
	}
	if e := h.look[(r.acc>>(r.n-lookBits))&(1<<lookBits-1)]; e != 0 {
		r.n -= uint(e >> 8)
		return int(e & 0xFF), true
	}
	code := int32(0)
	for l := uint(1); l <= 16; l++ {
		code = code<<1 | int32((r.acc>>(r.n-l))&1)
		if code <= h.maxcode[l] {
			r.n -= l
			return int(h.vals[h.valptr[l]+code]), true
		}
	}
	return 0, false
}

// diff decodes a Huffman-coded magnitude category and its extra bits in
// one step, the unit of both DC differences (F.2.2.1) and lossless
// differences (H.1.2.2). It reads at most 16+16 bits after a single
// refill. Category 16 (lossless only) has no extra bits and means 32768.
// ok is false for a bad code or a category above 16.
func (r *bitReader) diff(h *huffTable) (v int, ok bool) {
	if r.n < 32 {
		r.fill()
	}
	var s int
	if e := h.look[(r.acc>>(r.n-lookBits))&(1<<lookBits-1)]; e != 0 {
		r.n -= uint(e >> 8)
		s = int(e & 0xFF)
	} else if s, ok = r.decode(h); !ok {
		return 0, false
	}
	switch {
	case s == 0:
		return 0, true
	case s < 16:
		r.n -= uint(s)
		v = int(r.acc>>r.n) & (1<<s - 1)
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		return v, true
	case s == 16:
		return 32768, true
	}
	return 0, false
}
