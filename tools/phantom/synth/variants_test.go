package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

func planCase(t *testing.T, v string) *Truth {
	t.Helper()
	vs, err := ParseVariants(v)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCase(Options{Seed: 21, Size: Size{40, 36, 20}, Variants: vs}, 3)
	if err != nil {
		t.Fatalf("%s: %v", v, err)
	}
	return c.Truth()
}

func affine(g Geometry, i, j, k float64) [3]float64 {
	var p [3]float64
	for r := 0; r < 3; r++ {
		p[r] = g.Affine[r][0]*i + g.Affine[r][1]*j + g.Affine[r][2]*k + g.Affine[r][3]
	}
	return p
}

// frames lists every frame of a series by grid slice.
func frames(s Series) map[int][]Frame {
	out := map[int][]Frame{}
	for _, f := range s.Files {
		for _, fr := range f.Frames {
			out[fr.GridSlice] = append(out[fr.GridSlice], fr)
		}
	}
	return out
}

// TestVariantPlans checks that the ground truth of each variant says what
// the variant is defined to do.
func TestVariantPlans(t *testing.T) {
	base := planCase(t, "")
	g := base.Series[0].Geometry
	D := g.Slices
	t.Run("plain", func(t *testing.T) {
		s := base.Series[0]
		if len(s.Files) != D {
			t.Fatalf("%d files, want %d", len(s.Files), D)
		}
		for i, f := range s.Files {
			fr := f.Frames[0]
			if want := affine(g, 0, 0, float64(fr.GridSlice)); fr.PositionLPS != want {
				t.Errorf("file %s: position %v, grid says %v", f.Path, fr.PositionLPS, want)
			}
			if f.Path != fmt.Sprintf("case0003/IM%04d.dcm", i+1) || f.InstanceNumber != i+1 {
				t.Errorf("file %d: %s instance %d", i, f.Path, f.InstanceNumber)
			}
			// Head first: instance 1 is the highest slice.
			if fr.GridSlice != D-1-i {
				t.Errorf("instance %d holds grid slice %d, want %d", f.InstanceNumber, fr.GridSlice, D-1-i)
			}
		}
		if g.SliceNormal != [3]float64{0, 0, 1} || g.GantryTiltDeg != 0 || g.SliceSpacingMM != g.SliceThicknessMM {
			t.Errorf("plain geometry %+v", g)
		}
	})
	t.Run("reversed", func(t *testing.T) {
		s := planCase(t, "reversed").Series[0]
		for _, f := range s.Files {
			if f.Frames[0].GridSlice != f.InstanceNumber-1 {
				t.Errorf("instance %d holds grid slice %d", f.InstanceNumber, f.Frames[0].GridSlice)
			}
		}
	})
	t.Run("shuffled", func(t *testing.T) {
		s := planCase(t, "shuffled").Series[0]
		var names []string
		for _, f := range s.Files {
			names = append(names, f.Path)
			if strings.HasSuffix(f.Path, ".dcm") {
				t.Errorf("%s: shuffled names carry no extension", f.Path)
			}
		}
		if sort.StringsAreSorted(names) || len(frames(s)) != D {
			t.Errorf("shuffled: names in order or slices lost: %v", names)
		}
	})
	t.Run("missing", func(t *testing.T) {
		s := planCase(t, "missing").Series[0]
		fr := frames(s)
		if len(s.Anomalies.MissingSlices) != 1 || len(s.Files) != D-1 {
			t.Fatalf("missing: %v, %d files", s.Anomalies.MissingSlices, len(s.Files))
		}
		k := s.Anomalies.MissingSlices[0]
		if _, ok := fr[k]; ok || k == 0 || k == D-1 {
			t.Errorf("missing slice %d is written, or at the end of the stack", k)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		s := planCase(t, "duplicate").Series[0]
		if len(s.Files) != D+1 || len(s.Anomalies.DuplicateSlices) != 1 {
			t.Fatalf("duplicate: %d files, %v", len(s.Files), s.Anomalies.DuplicateSlices)
		}
		byPath := map[string]File{}
		for _, f := range s.Files {
			byPath[f.Path] = f
		}
		n := 0
		for _, f := range s.Files {
			if f.DuplicateOf != "" {
				n++
				o := byPath[f.DuplicateOf]
				if o.SOPInstanceUID != f.SOPInstanceUID || o.Frames[0] != f.Frames[0] || o.Frames[0].GridSlice != s.Anomalies.DuplicateSlices[0] {
					t.Errorf("duplicate %s differs from %s", f.Path, o.Path)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d duplicates, want 1", n)
		}
	})
	t.Run("uneven", func(t *testing.T) {
		s := planCase(t, "uneven").Series[0]
		fr := frames(s)
		prev := math.Inf(-1)
		moved := 0
		for k := 0; k < D; k++ {
			p := fr[k][0].PositionLPS
			want := affine(s.Geometry, 0, 0, float64(k))
			dz := math.Abs(p[2] - want[2])
			if (k == 0 || k == D-1) && dz != 0 {
				t.Errorf("end slice %d moved by %v", k, dz)
			}
			if dz > 0.3*g.SliceSpacingMM+1e-6 {
				t.Errorf("slice %d moved %.3f mm, over 30%% of %.3f", k, dz, g.SliceSpacingMM)
			}
			if dz > 0 {
				moved++
			}
			if p[2] <= prev {
				t.Errorf("slice %d not above slice %d", k, k-1)
			}
			prev = p[2]
		}
		if moved < D/2 || !s.Anomalies.Uneven || s.Anomalies.MaxJitterMM <= 0 {
			t.Errorf("uneven: %d slices moved, anomalies %+v", moved, s.Anomalies)
		}
	})
	t.Run("tilt", func(t *testing.T) {
		s := planCase(t, "tilt").Series[0]
		tg := s.Geometry
		iop := tg.ImageOrientationPatient
		tilt := math.Atan2(iop[5], iop[4]) * 180 / math.Pi
		if math.Abs(tg.GantryTiltDeg) < 8 || math.Abs(tilt-tg.GantryTiltDeg) > 1e-3 {
			t.Errorf("tilt %v, orientation says %v", tg.GantryTiltDeg, tilt)
		}
		// The table moves along Z; the step is not along the normal.
		if tg.SliceStepLPS[0] != 0 || tg.SliceStepLPS[1] != 0 {
			t.Errorf("step %v, want along Z", tg.SliceStepLPS)
		}
		n := tg.SliceNormal
		dot := n[2] * tg.SliceStepLPS[2]
		if math.Abs(dot-tg.SliceSpacingMM) > 1e-5 || tg.SliceSpacingMM >= tg.SliceStepLPS[2] {
			t.Errorf("spacing %v, step·normal %v", tg.SliceSpacingMM, dot)
		}
		if !s.Anomalies.Tilted {
			t.Errorf("anomalies do not say tilted")
		}
	})
	t.Run("multiframe", func(t *testing.T) {
		tr := planCase(t, "multiframe,missing,duplicate")
		s := tr.Series[0]
		if len(s.Files) != 1 || len(s.Files[0].Frames) != D || s.SOPClassUID != enhancedCTImageStorage || !s.Encoding.Multiframe {
			t.Fatalf("multiframe: %d files, %d frames, class %s", len(s.Files), len(s.Files[0].Frames), s.SOPClassUID)
		}
	})
	t.Run("twoseries", func(t *testing.T) {
		tr := planCase(t, "twoseries")
		if len(tr.Series) != 2 {
			t.Fatalf("%d series", len(tr.Series))
		}
		a, b := tr.Series[0], tr.Series[1]
		if a.InstanceUID == b.InstanceUID || a.FrameOfReferenceUID != b.FrameOfReferenceUID {
			t.Errorf("series UIDs must differ and frames of reference match")
		}
		if b.Geometry.SliceThicknessMM != 2*a.Geometry.SliceThicknessMM || b.Geometry.Slices != a.Geometry.Slices/2 {
			t.Errorf("thick series: %+v", b.Geometry)
		}
		seen := map[string]bool{}
		for _, s := range tr.Series {
			for _, f := range s.Files {
				if seen[f.Path] || seen[f.SOPInstanceUID] {
					t.Errorf("%s or its UID used twice", f.Path)
				}
				seen[f.Path], seen[f.SOPInstanceUID] = true, true
			}
		}
	})
	t.Run("encodings", func(t *testing.T) {
		for _, c := range []struct {
			v            string
			pr, bits     int
			slope, icept float64
			pad          *int
		}{
			{"", 1, 16, 1, 0, nil},
			{"signed", 1, 16, 1, 0, nil},
			{"unsigned", 0, 12, 1, -1024, nil},
			{"slope", 1, 16, 0.5, 0, nil},
			{"unsigned,slope,padding", 0, 16, 0.5, -1024, ptr(0)},
			{"padding", 1, 16, 1, 0, ptr(-2000)},
		} {
			e := planCase(t, c.v).Series[0].Encoding
			if e.PixelRepresentation != c.pr || e.BitsStored != c.bits || e.RescaleSlope != c.slope || e.RescaleIntercept != c.icept ||
				(e.PixelPaddingValue == nil) != (c.pad == nil) || c.pad != nil && *e.PixelPaddingValue != *c.pad {
				t.Errorf("%q: encoding %+v", c.v, e)
			}
		}
	})
}

func ptr(i int) *int { return &i }

// TestStoredValues encodes one slice under each encoding and decodes it
// back: HU = stored·slope + intercept must stay within half a step of the
// unencoded value (noise included), and padding must cover exactly the
// outside of the body.
func TestStoredValues(t *testing.T) {
	for _, v := range []string{"", "unsigned", "slope", "unsigned,slope,padding", "padding"} {
		vs, _ := ParseVariants(v)
		c, err := NewCase(Options{Seed: 8, Size: Size{48, 48, 10}, Variants: vs}, 1)
		if err != nil {
			t.Fatal(err)
		}
		s := c.series[0]
		fr := s.files[0].frames[0]
		var sc scratch
		raw := c.pixels(s, fr, &sc)
		c.noise = 0 // the same slice without noise, to compare with the model
		clean := c.pixels(s, fr, &scratch{})
		e := s.enc
		lo, hi := e.storedRange()
		for i := 0; i < len(sc.hu); i++ {
			st := int(int16(uint16(clean[2*i]) | uint16(clean[2*i+1])<<8))
			if !e.signed {
				st = int(uint16(clean[2*i]) | uint16(clean[2*i+1])<<8)
			}
			if e.padding != nil && st == *e.padding {
				if sc.body[i] >= 0.5 {
					t.Fatalf("%q: pixel %d inside the body holds the padding value", v, i)
				}
				continue
			}
			if e.padding != nil && sc.body[i] < 0.5 {
				t.Fatalf("%q: pixel %d outside the body not padded", v, i)
			}
			if st < lo || st > hi || st >= 1<<e.bitsStored && !e.signed {
				t.Fatalf("%q: stored %d outside [%d, %d]", v, st, lo, hi)
			}
			hu := float64(st)*e.slope + e.intercept
			want := clamp(float64(sc.hu[i]), -1024, 3071)
			if math.Abs(hu-want) > e.slope/2+1e-3 && !(e.padding != nil && *e.padding == 0 && want <= -1023) {
				t.Fatalf("%q: pixel %d decodes to %.2f HU, model %.2f", v, i, hu, want)
			}
		}
		if len(raw) != len(clean) {
			t.Fatalf("length changed with noise")
		}
	}
}

func TestOrdered(t *testing.T) {
	var got []int
	err := ordered(context.Background(), 50, 4, func(w, i int) ([]byte, error) {
		return []byte{byte(i)}, nil
	}, func(i int, b []byte) error {
		got = append(got, int(b[0]))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("result %d arrived at position %d", v, i)
		}
	}
	if len(got) != 50 {
		t.Fatalf("%d results, want 50", len(got))
	}
	boom := errors.New("boom")
	err = ordered(context.Background(), 50, 3, func(w, i int) ([]byte, error) {
		if i == 17 {
			return nil, boom
		}
		return nil, nil
	}, func(int, []byte) error { return nil })
	if !errors.Is(err, boom) {
		t.Errorf("producer error: have %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = ordered(ctx, 50, 2, func(w, i int) ([]byte, error) { return nil, nil }, func(int, []byte) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: have %v", err)
	}
}
