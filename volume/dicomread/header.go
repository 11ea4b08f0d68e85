package dicomread

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"

	"ctlens/volume"
)

// Header is what ReadHeader learns from one file without decoding its
// pixels: the series keys, the geometry of each frame, and how stored values
// become Hounsfield units. It is the DecodeConfig of this room.
type Header struct {
	TransferSyntaxUID string   // (0002,0010); implicit VR little endian when the file has no meta group
	TransferSyntax    string   // its name
	SOPClassUID       string   // (0008,0016)
	SOPInstanceUID    string   // (0008,0018)
	Modality          string   // (0008,0060)
	ImageType         []string // (0008,0008), e.g. ORIGINAL\PRIMARY\AXIAL

	// Image Pixel Module, PS3.3 C.7.6.3.
	Rows, Columns             int    // (0028,0010), (0028,0011)
	NumberOfFrames            int    // (0028,0008); 1 for single-frame objects
	SamplesPerPixel           int    // (0028,0002); 1 for CT
	BitsAllocated, BitsStored int    // (0028,0100), (0028,0101)
	HighBit                   int    // (0028,0102)
	PixelRepresentation       int    // (0028,0103): 0 unsigned, 1 two's complement
	PhotometricInterpretation string // (0028,0004): MONOCHROME2, MONOCHROME1…
	HasPixelData              bool   // top-level (7FE0,0010) present

	// Pixel Padding Value (0028,0120) and Pixel Padding Range Limit
	// (0028,0121), PS3.3 C.7.5.1.1.2, as stored values.
	HasPadding, HasPaddingLimit bool
	PaddingValue, PaddingLimit  int // as written (US or SS bits)

	GantryTilt                 float64 // (0018,1120) degrees, 0 when absent
	InstanceNumber             int     // (0020,0013), for messages only: never for sorting
	AcquisitionNumber          int     // (0020,0012)
	TemporalPositionIdentifier int     // (0020,0100)
	TriggerTime                float64 // (0018,1060) ms
	AcquisitionTime            string  // (0008,0032) HHMMSS.FFFFFF

	Windows []volume.Window // (0028,1050)/(0028,1051)/(0028,1055), or the frame VOI LUT of enhanced objects

	// Frames holds the geometry and value transform of each frame, from
	// the per-frame and shared functional groups of enhanced objects
	// (PS3.3 C.7.6.16) or from the top level of single-frame ones.
	Frames []Frame

	Meta volume.Metadata // study and series description

	// Notes records decisions taken while parsing, such as a missing
	// Rescale Slope taken as 1.
	Notes []string

	pixels pixelElem
	syn    *syntax
	// remaining is the number of bytes after the Pixel Data element
	// header, -1 when the stream's size is unknown.
	remaining int64
}

// Frame is the geometry and value transform of one frame.
type Frame struct {
	// Position is Image Position (Patient) (0020,0032): the centre of the
	// first transmitted pixel, in LPS mm (PS3.3 C.7.6.2.1.1).
	Position [3]float64
	// Orientation is Image Orientation (Patient) (0020,0037): the row
	// direction cosines (towards increasing column) then the column
	// direction cosines (towards increasing row).
	Orientation [6]float64
	// PixelSpacing (0028,0030): the distance between rows, then between
	// columns, in mm.
	PixelSpacing   [2]float64
	SliceThickness float64 // (0018,0050) mm, 0 when absent

	// Which of the above the file gave (absent ones are zero).
	HasPosition, HasOrientation, HasSpacing bool

	// Slope and Intercept of the Modality LUT (PS3.3 C.11.1.1.2):
	// HU = stored × Slope + Intercept.
	Slope, Intercept float64

	// TemporalIndex is Temporal Position Index (0020,9128) of an enhanced
	// frame, 0 when absent; StackID and InStackPosition come from the
	// Frame Content Sequence (0020,9111).
	TemporalIndex   int
	StackID         string // (0020,9056)
	InStackPosition int    // (0020,9057)
}

// Normal is the slice normal, row × column direction (PS3.3 C.7.6.2.1.1).
func (f *Frame) Normal() [3]float64 {
	r, c := f.row(), f.col()
	return cross(r, c)
}

func (f *Frame) row() [3]float64 {
	return [3]float64{f.Orientation[0], f.Orientation[1], f.Orientation[2]}
}
func (f *Frame) col() [3]float64 {
	return [3]float64{f.Orientation[3], f.Orientation[4], f.Orientation[5]}
}

// metaFields is volume's metadata table: which tag fills which Metadata
// field (the same table Deidentify reads).
var metaFields = volume.MetadataFields()

// tags used by the header pass.
var (
	tSOPClass       = Tag{0x0008, 0x0016}
	tSOPInstance    = Tag{0x0008, 0x0018}
	tModality       = Tag{0x0008, 0x0060}
	tImageType      = Tag{0x0008, 0x0008}
	tRows           = Tag{0x0028, 0x0010}
	tColumns        = Tag{0x0028, 0x0011}
	tFrames         = Tag{0x0028, 0x0008}
	tSamples        = Tag{0x0028, 0x0002}
	tPhotometric    = Tag{0x0028, 0x0004}
	tBitsAllocated  = Tag{0x0028, 0x0100}
	tBitsStored     = Tag{0x0028, 0x0101}
	tHighBit        = Tag{0x0028, 0x0102}
	tPixelRep       = Tag{0x0028, 0x0103}
	tPadding        = Tag{0x0028, 0x0120}
	tPaddingLimit   = Tag{0x0028, 0x0121}
	tSlope          = Tag{0x0028, 0x1053}
	tIntercept      = Tag{0x0028, 0x1052}
	tWindowCenter   = Tag{0x0028, 0x1050}
	tWindowWidth    = Tag{0x0028, 0x1051}
	tWindowExplain  = Tag{0x0028, 0x1055}
	tPosition       = Tag{0x0020, 0x0032}
	tOrientation    = Tag{0x0020, 0x0037}
	tPixelSpacing   = Tag{0x0028, 0x0030}
	tSliceThickness = Tag{0x0018, 0x0050}
	tGantryTilt     = Tag{0x0018, 0x1120}
	tInstanceNumber = Tag{0x0020, 0x0013}
	tAcqNumber      = Tag{0x0020, 0x0012}
	tTemporalPosID  = Tag{0x0020, 0x0100}
	tTriggerTime    = Tag{0x0018, 0x1060}
	tSharedFG       = Tag{0x5200, 0x9229}
	tPerFrameFG     = Tag{0x5200, 0x9230}
	tPlanePosSeq    = Tag{0x0020, 0x9113}
	tPlaneOrientSeq = Tag{0x0020, 0x9116}
	tPixelMeasures  = Tag{0x0028, 0x9110}
	tPixelValueXf   = Tag{0x0028, 0x9145}
	tFrameVOILUT    = Tag{0x0028, 0x9132}
	tFrameContent   = Tag{0x0020, 0x9111}
	tTemporalIndex  = Tag{0x0020, 0x9128}
	tStackID        = Tag{0x0020, 0x9056}
	tInStackPos     = Tag{0x0020, 0x9057}
)

// MaxFrames bounds Number of Frames: an enhanced CT holds a few thousand.
const MaxFrames = 1 << 16

// ReadHeader reads one DICOM file up to its Pixel Data and returns its
// header. It decodes no pixels and reads no pixel bytes. Errors are
// *FileError wrapping a *FormatError (not valid DICOM) or, rarely here, an
// *UnsupportedError; a valid object without pixels (an SR, an RTSTRUCT) is
// not an error: its Header has HasPixelData false.
func ReadHeader(r io.Reader) (*Header, error) {
	return readHeader(r, nil)
}

func readHeader(r io.Reader, br *bufio.Reader) (*Header, error) {
	raw, _, err := scan(r, scanOptions{captureHeader: true, buf: br})
	if err != nil {
		return nil, &FileError{Err: err}
	}
	h, err := headerFrom(raw)
	if err != nil {
		return nil, &FileError{Err: err}
	}
	return h, nil
}

// headerFrom interprets the captured header bytes.
func headerFrom(raw *rawFile) (*Header, error) {
	ds, err := parseDataset(raw.header, raw.syn)
	if err != nil {
		return nil, err
	}
	h := &Header{
		TransferSyntaxUID: raw.syn.uid,
		TransferSyntax:    raw.syn.name,
		SOPClassUID:       ds.uid(tSOPClass),
		SOPInstanceUID:    ds.uid(tSOPInstance),
		Modality:          ds.str(tModality),
		ImageType:         ds.strs(tImageType),
		HasPixelData:      raw.pixels.present,
		pixels:            raw.pixels,
		syn:               raw.syn,
		remaining:         raw.remaining,
	}
	if h.SOPClassUID == "" && raw.mediaSOP != "" {
		h.SOPClassUID = raw.mediaSOP
	}
	for _, f := range metaFields {
		*f.Field(&h.Meta) = ds.str(Tag{f.Group, f.Element})
	}
	for _, f := range []struct {
		t    Tag
		name string
		dst  *int
	}{
		{tInstanceNumber, "Instance Number", &h.InstanceNumber},
		{tAcqNumber, "Acquisition Number", &h.AcquisitionNumber},
		{tTemporalPosID, "Temporal Position Identifier", &h.TemporalPositionIdentifier},
	} {
		// Ordering hints only: a malformed one is dropped, not fatal.
		if v, ok, err := ds.int1(f.t, f.name); err == nil && ok {
			*f.dst = v
		}
	}
	h.AcquisitionTime = ds.str(Tag{0x0008, 0x0032})
	if v, ok, err := ds.float1(tTriggerTime, "Trigger Time"); err == nil && ok {
		h.TriggerTime = v
	}
	if v, ok, err := ds.float1(tGantryTilt, "Gantry/Detector Tilt"); err == nil && ok {
		h.GantryTilt = v
	}
	if !h.HasPixelData {
		return h, nil
	}
	if raw.pixels.other != (Tag{}) {
		return h, nil // float pixel data: reported as unsupported by imageError
	}
	if err := h.readPixelModule(ds); err != nil {
		return nil, err
	}
	if h.imageError() != nil {
		// Colour, 1-bit or no decoder: it will be reported as that, and
		// its frame geometry is of no use.
		return h, nil
	}
	// Bound the frame count before anything is allocated per frame.
	if err := h.sizeError(); err != nil {
		return nil, err
	}
	if h.NumberOfFrames > MaxFrames {
		return nil, tagged(tFrames, "Number of Frames", unsupportedf("%d frames (at most %d are read)", h.NumberOfFrames, MaxFrames))
	}
	if err := h.readFrames(ds); err != nil {
		return nil, err
	}
	return h, nil
}

// readPixelModule reads the Image Pixel Module (PS3.3 C.7.6.3) and the
// pixel padding attributes (C.7.5.1.1.2).
func (h *Header) readPixelModule(ds elems) error {
	req := func(t Tag, name string, dst *int) error {
		v, ok, err := ds.int1(t, name)
		if err != nil {
			return err
		}
		if !ok {
			return tagged(t, name, formatErrorf("missing (required with Pixel Data)"))
		}
		*dst = v
		return nil
	}
	if err := req(tRows, "Rows", &h.Rows); err != nil {
		return err
	}
	if err := req(tColumns, "Columns", &h.Columns); err != nil {
		return err
	}
	if err := req(tBitsAllocated, "Bits Allocated", &h.BitsAllocated); err != nil {
		return err
	}
	if h.Rows <= 0 || h.Rows > 65535 {
		return tagged(tRows, "Rows", formatErrorf("%d is not a valid number of rows", h.Rows))
	}
	if h.Columns <= 0 || h.Columns > 65535 {
		return tagged(tColumns, "Columns", formatErrorf("%d is not a valid number of columns", h.Columns))
	}
	h.SamplesPerPixel = 1
	if v, ok, err := ds.int1(tSamples, "Samples per Pixel"); err != nil {
		return err
	} else if ok {
		h.SamplesPerPixel = v
	}
	if h.SamplesPerPixel < 1 || h.SamplesPerPixel > 4 {
		return tagged(tSamples, "Samples per Pixel", formatErrorf("%d is not valid", h.SamplesPerPixel))
	}
	h.BitsStored, h.HighBit = h.BitsAllocated, h.BitsAllocated-1
	if v, ok, err := ds.int1(tBitsStored, "Bits Stored"); err != nil {
		return err
	} else if ok {
		h.BitsStored = v
		h.HighBit = v - 1
	}
	if v, ok, err := ds.int1(tHighBit, "High Bit"); err != nil {
		return err
	} else if ok {
		h.HighBit = v
	}
	switch h.BitsAllocated {
	case 1, 8, 16, 32:
	default:
		return tagged(tBitsAllocated, "Bits Allocated", formatErrorf("%d is not 1, 8, 16 or 32", h.BitsAllocated))
	}
	if h.BitsStored < 1 || h.BitsStored > h.BitsAllocated {
		return tagged(tBitsStored, "Bits Stored", formatErrorf("%d does not fit in %d bits allocated", h.BitsStored, h.BitsAllocated))
	}
	if h.HighBit < h.BitsStored-1 || h.HighBit >= h.BitsAllocated {
		return tagged(tHighBit, "High Bit", formatErrorf("%d is not possible with %d bits stored in %d allocated", h.HighBit, h.BitsStored, h.BitsAllocated))
	}
	if v, ok, err := ds.int1(tPixelRep, "Pixel Representation"); err != nil {
		return err
	} else if ok {
		if v != 0 && v != 1 {
			return tagged(tPixelRep, "Pixel Representation", formatErrorf("%d is not 0 or 1", v))
		}
		h.PixelRepresentation = v
	}
	h.PhotometricInterpretation = strings.ToUpper(ds.str(tPhotometric))
	if h.PhotometricInterpretation == "" {
		h.PhotometricInterpretation = "MONOCHROME2"
		h.Notes = append(h.Notes, "(0028,0004) Photometric Interpretation absent: MONOCHROME2 assumed")
	}
	h.NumberOfFrames = 1
	if v, ok, err := ds.int1(tFrames, "Number of Frames"); err != nil {
		return err
	} else if ok {
		if v < 1 {
			return tagged(tFrames, "Number of Frames", formatErrorf("%d frames", v))
		}
		h.NumberOfFrames = v
	}
	// The padding values are written in the pixels' own representation;
	// in implicit VR the parser reads them as US, so they are kept as the
	// raw bits here and sign-extended with the pixels (pixels.go).
	if v, ok, err := ds.int1(tPadding, "Pixel Padding Value"); err == nil && ok {
		h.HasPadding, h.PaddingValue = true, v
	} else if err != nil {
		return err
	}
	if v, ok, err := ds.int1(tPaddingLimit, "Pixel Padding Range Limit"); err == nil && ok {
		h.HasPaddingLimit, h.PaddingLimit = true, v
	} else if err != nil {
		return err
	}
	return nil
}

// readFrames fills h.Frames from the functional groups of an enhanced
// object (PS3.3 C.7.6.16) or from the top-level Image Plane (C.7.6.2) and
// Modality LUT (C.11.1) attributes.
func (h *Header) readFrames(ds elems) error {
	top, err := frameFrom(ds, Frame{})
	if err != nil {
		return err
	}
	if err := h.readWindows(ds); err != nil {
		return err
	}
	shared := ds.item(tSharedFG)
	perFrame := ds.items(tPerFrameFG)
	enhanced := shared != nil || perFrame != nil
	if enhanced && perFrame != nil && len(perFrame) != h.NumberOfFrames {
		return tagged(tPerFrameFG, "Per-frame Functional Groups Sequence",
			formatErrorf("has %d items for %d frames", len(perFrame), h.NumberOfFrames))
	}
	h.Frames = make([]Frame, 0, h.NumberOfFrames)
	var base Frame = top
	if shared != nil {
		if base, err = frameFromGroups(shared, top); err != nil {
			return tagged(tSharedFG, "Shared Functional Groups Sequence", err)
		}
		if len(h.Windows) == 0 {
			if err := h.readWindows(shared.item(tFrameVOILUT)); err != nil {
				return err
			}
		}
	}
	for i := 0; i < h.NumberOfFrames; i++ {
		f := base
		if perFrame != nil {
			if f, err = frameFromGroups(perFrame[i], base); err != nil {
				return tagged(tPerFrameFG, fmt.Sprintf("Per-frame Functional Groups Sequence item %d", i+1), err)
			}
			if i == 0 && len(h.Windows) == 0 {
				if err := h.readWindows(perFrame[0].item(tFrameVOILUT)); err != nil {
					return err
				}
			}
		}
		h.Frames = append(h.Frames, f)
	}
	if !enhanced && h.NumberOfFrames > 1 {
		if err := h.gridFrameOffsets(ds); err != nil {
			return err
		}
	}
	// A missing Modality LUT is decided once, here (PS3.3 C.11.1: without
	// it the stored values are the output), and recorded.
	if _, ok, _ := ds.float1(tSlope, ""); !ok && !h.hasTransformGroup(shared, perFrame) {
		h.Notes = append(h.Notes, "(0028,1053) Rescale Slope and (0028,1052) Rescale Intercept absent: stored values used as they are (slope 1, intercept 0)")
	}
	return nil
}

// gridFrameOffsets places the frames of a non-enhanced multi-frame object
// whose Frame Increment Pointer (0028,0009) names Grid Frame Offset Vector
// (3004,000C) (RT Dose, PS3.3 C.8.8.3.2): offsets along the normal,
// relative to Image Position (Patient) when the first is 0, else absolute.
func (h *Header) gridFrameOffsets(ds elems) error {
	ptr, _ := ds.value(Tag{0x0028, 0x0009}).([]int)
	if len(ptr) != 2 || ptr[0] != 0x3004 || ptr[1] != 0x000C {
		return nil
	}
	off, err := ds.floats(Tag{0x3004, 0x000C})
	if err != nil {
		return tagged(Tag{0x3004, 0x000C}, "Grid Frame Offset Vector", err)
	}
	if len(off) != h.NumberOfFrames {
		return tagged(Tag{0x3004, 0x000C}, "Grid Frame Offset Vector", formatErrorf("has %d values for %d frames", len(off), h.NumberOfFrames))
	}
	for i := range h.Frames {
		f := &h.Frames[i]
		n := f.Normal()
		d := off[i]
		if off[0] != 0 {
			d -= dot(f.Position, n)
		}
		f.Position = add(f.Position, scale(n, d))
	}
	return nil
}

func (h *Header) hasTransformGroup(shared elems, perFrame []elems) bool {
	if shared != nil && shared.item(tPixelValueXf) != nil {
		return true
	}
	return len(perFrame) > 0 && perFrame[0].item(tPixelValueXf) != nil
}

// frameFromGroups applies the functional group macros of one item over base.
func frameFromGroups(g elems, base Frame) (Frame, error) {
	f := base
	var err error
	if it := g.item(tPlanePosSeq); it != nil {
		if f, err = frameFrom(it, f); err != nil {
			return f, tagged(tPlanePosSeq, "Plane Position Sequence", err)
		}
	}
	if it := g.item(tPlaneOrientSeq); it != nil {
		if f, err = frameFrom(it, f); err != nil {
			return f, tagged(tPlaneOrientSeq, "Plane Orientation Sequence", err)
		}
	}
	if it := g.item(tPixelMeasures); it != nil {
		if f, err = frameFrom(it, f); err != nil {
			return f, tagged(tPixelMeasures, "Pixel Measures Sequence", err)
		}
	}
	if it := g.item(tPixelValueXf); it != nil {
		if f, err = frameFrom(it, f); err != nil {
			return f, tagged(tPixelValueXf, "Pixel Value Transformation Sequence", err)
		}
	}
	if it := g.item(tFrameContent); it != nil {
		if v, ok, err := it.int1(tTemporalIndex, "Temporal Position Index"); err == nil && ok {
			f.TemporalIndex = v
		}
		f.StackID = it.str(tStackID)
		if v, ok, err := it.int1(tInStackPos, "In-Stack Position Number"); err == nil && ok {
			f.InStackPosition = v
		}
	}
	return f, nil
}

// frameFrom reads the plane and rescale attributes present in one data set
// (the top level or a functional group item) over base.
func frameFrom(ds elems, base Frame) (Frame, error) {
	f := base
	if base.Slope == 0 {
		f.Slope = 1
	}
	if v, ok, err := ds.floatN(tPosition, "Image Position (Patient)", 3); err != nil {
		return f, err
	} else if ok {
		f.Position = [3]float64{v[0], v[1], v[2]}
		f.HasPosition = true
	}
	if v, ok, err := ds.floatN(tOrientation, "Image Orientation (Patient)", 6); err != nil {
		return f, err
	} else if ok {
		r := unit([3]float64{v[0], v[1], v[2]})
		c := unit([3]float64{v[3], v[4], v[5]})
		if r == ([3]float64{}) || c == ([3]float64{}) || math.Abs(dot(r, c)) > 1e-2 {
			return f, tagged(tOrientation, "Image Orientation (Patient)",
				formatErrorf("%v are not two orthogonal directions", v))
		}
		// Re-orthogonalise the column against the row: written cosines
		// carry 5-6 digits, and LPSToVoxel inverts this matrix.
		c = unit(sub(c, scale(r, dot(r, c))))
		f.Orientation = [6]float64{r[0], r[1], r[2], c[0], c[1], c[2]}
		f.HasOrientation = true
	}
	if v, ok, err := ds.floatN(tPixelSpacing, "Pixel Spacing", 2); err != nil {
		return f, err
	} else if ok {
		if v[0] <= 0 || v[1] <= 0 {
			return f, tagged(tPixelSpacing, "Pixel Spacing", formatErrorf("%v is not positive", v))
		}
		f.PixelSpacing = [2]float64{v[0], v[1]}
		f.HasSpacing = true
	}
	if v, ok, err := ds.float1(tSliceThickness, "Slice Thickness"); err != nil {
		return f, err
	} else if ok {
		f.SliceThickness = v
	}
	// Modality LUT, PS3.3 C.11.1.1.2.
	if v, ok, err := ds.float1(tSlope, "Rescale Slope"); err != nil {
		return f, err
	} else if ok {
		if v == 0 {
			return f, tagged(tSlope, "Rescale Slope", formatErrorf("slope 0 maps every pixel to the intercept"))
		}
		f.Slope = v
	}
	if v, ok, err := ds.float1(tIntercept, "Rescale Intercept"); err != nil {
		return f, err
	} else if ok {
		f.Intercept = v
	}
	return f, nil
}

// readWindows reads the VOI LUT window values (PS3.3 C.11.2.1.2), which for
// CT are in HU since they apply after the Modality LUT.
func (h *Header) readWindows(ds elems) error {
	if ds == nil {
		return nil
	}
	c, err := ds.floats(tWindowCenter)
	if err != nil {
		return tagged(tWindowCenter, "Window Center", err)
	}
	w, err := ds.floats(tWindowWidth)
	if err != nil {
		return tagged(tWindowWidth, "Window Width", err)
	}
	names := ds.strs(tWindowExplain)
	for i := 0; i < len(c) && i < len(w); i++ {
		if w[i] < 1 { // PS3.3 C.11.2.1.2.1: width ≥ 1
			h.Notes = append(h.Notes, fmt.Sprintf("(0028,1051) Window Width %v < 1 ignored", w[i]))
			continue
		}
		win := volume.Window{Center: c[i], Width: w[i], Name: fmt.Sprintf("file %d", i+1), Source: volume.SourceHeader}
		if i < len(names) && names[i] != "" {
			win.Name = names[i]
		}
		h.Windows = append(h.Windows, win)
	}
	return nil
}

// frameBytes is the size of one native frame in bytes.
func (h *Header) frameBytes() int64 {
	n := int64(h.Rows) * int64(h.Columns) * int64(h.SamplesPerPixel)
	if h.BitsAllocated == 1 {
		return (n + 7) / 8
	}
	return n * int64(h.BitsAllocated/8)
}

// imageError says why the pixels of h cannot be imported as a CT volume,
// or nil: objects without pixels, colour, float pixels and transfer syntaxes
// without a decoder are UnsupportedErrors naming what is missing.
func (h *Header) imageError() error {
	if !h.HasPixelData {
		what := sopClassName(h.SOPClassUID)
		return tagged(tagPixelData, "Pixel Data", unsupportedf("absent: %s is not an image", what))
	}
	if h.pixels.other != (Tag{}) {
		return tagged(h.pixels.other, elementName(h.pixels.other), unsupportedf("floating-point pixel data"))
	}
	if h.SamplesPerPixel != 1 || !strings.HasPrefix(h.PhotometricInterpretation, "MONOCHROME") {
		return tagged(tPhotometric, "Photometric Interpretation",
			unsupportedf("%s with %d samples per pixel: only grayscale (MONOCHROME1/2) is read", h.PhotometricInterpretation, h.SamplesPerPixel))
	}
	if h.BitsAllocated == 1 {
		return tagged(tBitsAllocated, "Bits Allocated", unsupportedf("1-bit pixels (a segmentation or overlay, not an image)"))
	}
	if h.syn.encaps {
		if _, ok := codecs[h.syn.codec]; !ok {
			return tagged(tagTSUID, "Transfer Syntax UID", unsupportedf("no decoder for %s", h.syn))
		}
	}
	return nil
}

// sizeError checks, before anything is allocated for the pixels, that the
// file can hold what its header claims: native pixel data must be as long
// as Rows × Columns × frames × Bits Allocated says (PS3.5 8.1.1), and
// compressed data cannot be smaller than 1 bit per 64 pixels, under what
// any JPEG or RLE frame needs (an 8×8 JPEG block takes at least 2 bits, a
// PackBits run at most 128 bytes per 2). This turns a 1 kB file claiming
// 65535×65535×1000 pixels into a clear error instead of a huge allocation.
func (h *Header) sizeError() error {
	if !h.HasPixelData || h.Rows == 0 {
		return nil
	}
	need := h.frameBytes() * int64(h.NumberOfFrames)
	if !h.syn.encaps {
		if h.pixels.length == undefinedLength {
			return tagged(tagPixelData, "Pixel Data", formatErrorf("undefined length with native transfer syntax %s", h.syn))
		}
		if int64(h.pixels.length) < need {
			return tagged(tagPixelData, "Pixel Data", formatErrorf("%d bytes, want %d for %d frame(s) of %d×%d×%d bits",
				h.pixels.length, need, h.NumberOfFrames, h.Columns, h.Rows, h.BitsAllocated))
		}
		if h.remaining >= 0 && h.remaining < need {
			return tagged(tagPixelData, "Pixel Data", formatErrorf("file is truncated: %d bytes of pixel data left, want %d", h.remaining, need))
		}
		return nil
	}
	pixels := int64(h.Rows) * int64(h.Columns) * int64(h.NumberOfFrames)
	if h.remaining >= 0 && h.remaining < pixels/512 {
		return tagged(tagPixelData, "Pixel Data", formatErrorf("%d bytes of compressed data cannot hold %d×%d×%d pixels",
			h.remaining, h.Columns, h.Rows, h.NumberOfFrames))
	}
	return nil
}

// sopClassName names the storage classes met in CT archives.
func sopClassName(uid string) string {
	names := map[string]string{
		"1.2.840.10008.5.1.4.1.1.2":     "CT Image Storage",
		"1.2.840.10008.5.1.4.1.1.2.1":   "Enhanced CT Image Storage",
		"1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
		"1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
		"1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
		"1.2.840.10008.5.1.4.1.1.88.67": "X-Ray Radiation Dose SR",
		"1.2.840.10008.5.1.4.1.1.481.3": "RT Structure Set",
		"1.2.840.10008.5.1.4.1.1.481.5": "RT Plan",
		"1.2.840.10008.5.1.4.1.1.66.4":  "Segmentation",
		"1.2.840.10008.5.1.4.1.1.11.1":  "Grayscale Softcopy Presentation State",
		"1.2.840.10008.5.1.4.1.1.104.1": "Encapsulated PDF",
		"1.2.840.10008.5.1.4.1.1.7":     "Secondary Capture Image Storage",
		"1.2.840.10008.1.3.10":          "Media Storage Directory (DICOMDIR)",
	}
	if n, ok := names[uid]; ok {
		return n
	}
	if uid == "" {
		return "an object without SOP Class UID"
	}
	return "SOP class " + uid
}
