package dicomread

import (
	"bytes"
	"fmt"
	"testing"

	"ctlens/volume"
)

// metaVR is the PS3.6 VR of each Metadata keyword, to write the file a real
// scanner would (and, with implicit VR, to check the dictionary agrees).
var metaVR = map[string]string{
	"PatientName": "PN", "PatientID": "LO", "PatientBirthDate": "DA", "PatientSex": "CS",
	"PatientAge": "AS", "PatientSize": "DS", "PatientWeight": "DS", "OtherPatientIDs": "LO",
	"EthnicGroup": "SH", "PatientComments": "LT",
	"StudyInstanceUID": "UI", "StudyDate": "DA", "StudyTime": "TM", "StudyID": "SH",
	"StudyDescription": "LO", "AccessionNumber": "SH", "ReferringPhysicianName": "PN",
	"InstitutionName": "LO", "InstitutionAddress": "ST", "StationName": "SH", "OperatorsName": "PN",
	"PerformingPhysicianName": "PN",
	"SeriesInstanceUID":       "UI", "FrameOfReferenceUID": "UI", "SeriesNumber": "IS", "SeriesDate": "DA",
	"SeriesTime": "TM", "AcquisitionDate": "DA", "ContentDate": "DA", "SeriesDescription": "LO",
	"ProtocolName": "LO", "Modality": "CS", "BodyPartExamined": "CS", "PatientPosition": "CS",
	"Manufacturer": "LO", "ManufacturerModelName": "LO", "DeviceSerialNumber": "LO",
	"SoftwareVersions": "LO", "KVP": "DS", "ConvolutionKernel": "SH",
	"PatientIdentityRemoved": "CS", "DeidentificationMethod": "LO",
}

// TestMetadataExtraction: every field of volume.MetadataFields is read
// from its own tag (the table crosses the package boundary; a wrong tag or
// a field left unread shows here), in explicit and implicit VR.
func TestMetadataExtraction(t *testing.T) {
	fields := volume.MetadataFields()
	var want volume.Metadata
	value := func(i int, vr string) string {
		switch vr {
		case "UI":
			return fmt.Sprintf("1.2.826.0.1.3680043.8.498.%d", i+1)
		case "DA":
			return fmt.Sprintf("2024%02d%02d", i%12+1, i%28+1)
		case "TM":
			return fmt.Sprintf("10%02d%02d", i, i)
		case "AS":
			return fmt.Sprintf("%03dY", i)
		case "DS":
			return fmt.Sprintf("%d.5", i)
		case "IS":
			return fmt.Sprint(i)
		case "PN":
			return fmt.Sprintf("Name%d^Given", i)
		case "CS":
			return fmt.Sprintf("CODE%d", i)
		}
		return fmt.Sprintf("text %d", i)
	}
	for _, ts := range []string{tsExplicit, tsImplicit} {
		e := encFor(ts)
		var list []wel
		for i, f := range fields {
			vr, ok := metaVR[f.Keyword]
			if !ok {
				t.Fatalf("no VR for Metadata keyword %s: add it to metaVR", f.Keyword)
			}
			v := value(i, vr)
			*f.Field(&want) = v
			list = append(list, els(e, Tag{f.Group, f.Element}, vr, v)...)
		}
		list = append(list, els(e, Tag{8, 0x16}, "UI", "1.2.840.10008.5.1.4.1.1.2", Tag{8, 0x18}, "UI", "1.2.3.4")...)
		h, err := ReadHeader(bytes.NewReader(fileBytes(ts, "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", e.dataset(list))))
		if err != nil {
			t.Fatalf("%s: %v", ts, err)
		}
		for _, f := range fields {
			if have, w := *f.Field(&h.Meta), *f.Field(&want); have != w {
				t.Errorf("%s: %s %v: have %q, want %q", ts, f.Keyword, Tag{f.Group, f.Element}, have, w)
			}
		}
	}
}
