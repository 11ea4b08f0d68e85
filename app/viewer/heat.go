package viewer

import (
	"fmt"

	"ctlens/app/state"
)

// expertPalette colours experts by index (a qualitative palette readable
// on grey CT; after 8 it repeats).
var expertPalette = [][3]uint8{
	{230, 25, 75}, {60, 180, 75}, {255, 225, 25}, {0, 130, 200},
	{245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
}

// ExpertColour is the legend colour of expert e as CSS.
func ExpertColour(e int) string {
	c := expertPalette[e%len(expertPalette)]
	return fmt.Sprintf("rgb(%d,%d,%d)", c[0], c[1], c[2])
}

// heatOpacity is the overlay's opacity at gate 1.
const heatOpacity = 0.55

// HeatColours turns the routing of the last MoE layer into one RGBA8 word
// per vision token of the Slices×GridH×GridW grid (the mpr kernel's heat
// input): the colour of the token's top expert, opacity its gate. A class
// token ahead of each slice's patches (S = prefix + GridH·GridW) is skipped.
func HeatColours(r *state.Routing) ([]uint32, error) {
	if r == nil || r.Routing == nil || len(r.Routing.Layers) == 0 {
		return nil, fmt.Errorf("viewer: no routing to draw")
	}
	if r.Slices <= 0 || r.GridH <= 0 || r.GridW <= 0 {
		return nil, fmt.Errorf("viewer: routing grid %d×%d×%d", r.Slices, r.GridH, r.GridW)
	}
	l := r.Routing.Layers[len(r.Routing.Layers)-1]
	if l.K <= 0 || l.Tokens%r.Slices != 0 || len(l.Experts) < l.Tokens*l.K || len(l.Gates) < l.Tokens*l.K {
		return nil, fmt.Errorf("viewer: layer %d routing of %d tokens (K=%d) does not fit %d slices", l.Layer, l.Tokens, l.K, r.Slices)
	}
	s := l.Tokens / r.Slices
	patches := r.GridH * r.GridW
	prefix := s - patches
	if prefix < 0 || prefix > 1 {
		return nil, fmt.Errorf("viewer: %d tokens per slice for a %d×%d grid", s, r.GridH, r.GridW)
	}
	out := make([]uint32, r.Slices*patches)
	for d := range r.Slices {
		for i := range patches {
			t := d*s + prefix + i
			e, g := l.Experts[t*l.K], l.Gates[t*l.K]
			c := expertPalette[e%len(expertPalette)]
			a := uint32(min(max(g, 0), 1)*heatOpacity*255 + 0.5)
			out[d*patches+i] = uint32(c[0]) | uint32(c[1])<<8 | uint32(c[2])<<16 | a<<24
		}
	}
	return out, nil
}
