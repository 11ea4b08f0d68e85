package serve

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// The app's icon is drawn here rather than shipped as binary files: a
// lens (ring) over three CT slices on the dark theme's background. go-app's
// default icons are remote, which would break both the CSP and offline
// install.

// iconSVG is the same drawing as iconPNG, for browsers that prefer SVG.
const iconSVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
<rect width="512" height="512" rx="96" fill="#0f1720"/>
<g stroke="#5fb3c9" stroke-width="22" stroke-linecap="round">
<line x1="150" y1="196" x2="362" y2="196"/><line x1="128" y1="256" x2="384" y2="256"/><line x1="150" y1="316" x2="362" y2="316"/>
</g>
<circle cx="256" cy="256" r="168" fill="none" stroke="#e6edf3" stroke-width="34"/>
</svg>
`

// iconPNG draws the icon at size×size pixels, 4×4 supersampled.
func iconPNG(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	bg := [3]float64{0x0f, 0x17, 0x20}
	ring := [3]float64{0xe6, 0xed, 0xf3}
	slice := [3]float64{0x5f, 0xb3, 0xc9}
	const ss = 4
	s := float64(size) / 512 // drawing units are the SVG's 512 grid
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var acc [4]float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					px := (float64(x) + (float64(sx)+0.5)/ss) / s
					py := (float64(y) + (float64(sy)+0.5)/ss) / s
					c, a := iconSample(px, py, bg, ring, slice)
					for i := 0; i < 3; i++ {
						acc[i] += c[i] * a
					}
					acc[3] += a
				}
			}
			n := float64(ss * ss)
			var px color.NRGBA
			if acc[3] > 0 {
				px = color.NRGBA{uint8(acc[0] / acc[3]), uint8(acc[1] / acc[3]), uint8(acc[2] / acc[3]), uint8(255 * acc[3] / n)}
			}
			img.SetNRGBA(x, y, px)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err) // encoding an in-memory NRGBA cannot fail
	}
	return buf.Bytes()
}

// iconSample is the colour and coverage at (x, y) in the 512 grid.
func iconSample(x, y float64, bg, ring, slice [3]float64) ([3]float64, float64) {
	// Rounded square, radius 96.
	const r = 96.0
	cx := math.Max(r-x, math.Max(x-(512-r), 0))
	cy := math.Max(r-y, math.Max(y-(512-r), 0))
	if cx*cx+cy*cy > r*r {
		return bg, 0
	}
	if d := math.Hypot(x-256, y-256); math.Abs(d-168) <= 17 {
		return ring, 1
	}
	for _, l := range []struct{ y, x0, x1 float64 }{{196, 150, 362}, {256, 128, 384}, {316, 150, 362}} {
		// A round-capped stroke 22 wide.
		dx := math.Max(l.x0-x, math.Max(x-l.x1, 0))
		if dy := y - l.y; dx*dx+dy*dy <= 11*11 {
			return slice, 1
		}
	}
	return bg, 1
}
