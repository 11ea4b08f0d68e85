package synth

import (
	"fmt"
	"strings"
)

// Variant names one way a series is written unusually, so that an importer
// can be tested against it. Variants combine; the ground truth records what
// each one did.
type Variant string

// The variants, in the order their effects are applied.
const (
	Shuffled   Variant = "shuffled"   // random file names, files written in random order
	Reversed   Variant = "reversed"   // instance 1 is the lowest slice instead of the highest
	Missing    Variant = "missing"    // one interior slice is left out
	Duplicate  Variant = "duplicate"  // one slice is written twice: same SOP Instance UID, two file names
	Uneven     Variant = "uneven"     // interior slice positions jittered by up to ±30 % of the spacing
	Tilt       Variant = "tilt"       // gantry tilt: column direction tilted about patient X, positions sheared
	Signed     Variant = "signed"     // Pixel Representation 1, intercept 0 (the default)
	Unsigned   Variant = "unsigned"   // Pixel Representation 0, intercept −1024, Bits Stored 12
	Slope      Variant = "slope"      // Rescale Slope 0.5: stored values are 2·(HU − intercept)
	Padding    Variant = "padding"    // Pixel Padding Value outside the body outline
	Multiframe Variant = "multiframe" // one Enhanced CT Image object with per-frame functional groups
	TwoSeries  Variant = "twoseries"  // a second, thick-slice series of the same study in the same folder
	Zip        Variant = "zip"        // the DICOM files go into DIR.zip instead of DIR
)

// AllVariants lists every variant, for help texts and tests.
var AllVariants = []Variant{Shuffled, Reversed, Missing, Duplicate, Uneven, Tilt, Signed, Unsigned, Slope, Padding, Multiframe, TwoSeries, Zip}

// Variants is a set of variants.
type Variants map[Variant]bool

// ParseVariants reads a comma-separated list such as "shuffled,tilt". An
// empty string is the plain series.
func ParseVariants(s string) (Variants, error) {
	v := Variants{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" || f == "none" {
			continue
		}
		known := false
		for _, k := range AllVariants {
			if Variant(f) == k {
				known = true
			}
		}
		if !known {
			return nil, fmt.Errorf("unknown variant %q; choose from %s", f, variantList())
		}
		v[Variant(f)] = true
	}
	if v[Signed] && v[Unsigned] {
		return nil, fmt.Errorf("variants signed and unsigned exclude each other; pick one")
	}
	return v, nil
}

func variantList() string {
	var s []string
	for _, k := range AllVariants {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// List returns the set's names in AllVariants order.
func (v Variants) List() []string {
	out := []string{}
	for _, k := range AllVariants {
		if v[k] {
			out = append(out, string(k))
		}
	}
	return out
}

// String is the comma-separated list ParseVariants reads.
func (v Variants) String() string { return strings.Join(v.List(), ",") }

// encoding is how HU become stored pixel values (PS3.3 C.11.1.1.2:
// HU = stored·slope + intercept).
type encoding struct {
	signed     bool
	bitsStored int
	slope      float64
	intercept  float64
	padding    *int // Pixel Padding Value, stored units; nil when absent
}

func encodingFor(v Variants) encoding {
	e := encoding{signed: true, bitsStored: 16, slope: 1, intercept: 0}
	if v[Unsigned] {
		e.signed, e.intercept, e.bitsStored = false, -1024, 12
	}
	if v[Slope] {
		e.slope, e.bitsStored = 0.5, 16
	}
	if v[Padding] {
		pad := 0
		if e.signed {
			// Well below the stored value of −1024 HU at either slope.
			pad = -2000
			if e.slope != 1 {
				pad = -4000
			}
		}
		e.padding = &pad
	}
	return e
}

// storedRange is the range of stored values the encoding may use for real
// pixels: HU is clamped to [−1024, 3071] (the 12-bit CT range), and when the
// padding value is 0 the real pixels start at 1 so that no tissue reads as
// padding.
func (e encoding) storedRange() (lo, hi int) {
	lo = int(roundHalfAway((-1024 - e.intercept) / e.slope))
	hi = int(roundHalfAway((3071 - e.intercept) / e.slope))
	if e.padding != nil && *e.padding >= lo {
		lo = *e.padding + 1
	}
	return lo, hi
}

func roundHalfAway(x float64) float64 {
	if x < 0 {
		return -float64(int64(-x + 0.5))
	}
	return float64(int64(x + 0.5))
}
