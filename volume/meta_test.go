package volume

import "testing"

func TestDisplayName(t *testing.T) {
	for _, c := range []struct {
		m    Metadata
		want string
	}{
		{Metadata{SeriesDescription: " Chest 1.25 ", StudyDescription: "CT chest", ProtocolName: "p"}, "Chest 1.25"},
		{Metadata{SeriesDescription: "  ", StudyDescription: "CT chest", ProtocolName: "p"}, "CT chest"},
		{Metadata{ProtocolName: "Thorax routine", Modality: "CT", SeriesNumber: "3"}, "Thorax routine"},
		{Metadata{Modality: "MR", SeriesNumber: " 7 "}, "MR series 7"},
		{Metadata{SeriesNumber: "2"}, "CT series 2"},
		{Metadata{}, "CT series"},
	} {
		if have := c.m.DisplayName(); have != c.want {
			t.Errorf("%+v: have %q, want %q", c.m, have, c.want)
		}
	}
}
