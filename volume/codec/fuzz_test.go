package codec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Seed corpus. testdata/fuzz/<Target>/ holds tiny synthetic streams made
// by the test encoders (regenerate with CTLENS_WRITE_FUZZ_SEEDS=1 go test
// -run TestWriteFuzzSeeds); the shared conformance files add real-world
// seeds at test time, read in place rather than copied.

type jpegSeed struct {
	name string
	data []byte
}

func syntheticJPEGSeeds() []jpegSeed {
	rng := rand.New(rand.NewSource(8))
	one := []encComp{{id: 1, h: 1, v: 1}}
	rgb := []encComp{{id: 0, h: 1, v: 1}, {id: 1, h: 1, v: 1}, {id: 2, h: 1, v: 1}}
	sub := []encComp{{id: 1, h: 2, v: 2}, {id: 2, h: 1, v: 1, tq: 1}, {id: 3, h: 1, v: 1, tq: 1}}
	var q [64]int
	for k := range q {
		q[k] = 4 + k
	}
	mk := func(w, h int, o encOpts) []byte {
		hmax, vmax, cw, ch := compDims(w, h, o.comps)
		_, _ = hmax, vmax
		planes := make([][]uint16, len(o.comps))
		for i := range planes {
			planes[i] = testPlane(rng, cw[i], ch[i], o.precision)
		}
		o.quant[0], o.quant[1] = q, q
		return encodeJPEG(planes, w, h, o).data
	}
	prog := []progScan{
		{comps: []int{0, 1, 2}, ss: 0, se: 0, al: 1},
		{comps: []int{0}, ss: 1, se: 63},
		{comps: []int{1}, ss: 1, se: 63, al: 1},
		{comps: []int{2}, ss: 1, se: 63},
		{comps: []int{0, 1, 2}, ss: 0, se: 0, ah: 1},
	}
	return []jpegSeed{
		{"lossless-p8-sel1", mk(8, 4, encOpts{sof: 0xC3, precision: 8, comps: one, predictor: 1})},
		{"lossless-p16-sel7-rst-pt1", mk(5, 3, encOpts{sof: 0xC3, precision: 16, comps: one, predictor: 7, pt: 1, restart: 5})},
		{"lossless-p12-rgb-sel4", mk(4, 3, encOpts{sof: 0xC3, precision: 12, comps: rgb, predictor: 4, interleaved: true})},
		{"lossless-p10-420-sel6-rst", mk(6, 5, encOpts{sof: 0xC3, precision: 10, comps: sub, predictor: 6, restart: 2, interleaved: true})},
		{"baseline-gray", mk(16, 8, encOpts{sof: 0xC0, precision: 8, comps: one})},
		{"baseline-420-rst", mk(16, 16, encOpts{sof: 0xC0, precision: 8, comps: sub, interleaved: true, restart: 1})},
		{"extended-p12-gray-rst", mk(8, 8, encOpts{sof: 0xC1, precision: 12, comps: one, restart: 1})},
		{"extended-p12-separate", mk(9, 9, encOpts{sof: 0xC1, precision: 12, comps: sub})},
		{"progressive-p8-gray", mk(16, 8, encOpts{sof: 0xC2, precision: 8, comps: one, progressive: []progScan{
			{comps: []int{0}, ss: 0, se: 0, al: 1}, {comps: []int{0}, ss: 1, se: 63}, {comps: []int{0}, ss: 0, se: 0, ah: 1}}})},
		{"progressive-p12-420-rst", mk(16, 16, encOpts{sof: 0xC2, precision: 12, comps: sub, restart: 1, progressive: prog})},
	}
}

type rleSeed struct {
	name                   string
	data                   []byte
	rows, cols             uint16
	bitsAllocated, samples uint8
}

func syntheticRLESeeds() []rleSeed {
	mk := func(name string, rows, cols, bits, samples int) rleSeed {
		pix := make([]byte, rows*cols*samples*bits/8)
		for i := range pix {
			pix[i] = byte(i * i / 7)
			if i%5 < 2 {
				pix[i] = 0
			}
		}
		return rleSeed{name, encodeRLE(pix, rows, cols, bits, samples), uint16(rows), uint16(cols), uint8(bits), uint8(samples)}
	}
	return []rleSeed{mk("u8", 3, 5, 8, 1), mk("u16", 4, 4, 16, 1), mk("rgb8", 2, 3, 8, 3), mk("u32", 2, 2, 32, 1)}
}

// TestWriteFuzzSeeds regenerates the committed seed corpus. It only runs
// when asked, so that ordinary test runs never modify the tree.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("CTLENS_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set CTLENS_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	write := func(target, name, body string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte("go test fuzz v1\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range syntheticJPEGSeeds() {
		write("FuzzDecodeJPEG", s.name, fmt.Sprintf("[]byte(%q)\n", s.data))
	}
	for _, s := range syntheticRLESeeds() {
		write("FuzzDecodeRLE", s.name, fmt.Sprintf("[]byte(%q)\nuint16(%d)\nuint16(%d)\nuint8(%d)\nuint8(%d)\n",
			s.data, s.rows, s.cols, s.bitsAllocated, s.samples))
	}
}

// TestFuzzSeedsDecode keeps the committed seeds meaningful: each must
// still be a valid stream that decodes.
func TestFuzzSeedsDecode(t *testing.T) {
	for _, s := range syntheticJPEGSeeds() {
		if _, err := DecodeJPEG(s.data); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
		p := filepath.Join("testdata", "fuzz", "FuzzDecodeJPEG", "seed-"+s.name)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("committed seed missing: %v", err)
		}
	}
	for _, s := range syntheticRLESeeds() {
		if _, err := DecodeRLE(s.data, int(s.rows), int(s.cols), int(s.bitsAllocated), int(s.samples)); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	}
}

// realJPEGSeeds returns header-and-start-of-scan prefixes of the shared
// JPEG files (real encoders' tables and markers), if they are present.
func realJPEGSeeds(tb testing.TB) [][]byte {
	dir := ""
	for _, c := range []string{os.Getenv("CTLENS_CONFORMANCE"), "../../../shared/testdata/dicom-conformance", "../../shared/testdata/dicom-conformance"} {
		if st, err := os.Stat(c); c != "" && err == nil && st.IsDir() {
			dir = c
			break
		}
	}
	if dir == "" {
		return nil
	}
	var seeds [][]byte
	for _, rel := range []string{
		"cornerstone3D/CTImage.dcm_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm",
		"cornerstone3D/TestPattern_JPEG-Lossless_RGB.dcm",
		"dicomParser/encapsulated__multi-frame__IM00001.fragmented_no_bot_jpeg_baseline.50.dcm",
	} {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			continue
		}
		i := bytes.Index(b, []byte{0xFF, 0xD8, 0xFF})
		if i < 0 {
			continue
		}
		seeds = append(seeds, b[i:min(len(b), i+2048)])
	}
	return seeds
}

// checkTyped fails unless err is one of the package's error types.
func checkTyped(t *testing.T, err error) {
	var fe *FormatError
	var ue *UnsupportedError
	if !errors.As(err, &fe) && !errors.As(err, &ue) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzDecodeJPEG(f *testing.F) {
	for _, s := range syntheticJPEGSeeds() {
		f.Add(s.data)
	}
	for _, s := range realJPEGSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		cfg, cerr := DecodeJPEGConfig(data)
		img, err := DecodeJPEG(data)
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("decoding %d bytes took %v", len(data), el)
		}
		if cerr != nil {
			checkTyped(t, cerr)
		}
		if err != nil {
			checkTyped(t, err)
			return
		}
		if cerr != nil {
			t.Fatalf("DecodeJPEG succeeded but DecodeJPEGConfig failed: %v", cerr)
		}
		if cfg.Width != img.Width || cfg.Height != img.Height || cfg.Components != img.Components || cfg.Precision != img.Precision || cfg.Pix != nil {
			t.Fatalf("config %d×%d×%d P%d, image %d×%d×%d P%d", cfg.Width, cfg.Height, cfg.Components, cfg.Precision, img.Width, img.Height, img.Components, img.Precision)
		}
		n := img.Width * img.Height * img.Components
		if len(img.Pix) != n || n > MaxImageSamples {
			t.Fatalf("%d samples for %d×%d×%d", len(img.Pix), img.Width, img.Height, img.Components)
		}
		// Each data unit costs at least one bit, a DCT data unit is 64
		// samples, and upsampling replicates at most 4×4.
		if n > 16*64*8*len(data) {
			t.Fatalf("%d samples from %d bytes", n, len(data))
		}
		for _, v := range img.Pix {
			if int(v) >= 1<<img.Precision {
				t.Fatalf("sample %d exceeds precision %d", v, img.Precision)
			}
		}
	})
}

func FuzzDecodeRLE(f *testing.F) {
	for _, s := range syntheticRLESeeds() {
		f.Add(s.data, s.rows, s.cols, s.bitsAllocated, s.samples)
	}
	f.Fuzz(func(t *testing.T, data []byte, rows, cols uint16, bitsAllocated, samples uint8) {
		r, c, b, s := int(rows), int(cols), int(bitsAllocated), int(samples)
		out, err := DecodeRLE(data, r, c, b, s)
		if err != nil {
			checkTyped(t, err)
			return
		}
		if len(out) != r*c*s*b/8 {
			t.Fatalf("%d bytes for %d×%d×%d×%d bits", len(out), r, c, s, b)
		}
		// Round trip: what was decoded must survive re-encoding.
		again, err := DecodeRLE(encodeRLE(out, r, c, b, s), r, c, b, s)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// TestMutatedStreams is a deterministic complement to the fuzz targets:
// it starts from complete valid streams (the synthetic seeds and, when
// present, every frame of the real files) and decodes thousands of
// corruptions of them - bit flips, byte overwrites, truncations,
// insertions and deletions deep inside the entropy-coded data where a
// coverage-guided fuzzer takes long to reach - checking the same
// invariants as FuzzDecodeJPEG: no panic, only typed errors, consistent
// output size and sample range.
func TestMutatedStreams(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	var bases [][]byte
	for _, s := range syntheticJPEGSeeds() {
		bases = append(bases, s.data)
	}
	perBase := 1500
	if testing.Short() {
		perBase = 150
	}
	for bi, base := range bases {
		for i := 0; i < perBase; i++ {
			data := mutate(rng, base)
			img, err := DecodeJPEG(data)
			if err != nil {
				checkTyped(t, err)
				continue
			}
			if len(img.Pix) != img.Width*img.Height*img.Components {
				t.Fatalf("base %d mutation %d: %d samples for %d×%d×%d", bi, i, len(img.Pix), img.Width, img.Height, img.Components)
			}
			for _, v := range img.Pix {
				if int(v) >= 1<<img.Precision {
					t.Fatalf("base %d mutation %d: sample %d exceeds precision %d", bi, i, v, img.Precision)
				}
			}
		}
	}
}

// TestMutatedRealStreams applies the same corruptions to the real frames
// (fewer of them: each decode of a 512×512 frame takes milliseconds).
func TestMutatedRealStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	rng := rand.New(rand.NewSource(10))
	for _, rel := range []string{
		"cornerstone3D/CTImage.dcm_JPEGProcess14TransferSyntax_1.2.840.10008.1.2.4.57.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm",
		"cornerstone3D/CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm",
		"cornerstone3D/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm",
	} {
		f := readDICOM(t, conformanceFile(t, rel))
		base := f.frameData[0]
		for i := 0; i < 60; i++ {
			data := mutate(rng, base)
			if bytes.HasPrefix(base, []byte{0xFF, 0xD8}) {
				if _, err := DecodeJPEG(data); err != nil {
					checkTyped(t, err)
				}
				continue
			}
			out, err := DecodeRLE(data, f.rows, f.cols, f.bitsAlloc, f.samples)
			if err != nil {
				checkTyped(t, err)
			} else if len(out) != f.rows*f.cols*f.samples*f.bitsAlloc/8 {
				t.Fatalf("%s: %d bytes", rel, len(out))
			}
		}
	}
}

// mutate returns a corrupted copy of b.
func mutate(rng *rand.Rand, b []byte) []byte {
	d := append([]byte(nil), b...)
	for n := 1 + rng.Intn(3); n > 0 && len(d) > 0; n-- {
		p := rng.Intn(len(d))
		switch rng.Intn(6) {
		case 0:
			d[p] ^= 1 << rng.Intn(8)
		case 1:
			d[p] = byte(rng.Intn(256))
		case 2:
			d[p] = []byte{0x00, 0xFF, 0xD0, 0xD9, 0xDA, 0xC4, 0x7F}[rng.Intn(7)]
		case 3:
			d = d[:p]
		case 4:
			d = append(d[:p], append([]byte{byte(rng.Intn(256))}, d[p:]...)...)
		case 5:
			q := min(len(d), p+1+rng.Intn(16))
			d = append(d[:p], d[q:]...)
		}
	}
	return d
}
