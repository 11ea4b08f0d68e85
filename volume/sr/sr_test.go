package sr

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"ctlens/volume"
)

// source is the metadata of a CT series as the importer reads it, with a
// non-ASCII patient name so the UTF-8 character set is exercised.
func source() volume.Metadata {
	return volume.Metadata{
		PatientName:            "Müller^Jürgen",
		PatientID:              "PAT-0042",
		PatientBirthDate:       "19610214",
		PatientSex:             "M",
		StudyInstanceUID:       "1.2.826.0.1.3680043.8.498.11223344556677",
		StudyDate:              "20260301",
		StudyTime:              "101500",
		StudyID:                "S17",
		StudyDescription:       "CT CHEST",
		AccessionNumber:        "ACC123",
		ReferringPhysicianName: "Doe^Jane",
		SeriesInstanceUID:      "1.2.826.0.1.3680043.8.498.99",
		Modality:               "CT",
	}
}

// ctImage is the CT Image Storage SOP Class.
const ctImage = "1.2.840.10008.5.1.4.1.1.2"

// evidenceOf is what dicomread.Import lists for a series of n CT images.
func evidenceOf(n int) []volume.InstanceRef {
	out := make([]volume.InstanceRef, n)
	for i := range out {
		out[i] = volume.InstanceRef{ClassUID: ctImage, InstanceUID: fmt.Sprintf("1.2.826.0.1.3680043.8.498.99.%d", i+1)}
	}
	return out
}

const reportText = "FINDINGS: A 12 mm nodule in the right upper lobe.\nNo effusion.\n\nIMPRESSION: Pulmonary nodule; follow-up CT in 3 months."

func encodeSample(t *testing.T, complete bool) ([]byte, Report) {
	t.Helper()
	f, im := SplitSections(reportText)
	r := Report{Source: source(), Findings: f, Impression: im, Model: "tiny-moe", Complete: complete,
		Evidence: evidenceOf(3), Time: time.Date(2026, 11, 28, 23, 30, 5, 0, time.UTC)}
	b, err := Encode(&r)
	if err != nil {
		t.Fatal(err)
	}
	return b, r
}

// TestDciodvfy: the file passes dicom3tools' IOD checker with no errors
// (its warnings are logged), both as a draft and as a completed report.
func TestDciodvfy(t *testing.T) {
	bin, err := exec.LookPath("dciodvfy")
	if err != nil {
		t.Fatal("dciodvfy not found\nhint: apt-get install dicom3tools")
	}
	for _, complete := range []bool{false, true} {
		b, _ := encodeSample(t, complete)
		p := filepath.Join(t.TempDir(), "report.dcm")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(bin, p).CombinedOutput() // exits non-zero on warnings too
		var errs []string
		for line := range strings.Lines(string(out)) {
			switch {
			case strings.HasPrefix(line, "Error"):
				errs = append(errs, strings.TrimSpace(line))
			case strings.HasPrefix(line, "Warning"):
				t.Logf("complete=%v: %s", complete, strings.TrimSpace(line))
			}
		}
		if len(errs) > 0 {
			t.Errorf("complete=%v: dciodvfy errors:\n%s", complete, strings.Join(errs, "\n"))
		}
		if !strings.Contains(string(out), "BasicTextSR") {
			t.Errorf("dciodvfy did not recognise a Basic Text SR:\n%s", out)
		}
	}
}

// TestReadBack: suyashkumar/dicom parses the file, and the patient and
// study attributes are the source's, the UIDs new, and the text there.
func TestReadBack(t *testing.T) {
	b, r := encodeSample(t, false)
	if string(b[128:132]) != "DICM" {
		t.Fatalf("no DICM prefix")
	}
	ds, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	str := func(tg tag.Tag) string {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			t.Errorf("%v: %v", tg, err)
			return ""
		}
		v := e.Value.GetValue()
		if s, ok := v.([]string); ok {
			return strings.TrimRight(strings.Join(s, `\`), " \x00")
		}
		t.Errorf("%v: value %T", tg, v)
		return ""
	}
	src := source()
	for _, c := range []struct {
		tag  tag.Tag
		want string
	}{
		{tag.PatientName, src.PatientName},
		{tag.PatientID, src.PatientID},
		{tag.PatientBirthDate, src.PatientBirthDate},
		{tag.PatientSex, src.PatientSex},
		{tag.StudyInstanceUID, src.StudyInstanceUID},
		{tag.StudyDate, src.StudyDate},
		{tag.AccessionNumber, src.AccessionNumber},
		{tag.SOPClassUID, BasicTextSR},
		{tag.Modality, "SR"},
		{tag.VerificationFlag, "UNVERIFIED"},
		{tag.CompletionFlag, "PARTIAL"},
		{tag.SOPInstanceUID, r.SOPInstanceUID},
		{tag.MediaStorageSOPInstanceUID, r.SOPInstanceUID},
		{tag.TransferSyntaxUID, ExplicitVRLittleEndian},
	} {
		if have := str(c.tag); have != c.want {
			t.Errorf("%v = %q, want %q", c.tag, have, c.want)
		}
	}
	if r.SeriesInstanceUID == src.SeriesInstanceUID || !validUID(r.SeriesInstanceUID) {
		t.Errorf("series UID %q: want a new valid UID", r.SeriesInstanceUID)
	}
	var texts []string
	for e := range ds.FlatIterator() {
		if e.Tag == tag.TextValue {
			texts = append(texts, strings.TrimRight(strings.Join(e.Value.GetValue().([]string), `\`), " "))
		}
	}
	want := []string{"A 12 mm nodule in the right upper lobe.\nNo effusion.", "Pulmonary nodule; follow-up CT in 3 months.", r.Comment()}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("text values %q, want %q", texts, want)
	}
	if !strings.Contains(r.Comment(), "tiny-moe") || !strings.Contains(r.Comment(), "Not a diagnosis") {
		t.Errorf("comment %q lacks the model or the disclaimer", r.Comment())
	}

	// The evidence: one study (the source's), one series (the source's),
	// its images in order.
	ev, err := ds.FindElementByTag(tag.CurrentRequestedProcedureEvidenceSequence)
	if err != nil {
		t.Fatalf("no evidence sequence: %v", err)
	}
	var refs []string
	var studies, series []string
	for _, it := range ev.Value.GetValue().([]*dicom.SequenceItemValue) {
		for _, e := range it.GetValue().([]*dicom.Element) {
			switch e.Tag {
			case tag.StudyInstanceUID:
				studies = append(studies, strings.TrimRight(e.Value.GetValue().([]string)[0], "\x00"))
			case tag.ReferencedSeriesSequence:
				for _, sit := range e.Value.GetValue().([]*dicom.SequenceItemValue) {
					for _, se := range sit.GetValue().([]*dicom.Element) {
						switch se.Tag {
						case tag.SeriesInstanceUID:
							series = append(series, strings.TrimRight(se.Value.GetValue().([]string)[0], "\x00"))
						case tag.ReferencedSOPSequence:
							for _, rit := range se.Value.GetValue().([]*dicom.SequenceItemValue) {
								var cls, inst string
								for _, re := range rit.GetValue().([]*dicom.Element) {
									v := strings.TrimRight(re.Value.GetValue().([]string)[0], "\x00")
									switch re.Tag {
									case tag.ReferencedSOPClassUID:
										cls = v
									case tag.ReferencedSOPInstanceUID:
										inst = v
									}
								}
								refs = append(refs, cls+"/"+inst)
							}
						}
					}
				}
			}
		}
	}
	var want3 []string
	for _, e := range evidenceOf(3) {
		want3 = append(want3, e.ClassUID+"/"+e.InstanceUID)
	}
	if fmt.Sprint(studies) != fmt.Sprint([]string{src.StudyInstanceUID}) || fmt.Sprint(series) != fmt.Sprint([]string{src.SeriesInstanceUID}) || fmt.Sprint(refs) != fmt.Sprint(want3) {
		t.Errorf("evidence: studies %q series %q images %q; want %q %q %q", studies, series, refs, src.StudyInstanceUID, src.SeriesInstanceUID, want3)
	}
}

// TestSplitSections covers headings in any case, with and without colons,
// text before a heading, and a text without headings.
func TestSplitSections(t *testing.T) {
	for _, c := range []struct{ in, f, im string }{
		{"FINDINGS: a\nb\nIMPRESSION: c", "a\nb", "c"},
		{"findings\na\nImpression:\nc\nd", "a", "c\nd"},
		{"plain text only", "plain text only", ""},
		{"lead\nIMPRESSION: x", "lead", "x"},
		// Without a colon a heading stands alone on its line: here the
		// word starts a sentence.
		{"Findings are normal.", "Findings are normal.", ""},
	} {
		f, im := SplitSections(c.in)
		if f != c.f || im != c.im {
			t.Errorf("%q: %q / %q, want %q / %q", c.in, f, im, c.f, c.im)
		}
	}
}

// TestControlCharacters: a model's text with control characters and
// broken UTF-8 is written as valid UT (dciodvfy has no errors), the
// characters replaced by U+FFFD.
func TestControlCharacters(t *testing.T) {
	r := Report{Source: source(), Findings: "a\x1ab\x1d c\xffd\n\tok", Model: "m"}
	b, err := Encode(&r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("a\uFFFDb\uFFFD c\uFFFDd\n ok")) {
		t.Errorf("text not cleaned as expected")
	}
	p := filepath.Join(t.TempDir(), "ctl.dcm")
	os.WriteFile(p, b, 0o644)
	out, _ := exec.Command("dciodvfy", p).CombinedOutput()
	if strings.Contains(string(out), "Error") {
		t.Errorf("dciodvfy:\n%s", out)
	}
}

// TestRefusals: an empty report and a malformed UID are refused with a
// message naming the problem.
func TestRefusals(t *testing.T) {
	if _, err := Encode(&Report{Source: source(), Findings: " \n"}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty report: %v", err)
	}
	if _, err := Encode(&Report{Source: source(), Findings: "x", SOPInstanceUID: "1.02.3"}); err == nil || !strings.Contains(err.Error(), "SOPInstanceUID") {
		t.Errorf("bad UID: %v", err)
	}
	if _, err := Encode(&Report{Source: source(), Findings: "x", Complete: true}); err == nil || !strings.Contains(err.Error(), "evidence") {
		t.Errorf("complete without evidence: %v", err)
	}
	bad := evidenceOf(2)
	bad[1].InstanceUID = ""
	if _, err := Encode(&Report{Source: source(), Findings: "x", Evidence: bad}); err == nil || !strings.Contains(err.Error(), "evidence image 2") {
		t.Errorf("evidence without an instance UID: %v", err)
	}
	noSeries := source()
	noSeries.SeriesInstanceUID = ""
	if _, err := Encode(&Report{Source: noSeries, Findings: "x", Evidence: evidenceOf(1)}); err == nil || !strings.Contains(err.Error(), "SeriesInstanceUID") {
		t.Errorf("evidence without the source series: %v", err)
	}
	long := strings.Repeat("é", 40000)
	if b, err := Encode(&Report{Source: source(), Findings: long}); err != nil || !bytes.Contains(b, []byte(long)) {
		t.Errorf("a long text (UT) should be written whole: %v", err)
	}
}

// TestNewUID: fresh UIDs are valid, distinct, and within 64 characters.
func TestNewUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		u := NewUID()
		if !validUID(u) || !strings.HasPrefix(u, "2.25.") || seen[u] {
			t.Fatalf("bad or repeated UID %q", u)
		}
		seen[u] = true
	}
}
