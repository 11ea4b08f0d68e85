package volume

import (
	"crypto/sha256"
	"encoding/binary"
	"math/big"
	"strings"
)

// Metadata is the study and series description shown beside a volume. All
// values are the DICOM strings as written (dates YYYYMMDD, times HHMMSS,
// names with ^ between components), so nothing is lost in translation.
type Metadata struct {
	PatientName      string // (0010,0010) PatientName
	PatientID        string // (0010,0020) PatientID
	PatientBirthDate string // (0010,0030) PatientBirthDate
	PatientSex       string // (0010,0040) PatientSex
	PatientAge       string // (0010,1010) PatientAge
	PatientSize      string // (0010,1020) PatientSize
	PatientWeight    string // (0010,1030) PatientWeight
	OtherPatientIDs  string // (0010,1000) OtherPatientIDs
	EthnicGroup      string // (0010,2160) EthnicGroup
	PatientComments  string // (0010,4000) PatientComments

	StudyInstanceUID       string // (0020,000D) StudyInstanceUID
	StudyDate              string // (0008,0020) StudyDate
	StudyTime              string // (0008,0030) StudyTime
	StudyID                string // (0020,0010) StudyID
	StudyDescription       string // (0008,1030) StudyDescription
	AccessionNumber        string // (0008,0050) AccessionNumber
	ReferringPhysicianName string // (0008,0090) ReferringPhysicianName
	InstitutionName        string // (0008,0080) InstitutionName
	InstitutionAddress     string // (0008,0081) InstitutionAddress
	StationName            string // (0008,1010) StationName
	OperatorsName          string // (0008,1070) OperatorsName
	PerformingPhysician    string // (0008,1050) PerformingPhysicianName

	SeriesInstanceUID   string // (0020,000E) SeriesInstanceUID
	FrameOfReferenceUID string // (0020,0052) FrameOfReferenceUID
	SeriesNumber        string // (0020,0011) SeriesNumber
	SeriesDate          string // (0008,0021) SeriesDate
	SeriesTime          string // (0008,0031) SeriesTime
	AcquisitionDate     string // (0008,0022) AcquisitionDate
	ContentDate         string // (0008,0023) ContentDate
	SeriesDescription   string // (0008,103E) SeriesDescription
	ProtocolName        string // (0018,1030) ProtocolName
	Modality            string // (0008,0060) Modality
	BodyPartExamined    string // (0018,0015) BodyPartExamined
	PatientPosition     string // (0018,5100) PatientPosition
	Manufacturer        string // (0008,0070) Manufacturer
	ManufacturerModel   string // (0008,1090) ManufacturerModelName
	DeviceSerialNumber  string // (0018,1000) DeviceSerialNumber
	SoftwareVersions    string // (0018,1020) SoftwareVersions
	KVP                 string // (0018,0060) KVP
	ConvolutionKernel   string // (0018,1210) ConvolutionKernel

	// PatientIdentityRemoved (0012,0062) and DeidentificationMethod
	// (0012,0063) are set by Deidentify, as PS3.15 E.1.1 asks.
	PatientIdentityRemoved string // (0012,0062) PatientIdentityRemoved
	DeidentificationMethod string // (0012,0063) DeidentificationMethod
}

// deidAction is a PS3.15 Table E.1-1 action code of the Basic Application
// Level Confidentiality Profile.
type deidAction byte

const (
	keep    deidAction = 'K' // not in the profile's table: kept
	zero    deidAction = 'Z' // replaced by a zero-length value
	remove  deidAction = 'X' // removed
	newUID  deidAction = 'U' // replaced by a UID consistent within the set
	setByUs deidAction = 'S' // written by Deidentify itself
)

// metaField is one row of the metadata table: where a Metadata field comes
// from and what the basic profile does to it. Extraction and
// de-identification both read this table, so a field cannot be added to one
// and forgotten by the other (a test checks every field has a row).
type metaField struct {
	tag    tag
	name   string
	action deidAction
	field  func(*Metadata) *string
}

var metaFields = []metaField{
	{tag{0x0010, 0x0010}, "PatientName", zero, func(m *Metadata) *string { return &m.PatientName }},
	{tag{0x0010, 0x0020}, "PatientID", zero, func(m *Metadata) *string { return &m.PatientID }},
	{tag{0x0010, 0x0030}, "PatientBirthDate", zero, func(m *Metadata) *string { return &m.PatientBirthDate }},
	{tag{0x0010, 0x0040}, "PatientSex", zero, func(m *Metadata) *string { return &m.PatientSex }},
	{tag{0x0010, 0x1010}, "PatientAge", remove, func(m *Metadata) *string { return &m.PatientAge }},
	{tag{0x0010, 0x1020}, "PatientSize", remove, func(m *Metadata) *string { return &m.PatientSize }},
	{tag{0x0010, 0x1030}, "PatientWeight", remove, func(m *Metadata) *string { return &m.PatientWeight }},
	{tag{0x0010, 0x1000}, "OtherPatientIDs", remove, func(m *Metadata) *string { return &m.OtherPatientIDs }},
	{tag{0x0010, 0x2160}, "EthnicGroup", remove, func(m *Metadata) *string { return &m.EthnicGroup }},
	{tag{0x0010, 0x4000}, "PatientComments", remove, func(m *Metadata) *string { return &m.PatientComments }},

	{tag{0x0020, 0x000D}, "StudyInstanceUID", newUID, func(m *Metadata) *string { return &m.StudyInstanceUID }},
	{tag{0x0008, 0x0020}, "StudyDate", zero, func(m *Metadata) *string { return &m.StudyDate }},
	{tag{0x0008, 0x0030}, "StudyTime", zero, func(m *Metadata) *string { return &m.StudyTime }},
	{tag{0x0020, 0x0010}, "StudyID", zero, func(m *Metadata) *string { return &m.StudyID }},
	{tag{0x0008, 0x1030}, "StudyDescription", remove, func(m *Metadata) *string { return &m.StudyDescription }},
	{tag{0x0008, 0x0050}, "AccessionNumber", zero, func(m *Metadata) *string { return &m.AccessionNumber }},
	{tag{0x0008, 0x0090}, "ReferringPhysicianName", zero, func(m *Metadata) *string { return &m.ReferringPhysicianName }},
	{tag{0x0008, 0x0080}, "InstitutionName", remove, func(m *Metadata) *string { return &m.InstitutionName }},
	{tag{0x0008, 0x0081}, "InstitutionAddress", remove, func(m *Metadata) *string { return &m.InstitutionAddress }},
	{tag{0x0008, 0x1010}, "StationName", remove, func(m *Metadata) *string { return &m.StationName }},
	{tag{0x0008, 0x1070}, "OperatorsName", remove, func(m *Metadata) *string { return &m.OperatorsName }},
	{tag{0x0008, 0x1050}, "PerformingPhysicianName", remove, func(m *Metadata) *string { return &m.PerformingPhysician }},

	{tag{0x0020, 0x000E}, "SeriesInstanceUID", newUID, func(m *Metadata) *string { return &m.SeriesInstanceUID }},
	{tag{0x0020, 0x0052}, "FrameOfReferenceUID", newUID, func(m *Metadata) *string { return &m.FrameOfReferenceUID }},
	{tag{0x0020, 0x0011}, "SeriesNumber", keep, func(m *Metadata) *string { return &m.SeriesNumber }},
	{tag{0x0008, 0x0021}, "SeriesDate", remove, func(m *Metadata) *string { return &m.SeriesDate }},
	{tag{0x0008, 0x0031}, "SeriesTime", remove, func(m *Metadata) *string { return &m.SeriesTime }},
	{tag{0x0008, 0x0022}, "AcquisitionDate", remove, func(m *Metadata) *string { return &m.AcquisitionDate }},
	{tag{0x0008, 0x0023}, "ContentDate", zero, func(m *Metadata) *string { return &m.ContentDate }},
	{tag{0x0008, 0x103E}, "SeriesDescription", remove, func(m *Metadata) *string { return &m.SeriesDescription }},
	{tag{0x0018, 0x1030}, "ProtocolName", remove, func(m *Metadata) *string { return &m.ProtocolName }},
	{tag{0x0008, 0x0060}, "Modality", keep, func(m *Metadata) *string { return &m.Modality }},
	{tag{0x0018, 0x0015}, "BodyPartExamined", keep, func(m *Metadata) *string { return &m.BodyPartExamined }},
	{tag{0x0018, 0x5100}, "PatientPosition", keep, func(m *Metadata) *string { return &m.PatientPosition }},
	{tag{0x0008, 0x0070}, "Manufacturer", keep, func(m *Metadata) *string { return &m.Manufacturer }},
	{tag{0x0008, 0x1090}, "ManufacturerModelName", keep, func(m *Metadata) *string { return &m.ManufacturerModel }},
	{tag{0x0018, 0x1000}, "DeviceSerialNumber", remove, func(m *Metadata) *string { return &m.DeviceSerialNumber }},
	{tag{0x0018, 0x1020}, "SoftwareVersions", remove, func(m *Metadata) *string { return &m.SoftwareVersions }},
	{tag{0x0018, 0x0060}, "KVP", keep, func(m *Metadata) *string { return &m.KVP }},
	{tag{0x0018, 0x1210}, "ConvolutionKernel", keep, func(m *Metadata) *string { return &m.ConvolutionKernel }},

	{tag{0x0012, 0x0062}, "PatientIdentityRemoved", setByUs, func(m *Metadata) *string { return &m.PatientIdentityRemoved }},
	{tag{0x0012, 0x0063}, "DeidentificationMethod", setByUs, func(m *Metadata) *string { return &m.DeidentificationMethod }},
}

// tag is a DICOM attribute tag (group, element), PS3.5 7.1. The reader's
// own Tag type lives in volume/dicomread, which this package must not
// import.
type tag struct{ group, element uint16 }

// MetadataField says where one Metadata field is read from. The DICOM
// reader (volume/dicomread) fills a Metadata by walking MetadataFields, and
// Deidentify walks the same table, so that a field cannot be extracted
// without being de-identified.
type MetadataField struct {
	Group, Element uint16                  // the DICOM tag, (Group,Element)
	Keyword        string                  // its PS3.6 keyword, e.g. "PatientName"
	Field          func(*Metadata) *string // the field it fills
}

// MetadataFields returns one row per Metadata field (a fresh slice: the
// table itself stays private to Deidentify).
func MetadataFields() []MetadataField {
	out := make([]MetadataField, len(metaFields))
	for i, f := range metaFields {
		out[i] = MetadataField{Group: f.tag.group, Element: f.tag.element, Keyword: f.name, Field: f.field}
	}
	return out
}

// DeidentificationMethod is the text Deidentify writes to (0012,0063).
const DeidentificationMethod = "PS3.15 E.1 Basic Application Level Confidentiality Profile (ctlens)"

// Deidentify returns a copy of m with the PS3.15 Annex E Basic Application
// Level Confidentiality Profile applied (Table E.1-1): names, IDs, dates and
// free text removed or emptied, UIDs replaced. Use it for anything exported
// or logged.
//
// UIDs are replaced by "2.25." UIDs derived from SHA-256 of key and the
// original UID, so that the study, series and frame of reference of a set
// stay related to each other (action U) while the originals cannot be read
// back; use one key for one export, and keep it secret or discard it.
func Deidentify(m Metadata, key []byte) Metadata {
	out := m
	for _, f := range metaFields {
		p := f.field(&out)
		switch f.action {
		case zero, remove:
			// X (remove) and Z (empty) look the same in a display struct.
			*p = ""
		case newUID:
			if *p != "" {
				*p = hashUID(key, *p)
			}
		}
	}
	out.PatientIdentityRemoved = "YES"
	out.DeidentificationMethod = DeidentificationMethod
	return out
}

// hashUID maps uid to a UID under the 2.25 root (PS3.5 B.2: a UUID written
// as a decimal integer), keyed so that equal inputs give equal outputs.
func hashUID(key []byte, uid string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(key)))
	h.Write(n[:])
	h.Write(key)
	h.Write([]byte(strings.TrimSpace(uid)))
	sum := h.Sum(nil)[:16]
	sum[6] = sum[6]&0x0F | 0x80 // UUID version 8 (custom), RFC 9562
	sum[8] = sum[8]&0x3F | 0x80 // RFC 4122 variant
	return "2.25." + new(big.Int).SetBytes(sum).String()
}

// DisplayName is what a list calls a series: its description, else the
// study's, else the protocol, else the modality and series number. It is
// here, beside Metadata, so that the page can name a series it was handed
// by the import worker without linking the DICOM reader.
func (m Metadata) DisplayName() string {
	for _, s := range []string{m.SeriesDescription, m.StudyDescription, m.ProtocolName} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	mod := strings.TrimSpace(m.Modality)
	if mod == "" {
		mod = "CT"
	}
	if n := strings.TrimSpace(m.SeriesNumber); n != "" {
		return mod + " series " + n
	}
	return mod + " series"
}
