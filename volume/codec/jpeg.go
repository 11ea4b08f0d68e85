package codec

import "fmt"

// Image is a decoded frame. Samples are interleaved: the sample of
// component c at column x, row y is Pix[(y*Width+x)*Components+c]. Every
// sample is less than 1<<Precision. No colour conversion is applied: a
// YCbCr JPEG comes back as Y, Cb, Cr, exactly as coded.
type Image struct {
	Width, Height int
	// Components is the number of components in the frame (1 for CT).
	Components int
	// Precision is the sample precision P of the frame header in bits:
	// 8 or 12 for DCT-based processes, 2 to 16 for lossless.
	Precision int
	// Pix holds Width*Height*Components samples; nil from DecodeJPEGConfig.
	Pix []uint16
}

// Marker codes, T.81 Table B.1.
const (
	mSOF0  = 0xC0 // baseline DCT
	mSOF1  = 0xC1 // extended sequential DCT, Huffman
	mSOF2  = 0xC2 // progressive DCT, Huffman
	mSOF3  = 0xC3 // lossless (sequential), Huffman
	mDHT   = 0xC4
	mDAC   = 0xCC
	mRST0  = 0xD0
	mRST7  = 0xD7
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDQT   = 0xDB
	mDNL   = 0xDC
	mDRI   = 0xDD
	mDHP   = 0xDE
	mEXP   = 0xDF
	mAPP0  = 0xE0
	mAPPF  = 0xEF
	mSOF55 = 0xF7 // JPEG-LS start of frame, ITU-T T.87
	mLSE   = 0xF8 // JPEG-LS parameters, ITU-T T.87
	mCOM   = 0xFE
	mTEM   = 0x01
)

// markerName gives the T.81 mnemonic of a marker for error messages.
func markerName(m byte) string {
	switch {
	case m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != mDAC:
		return fmt.Sprintf("SOF%d", m-0xC0)
	case m >= mRST0 && m <= mRST7:
		return fmt.Sprintf("RST%d", m-mRST0)
	case m >= mAPP0 && m <= mAPPF:
		return fmt.Sprintf("APP%d", m-mAPP0)
	}
	switch m {
	case mDHT:
		return "DHT"
	case 0xC8:
		return "JPG"
	case mDAC:
		return "DAC"
	case mSOI:
		return "SOI"
	case mEOI:
		return "EOI"
	case mSOS:
		return "SOS"
	case mDQT:
		return "DQT"
	case mDNL:
		return "DNL"
	case mDRI:
		return "DRI"
	case mDHP:
		return "DHP"
	case mEXP:
		return "EXP"
	case mSOF55:
		return "SOF55"
	case mLSE:
		return "LSE"
	case mCOM:
		return "COM"
	case mTEM:
		return "TEM"
	}
	return fmt.Sprintf("marker 0x%02X", m)
}

// component is one image component of the frame (B.2.2) together with
// its decoding state.
type component struct {
	id     int
	h, v   int // sampling factors
	tq     int // quantization table selector
	w, ht  int // component size in samples (A.1.1)
	bw, bh int // data units per row and per column in the MCU-padded grid
	stride int // samples per row of plane

	plane []uint16 // reconstructed samples, stride*bh*unit, allocated at first scan
	coef  []int16  // progressive only: quantized coefficients, 64 per block in zig-zag order

	qt       [64]int32 // quantization table latched at the component's first scan (zig-zag order)
	dcPred   int       // DC predictor (F.2.1.3.1), reset at scan start and restarts
	coded    bool      // sequential/lossless: already in a scan; progressive: DC first scan seen
	pointXfm int       // lossless point transform Pt of the component's scan
}

// scanComp is a component of a scan header with its table selectors.
type scanComp struct {
	c      *component
	td, ta int
}

// scanHeader is a parsed SOS segment (B.2.3).
type scanHeader struct {
	comps          []scanComp
	ss, se, ah, al int
}

// decoder holds the state of one DecodeJPEG call.
type decoder struct {
	data []byte
	pos  int

	sofMarker   byte // 0 until a frame header has been read
	progressive bool
	lossless    bool
	precision   int
	width       int
	height      int
	comps       []component
	hmax, vmax  int
	mcusX       int // MCUs per row and column of an interleaved scan
	mcusY       int

	dc, ac    [4]huffTable // DC (also lossless) and AC tables by destination
	quant     [4][64]int32 // zig-zag order
	quantSet  [4]bool
	restart   int // restart interval in MCUs, 0 if none
	scans     int
	br        bitReader
	blockBuf  [64]int32
	idctSpace [64]float64

	// onBlock, when set (by tests only), receives every block's
	// dequantized coefficients in natural order before the inverse DCT,
	// so that the IDCT can be checked against an exact reference.
	onBlock func(c *component, bx, by int, coef *[64]int32)
}

// DecodeJPEG decodes one JPEG stream (one DICOM frame: the concatenation
// of its fragments) holding a baseline, extended, progressive or lossless
// (process 14) Huffman-coded image. See the package documentation for the
// supported processes, the errors returned and the resource bounds.
func DecodeJPEG(data []byte) (*Image, error) {
	d := &decoder{data: data}
	return d.decode(false)
}

// DecodeJPEGConfig reads the headers of a JPEG stream up to its frame
// header and returns the image geometry with a nil Pix, without decoding
// any sample data. It applies the same validation and size limits as
// DecodeJPEG, so an image it accepts is not rejected later for its size.
func DecodeJPEGConfig(data []byte) (*Image, error) {
	d := &decoder{data: data}
	return d.decode(true)
}

func (d *decoder) decode(configOnly bool) (*Image, error) {
	if len(d.data) < 2 || d.data[0] != 0xFF || d.data[1] != mSOI {
		// JPEG 2000 (DICOM .90/.91) reaches the same code paths in
		// viewers; name it rather than calling it corrupt JPEG.
		if len(d.data) >= 4 && d.data[0] == 0xFF && d.data[1] == 0x4F && d.data[2] == 0xFF && d.data[3] == 0x51 {
			return nil, jpegUnsupported("SOC", 0, "JPEG 2000 codestreams are not supported")
		}
		if len(d.data) >= 12 && string(d.data[4:12]) == "jP  \r\n\x87\n" {
			return nil, jpegUnsupported("JP2 signature", 0, "JPEG 2000 files are not supported")
		}
		return nil, jpegErr("SOI", 0, "stream does not start with an SOI marker (FF D8)")
	}
	d.pos = 2
	for {
		m, off, ok := d.nextMarker()
		if !ok {
			// Some encoders omit EOI; accept that once a scan has been
			// decoded, because every sample has then been read.
			if d.scans > 0 && !configOnly {
				return d.finish(len(d.data))
			}
			if d.pos < len(d.data) {
				return nil, jpegErr("", d.pos, "expected a marker, found byte 0x%02X", d.data[d.pos])
			}
			return nil, jpegErr("", len(d.data), "unexpected end of data (no frame header or no EOI)")
		}
		name := markerName(m)
		switch {
		case m == mEOI:
			if d.sofMarker == 0 {
				return nil, jpegErr(name, off, "end of image before any frame header")
			}
			return d.finish(off)
		case m >= mSOF0 && m <= mSOF3:
			seg, err := d.segment(name, off)
			if err != nil {
				return nil, err
			}
			if err := d.parseSOF(m, seg, off); err != nil {
				return nil, err
			}
			if configOnly {
				return d.header(), nil
			}
		case m == 0xC5 || m == 0xC6 || m == 0xC7 || m == 0xCD || m == 0xCE || m == 0xCF || m == mDHP || m == mEXP:
			return nil, jpegUnsupported(name, off, "hierarchical (differential) JPEG is not supported")
		case m == 0xC9 || m == 0xCA || m == 0xCB || m == mDAC:
			return nil, jpegUnsupported(name, off, "arithmetic-coded JPEG is not supported")
		case m == 0xC8:
			return nil, jpegUnsupported(name, off, "reserved JPEG extension marker")
		case m == mSOF55 || m == mLSE:
			return nil, jpegUnsupported(name, off, "JPEG-LS is not supported (ITU-T T.87 stream, transfer syntax 1.2.840.10008.1.2.4.80/.81)")
		case m == mDHT:
			seg, err := d.segment(name, off)
			if err != nil {
				return nil, err
			}
			if err := d.parseDHT(seg, off); err != nil {
				return nil, err
			}
		case m == mDQT:
			seg, err := d.segment(name, off)
			if err != nil {
				return nil, err
			}
			if err := d.parseDQT(seg, off); err != nil {
				return nil, err
			}
		case m == mDRI:
			seg, err := d.segment(name, off)
			if err != nil {
				return nil, err
			}
			if len(seg) != 2 {
				return nil, jpegErr(name, off, "length %d, want 4", len(seg)+2)
			}
			d.restart = int(seg[0])<<8 | int(seg[1])
		case m == mSOS:
			// configOnly has returned at the frame header already.
			if d.sofMarker == 0 {
				return nil, jpegErr(name, off, "scan before frame header")
			}
			seg, err := d.segment(name, off)
			if err != nil {
				return nil, err
			}
			sh, err := d.parseSOS(seg, off)
			if err != nil {
				return nil, err
			}
			if err := d.decodeScan(sh, off); err != nil {
				return nil, err
			}
		case m >= mAPP0 && m <= mAPPF, m == mCOM, m >= 0xF0 && m <= 0xFD:
			// Application data, comments and JPEG extensions (B.2.4.5,
			// B.2.4.6) carry nothing the sample decoder needs.
			if _, err := d.segment(name, off); err != nil {
				return nil, err
			}
		case m == mTEM:
			// Stand-alone marker without a segment (B.1.1.3).
		case m >= mRST0 && m <= mRST7:
			// Some encoders end the last restart interval with an RSTn
			// too; after a scan that is harmless, so skip it.
			if d.scans == 0 {
				return nil, jpegErr(name, off, "restart marker outside entropy-coded data")
			}
		case m == mSOI:
			return nil, jpegErr(name, off, "second SOI marker")
		case m == mDNL:
			return nil, jpegUnsupported(name, off, "DNL (number of lines defined after the first scan) is not supported")
		default:
			return nil, jpegErr(name, off, "unknown or reserved marker")
		}
	}
}

// nextMarker reads the marker at d.pos, skipping fill bytes (B.1.1.2). It
// returns the marker code and the offset of its final 0xFF byte; ok is
// false at end of data or if d.pos holds something other than a marker.
func (d *decoder) nextMarker() (m byte, off int, ok bool) {
	p := d.pos
	if p >= len(d.data) || d.data[p] != 0xFF {
		return 0, p, false
	}
	for p < len(d.data) && d.data[p] == 0xFF {
		p++
	}
	if p >= len(d.data) {
		d.pos = p
		return 0, p, false
	}
	m = d.data[p]
	if m == 0x00 {
		// A stuffed zero outside entropy-coded data.
		return 0, p - 1, false
	}
	d.pos = p + 1
	return m, p - 1, true
}

// segment returns the parameters of the marker segment at d.pos (the bytes
// after the 2-byte length field) and advances past it (B.1.1.4).
func (d *decoder) segment(name string, off int) ([]byte, error) {
	if d.pos+2 > len(d.data) {
		return nil, jpegErr(name, off, "segment length truncated")
	}
	l := int(d.data[d.pos])<<8 | int(d.data[d.pos+1])
	if l < 2 {
		return nil, jpegErr(name, off, "segment length %d < 2", l)
	}
	if d.pos+l > len(d.data) {
		return nil, jpegErr(name, off, "segment length %d exceeds the %d bytes left", l, len(d.data)-d.pos)
	}
	seg := d.data[d.pos+2 : d.pos+l]
	d.pos += l
	return seg, nil
}

func (d *decoder) header() *Image {
	return &Image{Width: d.width, Height: d.height, Components: len(d.comps), Precision: d.precision}
}

// parseSOF reads a frame header (B.2.2) and sets up the component geometry.
func (d *decoder) parseSOF(m byte, seg []byte, off int) error {
	name := markerName(m)
	if d.sofMarker != 0 {
		return jpegErr(name, off, "second frame header (only one frame per stream is allowed outside hierarchical mode)")
	}
	if len(seg) < 6 {
		return jpegErr(name, off, "frame header too short (%d bytes)", len(seg))
	}
	p := int(seg[0])
	y := int(seg[1])<<8 | int(seg[2])
	x := int(seg[3])<<8 | int(seg[4])
	nf := int(seg[5])
	switch m {
	case mSOF0:
		if p != 8 {
			return jpegErr(name, off, "baseline precision %d, must be 8", p)
		}
	case mSOF1, mSOF2:
		if p != 8 && p != 12 {
			return jpegErr(name, off, "DCT precision %d, must be 8 or 12", p)
		}
	case mSOF3:
		if p < 2 || p > 16 {
			return jpegErr(name, off, "lossless precision %d outside 2..16", p)
		}
	}
	if y == 0 {
		return jpegUnsupported(name, off, "frame height 0 (height defined by a later DNL marker) is not supported")
	}
	if x == 0 {
		return jpegErr(name, off, "frame width 0")
	}
	if nf == 0 {
		return jpegErr(name, off, "no components")
	}
	if len(seg) != 6+3*nf {
		return jpegErr(name, off, "length %d does not match %d components", len(seg)+2, nf)
	}
	if nf > 4 {
		if m == mSOF2 {
			return jpegErr(name, off, "%d components, progressive frames allow at most 4", nf)
		}
		return jpegUnsupported(name, off, "%d components (at most 4 are supported)", nf)
	}
	if int64(x)*int64(y)*int64(nf) > MaxImageSamples {
		return jpegUnsupported(name, off, "image of %d×%d×%d samples exceeds MaxImageSamples (%d)", x, y, nf, MaxImageSamples)
	}
	d.comps = make([]component, nf)
	d.hmax, d.vmax = 1, 1
	for i := range d.comps {
		b := seg[6+3*i:]
		c := &d.comps[i]
		c.id = int(b[0])
		c.h, c.v = int(b[1]>>4), int(b[1]&15)
		c.tq = int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return jpegErr(name, off, "component %d sampling factors %d×%d outside 1..4", c.id, c.h, c.v)
		}
		if c.tq > 3 {
			return jpegErr(name, off, "component %d quantization table %d > 3", c.id, c.tq)
		}
		for j := 0; j < i; j++ {
			if d.comps[j].id == c.id {
				return jpegErr(name, off, "duplicate component identifier %d", c.id)
			}
		}
		d.hmax = max(d.hmax, c.h)
		d.vmax = max(d.vmax, c.v)
	}
	unit := 8
	if m == mSOF3 {
		unit = 1
	}
	d.mcusX = ceilDiv(x, unit*d.hmax)
	d.mcusY = ceilDiv(y, unit*d.vmax)
	total := int64(0)
	for i := range d.comps {
		c := &d.comps[i]
		c.w = ceilDiv(x*c.h, d.hmax)
		c.ht = ceilDiv(y*c.v, d.vmax)
		c.bw = d.mcusX * c.h
		c.bh = d.mcusY * c.v
		c.stride = c.bw * unit
		total += int64(c.stride) * int64(c.bh*unit)
	}
	// Planes are padded to whole MCUs; for pathological shapes (1 pixel
	// wide, large sampling factors) that can be much more than the image.
	if total > 2*MaxImageSamples {
		return jpegUnsupported(name, off, "MCU-padded buffers of %d samples exceed 2×MaxImageSamples", total)
	}
	d.sofMarker = m
	d.progressive = m == mSOF2
	d.lossless = m == mSOF3
	d.precision = p
	d.width, d.height = x, y
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// parseDHT reads one or more Huffman table definitions (B.2.4.2).
func (d *decoder) parseDHT(seg []byte, off int) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return jpegErr("DHT", off, "table definition truncated")
		}
		tc, th := int(seg[0]>>4), int(seg[0]&15)
		if tc > 1 || th > 3 {
			return jpegErr("DHT", off, "table class %d / destination %d out of range", tc, th)
		}
		var counts [17]int
		n := 0
		for i := 1; i <= 16; i++ {
			counts[i] = int(seg[i])
			n += counts[i]
		}
		if n > 256 {
			return jpegErr("DHT", off, "table defines %d codes, at most 256 allowed", n)
		}
		if len(seg) < 17+n {
			return jpegErr("DHT", off, "table values truncated")
		}
		t := &d.dc[th]
		if tc == 1 {
			t = &d.ac[th]
		}
		if !t.build(&counts, seg[17:17+n]) {
			return jpegErr("DHT", off, "code lengths of table %d/%d overflow (not a prefix code)", tc, th)
		}
		seg = seg[17+n:]
	}
	return nil
}

// parseDQT reads one or more quantization tables (B.2.4.1).
func (d *decoder) parseDQT(seg []byte, off int) error {
	for len(seg) > 0 {
		pq, tq := int(seg[0]>>4), int(seg[0]&15)
		if pq > 1 || tq > 3 {
			return jpegErr("DQT", off, "precision %d / destination %d out of range", pq, tq)
		}
		size := 64 << pq
		if len(seg) < 1+size {
			return jpegErr("DQT", off, "table truncated")
		}
		for k := 0; k < 64; k++ {
			if pq == 0 {
				d.quant[tq][k] = int32(seg[1+k])
			} else {
				d.quant[tq][k] = int32(seg[1+2*k])<<8 | int32(seg[2+2*k])
			}
		}
		d.quantSet[tq] = true
		seg = seg[1+size:]
	}
	return nil
}

// parseSOS reads a scan header (B.2.3) and checks it against the frame.
func (d *decoder) parseSOS(seg []byte, off int) (*scanHeader, error) {
	if len(seg) < 1 {
		return nil, jpegErr("SOS", off, "empty scan header")
	}
	ns := int(seg[0])
	if ns < 1 || ns > 4 {
		return nil, jpegErr("SOS", off, "%d components in scan, must be 1..4", ns)
	}
	if len(seg) != 4+2*ns {
		return nil, jpegErr("SOS", off, "length %d does not match %d components", len(seg)+2, ns)
	}
	sh := &scanHeader{comps: make([]scanComp, ns)}
	blocks := 0
	for i := range sh.comps {
		cid := int(seg[1+2*i])
		var c *component
		for j := range d.comps {
			if d.comps[j].id == cid {
				c = &d.comps[j]
			}
		}
		if c == nil {
			return nil, jpegErr("SOS", off, "component %d is not in the frame", cid)
		}
		for j := 0; j < i; j++ {
			if sh.comps[j].c == c {
				return nil, jpegErr("SOS", off, "component %d appears twice in the scan", cid)
			}
		}
		sh.comps[i] = scanComp{c: c, td: int(seg[2+2*i] >> 4), ta: int(seg[2+2*i] & 15)}
		if sh.comps[i].td > 3 || sh.comps[i].ta > 3 {
			return nil, jpegErr("SOS", off, "Huffman table selector out of range for component %d", cid)
		}
		blocks += c.h * c.v
	}
	if ns > 1 && blocks > 10 {
		return nil, jpegErr("SOS", off, "interleaved MCU of %d data units exceeds 10", blocks)
	}
	sh.ss = int(seg[1+2*ns])
	sh.se = int(seg[2+2*ns])
	sh.ah = int(seg[3+2*ns] >> 4)
	sh.al = int(seg[3+2*ns] & 15)

	needDC, needAC := false, false
	switch {
	case d.lossless:
		// H.1.2: Ss selects the predictor (0 is only for differential
		// frames of hierarchical mode), Al is the point transform.
		if sh.ss < 1 || sh.ss > 7 {
			return nil, jpegErr("SOS", off, "lossless predictor %d outside 1..7", sh.ss)
		}
		if sh.al >= d.precision {
			return nil, jpegErr("SOS", off, "point transform %d not below precision %d", sh.al, d.precision)
		}
		needDC = true
	case d.progressive:
		// G.1.1.1: a scan codes either DC (Ss=Se=0) or one AC band of a
		// single component, possibly as a successive-approximation step.
		if sh.ss == 0 && sh.se != 0 {
			return nil, jpegErr("SOS", off, "progressive DC scan with Se=%d", sh.se)
		}
		if sh.ss > 0 && (sh.se < sh.ss || sh.se > 63 || ns != 1) {
			return nil, jpegErr("SOS", off, "bad progressive AC scan (Ss=%d Se=%d Ns=%d)", sh.ss, sh.se, ns)
		}
		if sh.al > 13 || (sh.ah != 0 && sh.ah != sh.al+1) {
			return nil, jpegErr("SOS", off, "bad successive approximation Ah=%d Al=%d", sh.ah, sh.al)
		}
		needDC = sh.ss == 0 && sh.ah == 0
		needAC = sh.ss > 0
		for _, sc := range sh.comps {
			if !sc.c.coded && !(sh.ss == 0 && sh.ah == 0) {
				return nil, jpegErr("SOS", off, "component %d: AC or refinement scan before its first DC scan", sc.c.id)
			}
		}
	default:
		// B.2.3 fixes Ss=0, Se=63, Ah=Al=0 for sequential scans, but some
		// encoders write zeros there (pydicom's JPEG-lossy.dcm has Se=0).
		// The fields carry no information in a sequential scan, and
		// libjpeg (so dcmtk and GDCM) only warns and decodes all 64
		// coefficients; so do we.
		sh.ss, sh.se, sh.ah, sh.al = 0, 63, 0, 0
		needDC, needAC = true, true
	}
	for _, sc := range sh.comps {
		if !d.progressive && sc.c.coded {
			return nil, jpegErr("SOS", off, "component %d appears in more than one scan", sc.c.id)
		}
		if needDC && !d.dc[sc.td].defined {
			return nil, jpegErr("SOS", off, "DC/lossless Huffman table %d not defined", sc.td)
		}
		if needAC && !d.ac[sc.ta].defined {
			return nil, jpegErr("SOS", off, "AC Huffman table %d not defined", sc.ta)
		}
	}
	return sh, nil
}

// allocate gives the scan's components their sample planes (and, for
// progressive frames, coefficient buffers) the first time they are coded.
// Before allocating it checks that the rest of the stream is long enough
// to encode them: every data unit of a component's first scan costs at
// least one bit (a Huffman code is at least one bit long), so a frame
// header that claims far more samples than the data could hold is
// rejected before any large allocation.
func (d *decoder) allocate(sh *scanHeader, off int) error {
	unit := 8
	if d.lossless {
		unit = 1
	}
	units := int64(0)
	for _, sc := range sh.comps {
		if sc.c.plane == nil {
			units += int64(ceilDiv(sc.c.w, unit)) * int64(ceilDiv(sc.c.ht, unit))
		}
	}
	if avail := 8 * int64(len(d.data)-d.pos); units > avail {
		return jpegErr("SOS", off, "scan needs at least %d bits for %d data units but only %d bits remain", units, units, avail)
	}
	for _, sc := range sh.comps {
		c := sc.c
		if c.plane != nil {
			continue
		}
		c.plane = make([]uint16, c.stride*c.bh*unit)
		if d.progressive {
			c.coef = make([]int16, c.bw*c.bh*64)
		}
	}
	return nil
}

// decodeScan decodes the entropy-coded data following a scan header and
// leaves d.pos at the marker that ends it.
func (d *decoder) decodeScan(sh *scanHeader, off int) error {
	d.scans++
	if d.scans > MaxScans {
		return jpegUnsupported("SOS", off, "more than MaxScans (%d) scans", MaxScans)
	}
	if err := d.allocate(sh, off); err != nil {
		return err
	}
	for _, sc := range sh.comps {
		c := sc.c
		if d.lossless {
			c.pointXfm = sh.al
			continue
		}
		// IJG and T.81 G.1.1.1 practice: the quantization table in force
		// when a component is first scanned is the one used for it.
		if !c.coded {
			if !d.quantSet[c.tq] {
				return jpegErr("SOS", off, "quantization table %d of component %d not defined", c.tq, c.id)
			}
			c.qt = d.quant[c.tq]
		}
	}
	d.br = bitReader{data: d.data}
	d.br.reset(d.pos)
	var err error
	switch {
	case d.lossless:
		err = d.decodeLossless(sh)
	case d.progressive:
		err = d.decodeProgressive(sh)
	default:
		err = d.decodeSequential(sh)
	}
	if err != nil {
		return err
	}
	if d.br.overrun() {
		return jpegErr("scan data", d.br.pos, "entropy-coded data ends before the scan is complete")
	}
	for _, sc := range sh.comps {
		sc.c.coded = true
	}
	d.pos = d.br.nextMarker()
	return nil
}

// mcuCount is the number of MCUs in a scan: for a single-component scan
// one data unit each (A.2.2), otherwise the interleaved grid (A.2.3).
func (d *decoder) mcuGrid(sh *scanHeader) (nx, ny int) {
	if len(sh.comps) == 1 {
		c := sh.comps[0].c
		unit := 8
		if d.lossless {
			unit = 1
		}
		return ceilDiv(c.w, unit), ceilDiv(c.ht, unit)
	}
	return d.mcusX, d.mcusY
}

// restartMarker finishes a restart interval (F.2.2.5 / H.2): the bits
// left in the current byte are padding, and the next marker must be the
// expected RSTn. n counts restart intervals from zero.
func (d *decoder) restartMarker(n int) error {
	if d.br.overrun() {
		return jpegErr("scan data", d.br.pos, "restart interval %d truncated", n)
	}
	p := d.br.nextMarker()
	q := p
	for q < len(d.data) && d.data[q] == 0xFF {
		q++
	}
	want := byte(mRST0 + n%8)
	if q >= len(d.data) {
		return jpegErr("scan data", p, "data ends where %s was expected", markerName(want))
	}
	if d.data[q] != want {
		return jpegErr(markerName(d.data[q]), q-1, "found where %s was expected", markerName(want))
	}
	d.br.reset(q + 1)
	return nil
}

// finish assembles the output image once all scans have been read.
func (d *decoder) finish(off int) (*Image, error) {
	if d.sofMarker == 0 {
		return nil, jpegErr("EOI", off, "no frame header")
	}
	if d.scans == 0 {
		return nil, jpegErr("EOI", off, "no scan")
	}
	for i := range d.comps {
		if !d.comps[i].coded {
			return nil, jpegErr("EOI", off, "component %d was never coded", d.comps[i].id)
		}
	}
	if d.progressive {
		d.progressiveIDCT()
	}
	img := d.header()
	nf := len(d.comps)
	maxv := uint16(1<<d.precision - 1)
	if d.precision == 16 {
		maxv = 0xFFFF
	}
	// Fast path, by far the common case for CT: one component whose plane
	// already has the image's row length; reuse it in place.
	if nf == 1 && d.comps[0].stride == d.width {
		c := &d.comps[0]
		pix := c.plane[:d.width*d.height]
		shift := uint(c.pointXfm)
		for i, s := range pix {
			pix[i] = (s << shift) & maxv
		}
		img.Pix = pix
		return img, nil
	}
	img.Pix = make([]uint16, d.width*d.height*nf)
	for ci := range d.comps {
		c := &d.comps[ci]
		shift := uint(c.pointXfm)
		full := c.h == d.hmax && c.v == d.vmax
		for y := 0; y < d.height; y++ {
			sy := y
			if !full {
				// Replication (nearest neighbour) upsampling: simple and
				// exact on the coded grid; colour is not the target here.
				sy = y * c.v / d.vmax
			}
			row := c.plane[sy*c.stride:]
			out := img.Pix[y*d.width*nf+ci:]
			for x := 0; x < d.width; x++ {
				sx := x
				if !full {
					sx = x * c.h / d.hmax
				}
				out[x*nf] = (row[sx] << shift) & maxv
			}
		}
	}
	return img, nil
}
