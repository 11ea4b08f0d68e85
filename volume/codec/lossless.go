package codec

// Lossless process 14 (T.81 Annex H): each sample is predicted from its
// reconstructed neighbours
//
//	c b
//	a x
//
// (Ra left, Rb above, Rc above-left) and the Huffman-coded difference is
// added modulo 2^16 (H.1.2.1). Samples are kept at the reduced precision
// P-Pt (the point transform, H.1.2.3 / A.4); finish shifts them back up.

// losslessDiff decodes one difference value (H.1.2.2, Table H.2): a
// Huffman-coded magnitude category SSSS followed by SSSS extra bits, except
// that category 16 has no extra bits and always means 32768.
func (d *decoder) losslessDiff(t *huffTable) (int, error) {
	v, ok := d.br.diff(t)
	if !ok {
		return 0, jpegErr("scan data", d.br.pos, "invalid Huffman code or difference category > 16")
	}
	return v, nil
}

// predict returns Px for predictor sel (Table H.1). The divisions by 2 are
// arithmetic right shifts as H.1.2.1 requires.
func predict(sel, ra, rb, rc int) int {
	switch sel {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	default: // 7
		return (ra + rb) >> 1
	}
}

func (d *decoder) decodeLossless(sh *scanHeader) error {
	if len(sh.comps) == 1 {
		return d.losslessSingle(sh)
	}
	return d.losslessInterleaved(sh)
}

// losslessSingle decodes a non-interleaved scan, where an MCU is a single
// sample (A.2.2) and the scan covers exactly the component's samples.
func (d *decoder) losslessSingle(sh *scanHeader) error {
	c := sh.comps[0].c
	t := &d.dc[sh.comps[0].td]
	sel := sh.ss
	initial := 1 << (d.precision - sh.al - 1)
	w, h, stride := c.w, c.ht, c.stride
	plane := c.plane
	ri := d.restart
	left := ri // MCUs left in the current restart interval
	nrst := 0
	// (x0, y0) is where the current restart interval began: H.1.2.1 resets
	// prediction there as at the top of the image (initial value for the
	// first sample, Ra along the rest of that line).
	x0, y0 := 0, 0
	for y := 0; y < h; y++ {
		row := plane[y*stride : y*stride+w]
		above := row
		if y > 0 {
			above = plane[(y-1)*stride : (y-1)*stride+w]
		}
		for x := 0; x < w; x++ {
			if ri > 0 {
				if left == 0 {
					if err := d.restartMarker(nrst); err != nil {
						return err
					}
					nrst++
					left = ri
					x0, y0 = x, y
				}
				left--
			}
			var px int
			switch {
			case y == y0 && x == x0:
				px = initial
			case y == y0:
				px = int(row[x-1])
			case x == 0:
				px = int(above[0])
			default:
				// Hot path: the rest of the row up to the next restart
				// boundary, with the predictor hoisted out of the loop.
				end := w
				if ri > 0 {
					end = min(w, x+left+1)
				}
				n, err := d.losslessRun(t, sel, row[:end], above[:end], x)
				if ri > 0 {
					left -= n - 1
				}
				x += n - 1
				if err != nil {
					return err
				}
				continue
			}
			diff, err := d.losslessDiff(t)
			if err != nil {
				return err
			}
			row[x] = uint16(px + diff) // modulo 2^16
		}
	}
	return nil
}

// losslessRun reconstructs row[x:] (x >= 1, not the first line of an
// interval) with predictor sel and returns how many samples it decoded.
// This is the hot loop of lossless decoding, so the bit-reader state is
// kept in locals and the common case of bitReader.diff (code found by the
// lookup table, category below 16) is inlined; function calls per sample
// are particularly expensive in Go's WebAssembly port.
func (d *decoder) losslessRun(t *huffTable, sel int, row, above []uint16, x int) (int, error) {
	br := &d.br
	start := x
	acc, n := br.acc, br.n
	for ; x < len(row); x++ {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		var v int
		if e := t.look[(acc>>(n-lookBits))&(1<<lookBits-1)]; e != 0 && e&0xFF < 16 {
			n -= uint(e >> 8)
			if s := uint(e & 0xFF); s != 0 {
				n -= s
				v = int(acc>>n) & (1<<s - 1)
				if v < 1<<(s-1) {
					v += -1<<s + 1
				}
			}
		} else {
			br.acc, br.n = acc, n
			var ok bool
			if v, ok = br.diff(t); !ok {
				return x - start, d.losslessDiffErr()
			}
			acc, n = br.acc, br.n
		}
		ra, rb, rc := int(row[x-1]), int(above[x]), int(above[x-1])
		var px int
		switch sel {
		case 1:
			px = ra
		case 2:
			px = rb
		case 3:
			px = rc
		case 4:
			px = ra + rb - rc
		case 5:
			px = ra + (rb-rc)>>1
		case 6:
			px = rb + (ra-rc)>>1
		default:
			px = (ra + rb) >> 1
		}
		row[x] = uint16(px + v)
	}
	br.acc, br.n = acc, n
	return x - start, nil
}

func (d *decoder) losslessDiffErr() error {
	return jpegErr("scan data", d.br.pos, "invalid Huffman code or difference category > 16")
}

// losslessInterleaved decodes a scan of several components: an MCU holds
// H×V samples of each component in raster order (A.2.3), and prediction
// works on each component's own sample grid.
func (d *decoder) losslessInterleaved(sh *scanHeader) error {
	sel := sh.ss
	initial := 1 << (d.precision - sh.al - 1)
	type state struct {
		c      *component
		t      *huffTable
		x0, y0 int
	}
	st := make([]state, len(sh.comps))
	for i, sc := range sh.comps {
		st[i] = state{c: sc.c, t: &d.dc[sc.td]}
	}
	ri := d.restart
	left := ri
	nrst := 0
	for my := 0; my < d.mcusY; my++ {
		for mx := 0; mx < d.mcusX; mx++ {
			if ri > 0 {
				if left == 0 {
					if err := d.restartMarker(nrst); err != nil {
						return err
					}
					nrst++
					left = ri
					for i := range st {
						st[i].x0, st[i].y0 = mx*st[i].c.h, my*st[i].c.v
					}
				}
				left--
			}
			for i := range st {
				s := &st[i]
				c := s.c
				for j := 0; j < c.v; j++ {
					y := my*c.v + j
					row := c.plane[y*c.stride : (y+1)*c.stride]
					above := row
					if y > 0 {
						above = c.plane[(y-1)*c.stride : y*c.stride]
					}
					for k := 0; k < c.h; k++ {
						x := mx*c.h + k
						diff, err := d.losslessDiff(s.t)
						if err != nil {
							return err
						}
						var px int
						switch {
						case y == s.y0 && x == s.x0:
							px = initial
						case y == s.y0:
							px = int(row[x-1])
						case x == 0:
							px = int(above[0])
						default:
							px = predict(sel, int(row[x-1]), int(above[x]), int(above[x-1]))
						}
						row[x] = uint16(px + diff)
					}
				}
			}
		}
	}
	return nil
}
