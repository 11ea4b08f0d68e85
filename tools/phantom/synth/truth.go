package synth

// TruthFormat and TruthVersion stamp every ground-truth file so that readers
// can refuse one they do not understand; bump the version when a field
// changes meaning.
const (
	TruthFormat  = "ctlens-phantom-truth"
	TruthVersion = 1
)

// Truth is the ground truth written beside each case as caseNNNN.json. All
// positions are in the DICOM patient coordinate system (LPS: +X to the
// patient's left, +Y posterior, +Z towards the head), in mm.
type Truth struct {
	Format       string       `json:"format"`
	Version      int          `json:"version"`
	Generator    string       `json:"generator"`
	Seed         uint64       `json:"seed"`
	Case         int          `json:"case"`
	CaseSeed     string       `json:"case_seed"`
	Variants     []string     `json:"variants"`
	Patient      Patient      `json:"patient"`
	Study        Study        `json:"study"`
	Acquisition  Acquisition  `json:"acquisition"`
	Series       []Series     `json:"series"`
	Organs       []Organ      `json:"organs"`
	Measurements Measurements `json:"measurements"`
	Normal       bool         `json:"normal"` // no findings
	Findings     []Finding    `json:"findings"`
	Absent       []Kind       `json:"absent"` // finding types not present, for negative questions
	Report       Report       `json:"report"`
}

// Patient is the synthetic patient; names and IDs are clearly fake.
type Patient struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	Sex       string `json:"sex"`
	BirthDate string `json:"birth_date"`
	AgeYears  int    `json:"age_years"`
}

// Study identifies the study shared by the case's series.
type Study struct {
	InstanceUID     string `json:"study_uid"`
	ID              string `json:"study_id"`
	AccessionNumber string `json:"accession_number"`
	Date            string `json:"date"`
	Time            string `json:"time"`
	Description     string `json:"description"`
}

// Acquisition holds the drawn scan parameters.
type Acquisition struct {
	KVP          int     `json:"kvp"`
	NoiseSigmaHU float64 `json:"noise_sigma_hu"` // Gaussian, independent per voxel
	Contrast     bool    `json:"contrast"`
	BloodHU      float64 `json:"blood_hu"`
	ScanExtentMM float64 `json:"scan_extent_mm"`
}

// Series describes one written series: how its pixels are encoded, the
// geometry a correct importer must recover, and every file.
type Series struct {
	Number              int       `json:"series_number"`
	InstanceUID         string    `json:"series_uid"`
	Description         string    `json:"description"`
	SOPClassUID         string    `json:"sop_class_uid"`
	FrameOfReferenceUID string    `json:"frame_of_reference_uid"`
	Encoding            Encoding  `json:"encoding"`
	Geometry            Geometry  `json:"geometry"`
	Anomalies           Anomalies `json:"anomalies"`
	Files               []File    `json:"files"` // in the order they were written
}

// Encoding is the stored-value mapping: HU = stored·slope + intercept
// (PS3.3 C.11.1.1.2); pixels equal to PixelPaddingValue lie outside the body.
type Encoding struct {
	TransferSyntaxUID   string  `json:"transfer_syntax_uid"`
	PixelRepresentation int     `json:"pixel_representation"`
	BitsAllocated       int     `json:"bits_allocated"`
	BitsStored          int     `json:"bits_stored"`
	HighBit             int     `json:"high_bit"`
	RescaleSlope        float64 `json:"rescale_slope"`
	RescaleIntercept    float64 `json:"rescale_intercept"`
	PixelPaddingValue   *int    `json:"pixel_padding_value"`
	Multiframe          bool    `json:"multiframe"`
}

// Geometry is the series' planned grid. Voxel (i, j, k) is column i, row j
// of slice k, slices sorted by position along the slice normal, ascending;
// its centre is Affine·(i, j, k, 1). With gantry tilt the slice step is not
// along the normal (a sheared grid). Uneven, missing and duplicate slices
// are deviations of the written files from this grid; see Anomalies.
type Geometry struct {
	Columns                 int           `json:"columns"`
	Rows                    int           `json:"rows"`
	Slices                  int           `json:"slices"`
	PixelSpacingMM          [2]float64    `json:"pixel_spacing_mm"` // row spacing, column spacing (DICOM order)
	SliceThicknessMM        float64       `json:"slice_thickness_mm"`
	ImageOrientationPatient [6]float64    `json:"image_orientation_patient"`
	SliceNormal             [3]float64    `json:"slice_normal"`
	OriginLPS               [3]float64    `json:"origin_lps"`     // centre of voxel (0,0,0)
	SliceStepLPS            [3]float64    `json:"slice_step_lps"` // from slice k to k+1
	SliceSpacingMM          float64       `json:"slice_spacing_mm"`
	GantryTiltDeg           float64       `json:"gantry_tilt_deg"`
	Affine                  [4][4]float64 `json:"affine"`
}

// Anomalies lists how the written files deviate from the grid.
type Anomalies struct {
	MissingSlices   []int   `json:"missing_slices"`   // grid k with no file or frame
	DuplicateSlices []int   `json:"duplicate_slices"` // grid k written twice
	Uneven          bool    `json:"uneven"`
	MaxJitterMM     float64 `json:"max_jitter_mm"` // largest distance of a written position from its grid position
	Tilted          bool    `json:"tilted"`
	Shuffled        bool    `json:"shuffled"`
	Reversed        bool    `json:"reversed"` // instance 1 is the lowest slice
}

// File is one written DICOM file.
type File struct {
	Path           string  `json:"path"` // relative to the output folder (or zip root)
	SOPInstanceUID string  `json:"sop_instance_uid"`
	InstanceNumber int     `json:"instance_number"`
	Frames         []Frame `json:"frames"`                 // one for a single-frame file
	DuplicateOf    string  `json:"duplicate_of,omitempty"` // a byte-identical file written earlier
}

// Frame is one image plane of a file.
type Frame struct {
	Number      int        `json:"frame_number"` // 1-based within the file
	GridSlice   int        `json:"grid_slice"`   // k in Geometry's grid
	PositionLPS [3]float64 `json:"position_lps"` // Image Position (Patient)
}

// Organ is a place where an organ's nominal value can be read: the model's
// noiseless value is within 3 HU of HU over ±1.5 pixels in plane and ±1
// slice spacing along the normal around the point, so the 3×3 block around
// the nearest voxel holds HU plus noise even in the uneven and missing
// variants. Point is null when the grid is too coarse for such a block.
type Organ struct {
	Name        string      `json:"name"`
	HU          float64     `json:"hu"`
	PointLPS    *[3]float64 `json:"point_lps"`
	CenterVoxel *[3]float64 `json:"center_voxel"`
	// The organ's bounding box in LPS and in continuous voxel indices of
	// the first series' grid, for the solid organs; to tell which slices
	// show it. Clipped organs (lungs, liver) are integrated on a 5 mm grid,
	// so their boxes are tight to about 3 mm.
	BoundsLPS   *[2][3]float64 `json:"bounds_lps,omitempty"`
	BoundsVoxel *[2][3]float64 `json:"bounds_voxel,omitempty"`
}

// Measurements are quantities present in every case.
type Measurements struct {
	CardiothoracicRatio float64 `json:"cardiothoracic_ratio"`
	HeartWidthMM        float64 `json:"heart_width_mm"`
	ThoraxWidthMM       float64 `json:"thorax_width_mm"` // internal, at the heart's centre
	SubcutaneousFatMM   float64 `json:"subcutaneous_fat_mm"`
}

// Report is the radiology report written from the findings.
type Report struct {
	Findings   string     `json:"findings"`
	Impression string     `json:"impression"`
	Text       string     `json:"text"` // as written to caseNNNN.txt
	Sentences  []Sentence `json:"sentences"`
}

// Sentence is one sentence of the report with the findings it describes
// (none for statements of normality).
type Sentence struct {
	Section    string `json:"section"` // findings or impression
	Text       string `json:"text"`
	FindingIDs []int  `json:"finding_ids"`
}
