package synth

import (
	"fmt"
	"math"
)

// Data sets for CT Image Storage (PS3.3 A.3) and Enhanced CT Image Storage
// (PS3.3 A.38). Module names in the comments are those of PS3.3 C.*.

// common returns the Patient, General Study, Patient Study, General Series,
// Frame of Reference, General Equipment / Enhanced General Equipment and
// SOP Common attributes shared by both IODs.
func (c *Case) common(s *seriesPlan, sopClass, sopUID string, instance int) []elem {
	t := &c.truth
	st := c.studyTime()
	date, tm := st.Format("20060102"), st.Format("150405")
	e := []elem{
		// SOP Common (C.12.1)
		str(tg(0x0008, 0x0016), "UI", sopClass),
		str(tg(0x0008, 0x0018), "UI", sopUID),
		str(tg(0x0008, 0x0012), "DA", date),
		str(tg(0x0008, 0x0013), "TM", tm),
		// Patient (C.7.1.1): a synthetic patient, flagged as such.
		str(tg(0x0010, 0x0010), "PN", t.Patient.Name),
		str(tg(0x0010, 0x0020), "LO", t.Patient.ID),
		str(tg(0x0010, 0x0030), "DA", t.Patient.BirthDate),
		str(tg(0x0010, 0x0040), "CS", t.Patient.Sex),
		str(tg(0x0012, 0x0062), "CS", "YES"),
		str(tg(0x0012, 0x0063), "LO", "SYNTHETIC PHANTOM, NO REAL PATIENT"),
		// Patient Study (C.7.2.2)
		str(tg(0x0010, 0x1010), "AS", fmt.Sprintf("%03dY", t.Patient.AgeYears)),
		// General Study (C.7.2.1)
		str(tg(0x0020, 0x000D), "UI", t.Study.InstanceUID),
		str(tg(0x0008, 0x0020), "DA", date),
		str(tg(0x0008, 0x0030), "TM", tm),
		str(tg(0x0008, 0x0090), "PN"),
		str(tg(0x0020, 0x0010), "SH", t.Study.ID),
		str(tg(0x0008, 0x0050), "SH", t.Study.AccessionNumber),
		str(tg(0x0008, 0x1030), "LO", t.Study.Description),
		// General Series (C.7.3.1)
		str(tg(0x0008, 0x0060), "CS", "CT"),
		str(tg(0x0020, 0x000E), "UI", s.uid),
		is(tg(0x0020, 0x0011), s.number),
		str(tg(0x0008, 0x0021), "DA", date),
		str(tg(0x0008, 0x0031), "TM", tm),
		str(tg(0x0008, 0x103E), "LO", s.desc),
		str(tg(0x0018, 0x0015), "CS", "CHEST"),
		str(tg(0x0018, 0x5100), "CS", "HFS"),
		str(tg(0x0018, 0x1030), "LO", "CHEST ABDOMEN"),
		// Frame of Reference (C.7.4.1): both series share it.
		str(tg(0x0020, 0x0052), "UI", deriveUID(c.seed, "frame-of-reference")),
		str(tg(0x0020, 0x1040), "LO"),
		// General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2)
		str(tg(0x0008, 0x0070), "LO", "ctlens"),
		str(tg(0x0008, 0x0080), "LO", "Synthetic Phantom"),
		str(tg(0x0008, 0x1010), "SH", "PHANTOM"),
		str(tg(0x0008, 0x1090), "LO", "tools/phantom"),
		str(tg(0x0018, 0x1000), "LO", "0001"),
		str(tg(0x0018, 0x1020), "LO", "ctlens phantom 1"),
		// General Image (C.7.6.1)
		is(tg(0x0020, 0x0013), instance),
		str(tg(0x0008, 0x0023), "DA", date),
		str(tg(0x0008, 0x0033), "TM", tm),
		str(tg(0x0020, 0x4000), "LT", "SYNTHETIC PHANTOM - NOT A PATIENT - NOT FOR DIAGNOSIS"),
		str(tg(0x0028, 0x2110), "CS", "00"),
		str(tg(0x0028, 0x0301), "CS", "NO"),
		// Image Pixel (C.7.6.3)
		num(tg(0x0028, 0x0002), "US", 1),
		str(tg(0x0028, 0x0004), "CS", "MONOCHROME2"),
		num(tg(0x0028, 0x0010), "US", float64(s.rows)),
		num(tg(0x0028, 0x0011), "US", float64(s.cols)),
		num(tg(0x0028, 0x0100), "US", 16),
		num(tg(0x0028, 0x0101), "US", float64(s.enc.bitsStored)),
		num(tg(0x0028, 0x0102), "US", float64(s.enc.bitsStored-1)),
	}
	pr, padVR := 1.0, "SS"
	if !s.enc.signed {
		pr, padVR = 0, "US"
	}
	e = append(e, num(tg(0x0028, 0x0103), "US", pr))
	if s.enc.padding != nil {
		// The VR of Pixel Padding Value follows Pixel Representation
		// (PS3.3 C.7.5.1.1.2).
		e = append(e, num(tg(0x0028, 0x0120), padVR, float64(*s.enc.padding)))
	}
	if c.anat.p.contrast {
		// Contrast/Bolus (C.7.6.4), required when contrast was given.
		e = append(e, str(tg(0x0018, 0x0010), "LO", "IODINATED CONTRAST"))
	}
	return e
}

// window is the soft-tissue and lung window pair written with every image.
var window = struct {
	center, width []float64
	names         []string
}{[]float64{40, -600}, []float64{400, 1500}, []string{"SOFT_TISSUE", "LUNG"}}

// ctImage is the data set of one single-frame CT Image Storage file.
func (c *Case) ctImage(s *seriesPlan, f filePlan) []elem {
	fr := f.frames[0]
	e := c.common(s, ctImageStorage, f.sopUID, f.instance)
	e = append(e,
		// CT Image (C.8.2.1)
		str(tg(0x0008, 0x0008), "CS", "ORIGINAL", "PRIMARY", "AXIAL"),
		str(tg(0x0008, 0x0022), "DA", c.truth.Study.Date),
		str(tg(0x0008, 0x0032), "TM", c.truth.Study.Time),
		is(tg(0x0020, 0x0012), 1),
		ds(tg(0x0018, 0x0060), float64(c.kvp)),
		ds(tg(0x0018, 0x1100), nm(s.ps*float64(min(s.cols, s.rows)))),
		ds(tg(0x0018, 0x1120), s.tiltDeg),
		ds(tg(0x0018, 0x1130), 150),
		str(tg(0x0018, 0x1140), "CS", "CW"),
		is(tg(0x0018, 0x1150), 500),
		is(tg(0x0018, 0x1151), 200),
		is(tg(0x0018, 0x1152), 100),
		str(tg(0x0018, 0x1210), "SH", s.kernel),
		ds(tg(0x0028, 0x1052), s.enc.intercept),
		ds(tg(0x0028, 0x1053), s.enc.slope),
		str(tg(0x0028, 0x1054), "LO", "HU"),
		ds(tg(0x0028, 0x1050), window.center...),
		ds(tg(0x0028, 0x1051), window.width...),
		str(tg(0x0028, 0x1055), "LO", window.names...),
		// Image Plane (C.7.6.2)
		ds(tg(0x0028, 0x0030), s.ps, s.ps),
		ds(tg(0x0020, 0x0037), s.r.X, s.r.Y, s.r.Z, s.c.X, s.c.Y, s.c.Z),
		ds(tg(0x0020, 0x0032), fr.pos.X, fr.pos.Y, fr.pos.Z),
		ds(tg(0x0018, 0x0050), s.thk),
		ds(tg(0x0020, 0x1041), nm(fr.pos.dot(s.n))),
	)
	return e
}

// enhancedCT is the data set of one Enhanced CT Image Storage file holding
// all of f's frames. The image is marked DERIVED (it is computed from a
// model, not acquired), which makes the acquisition functional groups of
// PS3.3 A.38.1.4 optional.
func (c *Case) enhancedCT(s *seriesPlan, f filePlan) []elem {
	frameType := []string{"DERIVED", "PRIMARY", "VOLUME", "NONE"}
	e := c.common(s, enhancedCTImageStorage, f.sopUID, f.instance)
	e = append(e,
		// Enhanced CT Image (C.8.15.2)
		str(tg(0x0008, 0x0008), "CS", frameType...),
		str(tg(0x0008, 0x9205), "CS", "MONOCHROME"),
		str(tg(0x0008, 0x9206), "CS", "VOLUME"),
		str(tg(0x0008, 0x9207), "CS", "NONE"),
		str(tg(0x0018, 0x9004), "CS", "RESEARCH"),
		str(tg(0x0008, 0x002A), "DT", c.truth.Study.Date+c.truth.Study.Time),
		num(tg(0x0018, 0x9073), "FD", 10),
		is(tg(0x0020, 0x0012), 1),
		str(tg(0x2050, 0x0020), "CS", "IDENTITY"),
		// Multi-frame Functional Groups (C.7.6.16)
		is(tg(0x0028, 0x0008), len(f.frames)),
		// Acquisition Context (C.7.6.14): type 2, empty.
		sq(tg(0x0040, 0x0555)),
	)
	// Multi-frame Dimension (C.7.6.17): frames indexed by stack and
	// position in the stack.
	dimItem := func(ptr uint32, label string) []elem {
		return []elem{
			at(tg(0x0020, 0x9165), ptr),
			at(tg(0x0020, 0x9167), tg(0x0020, 0x9111)),
			str(tg(0x0020, 0x9164), "UI", s.dimOrgID),
			str(tg(0x0020, 0x9421), "LO", label),
		}
	}
	e = append(e,
		sq(tg(0x0020, 0x9221), []elem{str(tg(0x0020, 0x9164), "UI", s.dimOrgID)}),
		str(tg(0x0020, 0x9311), "CS", "3D"),
		sq(tg(0x0020, 0x9222), dimItem(tg(0x0020, 0x9056), "Stack ID"), dimItem(tg(0x0020, 0x9057), "In-Stack Position Number")),
	)
	measures := []elem{ds(tg(0x0028, 0x0030), s.ps, s.ps), ds(tg(0x0018, 0x0050), s.thk)}
	if !s.anomaly.Uneven && len(s.anomaly.MissingSlices) == 0 {
		measures = append(measures, ds(tg(0x0018, 0x0088), nm(math.Abs(s.step.dot(s.n)))))
	}
	shared := []elem{
		sq(tg(0x0028, 0x9110), measures),
		sq(tg(0x0020, 0x9116), []elem{ds(tg(0x0020, 0x0037), s.r.X, s.r.Y, s.r.Z, s.c.X, s.c.Y, s.c.Z)}),
		sq(tg(0x0028, 0x9145), []elem{
			ds(tg(0x0028, 0x1052), s.enc.intercept),
			ds(tg(0x0028, 0x1053), s.enc.slope),
			str(tg(0x0028, 0x1054), "LO", "HU"),
		}),
		sq(tg(0x0028, 0x9132), []elem{
			ds(tg(0x0028, 0x1050), window.center...),
			ds(tg(0x0028, 0x1051), window.width...),
			str(tg(0x0028, 0x1055), "LO", window.names...),
		}),
		sq(tg(0x0018, 0x9477), []elem{str(tg(0x0008, 0x3010), "UI", s.eventUID)}),
		sq(tg(0x0020, 0x9071), []elem{
			sq(tg(0x0008, 0x2218), []elem{
				str(tg(0x0008, 0x0100), "SH", "416775004"),
				str(tg(0x0008, 0x0102), "SH", "SCT"),
				str(tg(0x0008, 0x0104), "LO", "Chest and Abdomen"),
			}),
			str(tg(0x0020, 0x9072), "CS", "U"),
		}),
		sq(tg(0x0018, 0x9329), []elem{
			str(tg(0x0008, 0x9007), "CS", frameType...),
			str(tg(0x0008, 0x9205), "CS", "MONOCHROME"),
			str(tg(0x0008, 0x9206), "CS", "VOLUME"),
			str(tg(0x0008, 0x9207), "CS", "NONE"),
		}),
	}
	var perFrame [][]elem
	for _, fr := range f.frames {
		perFrame = append(perFrame, []elem{
			sq(tg(0x0020, 0x9111), []elem{
				str(tg(0x0020, 0x9056), "SH", "1"),
				num(tg(0x0020, 0x9057), "UL", float64(fr.k+1)),
				num(tg(0x0020, 0x9157), "UL", 1, float64(fr.k+1)),
			}),
			sq(tg(0x0020, 0x9113), []elem{ds(tg(0x0020, 0x0032), fr.pos.X, fr.pos.Y, fr.pos.Z)}),
		})
	}
	e = append(e,
		sq(tg(0x5200, 0x9229), shared),
		sq(tg(0x5200, 0x9230), perFrame...),
	)
	return e
}
