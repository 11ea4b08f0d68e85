package codec

// A small JPEG encoder used only as a test oracle. It produces streams the
// real-world files do not cover (every predictor and precision, point
// transforms, restart intervals, subsampled and non-interleaved scans,
// 12-bit sequential DCT) from known samples, so the decoder's output can
// be checked against ground truth. It follows T.81 directly: Annex K.2
// for optimal Huffman tables, Annex C for code assignment, Annex F and H
// for the coding models.

import (
	"math"
	"sort"
)

type encComp struct {
	id, h, v, tq int
}

type encOpts struct {
	sof         byte // 0xC0, 0xC1 or 0xC3
	precision   int
	comps       []encComp
	predictor   int // lossless selection value 1..7
	pt          int // lossless point transform
	restart     int // restart interval in MCUs (0: none)
	interleaved bool
	quant       [4][64]int // zig-zag order; DCT only
	// progressive, for sof 0xC2: the scan script. AC refinement scans
	// (Ss>0, Ah>0) are not implemented by this encoder.
	progressive []progScan
}

// progScan is one scan of a progressive script (G.1.1.1).
type progScan struct {
	comps          []int // indices into encOpts.comps
	ss, se, ah, al int
}

// encResult carries the stream and, for DCT, the quantized coefficients of
// every block so that tests can compute an exact reference decode.
type encResult struct {
	data []byte
	// coefs[c] holds bw*bh blocks of 64 quantized coefficients in natural
	// order, on the component's MCU-padded block grid.
	coefs    [][]int32
	bw, bh   []int
	cw, ch   []int // component sizes (A.1.1)
	hmax     int
	vmax     int
	unitSize int
}

type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for n > 0 {
		n--
		w.acc = w.acc<<1 | (v>>n)&1
		w.nacc++
		if w.nacc == 8 {
			b := byte(w.acc)
			w.out = append(w.out, b)
			if b == 0xFF {
				w.out = append(w.out, 0) // B.1.1.5 byte stuffing
			}
			w.acc, w.nacc = 0, 0
		}
	}
}

// flush pads the last byte with 1-bits (F.1.2.3).
func (w *bitWriter) flush() {
	for w.nacc != 0 {
		w.put(1, 1)
	}
}

func (w *bitWriter) marker(m byte) { w.out = append(w.out, 0xFF, m) }

func (w *bitWriter) segment(m byte, payload []byte) {
	w.marker(m)
	l := len(payload) + 2
	w.out = append(w.out, byte(l>>8), byte(l))
	w.out = append(w.out, payload...)
}

// event is one entropy-coded item: a Huffman symbol of table tab followed
// by nbits raw bits, or (tab < 0) a restart marker.
type event struct {
	tab   int
	sym   int
	bits  uint32
	nbits uint
}

// huffSpec is a table in DHT form plus its encoding map.
type huffSpec struct {
	counts [17]int
	vals   []int
	code   map[int]uint32
	size   map[int]uint
}

// optimalTable builds code lengths from symbol frequencies (T.81 K.2,
// Figures K.1 to K.4), limited to 16 bits and never using the all-ones
// code.
func optimalTable(freq map[int]int) *huffSpec {
	var f [257]int
	for s, n := range freq {
		f[s] = n
	}
	f[256] = 1 // reserved symbol so that no real code is all ones
	var codesize [257]int
	var others [257]int
	for i := range others {
		others[i] = -1
	}
	for {
		v1, v2 := -1, -1
		for i := 0; i < 257; i++ {
			if f[i] == 0 {
				continue
			}
			if v1 < 0 || f[i] <= f[v1] {
				v1 = i
			}
		}
		for i := 0; i < 257; i++ {
			if f[i] == 0 || i == v1 {
				continue
			}
			if v2 < 0 || f[i] <= f[v2] {
				v2 = i
			}
		}
		if v2 < 0 {
			break
		}
		f[v1] += f[v2]
		f[v2] = 0
		codesize[v1]++
		for others[v1] >= 0 {
			v1 = others[v1]
			codesize[v1]++
		}
		others[v1] = v2
		codesize[v2]++
		for others[v2] >= 0 {
			v2 = others[v2]
			codesize[v2]++
		}
	}
	var bits [40]int
	for i := 0; i < 257; i++ {
		if codesize[i] > 0 {
			bits[codesize[i]]++
		}
	}
	for i := 39; i > 16; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	i := 16
	for bits[i] == 0 {
		i--
	}
	bits[i]-- // drop the reserved symbol's code
	h := &huffSpec{code: map[int]uint32{}, size: map[int]uint{}}
	for l := 1; l <= 16; l++ {
		h.counts[l] = bits[l]
	}
	syms := []int{}
	for s := 0; s < 256; s++ {
		if codesize[s] > 0 {
			syms = append(syms, s)
		}
	}
	sort.SliceStable(syms, func(a, b int) bool { return codesize[syms[a]] < codesize[syms[b]] })
	h.vals = syms
	// Code assignment (Annex C): canonical codes in order of length.
	code, k := uint32(0), 0
	for l := 1; l <= 16; l++ {
		for n := 0; n < h.counts[l]; n++ {
			h.code[h.vals[k]] = code
			h.size[h.vals[k]] = uint(l)
			code++
			k++
		}
		code <<= 1
	}
	return h
}

// category returns SSSS and the additional bits for value v (F.1.2.1).
func category(v int) (int, uint32) {
	a := v
	if a < 0 {
		a = -a
	}
	s := 0
	for a > 0 {
		s++
		a >>= 1
	}
	if v < 0 {
		v += 1<<s - 1
	}
	return s, uint32(v) & (1<<s - 1)
}

// padPlane copies a w×h plane into a pw×ph one, replicating the last
// column and row into the padding (A.2.4).
func padPlane(src []uint16, w, h, pw, ph int) []int {
	out := make([]int, pw*ph)
	for y := 0; y < ph; y++ {
		sy := min(y, h-1)
		for x := 0; x < pw; x++ {
			out[y*pw+x] = int(src[sy*w+min(x, w-1)])
		}
	}
	return out
}

// encodeJPEG encodes planes[c] (component c at its own resolution,
// ceil(width*h/hmax) × ceil(height*v/vmax) samples).
func encodeJPEG(planes [][]uint16, width, height int, o encOpts) *encResult {
	lossless := o.sof == 0xC3
	unit := 8
	if lossless {
		unit = 1
	}
	hmax, vmax := 1, 1
	for _, c := range o.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mcusX := (width + unit*hmax - 1) / (unit * hmax)
	mcusY := (height + unit*vmax - 1) / (unit * vmax)
	nc := len(o.comps)
	res := &encResult{hmax: hmax, vmax: vmax, unitSize: unit}
	padded := make([][]int, nc)
	for i, c := range o.comps {
		cw := (width*c.h + hmax - 1) / hmax
		ch := (height*c.v + vmax - 1) / vmax
		res.cw = append(res.cw, cw)
		res.ch = append(res.ch, ch)
		bw, bh := mcusX*c.h, mcusY*c.v
		res.bw = append(res.bw, bw)
		res.bh = append(res.bh, bh)
		padded[i] = padPlane(planes[i], cw, ch, bw*unit, bh*unit)
	}

	w := &bitWriter{}
	w.marker(0xD8)
	if !lossless {
		for t := 0; t < 4; t++ {
			used := false
			for _, c := range o.comps {
				used = used || c.tq == t
			}
			if !used {
				continue
			}
			if o.precision == 8 {
				p := []byte{byte(t)}
				for k := 0; k < 64; k++ {
					p = append(p, byte(o.quant[t][k]))
				}
				w.segment(0xDB, p)
			} else {
				p := []byte{0x10 | byte(t)}
				for k := 0; k < 64; k++ {
					p = append(p, byte(o.quant[t][k]>>8), byte(o.quant[t][k]))
				}
				w.segment(0xDB, p)
			}
		}
	}
	sof := []byte{byte(o.precision), byte(height >> 8), byte(height), byte(width >> 8), byte(width), byte(nc)}
	for _, c := range o.comps {
		sof = append(sof, byte(c.id), byte(c.h<<4|c.v), byte(c.tq))
	}
	w.segment(o.sof, sof)
	if o.restart > 0 {
		w.segment(0xDD, []byte{byte(o.restart >> 8), byte(o.restart)})
	}

	if !lossless {
		res.coefs = make([][]int32, nc)
		for i := range o.comps {
			res.coefs[i] = fdctPlane(padded[i], res.bw[i], res.bh[i], o.precision, &o.quant[o.comps[i].tq])
		}
	}

	type scanDef struct {
		comps          []int
		ss, se, ah, al int
	}
	var scans []scanDef
	if o.sof == 0xC2 {
		for _, p := range o.progressive {
			scans = append(scans, scanDef{p.comps, p.ss, p.se, p.ah, p.al})
		}
	} else if o.interleaved && nc > 1 {
		all := []int{}
		for i := range o.comps {
			all = append(all, i)
		}
		scans = []scanDef{{comps: all, se: 63}}
	} else {
		for i := range o.comps {
			scans = append(scans, scanDef{comps: []int{i}, se: 63})
		}
	}
	for _, sd := range scans {
		sc := sd.comps
		// Gather the scan's events, then build its tables.
		var evs []event
		nx, ny := mcusX, mcusY
		if len(sc) == 1 {
			c := sc[0]
			nx = (res.cw[c] + unit - 1) / unit
			ny = (res.ch[c] + unit - 1) / unit
		}
		// Per-component table ids: baseline allows only two of each class.
		tabOf := func(pos int) int {
			if o.sof == 0xC0 {
				return min(pos, 1)
			}
			return pos
		}
		dcPred := make([]int, len(sc))
		x0 := make([]int, len(sc))
		y0 := make([]int, len(sc))
		mcu := 0
		eobrun := 0
		flushEOB := func() {
			if eobrun == 0 {
				return
			}
			nb := 0
			for 1<<(nb+1) <= eobrun {
				nb++
			}
			evs = append(evs, event{tab: 4 + tabOf(0), sym: nb << 4, bits: uint32(eobrun - 1<<nb), nbits: uint(nb)})
			eobrun = 0
		}
		for my := 0; my < ny; my++ {
			for mx := 0; mx < nx; mx++ {
				if o.restart > 0 && mcu > 0 && mcu%o.restart == 0 {
					flushEOB()
					evs = append(evs, event{tab: -1, sym: (mcu/o.restart - 1) % 8})
					for i := range dcPred {
						dcPred[i] = 0
					}
					for i, c := range sc {
						oc := o.comps[c]
						if len(sc) == 1 {
							x0[i], y0[i] = mx, my
						} else {
							x0[i], y0[i] = mx*oc.h, my*oc.v
						}
					}
				}
				mcu++
				for i, c := range sc {
					oc := o.comps[c]
					hh, vv := oc.h, oc.v
					if len(sc) == 1 {
						hh, vv = 1, 1
					}
					for j := 0; j < vv; j++ {
						for k := 0; k < hh; k++ {
							ux, uy := mx*hh+k, my*vv+j
							blk := func() []int32 { return res.coefs[c][(uy*res.bw[c]+ux)*64:][:64] }
							switch {
							case lossless:
								evs = append(evs, losslessEvent(padded[c], res.bw[c], ux, uy, x0[i], y0[i], o, tabOf(i)))
							case o.sof == 0xC2 && sd.ss == 0 && sd.ah == 0:
								v := int(blk()[0]) >> sd.al
								s, b := category(v - dcPred[i])
								dcPred[i] = v
								evs = append(evs, event{tab: tabOf(i), sym: s, bits: b, nbits: uint(s)})
							case o.sof == 0xC2 && sd.ss == 0:
								evs = append(evs, event{tab: -2, bits: uint32(int(blk()[0])>>sd.al) & 1, nbits: 1})
							case o.sof == 0xC2 && sd.ah == 0:
								evs = append(evs, acFirstEvents(blk(), sd.ss, sd.se, sd.al, tabOf(0), &eobrun, flushEOB)...)
							case o.sof == 0xC2:
								panic("AC refinement scans are not implemented by the test encoder")
							default:
								evs = append(evs, blockEvents(blk(), &dcPred[i], tabOf(i))...)
							}
						}
					}
				}
			}
		}
		flushEOB()
		freqs := map[int]map[int]int{} // key: class*4+id
		for _, e := range evs {
			if e.tab < 0 {
				continue
			}
			if o.sof == 0xC2 && sd.ss > 0 && e.tab < 4 {
				panic("DC table in AC scan")
			}
			if freqs[e.tab] == nil {
				freqs[e.tab] = map[int]int{}
			}
			freqs[e.tab][e.sym]++
		}
		tabs := map[int]*huffSpec{}
		keys := []int{}
		for k := range freqs {
			keys = append(keys, k)
		}
		sort.Ints(keys)
		for _, k := range keys {
			h := optimalTable(freqs[k])
			tabs[k] = h
			p := []byte{byte((k/4)<<4 | k%4)}
			for l := 1; l <= 16; l++ {
				p = append(p, byte(h.counts[l]))
			}
			for _, v := range h.vals {
				p = append(p, byte(v))
			}
			w.segment(0xC4, p)
		}
		sos := []byte{byte(len(sc))}
		for i, c := range sc {
			t := byte(tabOf(i))
			sos = append(sos, byte(o.comps[c].id), t<<4|t)
		}
		if lossless {
			sos = append(sos, byte(o.predictor), 0, byte(o.pt))
		} else if o.sof == 0xC2 {
			sos = append(sos, byte(sd.ss), byte(sd.se), byte(sd.ah<<4|sd.al))
		} else {
			sos = append(sos, 0, 63, 0)
		}
		w.segment(0xDA, sos)
		for _, e := range evs {
			if e.tab == -2 {
				w.put(e.bits, e.nbits)
				continue
			}
			if e.tab < 0 {
				w.flush()
				w.marker(byte(0xD0 + e.sym))
				continue
			}
			h := tabs[e.tab]
			w.put(h.code[e.sym], h.size[e.sym])
			if e.nbits > 0 {
				w.put(e.bits, e.nbits)
			}
		}
		w.flush()
	}
	w.marker(0xD9)
	res.data = w.out
	return res
}

// losslessEvent codes the sample at (x, y) of a padded plane (Annex H).
func losslessEvent(p []int, stride, x, y, x0, y0 int, o encOpts, tab int) event {
	at := func(x, y int) int { return p[y*stride+x] >> o.pt }
	var px int
	switch {
	case x == x0 && y == y0:
		px = 1 << (o.precision - o.pt - 1)
	case y == y0:
		px = at(x-1, y)
	case x == 0:
		px = at(x, y-1)
	default:
		ra, rb, rc := at(x-1, y), at(x, y-1), at(x-1, y-1)
		switch o.predictor {
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
		case 7:
			px = (ra + rb) >> 1
		}
	}
	diff := (at(x, y) - px) & 0xFFFF
	if diff >= 32768 {
		diff -= 65536
	}
	if diff == -32768 {
		return event{tab: tab, sym: 16}
	}
	s, b := category(diff)
	return event{tab: tab, sym: s, bits: b, nbits: uint(s)}
}

// blockEvents codes one block of quantized coefficients (natural order)
// with the sequential model of F.1.2.
func blockEvents(blk []int32, dcPred *int, tab int) []event {
	var evs []event
	diff := int(blk[0]) - *dcPred
	*dcPred = int(blk[0])
	s, b := category(diff)
	evs = append(evs, event{tab: tab, sym: s, bits: b, nbits: uint(s)})
	run := 0
	for k := 1; k < 64; k++ {
		v := int(blk[zigzag[k]])
		if v == 0 {
			run++
			continue
		}
		for run > 15 {
			evs = append(evs, event{tab: 4 + tab, sym: 0xF0})
			run -= 16
		}
		s, b := category(v)
		evs = append(evs, event{tab: 4 + tab, sym: run<<4 | s, bits: b, nbits: uint(s)})
		run = 0
	}
	if run > 0 {
		evs = append(evs, event{tab: 4 + tab})
	}
	return evs
}

// fdctPlane level-shifts, transforms (A.3.3 FDCT) and quantizes every
// block of a padded plane, returning coefficients in natural order.
func fdctPlane(p []int, bw, bh, precision int, q *[64]int) []int32 {
	out := make([]int32, bw*bh*64)
	shift := 1 << (precision - 1)
	for by := 0; by < bh; by++ {
		for bx := 0; bx < bw; bx++ {
			blk := out[(by*bw+bx)*64:][:64]
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					sum := 0.0
					for y := 0; y < 8; y++ {
						for x := 0; x < 8; x++ {
							s := float64(p[(by*8+y)*bw*8+bx*8+x] - shift)
							sum += s * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
						}
					}
					cu, cv := 1.0, 1.0
					if u == 0 {
						cu = 1 / math.Sqrt2
					}
					if v == 0 {
						cv = 1 / math.Sqrt2
					}
					sum *= cu * cv / 4
					qq := float64(q[naturalToZigzag(v*8+u)])
					blk[v*8+u] = int32(math.Round(sum / qq))
				}
			}
		}
	}
	return out
}

func naturalToZigzag(n int) int {
	for k, z := range zigzag {
		if z == n {
			return k
		}
	}
	panic("bad index")
}

// referenceIDCT reconstructs samples from quantized coefficients with the
// direct (non-separable) formula of A.3.3, as the expected decoder output.
func referenceIDCT(blk []int32, q *[64]int, precision int) [64]int {
	var out [64]int
	maxv := 1<<precision - 1
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			sum := 0.0
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					cu, cv := 1.0, 1.0
					if u == 0 {
						cu = 1 / math.Sqrt2
					}
					if v == 0 {
						cv = 1 / math.Sqrt2
					}
					c := float64(blk[v*8+u]) * float64(q[naturalToZigzag(v*8+u)])
					sum += cu * cv * c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) * math.Cos(float64(2*y+1)*float64(v)*math.Pi/16)
				}
			}
			s := int(math.Floor(sum/4+0.5)) + 1<<(precision-1)
			out[y*8+x] = min(max(s, 0), maxv)
		}
	}
	return out
}

// acFirstEvents codes the band ss..se of one block for an AC first scan
// (G.1.2.2) with point transform al. Blocks whose band is all zero extend
// the end-of-band run; flush emits a pending run before any other symbol.
func acFirstEvents(blk []int32, ss, se, al, tab int, eobrun *int, flush func()) []event {
	if *eobrun == 0x7FFF {
		flush() // longest run EOB14 can code
	}
	var evs []event
	run := 0
	for k := ss; k <= se; k++ {
		v := int(blk[zigzag[k]])
		a := v
		if a < 0 {
			a = -a
		}
		a >>= al
		if a == 0 {
			run++
			continue
		}
		if v < 0 {
			a = -a
		}
		flush()
		for run > 15 {
			evs = append(evs, event{tab: 4 + tab, sym: 0xF0})
			run -= 16
		}
		s, b := category(a)
		evs = append(evs, event{tab: 4 + tab, sym: run<<4 | s, bits: b, nbits: uint(s)})
		run = 0
	}
	if run > 0 {
		*eobrun++
	}
	return evs
}
