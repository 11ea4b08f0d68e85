package synth_test

import (
	"fmt"

	"ctlens/tools/phantom/synth"
)

// A case is planned without writing anything: its ground truth and report
// are ready before a pixel is rendered (Case.Write or Generate do that).
func ExampleNewCase() {
	c, err := synth.NewCase(synth.Options{
		Seed:     7,
		Size:     synth.Size{Cols: 512, Rows: 512, Slices: 160},
		Findings: []synth.FindingSpec{{Kind: synth.LungNodule, Side: "right", SizeMM: 12}},
	}, 1)
	if err != nil {
		panic(err)
	}
	t := c.Truth()
	g := t.Series[0].Geometry
	f := t.Findings[0]
	fmt.Println(c.Name, t.Patient.Name, len(t.Series[0].Files), "files")
	fmt.Printf("pixel %.5f mm, slices %.4f mm apart\n", g.PixelSpacingMM[0], g.SliceSpacingMM)
	fmt.Println(f.Type, f.Side, f.SizeMM, "mm", f.HU, "HU")
	// Output:
	// case0001 PHANTOM^0001 160 files
	// pixel 0.78125 mm, slices 2.3125 mm apart
	// lung_nodule right 12 mm 30 HU
}
