package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
)

// testPlane returns a w×h plane of precision-bit samples mixing smooth
// gradients (small differences), noise (all magnitude categories) and
// runs of the extreme values 0 and max (the largest differences, which at
// 16 bits need category 16).
func testPlane(rng *rand.Rand, w, h, precision int) []uint16 {
	maxv := 1<<precision - 1
	p := make([]uint16, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var v int
			switch (x/7 + y/5) % 4 {
			case 0:
				v = (x*maxv/max(w-1, 1) + y*maxv/max(h-1, 1)) / 2
			case 1:
				v = rng.Intn(maxv + 1)
			case 2:
				if (x+y)%2 == 0 {
					v = 0
				} else {
					v = maxv
				}
			default:
				v = int(float64(maxv) * (0.5 + 0.4*math.Sin(float64(x)/3)*math.Cos(float64(y)/4)))
			}
			p[y*w+x] = uint16(v)
		}
	}
	return p
}

// upsampledAt is the value the decoder must output for component plane p
// (size cw wide) at image position x, y: replication upsampling.
func upsampledAt(p []uint16, cw int, c encComp, hmax, vmax, x, y int) uint16 {
	return p[(y*c.v/vmax)*cw+x*c.h/hmax]
}

func compDims(width, height int, comps []encComp) (hmax, vmax int, cw, ch []int) {
	hmax, vmax = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	for _, c := range comps {
		cw = append(cw, (width*c.h+hmax-1)/hmax)
		ch = append(ch, (height*c.v+vmax-1)/vmax)
	}
	return
}

func TestLosslessSynthetic(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	type tc struct {
		name        string
		w, h        int
		precision   int
		pt          int
		predictor   int
		restart     int
		comps       []encComp
		interleaved bool
	}
	var cases []tc
	one := []encComp{{id: 1, h: 1, v: 1}}
	for _, p := range []int{2, 7, 8, 12, 15, 16} {
		for sel := 1; sel <= 7; sel++ {
			for _, pt := range []int{0, 1} {
				ri := 0
				if sel%2 == 0 {
					ri = 23 // exactly one row per interval
				} else if pt == 1 {
					ri = 46
				}
				cases = append(cases, tc{fmt.Sprintf("P%d/sel%d/pt%d/ri%d", p, sel, pt, ri), 23, 17, p, pt, sel, ri, one, false})
			}
		}
	}
	rgb := []encComp{{id: 0, h: 1, v: 1}, {id: 1, h: 1, v: 1}, {id: 2, h: 1, v: 1}}
	sub := []encComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 1}, {id: 3, h: 1, v: 2}}
	for _, sel := range []int{1, 4, 7} {
		cases = append(cases,
			tc{fmt.Sprintf("rgb/interleaved/sel%d", sel), 19, 11, 8, 0, sel, 0, rgb, true},
			tc{fmt.Sprintf("rgb/interleaved/restart/sel%d", sel), 19, 11, 16, 0, sel, 19, rgb, true},
			tc{fmt.Sprintf("rgb/separate/sel%d", sel), 19, 11, 12, 2, sel, 0, rgb, false},
			tc{fmt.Sprintf("subsampled/interleaved/sel%d", sel), 21, 13, 10, 0, sel, 0, sub, true},
			tc{fmt.Sprintf("subsampled/interleaved/restart/sel%d", sel), 21, 13, 10, 0, sel, 11, sub, true},
			tc{fmt.Sprintf("subsampled/separate/sel%d", sel), 21, 13, 10, 1, sel, 0, sub, false},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hmax, vmax, cw, ch := compDims(c.w, c.h, c.comps)
			planes := make([][]uint16, len(c.comps))
			for i := range planes {
				planes[i] = testPlane(rng, cw[i], ch[i], c.precision)
			}
			enc := encodeJPEG(planes, c.w, c.h, encOpts{sof: 0xC3, precision: c.precision, comps: c.comps,
				predictor: c.predictor, pt: c.pt, restart: c.restart, interleaved: c.interleaved})
			img, err := DecodeJPEG(enc.data)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != c.w || img.Height != c.h || img.Components != len(c.comps) || img.Precision != c.precision {
				t.Fatalf("header %d×%d×%d P%d", img.Width, img.Height, img.Components, img.Precision)
			}
			nc := len(c.comps)
			for y := 0; y < c.h; y++ {
				for x := 0; x < c.w; x++ {
					for i, cc := range c.comps {
						want := upsampledAt(planes[i], cw[i], cc, hmax, vmax, x, y) >> c.pt << c.pt
						if got := img.Pix[(y*c.w+x)*nc+i]; got != want {
							t.Fatalf("component %d at (%d,%d): got %d want %d", i, x, y, got, want)
						}
					}
				}
			}
		})
	}
}

func TestDCTSynthetic(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var ones, coarse [64]int
	for k := range ones {
		ones[k] = 1
		coarse[k] = 2 + k/2
	}
	one := []encComp{{id: 1, h: 1, v: 1}}
	ycc := []encComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 1, tq: 1}, {id: 3, h: 1, v: 1, tq: 1}}
	h21 := []encComp{{id: 1, h: 2, v: 1}, {id: 2, h: 1, v: 1, tq: 1}, {id: 3, h: 1, v: 1, tq: 1}}
	type tc struct {
		name        string
		sof         byte
		precision   int
		w, h        int
		comps       []encComp
		interleaved bool
		restart     int
		q           [64]int
	}
	var cases []tc
	for _, p := range []int{8, 12} {
		sof := byte(0xC1)
		if p == 8 {
			sof = 0xC0
		}
		for _, q := range []struct {
			n string
			t [64]int
		}{{"q1", ones}, {"qcoarse", coarse}} {
			pre := fmt.Sprintf("P%d/%s/", p, q.n)
			cases = append(cases,
				tc{pre + "gray", sof, p, 37, 21, one, false, 0, q.t},
				tc{pre + "gray/restart", sof, p, 37, 21, one, false, 5, q.t},
				tc{pre + "420/interleaved", sof, p, 37, 21, ycc, true, 0, q.t},
				tc{pre + "420/interleaved/restart", sof, p, 37, 21, ycc, true, 2, q.t},
				tc{pre + "420/separate/restart", sof, p, 37, 21, ycc, false, 3, q.t},
				tc{pre + "422/interleaved", sof, p, 33, 17, h21, true, 0, q.t},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hmax, vmax, cw, ch := compDims(c.w, c.h, c.comps)
			planes := make([][]uint16, len(c.comps))
			for i := range planes {
				planes[i] = testPlane(rng, cw[i], ch[i], c.precision)
			}
			o := encOpts{sof: c.sof, precision: c.precision, comps: c.comps, restart: c.restart, interleaved: c.interleaved}
			o.quant[0], o.quant[1] = c.q, c.q
			enc := encodeJPEG(planes, c.w, c.h, o)
			img, err := DecodeJPEG(enc.data)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != c.w || img.Height != c.h || img.Components != len(c.comps) || img.Precision != c.precision {
				t.Fatalf("header %d×%d×%d P%d", img.Width, img.Height, img.Components, img.Precision)
			}
			// Reference: exact IDCT of the encoder's quantized coefficients.
			ref := make([][]uint16, len(c.comps))
			for i, cc := range c.comps {
				bw := enc.bw[i]
				ref[i] = make([]uint16, cw[i]*ch[i])
				for by := 0; by < (ch[i]+7)/8; by++ {
					for bx := 0; bx < (cw[i]+7)/8; bx++ {
						r := referenceIDCT(enc.coefs[i][(by*bw+bx)*64:][:64], &o.quant[cc.tq], c.precision)
						for y := 0; y < 8; y++ {
							for x := 0; x < 8; x++ {
								if px, py := bx*8+x, by*8+y; px < cw[i] && py < ch[i] {
									ref[i][py*cw[i]+px] = uint16(r[y*8+x])
								}
							}
						}
					}
				}
			}
			nc := len(c.comps)
			maxRef, maxOrig, off := 0, 0, 0
			for y := 0; y < c.h; y++ {
				for x := 0; x < c.w; x++ {
					for i, cc := range c.comps {
						got := int(img.Pix[(y*c.w+x)*nc+i])
						dr := abs(got - int(upsampledAt(ref[i], cw[i], cc, hmax, vmax, x, y)))
						do := abs(got - int(upsampledAt(planes[i], cw[i], cc, hmax, vmax, x, y)))
						maxRef, maxOrig = max(maxRef, dr), max(maxOrig, do)
						if dr != 0 {
							off++
						}
					}
				}
			}
			// The float IDCT may round the other way only where the exact
			// value is within ~1e-9 of .5, so differences from the exact
			// reconstruction must be rare and never exceed 1.
			if maxRef > 1 || off > len(img.Pix)/200 {
				t.Errorf("vs exact reconstruction: max diff %d, %d of %d samples differ", maxRef, off, len(img.Pix))
			}
			// With unit quantization the only loss is rounding the
			// coefficients to integers: a few units at most.
			if c.q == ones && maxOrig > 3 {
				t.Errorf("unit quantization: max diff from source %d", maxOrig)
			}
			t.Logf("max |Δ| vs exact IDCT %d (%d samples), vs source %d", maxRef, off, maxOrig)
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDecodeJPEGConfig(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	comps := []encComp{{id: 1, h: 1, v: 1}, {id: 2, h: 1, v: 1}}
	planes := [][]uint16{testPlane(rng, 9, 5, 12), testPlane(rng, 9, 5, 12)}
	enc := encodeJPEG(planes, 9, 5, encOpts{sof: 0xC3, precision: 12, comps: comps, predictor: 1, interleaved: true})
	cfg, err := DecodeJPEGConfig(enc.data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeJPEG(enc.data)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pix != nil || cfg.Width != img.Width || cfg.Height != img.Height || cfg.Components != img.Components || cfg.Precision != img.Precision {
		t.Fatalf("config %+v vs image %d×%d×%d P%d", *cfg, img.Width, img.Height, img.Components, img.Precision)
	}
	if cfg.Width != 9 || cfg.Height != 5 || cfg.Components != 2 || cfg.Precision != 12 {
		t.Fatalf("config %+v", *cfg)
	}
}

// stream assembles a JPEG from marker segments; segments are given as
// marker byte followed by payload (length is added).
func stream(parts ...[]byte) []byte {
	out := []byte{0xFF, 0xD8}
	for _, p := range parts {
		if len(p) == 1 {
			out = append(out, 0xFF, p[0])
			continue
		}
		l := len(p) + 1
		out = append(out, 0xFF, p[0], byte(l>>8), byte(l))
		out = append(out, p[1:]...)
	}
	return out
}

func TestJPEGErrors(t *testing.T) {
	// A valid 8-bit lossless 4×2 image to mutate.
	rng := rand.New(rand.NewSource(4))
	good := encodeJPEG([][]uint16{testPlane(rng, 4, 2, 8)}, 4, 2, encOpts{sof: 0xC3, precision: 8, comps: []encComp{{id: 1, h: 1, v: 1}}, predictor: 1}).data
	if _, err := DecodeJPEG(good); err != nil {
		t.Fatalf("base stream: %v", err)
	}
	sof := func(m byte, p, h, w int, nf int) []byte {
		b := []byte{m, byte(p), byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(nf)}
		for i := 0; i < nf; i++ {
			b = append(b, byte(i+1), 0x11, 0)
		}
		return b
	}
	sosIdx := strings.Index(string(good), "\xff\xda")
	cases := []struct {
		name        string
		data        []byte
		unsupported bool
		where, msg  string
	}{
		{"empty", nil, false, "SOI", "SOI"},
		{"not jpeg", []byte("DICM"), false, "SOI", "SOI"},
		{"arithmetic", stream(sof(0xC9, 8, 8, 8, 1)), true, "SOF9", "arithmetic"},
		{"hierarchical", stream(sof(0xC5, 8, 8, 8, 1)), true, "SOF5", "hierarchical"},
		{"jpeg-ls", stream(sof(0xF7, 8, 8, 8, 1)), true, "SOF55", "JPEG-LS is not supported"},
		{"dnl height", stream(sof(0xC3, 8, 0, 8, 1)), true, "SOF3", "DNL"},
		{"too big", stream(sof(0xC3, 16, 65535, 65535, 3)), true, "SOF3", "MaxImageSamples"},
		{"five components", stream(sof(0xC1, 8, 8, 8, 5)), true, "SOF1", "components"},
		{"baseline precision", stream(sof(0xC0, 12, 8, 8, 1)), false, "SOF0", "precision"},
		{"lossless precision", stream(sof(0xC3, 17, 8, 8, 1)), false, "SOF3", "precision"},
		{"zero width", stream(sof(0xC3, 8, 8, 0, 1)), false, "SOF3", "width"},
		{"bad length", stream(append(sof(0xC3, 8, 8, 8, 1), 0)), false, "SOF3", "length"},
		{"segment overruns", []byte{0xFF, 0xD8, 0xFF, 0xC3, 0x01, 0x00, 8}, false, "SOF3", "exceeds"},
		{"two frames", stream(sof(0xC3, 8, 8, 8, 1), sof(0xC3, 8, 8, 8, 1)), false, "SOF3", "second frame"},
		{"huffman overflow", stream([]byte{0xC4, 0x00, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}), false, "DHT", "overflow"},
		{"dht class", stream([]byte{0xC4, 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), false, "DHT", "class"},
		{"dqt precision", stream(append([]byte{0xDB, 0x20}, make([]byte, 64)...)), false, "DQT", "precision"},
		{"scan before frame", stream([]byte{0xDA, 1, 1, 0, 1, 0, 0}), false, "SOS", "before frame"},
		{"rst outside scan", stream([]byte{0xD3}), false, "RST3", "outside"},
		{"eoi first", stream([]byte{0xD9}), false, "EOI", "before any frame"},
		{"no scan", stream(sof(0xC3, 8, 8, 8, 1), []byte{0xD9}), false, "EOI", "no scan"},
		{"missing table", stream(sof(0xC3, 8, 8, 8, 1), []byte{0xDA, 1, 1, 0x00, 1, 0, 0}), false, "SOS", "not defined"},
		{"bad predictor", append(append([]byte{}, good[:sosIdx+7]...), append([]byte{0}, good[sosIdx+8:]...)...), false, "SOS", "predictor"},
		// 65535×1024 8-bit samples would need 8 MiB of data at one bit
		// each; the check must fire before the planes are allocated.
		{"allocation bomb", append(append([]byte{}, good[:sosIdx]...), good[sosIdx:sosIdx+12]...), false, "", ""},
		{"truncated scan", good[:len(good)-4], false, "scan data", "ends before"},
		{"garbage marker", append(append([]byte{}, good[:2]...), 0xFF, 0x02), false, "marker 0x02", "reserved"},
	}
	// Patch the allocation bomb: enlarge the frame of the good stream.
	bomb := cases[len(cases)-3].data
	sofIdx := strings.Index(string(bomb), "\xff\xc3")
	bomb[sofIdx+5], bomb[sofIdx+6] = 0x04, 0x00 // height 1024
	bomb[sofIdx+7], bomb[sofIdx+8] = 0xFF, 0xFF // width 65535
	cases[len(cases)-3].where, cases[len(cases)-3].msg = "SOS", "bits remain"

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeJPEG(c.data)
			if err == nil {
				t.Fatal("no error")
			}
			var fe *FormatError
			var ue *UnsupportedError
			switch {
			case c.unsupported && errors.As(err, &ue):
				if ue.Where != c.where {
					t.Errorf("where %q, want %q (%v)", ue.Where, c.where, err)
				}
			case !c.unsupported && errors.As(err, &fe):
				if fe.Where != c.where {
					t.Errorf("where %q, want %q (%v)", fe.Where, c.where, err)
				}
			default:
				t.Fatalf("wrong error type %T: %v", err, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

func TestRestartMarkerMismatch(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	enc := encodeJPEG([][]uint16{testPlane(rng, 8, 4, 8)}, 8, 4, encOpts{sof: 0xC3, precision: 8, comps: []encComp{{id: 1, h: 1, v: 1}}, predictor: 2, restart: 8})
	data := append([]byte(nil), enc.data...)
	i := strings.Index(string(data), "\xff\xd1") // second restart marker
	if i < 0 {
		t.Fatal("encoder wrote no RST1")
	}
	if _, err := DecodeJPEG(data); err != nil {
		t.Fatalf("unmodified: %v", err)
	}
	data[i+1] = 0xD5
	_, err := DecodeJPEG(data)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Where != "RST5" || !strings.Contains(fe.Msg, "RST1") {
		t.Fatalf("got %v", err)
	}
}

// TestProgressiveSynthetic covers what the one real progressive file does
// not: restart intervals, interleaved DC scans of subsampled components,
// end-of-band runs crossing restarts, and AC bands left at reduced
// precision (no refinement scan).
func TestProgressiveSynthetic(t *testing.T) {
	rng := rand.New(rand.NewSource(6))
	var q [64]int
	for k := range q {
		q[k] = 1 + k/8
	}
	one := []encComp{{id: 1, h: 1, v: 1}}
	ycc := []encComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 1, tq: 1}, {id: 3, h: 1, v: 1, tq: 1}}
	type tc struct {
		name      string
		precision int
		w, h      int
		comps     []encComp
		restart   int
		script    []progScan
	}
	gray := []progScan{
		{comps: []int{0}, ss: 0, se: 0, al: 1},
		{comps: []int{0}, ss: 1, se: 5, al: 0},
		{comps: []int{0}, ss: 6, se: 63, al: 1}, // left at reduced precision
		{comps: []int{0}, ss: 0, se: 0, ah: 1, al: 0},
	}
	color := []progScan{
		{comps: []int{0, 1, 2}, ss: 0, se: 0, al: 2},
		{comps: []int{0}, ss: 1, se: 63},
		{comps: []int{0, 1, 2}, ss: 0, se: 0, ah: 2, al: 1},
		{comps: []int{2}, ss: 1, se: 63},
		{comps: []int{1}, ss: 1, se: 9, al: 2},
		{comps: []int{1}, ss: 10, se: 63},
		{comps: []int{0, 1, 2}, ss: 0, se: 0, ah: 1, al: 0},
	}
	var cases []tc
	for _, p := range []int{8, 12} {
		for _, ri := range []int{0, 3} {
			cases = append(cases,
				tc{fmt.Sprintf("P%d/gray/ri%d", p, ri), p, 45, 29, one, ri, gray},
				tc{fmt.Sprintf("P%d/420/ri%d", p, ri), p, 45, 29, ycc, ri, color},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hmax, vmax, cw, ch := compDims(c.w, c.h, c.comps)
			planes := make([][]uint16, len(c.comps))
			for i := range planes {
				planes[i] = testPlane(rng, cw[i], ch[i], c.precision)
			}
			o := encOpts{sof: 0xC2, precision: c.precision, comps: c.comps, restart: c.restart, progressive: c.script}
			o.quant[0], o.quant[1] = q, q
			enc := encodeJPEG(planes, c.w, c.h, o)
			img, err := DecodeJPEG(enc.data)
			if err != nil {
				t.Fatal(err)
			}
			// Expected coefficients: the final precision each coefficient
			// reached in the script (AC point transform truncates the
			// magnitude, DC is exact after its last refinement).
			alOf := func(ci, k int) int {
				al := 99
				for _, s := range c.script {
					for _, sc := range s.comps {
						if sc == ci && k >= s.ss && k <= s.se {
							al = min(al, s.al)
						}
					}
				}
				return al
			}
			nc := len(c.comps)
			maxd := 0
			for i, cc := range c.comps {
				bw := enc.bw[i]
				ref := make([]uint16, cw[i]*ch[i])
				for by := 0; by < (ch[i]+7)/8; by++ {
					for bx := 0; bx < (cw[i]+7)/8; bx++ {
						blk := append([]int32(nil), enc.coefs[i][(by*bw+bx)*64:][:64]...)
						for k := 1; k < 64; k++ {
							al := alOf(i, k)
							v := blk[zigzag[k]]
							if v < 0 {
								blk[zigzag[k]] = -((-v >> al) << al)
							} else {
								blk[zigzag[k]] = (v >> al) << al
							}
						}
						r := referenceIDCT(blk, &o.quant[cc.tq], c.precision)
						for y := 0; y < 8; y++ {
							for x := 0; x < 8; x++ {
								if px, py := bx*8+x, by*8+y; px < cw[i] && py < ch[i] {
									ref[py*cw[i]+px] = uint16(r[y*8+x])
								}
							}
						}
					}
				}
				for y := 0; y < c.h; y++ {
					for x := 0; x < c.w; x++ {
						got := int(img.Pix[(y*c.w+x)*nc+i])
						maxd = max(maxd, abs(got-int(upsampledAt(ref, cw[i], cc, hmax, vmax, x, y))))
					}
				}
			}
			if maxd > 1 {
				t.Errorf("max diff from exact reconstruction %d", maxd)
			}
		})
	}
}

// progressiveStream builds an 8×8 progressive stream with one DC scan and
// nAC AC scans, each coding every block as a single 1-bit EOB, so that
// the number of scans can be made as large as wanted cheaply.
func progressiveStream(nAC int) []byte {
	q := append([]byte{0xDB, 0x00}, bytes.Repeat([]byte{1}, 64)...)
	sof := []byte{0xC2, 8, 0, 8, 0, 8, 1, 1, 0x11, 0}
	// One code of length 1 for symbol 0: DC "difference 0" and AC "EOB".
	dht := []byte{0xC4, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	parts := [][]byte{q, sof, dht}
	out := stream(parts...)
	scan := func(ss, se byte) {
		out = append(out, stream([]byte{0xDA, 1, 1, 0x00, ss, se, 0})[2:]...)
		out = append(out, 0x7F) // code '0' padded with 1-bits
	}
	scan(0, 0)
	for i := 0; i < nAC; i++ {
		scan(1, 63)
	}
	return append(out, 0xFF, 0xD9)
}

func TestMaxScans(t *testing.T) {
	img, err := DecodeJPEG(progressiveStream(MaxScans - 1))
	if err != nil {
		t.Fatalf("%d scans: %v", MaxScans, err)
	}
	// All coefficients zero: mid-grey.
	for _, v := range img.Pix {
		if v != 128 {
			t.Fatalf("sample %d, want 128", v)
		}
	}
	_, err = DecodeJPEG(progressiveStream(MaxScans))
	var ue *UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "MaxScans") {
		t.Fatalf("%d scans: got %v, want UnsupportedError", MaxScans+1, err)
	}
}

// TestTrailingRestartMarker: an RSTn after the last restart interval
// (written by some encoders) is skipped, not treated as corruption.
func TestTrailingRestartMarker(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	enc := encodeJPEG([][]uint16{testPlane(rng, 8, 4, 12)}, 8, 4, encOpts{sof: 0xC3, precision: 12, comps: []encComp{{id: 1, h: 1, v: 1}}, predictor: 1, restart: 8})
	want, err := DecodeJPEG(enc.data)
	if err != nil {
		t.Fatal(err)
	}
	n := len(enc.data)
	data := append(append(append([]byte(nil), enc.data[:n-2]...), 0xFF, 0xD3), 0xFF, 0xD9)
	got, err := DecodeJPEG(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(got.Pix, want.Pix) {
		t.Fatal("samples changed")
	}
}

func slicesEqual(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestJPEG2000Detected(t *testing.T) {
	for _, data := range [][]byte{
		{0xFF, 0x4F, 0xFF, 0x51, 0, 0x2F},
		append([]byte{0, 0, 0, 0x0C}, []byte("jP  \r\n\x87\n")...),
	} {
		_, err := DecodeJPEG(data)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "JPEG 2000") {
			t.Errorf("% x: got %v", data[:4], err)
		}
	}
}
