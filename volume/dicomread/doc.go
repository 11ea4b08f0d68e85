// Package dicomread turns DICOM CT files into volume.Volumes of Hounsfield
// units with correct patient geometry. It is pure Go and builds for
// js/wasm: the same code imports studies in the browser and on the command
// line.
//
// # Why it is a package of its own
//
// It links suyashkumar/dicom, whose tag dictionary is one 2.65 MB init
// function: 100-200 ms of main-thread compile when a page links it. The
// browser page therefore links only ctlens/volume (the in-memory Volume,
// geometry, windows, model input), and parsing runs in a Web Worker that
// links this package and hands the page its Volumes.
//
// # What it owns
//
// Reading files, folders and zip archives through io/fs (Open, Import,
// Scan); grouping files into series; sorting slices by geometry; decoding
// pixel data (native, deflated, big endian, RLE and JPEG through
// volume/codec); rescaling to HU; resampling irregular stacks; extracting
// the study metadata (the fields and tags of volume.MetadataFields).
//
// # How an import runs
//
// Two passes, so that a 500-slice series never has all its file bytes in
// memory:
//
//  1. Scan: the header pass. Each file is read up to its Pixel Data
//     (ReadHeader) by a structure walker that checks every length before
//     anything is allocated, then parsed by suyashkumar/dicom. Files are
//     grouped by Study/Series Instance UID and split on frame of reference,
//     size, orientation and pixel spacing; frames are sorted by Image
//     Position (Patient) projected on the slice normal (PS3.3 C.7.6.2.1.1)
//     and never by Instance Number or Slice Location; several instances at
//     one position become phases; duplicates, missing slices, uneven
//     spacing and gantry tilt are reported, and a grid is planned.
//  2. Series.Load: the pixel pass. Each file is read again and its frames
//     decoded straight into the volume's one int16 buffer (PS3.3 C.11.1
//     Modality LUT: stored × slope + intercept; Pixel Padding Value masked
//     to PaddingHU). Irregular stacks are resampled onto the planned grid.
//
// Import does both. Every problem with one file is a *FileError in the
// Result and the rest of the import goes on; errors wrap *FormatError (not
// valid DICOM) or *UnsupportedError (valid, not handled: JPEG-LS, JPEG 2000,
// colour, objects without pixels), with the file and the tag:
//
//	volume: IM0042: (0028,0010) Rows: invalid DICOM: 0 is not a valid number of rows
package dicomread
