package dataset

import (
	"fmt"
	"strings"

	"ctlens/tools/phantom/synth"
)

// captionOrgans are the organs a caption names, in the order it names
// them, with their ground-truth names.
var captionOrgans = []struct{ truth, name string }{
	{"lung_right", "right lung"}, {"lung_left", "left lung"}, {"heart", "heart"}, {"aorta", "aorta"},
	{"liver", "liver"}, {"spleen", "spleen"}, {"kidney_right", "right kidney"}, {"kidney_left", "left kidney"},
}

// SliceCaption is what one model-input slice shows: the caption, and the
// findings it names as data (stage 0's finding probe learns from them).
type SliceCaption struct {
	Text     string
	Findings []Finding
}

// SliceCaptions says, for each of the d model-input slices (z = 0 is the
// lowest, as volume sorts along the slice normal), which organs and
// findings it shows: those whose ground-truth bounds overlap the slab of
// native slices the model slice is resampled from. native is the first
// series' slice count, the grid the truth's voxel bounds are in.
func SliceCaptions(t *synth.Truth, native, d int) []SliceCaption {
	f := float64(native) / float64(d)
	out := make([]SliceCaption, d)
	for z := range d {
		// Model slice z's centre lies at native index (z+½)·f − ½; its
		// slab reaches half a model slice either way.
		lo, hi := float64(z)*f-0.5, float64(z+1)*f-0.5
		over := func(b *[2][3]float64) bool { return b != nil && b[1][2] >= lo && b[0][2] <= hi }
		var seen []string
		for _, co := range captionOrgans {
			for _, o := range t.Organs {
				if o.Name == co.truth && over(o.BoundsVoxel) {
					seen = append(seen, co.name)
				}
			}
		}
		var finds []string
		var shown []synth.Finding
		for _, fd := range orderedFindings(t.Findings) {
			if over(&fd.BoundsVoxel) {
				finds = append(finds, phrase(fd))
				shown = append(shown, fd)
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Axial slice %d of %d", z+1, d)
		if len(seen) > 0 {
			b.WriteString(": " + joinAnd(seen))
		} else {
			b.WriteString(": no major organ")
		}
		if len(finds) > 0 {
			b.WriteString(". Abnormal: " + joinAnd(finds) + ".")
		} else {
			b.WriteString(". No abnormality.")
		}
		out[z] = SliceCaption{Text: b.String(), Findings: truthFindings(shown)}
	}
	return out
}
