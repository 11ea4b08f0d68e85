package dicomread_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// Import a folder (os.DirFS), a zip archive (archive/zip's Reader is an
// fs.FS) or, in the browser, the files dropped on the page; then read the
// volume in HU and place a voxel in patient space.
func Example() {
	dir := os.Getenv("CTLENS_CONFORMANCE")
	if dir == "" {
		dir = "../../../shared/testdata/dicom-conformance"
	}
	fsys, closer, err := dicomread.Open(dir + "/cornerstone3D/CTImage.dcm")
	if err != nil {
		log.Fatal(err)
	}
	defer closer.Close()
	res, err := dicomread.Import(context.Background(), fsys, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range res.Errors {
		fmt.Println(e) // one line per file that could not be used
	}
	v := res.Volumes[0]
	st := v.Stats()
	fmt.Println(res.Series[0].Name())
	fmt.Println(v, v.Meta.Modality)
	fmt.Printf("HU %d..%d, mean %.1f\n", st.Min, st.Max, st.Mean)
	c := v.VoxelToLPS([3]float64{256, 256, 0}) // the centre of the slice, mm
	fmt.Printf("centre at (%.1f, %.1f, %.1f) mm LPS\n", c[0], c[1], c[2])
	w := volume.DefaultWindow(nil, v.Windows, st) // the header's, here
	fmt.Println("opens with", w, "from the", w.Source)
	in, _ := volume.ModelInput(v, 0, 1, 64, 64, volume.Norm{Kind: volume.NormWindow, Center: 40, Width: 400})
	fmt.Println(len(in), "model inputs in [0,1]")
	// Output:
	// series 2 "HELICAL CHEST" (1.2.840.113619.2.30.1.1762295590.1623.978668949.890)
	// 512×512×1 (×1 phases) at 0.6758×0.6758×5 mm CT
	// HU -3024..1378, mean -949.1
	// centre at (11.6, 24.2, 4.7) mm LPS
	// opens with file 1 W400/L40 from the header
	// 4096 model inputs in [0,1]
}
