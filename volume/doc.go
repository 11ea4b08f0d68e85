// Package volume is the in-memory CT volume: a regular grid of Hounsfield
// units with the patient geometry that places every voxel, and everything
// computed from it without reading a file: multiplanar planes and their
// orientation letters, windows, the model's input tensor, statistics, and a
// de-identified copy of the study metadata. It is pure Go and builds for
// js/wasm.
//
// # Why reading DICOM is elsewhere
//
// Reading DICOM files is volume/dicomread. The browser page links this
// package (the viewer, the assistant, the library's records) but must not
// link the DICOM parser: suyashkumar/dicom's tag dictionary is one 2.65 MB
// init function that costs 100-200 ms of main-thread compile at page start.
// Parsing runs in a Web Worker that links dicomread and hands the page a
// Volume. A test (TestNoDICOMParser) fails if this package comes to depend
// on the parser again.
//
// # What it owns
//
// Volume and its geometry (VoxelToLPS, LPSToVoxel, PlaneFor, Letters);
// Window, Presets and DefaultWindow; ModelInput and Norm; Stats; Metadata,
// Deidentify and MetadataFields, the table that says which tag fills which
// field, so that the reader and the de-identifier cannot disagree. It never
// draws and knows nothing of the model's internals.
//
// # Units and axes
//
// Distances are millimetres, coordinates are DICOM patient coordinates LPS
// (x towards the patient's Left, y Posterior, z Superior), values are HU
// (int16). A Volume has Dims X (columns), Y (rows), Z (slices), x fastest;
// Direction holds the unit vectors of those axes in LPS, Origin the centre
// of voxel (0,0,0). Model input is laid out D×H×W (slices, rows, columns).
package volume
