package codec

import "math"

// DCT-based processes: baseline and extended sequential (T.81 Annex F)
// and progressive (Annex G), Huffman coding only.

// zigzag maps the position of a coefficient in the zig-zag sequence
// (Figure A.6) to its natural row-major index in the 8×8 block.
var zigzag [64]int

// idctCos[x][u] = C(u)/2 · cos((2x+1)uπ/16), the separable factor of the
// inverse DCT of A.3.3, with C(0) = 1/√2 and C(u) = 1 otherwise.
var idctCos [8][8]float64

func init() {
	// Walk the anti-diagonals of the block, alternating direction,
	// which is how Figure A.6 is drawn.
	k := 0
	for s := 0; s < 15; s++ {
		lo, hi := max(0, s-7), min(s, 7)
		if s%2 == 1 {
			for r := lo; r <= hi; r++ {
				zigzag[k] = r*8 + (s - r)
				k++
			}
		} else {
			for r := hi; r >= lo; r-- {
				zigzag[k] = r*8 + (s - r)
				k++
			}
		}
	}
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			cu := 1.0
			if u == 0 {
				cu = 1 / math.Sqrt2
			}
			idctCos[x][u] = cu / 2 * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16)
		}
	}
}

// idct transforms one block of dequantized coefficients (natural order),
// level-shifts it (A.3.1) and writes the clamped samples to dst with the
// given row stride. A float64 separable transform is accurate to well
// under one unit even at 12-bit precision, so the result differs from an
// exact IDCT only where rounding falls on the other side of .5.
func (d *decoder) idct(in *[64]int32, dst []uint16, stride int) {
	shift := float64(int(1) << (d.precision - 1))
	maxv := float64(int(1)<<d.precision - 1)
	// DC-only blocks are very common (flat regions, air in CT): the
	// inverse transform is then a constant, DC/8.
	dcOnly := true
	for _, v := range in[1:] {
		if v != 0 {
			dcOnly = false
			break
		}
	}
	if dcOnly {
		v := math.Floor(float64(in[0])/8 + shift + 0.5)
		v = min(max(v, 0), maxv)
		s := uint16(v)
		for y := 0; y < 8; y++ {
			row := dst[y*stride : y*stride+8]
			for x := range row {
				row[x] = s
			}
		}
		return
	}
	tmp := &d.idctSpace
	// Both passes use the symmetry cos((2(7-x)+1)uπ/16) = (-1)^u ·
	// cos((2x+1)uπ/16): with E the sum over even u and O over odd u,
	// out[x] = E + O and out[7-x] = E - O, which halves the multiplies.
	// Rows: tmp[v][x] = Σ_u C(u)/2 cos((2x+1)uπ/16) S[v][u].
	for v := 0; v < 8; v++ {
		r := in[v*8 : v*8+8]
		t := tmp[v*8 : v*8+8]
		if r[1] == 0 && r[2] == 0 && r[3] == 0 && r[4] == 0 && r[5] == 0 && r[6] == 0 && r[7] == 0 {
			dc := float64(r[0]) * idctCos[0][0]
			for x := range t {
				t[x] = dc
			}
			continue
		}
		r0, r1, r2, r3 := float64(r[0]), float64(r[1]), float64(r[2]), float64(r[3])
		r4, r5, r6, r7 := float64(r[4]), float64(r[5]), float64(r[6]), float64(r[7])
		for x := 0; x < 4; x++ {
			cs := &idctCos[x]
			e := cs[0]*r0 + cs[2]*r2 + cs[4]*r4 + cs[6]*r6
			o := cs[1]*r1 + cs[3]*r3 + cs[5]*r5 + cs[7]*r7
			t[x] = e + o
			t[7-x] = e - o
		}
	}
	// Columns: s[y][x] = Σ_v C(v)/2 cos((2y+1)vπ/16) tmp[v][x].
	for x := 0; x < 8; x++ {
		t0, t1, t2, t3 := tmp[x], tmp[8+x], tmp[16+x], tmp[24+x]
		t4, t5, t6, t7 := tmp[32+x], tmp[40+x], tmp[48+x], tmp[56+x]
		for y := 0; y < 4; y++ {
			cs := &idctCos[y]
			e := cs[0]*t0 + cs[2]*t2 + cs[4]*t4 + cs[6]*t6
			o := cs[1]*t1 + cs[3]*t3 + cs[5]*t5 + cs[7]*t7
			dst[y*stride+x] = sampleOf(e+o, shift, maxv)
			dst[(7-y)*stride+x] = sampleOf(e-o, shift, maxv)
		}
	}
}

// sampleOf level-shifts, rounds and clamps one reconstructed value.
func sampleOf(s, shift, maxv float64) uint16 {
	v := math.Floor(s + shift + 0.5)
	return uint16(min(max(v, 0), maxv))
}

// decodeSequential decodes a baseline or extended sequential scan
// (F.2.2): every block is complete after one pass, so it is dequantized
// and inverse transformed straight into the component plane.
func (d *decoder) decodeSequential(sh *scanHeader) error {
	for i := range sh.comps {
		sh.comps[i].c.dcPred = 0
	}
	nx, ny := d.mcuGrid(sh)
	single := len(sh.comps) == 1
	ri := d.restart
	left := ri
	nrst := 0
	for my := 0; my < ny; my++ {
		for mx := 0; mx < nx; mx++ {
			if ri > 0 {
				if left == 0 {
					if err := d.restartMarker(nrst); err != nil {
						return err
					}
					nrst++
					left = ri
					for i := range sh.comps {
						sh.comps[i].c.dcPred = 0
					}
				}
				left--
			}
			for _, sc := range sh.comps {
				c := sc.c
				if single {
					if err := d.sequentialBlock(sc, mx, my); err != nil {
						return err
					}
					continue
				}
				for j := 0; j < c.v; j++ {
					for k := 0; k < c.h; k++ {
						if err := d.sequentialBlock(sc, mx*c.h+k, my*c.v+j); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// sequentialBlock decodes the block at block column bx, row by of the
// component (F.2.2.1 DC difference, F.2.2.2 AC run/size codes).
func (d *decoder) sequentialBlock(sc scanComp, bx, by int) error {
	c := sc.c
	blk := &d.blockBuf
	*blk = [64]int32{}
	diff, ok := d.br.diff(&d.dc[sc.td])
	if !ok {
		return jpegErr("scan data", d.br.pos, "invalid DC Huffman code or difference category > 16")
	}
	c.dcPred += diff
	blk[0] = int32(c.dcPred) * c.qt[0]
	// AC coefficients (F.2.2.2). The bit-reader state lives in locals and
	// the table lookup and RECEIVE/EXTEND are inlined: this loop runs for
	// every non-zero coefficient, and calls are costly in WebAssembly.
	ac := &d.ac[sc.ta]
	br := &d.br
	acc, n := br.acc, br.n
	for k := 1; k < 64; k++ {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		var rs int
		if e := ac.look[(acc>>(n-lookBits))&(1<<lookBits-1)]; e != 0 {
			n -= uint(e >> 8)
			rs = int(e & 0xFF)
		} else {
			br.acc, br.n = acc, n
			var ok bool
			if rs, ok = br.decode(ac); !ok {
				return jpegErr("scan data", br.pos, "invalid AC Huffman code")
			}
			acc, n = br.acc, br.n
		}
		r, s := rs>>4, uint(rs&15)
		if s == 0 {
			if r != 15 {
				break // EOB
			}
			k += 15 // ZRL: sixteen zero coefficients
			continue
		}
		k += r
		if k > 63 {
			br.acc, br.n = acc, n
			return jpegErr("scan data", br.pos, "AC run past the end of the block")
		}
		n -= s
		v := int(acc>>n) & (1<<s - 1)
		if v < 1<<(s-1) {
			v += -1<<s + 1
		}
		blk[zigzag[k]] = int32(v) * c.qt[k]
	}
	br.acc, br.n = acc, n
	if d.onBlock != nil {
		d.onBlock(c, bx, by, blk)
	}
	d.idct(blk, c.plane[by*8*c.stride+bx*8:], c.stride)
	return nil
}

// decodeProgressive decodes one scan of a progressive frame (G.1.2) into
// the coefficient buffers; the inverse transform runs once at the end.
func (d *decoder) decodeProgressive(sh *scanHeader) error {
	for i := range sh.comps {
		sh.comps[i].c.dcPred = 0
	}
	nx, ny := d.mcuGrid(sh)
	single := len(sh.comps) == 1
	ri := d.restart
	left := ri
	nrst := 0
	eobrun := 0
	for my := 0; my < ny; my++ {
		for mx := 0; mx < nx; mx++ {
			if ri > 0 {
				if left == 0 {
					if err := d.restartMarker(nrst); err != nil {
						return err
					}
					nrst++
					left = ri
					eobrun = 0
					for i := range sh.comps {
						sh.comps[i].c.dcPred = 0
					}
				}
				left--
			}
			for _, sc := range sh.comps {
				c := sc.c
				if single {
					var err error
					eobrun, err = d.progressiveBlock(sh, sc, c.coef[(my*c.bw+mx)*64:][:64], eobrun)
					if err != nil {
						return err
					}
					continue
				}
				for j := 0; j < c.v; j++ {
					for k := 0; k < c.h; k++ {
						b := ((my*c.v+j)*c.bw + mx*c.h + k) * 64
						var err error
						eobrun, err = d.progressiveBlock(sh, sc, c.coef[b:b+64], eobrun)
						if err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// progressiveBlock decodes this scan's contribution to one block (zig-zag
// ordered coefficients) and returns the updated end-of-band run.
func (d *decoder) progressiveBlock(sh *scanHeader, sc scanComp, coef []int16, eobrun int) (int, error) {
	br := &d.br
	al := uint(sh.al)
	if sh.ss == 0 {
		if sh.ah == 0 {
			// G.1.2.1: DC first scan, coded as in sequential mode and
			// scaled by the point transform.
			diff, ok := br.diff(&d.dc[sc.td])
			if !ok {
				return 0, jpegErr("scan data", br.pos, "invalid DC Huffman code or difference category > 16")
			}
			sc.c.dcPred += diff
			coef[0] = int16(sc.c.dcPred << al)
		} else if br.bit() != 0 {
			// G.1.2.1: DC refinement, one raw bit.
			coef[0] |= int16(1 << al)
		}
		return 0, nil
	}
	ac := &d.ac[sc.ta]
	if sh.ah == 0 {
		// G.1.2.2: AC first scan of the band Ss..Se, with end-of-band runs
		// EOBn spanning several blocks.
		if eobrun > 0 {
			return eobrun - 1, nil
		}
		for k := sh.ss; k <= sh.se; k++ {
			rs, ok := br.decode(ac)
			if !ok {
				return 0, jpegErr("scan data", br.pos, "invalid AC Huffman code")
			}
			r, s := rs>>4, rs&15
			if s == 0 {
				if r < 15 {
					// EOBr: this block and 2^r - 1 + (r bits) more end here.
					run := 1<<r - 1
					if r > 0 {
						run += br.bits(uint(r))
					}
					return run, nil
				}
				k += 15 // ZRL
				continue
			}
			k += r
			if k > sh.se {
				return 0, jpegErr("scan data", br.pos, "AC run past the end of the spectral band")
			}
			coef[k] = int16(br.receiveExtend(uint(s)) << al)
		}
		return 0, nil
	}
	// G.1.2.3: AC refinement. Coefficients already non-zero get one
	// correction bit each time they are passed over; a new coefficient of
	// magnitude 1<<Al is placed after skipping r still-zero coefficients.
	p1 := int16(1 << al)
	m1 := int16(-1 << al)
	k := sh.ss
	if eobrun == 0 {
		for ; k <= sh.se; k++ {
			rs, ok := br.decode(ac)
			if !ok {
				return 0, jpegErr("scan data", br.pos, "invalid AC Huffman code")
			}
			r, s := rs>>4, rs&15
			var v int16
			if s == 0 {
				if r < 15 {
					eobrun = 1 << r
					if r > 0 {
						eobrun += br.bits(uint(r))
					}
					break // the rest of this block is refined below
				}
				// ZRL: skip sixteen zero-history coefficients.
			} else {
				if s != 1 {
					return 0, jpegErr("scan data", br.pos, "refinement coefficient of size %d, must be 1", s)
				}
				// The sign bit comes before the correction bits.
				if br.bit() != 0 {
					v = p1
				} else {
					v = m1
				}
			}
			for ; k <= sh.se; k++ {
				if coef[k] != 0 {
					refine(br, &coef[k], p1, m1)
					continue
				}
				if r == 0 {
					if v != 0 {
						coef[k] = v
					}
					break
				}
				r--
			}
			if k > sh.se && v != 0 {
				return 0, jpegErr("scan data", br.pos, "refinement coefficient past the end of the spectral band")
			}
		}
	}
	if eobrun > 0 {
		// Inside an end-of-band run: only correction bits for the
		// coefficients that are already non-zero.
		for ; k <= sh.se; k++ {
			if coef[k] != 0 {
				refine(br, &coef[k], p1, m1)
			}
		}
		eobrun--
	}
	return eobrun, nil
}

// refine applies one correction bit to a coefficient that was already
// non-zero (G.1.2.3): a 1 adds the bit of weight 2^Al to its magnitude.
func refine(br *bitReader, c *int16, p1, m1 int16) {
	if br.bit() != 0 && *c&p1 == 0 {
		if *c >= 0 {
			*c += p1
		} else {
			*c += m1
		}
	}
}

// progressiveIDCT dequantizes and inverse transforms every block of every
// component once all progressive scans have been read.
func (d *decoder) progressiveIDCT() {
	blk := &d.blockBuf
	for ci := range d.comps {
		c := &d.comps[ci]
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				coef := c.coef[(by*c.bw+bx)*64:][:64]
				for k, v := range coef {
					blk[zigzag[k]] = int32(v) * c.qt[k]
				}
				if d.onBlock != nil {
					d.onBlock(c, bx, by, blk)
				}
				d.idct(blk, c.plane[by*8*c.stride+bx*8:], c.stride)
			}
		}
	}
}
