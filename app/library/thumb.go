package library

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"strings"

	"ctlens/volume"
)

// ThumbnailWindow is the window a series' thumbnail uses: lung for the
// chest, soft tissue otherwise, as a reader would first look at each.
func ThumbnailWindow(m volume.Metadata) volume.Window {
	part := strings.ToUpper(m.BodyPartExamined + " " + m.SeriesDescription + " " + m.StudyDescription)
	for _, k := range []string{"CHEST", "LUNG", "THORAX", "THX"} {
		if strings.Contains(part, k) {
			return presetWindow("lung")
		}
	}
	return presetWindow("soft tissue")
}

func presetWindow(name string) volume.Window {
	for _, w := range volume.Presets {
		if w.Name == name {
			return w
		}
	}
	panic("library: no preset window " + name)
}

// Thumbnail renders the middle slice of v's first phase as a grey PNG at
// most size pixels on its longer side, keeping the physical aspect ratio
// (pixel spacing may differ along x and y). Each output pixel averages
// the voxels it covers, so thin structures do not alias away.
func Thumbnail(v *volume.Volume, size int) ([]byte, error) {
	X, Y := v.Dims[0], v.Dims[1]
	if X < 1 || Y < 1 || v.Dims[2] < 1 || len(v.Voxels) < v.Len() || size < 1 {
		return nil, fmt.Errorf("library: thumbnail of a %v volume", v)
	}
	wmm, hmm := float64(X)*v.Spacing[0], float64(Y)*v.Spacing[1]
	if !(wmm > 0) || !(hmm > 0) {
		wmm, hmm = float64(X), float64(Y)
	}
	w, h := size, size
	if wmm > hmm {
		h = max(1, int(float64(size)*hmm/wmm+0.5))
	} else {
		w = max(1, int(float64(size)*wmm/hmm+0.5))
	}
	win := ThumbnailWindow(v.Meta)
	z := v.Dims[2] / 2
	slice := v.Voxels[z*X*Y : (z+1)*X*Y]
	img := image.NewGray(image.Rect(0, 0, w, h))
	for oy := range h {
		y0, y1 := oy*Y/h, max((oy+1)*Y/h, oy*Y/h+1)
		for ox := range w {
			x0, x1 := ox*X/w, max((ox+1)*X/w, ox*X/w+1)
			var sum float64
			for y := y0; y < y1; y++ {
				row := slice[y*X : (y+1)*X]
				for x := x0; x < x1; x++ {
					sum += float64(row[x])
				}
			}
			g := win.Apply(sum / float64((y1-y0)*(x1-x0)))
			if v.Invert {
				g = 1 - g
			}
			img.Pix[oy*img.Stride+ox] = uint8(g*255 + 0.5)
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("library: thumbnail: %v", err)
	}
	return b.Bytes(), nil
}
