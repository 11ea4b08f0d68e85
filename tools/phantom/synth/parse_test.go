package synth

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    Size
		wantErr string
	}{
		{"512x512x160", Size{512, 512, 160}, ""},
		{" 64X48x24 ", Size{64, 48, 24}, ""},
		{"64x64", Size{}, "COLUMNSxROWSxSLICES"},
		{"64x64xten", Size{}, "not a whole number"},
		{"8x64x24", Size{}, "columns and rows"},
		{"64x64x2", Size{}, "slices"},
		{"4096x4096x10", Size{}, "columns and rows"},
	} {
		have, err := ParseSize(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseSize(%q): %v", c.in, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseSize(%q): error %v, want one mentioning %q", c.in, err, c.wantErr)
		case c.wantErr == "" && have != c.want:
			t.Errorf("ParseSize(%q) = %v, want %v", c.in, have, c.want)
		}
	}
}

func TestParseVariants(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{"", "", ""},
		{"none", "", ""},
		{"tilt,shuffled", "shuffled,tilt", ""},
		{" Multiframe , zip", "multiframe,zip", ""},
		{"tilted", "", `unknown variant "tilted"`},
		{"signed,unsigned", "", "exclude each other"},
	} {
		have, err := ParseVariants(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseVariants(%q): %v", c.in, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseVariants(%q): error %v, want one mentioning %q", c.in, err, c.wantErr)
		case c.wantErr == "" && have.String() != c.want:
			t.Errorf("ParseVariants(%q) = %q, want %q", c.in, have.String(), c.want)
		}
	}
}

func TestParseFindingSpec(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    FindingSpec
		wantErr string
	}{
		{"lung_nodule", FindingSpec{Kind: LungNodule}, ""},
		{"lung_nodule:right:12", FindingSpec{Kind: LungNodule, Side: "right", SizeMM: 12}, ""},
		{"kidney_stone:4.5:LEFT", FindingSpec{Kind: KidneyStone, Side: "left", SizeMM: 4.5}, ""},
		{"cardiomegaly", FindingSpec{Kind: Cardiomegaly}, ""},
		{"nodule", FindingSpec{}, "unknown finding"},
		{"cardiomegaly:left", FindingSpec{}, "has no side"},
		{"cardiomegaly:3", FindingSpec{}, "takes no size"},
		{"lung_nodule:up", FindingSpec{}, "neither a side"},
		{"lung_nodule:-3", FindingSpec{}, "neither a side"},
		{"lung_nodule:45", FindingSpec{}, "smaller size"},
	} {
		have, err := ParseFindingSpec(c.in)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ParseFindingSpec(%q): %v", c.in, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ParseFindingSpec(%q): error %v, want one mentioning %q", c.in, err, c.wantErr)
		case c.wantErr == "" && have != c.want:
			t.Errorf("ParseFindingSpec(%q) = %+v, want %+v", c.in, have, c.want)
		}
	}
}
