package synth

import (
	"fmt"
	"strings"
)

// The report is written from the ground truth by templates; the case's
// "report" stream picks among synonyms, so wording varies from case to case
// while every finding is stated with its side, place and size.

// impressionOrder ranks findings by urgency for the impression.
var impressionOrder = []Kind{Pneumothorax, PleuralEffusion, Consolidation, RibFracture, Cardiomegaly, LungNodule, LiverLesion, KidneyStone}

// fmtMM formats a size the way reports do: whole millimetres from 10 mm up,
// one decimal below.
func fmtMM(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	s := fmt.Sprintf("%.1f", x)
	return strings.TrimSuffix(s, ".0")
}

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// fill replaces {key} placeholders.
func fill(t string, kv map[string]string) string {
	for k, v := range kv {
		t = strings.ReplaceAll(t, "{"+k+"}", v)
	}
	return capFirst(t)
}

// vars are the placeholders a finding offers to its templates.
func vars(f Finding) map[string]string {
	return map[string]string{
		"side": f.Side, "lobe": f.Lobe, "size": fmtMM(f.SizeMM), "seg": f.Segment, "pole": f.Aspect,
		"aspect": f.Aspect, "ord": ordinal(f.Rib), "sev": f.Severity, "vol": fmt.Sprintf("%.0f", f.VolumeML),
		"ctr": fmt.Sprintf("%.2f", f.CTR),
	}
}

// findingTemplates: what the FINDINGS section says about each kind.
var findingTemplates = map[Kind][]string{
	LungNodule: {
		"a {size} mm solid nodule is seen in the {side} {lobe} lobe.",
		"there is a {size} mm pulmonary nodule in the {side} {lobe} lobe.",
		"{side} {lobe} lobe nodule measuring {size} mm.",
		"a solid pulmonary nodule measuring {size} mm is present in the {lobe} lobe of the {side} lung.",
	},
	Consolidation: {
		"there is consolidation in the {side} {lobe} lobe, measuring up to {size} mm.",
		"airspace consolidation involves the {side} {lobe} lobe.",
		"focal consolidation is present in the {lobe} lobe of the {side} lung, spanning about {size} mm.",
	},
	PleuralEffusion: {
		"{sev} {side} pleural effusion (approximately {vol} ml).",
		"there is a {sev} {side} pleural effusion, estimated volume {vol} ml.",
		"a {sev} pleural effusion is present on the {side}, about {vol} ml.",
	},
	Pneumothorax: {
		"{sev} {side} pneumothorax with a maximal rim depth of {size} mm.",
		"there is a {sev} {side}-sided pneumothorax measuring up to {size} mm.",
		"a {side} pneumothorax is present, {size} mm in maximal depth.",
	},
	Cardiomegaly: {
		"the heart is enlarged, with a cardiothoracic ratio of {ctr}.",
		"cardiomegaly (cardiothoracic ratio {ctr}).",
		"there is {sev} cardiomegaly; the cardiothoracic ratio is {ctr}.",
	},
	LiverLesion: {
		"a {size} mm hypodense lesion is seen in hepatic segment {seg} ({side} lobe).",
		"there is a {size} mm hypoattenuating lesion in the {side} hepatic lobe (segment {seg}).",
		"hypodense {size} mm liver lesion in segment {seg} of the {side} lobe.",
	},
	KidneyStone: {
		"a {size} mm calculus is present in the {side} kidney ({pole}).",
		"there is a {size} mm nonobstructing stone in the {pole} of the {side} kidney.",
		"{side} nephrolithiasis: {size} mm stone in the {pole}.",
	},
	RibFracture: {
		"there is a fracture of the {side} {ord} rib ({aspect} aspect).",
		"a {aspect} {side} {ord} rib fracture is present with a {size} mm gap.",
		"fracture of the {aspect} {side} {ord} rib.",
	},
}

// impressionTemplates: the one-line summary of each kind.
var impressionTemplates = map[Kind][]string{
	LungNodule:      {"{size} mm {side} {lobe} lobe pulmonary nodule.", "pulmonary nodule in the {side} {lobe} lobe ({size} mm)."},
	Consolidation:   {"{side} {lobe} lobe consolidation, compatible with pneumonia in the appropriate clinical setting.", "consolidation of the {side} {lobe} lobe."},
	PleuralEffusion: {"{sev} {side} pleural effusion.", "{side} pleural effusion, {sev}."},
	Pneumothorax:    {"{sev} {side} pneumothorax.", "{side} pneumothorax ({size} mm)."},
	Cardiomegaly:    {"cardiomegaly.", "{sev} cardiomegaly."},
	LiverLesion:     {"indeterminate {size} mm hypodense lesion in hepatic segment {seg} ({side} lobe).", "{size} mm hypodense {side} hepatic lobe lesion; further characterization suggested."},
	KidneyStone:     {"{side} nephrolithiasis ({size} mm).", "{size} mm {side} renal calculus."},
	RibFracture:     {"{side} {ord} rib fracture.", "fracture of the {side} {ord} rib."},
}

// system groups kinds under a report heading, with the normal statements
// used when none of its kinds is present.
type system struct {
	heading string
	kinds   []Kind
	normal  []string
}

var systems = []system{
	{"Lungs", []Kind{LungNodule, Consolidation}, []string{
		"The lungs are clear.", "No focal consolidation or pulmonary nodule.",
		"The lungs are clear without focal airspace disease or suspicious nodules.", "The lung parenchyma is unremarkable."}},
	{"Pleura", []Kind{PleuralEffusion, Pneumothorax}, []string{
		"No pleural effusion or pneumothorax.", "The pleural spaces are clear.", "There is no pleural effusion and no pneumothorax."}},
	{"Heart and mediastinum", []Kind{Cardiomegaly}, []string{
		"The heart is normal in size.", "Heart size is within normal limits.", "No cardiomegaly. The mediastinal contours are unremarkable."}},
	{"Upper abdomen", []Kind{LiverLesion, KidneyStone}, []string{
		"The visualized liver, spleen and kidneys are unremarkable.", "No focal hepatic lesion. No renal calculi.",
		"The imaged upper abdominal organs appear normal."}},
	{"Bones", []Kind{RibFracture}, []string{
		"No acute osseous abnormality.", "The osseous structures are intact.", "No rib fracture is seen."}},
}

// organNormal covers an organ of a system with findings in another organ.
var organNormal = map[Kind][]string{
	LiverLesion: {"The liver is unremarkable.", "No focal hepatic lesion."},
	KidneyStone: {"No renal calculi.", "The kidneys are unremarkable."},
}

var normalImpressions = []string{
	"No acute abnormality in the chest or upper abdomen.",
	"Normal CT of the chest and upper abdomen.",
	"No significant abnormality.",
}

// writeReport builds the report from the findings.
func writeReport(r *rng, fs []Finding) Report {
	var rep Report
	headed := r.chance(0.5)
	var lines []string
	add := func(section, text string, ids ...int) string {
		rep.Sentences = append(rep.Sentences, Sentence{Section: section, Text: text, FindingIDs: append([]int{}, ids...)})
		return text
	}
	for _, sys := range systems {
		var parts []string
		present := map[Kind]bool{}
		for _, f := range fs {
			for _, k := range sys.kinds {
				if f.Type == k {
					ts := findingTemplates[k]
					parts = append(parts, add("findings", fill(ts[r.intn(len(ts))], vars(f)), f.ID))
					present[k] = true
				}
			}
		}
		if len(parts) == 0 {
			parts = append(parts, add("findings", sys.normal[r.intn(len(sys.normal))]))
		} else {
			for _, k := range sys.kinds {
				if ns, ok := organNormal[k]; ok && !present[k] {
					parts = append(parts, add("findings", ns[r.intn(len(ns))]))
				}
			}
		}
		if sys.heading == "Lungs" && r.chance(0.4) {
			parts = append(parts, add("findings", "The central airways are patent."))
		}
		line := strings.Join(parts, " ")
		if headed {
			line = sys.heading + ": " + line
		}
		lines = append(lines, line)
	}
	if headed {
		rep.Findings = strings.Join(lines, "\n")
	} else {
		rep.Findings = strings.Join(lines, " ")
	}

	var imp []string
	for _, k := range impressionOrder {
		for _, f := range fs {
			if f.Type == k {
				ts := impressionTemplates[k]
				imp = append(imp, add("impression", fill(ts[r.intn(len(ts))], vars(f)), f.ID))
			}
		}
	}
	if len(imp) == 0 {
		imp = append(imp, add("impression", normalImpressions[r.intn(len(normalImpressions))]))
	}
	if len(imp) == 1 {
		rep.Impression = imp[0]
	} else {
		for i, s := range imp {
			imp[i] = fmt.Sprintf("%d. %s", i+1, s)
		}
		rep.Impression = strings.Join(imp, "\n")
	}
	rep.Text = "FINDINGS:\n" + rep.Findings + "\n\nIMPRESSION:\n" + rep.Impression + "\n"
	return rep
}
