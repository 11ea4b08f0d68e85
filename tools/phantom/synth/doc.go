// Package synth generates synthetic chest/abdomen CT with known ground
// truth: the library behind tools/phantom.
//
// What it owns: an analytic patient (body, lungs with vessel trees and
// fissures, airways, heart, great vessels, liver, spleen, stomach, kidneys,
// spine, ribs), findings drawn into it (lung nodule, pleural effusion,
// pneumothorax, consolidation, cardiomegaly, liver lesion, kidney stone,
// rib fracture), the series layout with its import-test variants, a DICOM
// writer (Explicit VR Little Endian, CT Image Storage and Enhanced CT Image
// Storage), the ground truth (Truth, written as JSON) and a report written
// from it. What it never does: read DICOM (that is ctlens/volume) or use
// real patient data.
//
// Units and frames: millimetres and Hounsfield units throughout; positions
// are DICOM patient coordinates (LPS: +X towards the patient's left, +Y
// posterior, +Z towards the head). A series' grid is indexed (i, j, k):
// column, row, and slice sorted by position along the slice normal,
// ascending; Geometry.Affine maps it to LPS.
//
// How an image is made: every organ is a shape with an approximate signed
// distance (ellipsoids, capsules, superelliptic columns, paraboloid domes,
// and their intersections, unions and complements). Layers paint them in
// order, each over the last; a voxel at distance d from a surface takes the
// fraction of its box (pixel × pixel × slice thickness, plus 0.6 mm of
// blur) that lies inside, which gives smooth edges and partial volume.
// Gaussian noise (σ drawn in 10–20 HU) comes from a stream keyed by the
// slice, so slices render in parallel and the output does not depend on
// scheduling: one seed gives byte-identical files.
//
// Randomness: every draw comes from a named stream derived from the run
// seed, the case number and a label ("anatomy", "findings", "report", …),
// so case 7 is the same alone or among a thousand, and adding a draw in one
// part leaves the others unchanged.
package synth
