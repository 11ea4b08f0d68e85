package volume

import (
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestDefaultWindow has one case per branch of the precedence order:
// user, then header, then statistics.
func TestDefaultWindow(t *testing.T) {
	header := append([]Window{{Center: 40, Width: 350, Name: "file 1", Source: SourceHeader}, {Center: -600, Width: 1200, Name: "file 2", Source: SourceHeader}}, Presets...)
	stats := Stats{Min: -1024, Max: 3071, P01: -1000, P99: 1200}
	cases := []struct {
		name   string
		user   *Window
		header []Window
		stats  Stats
		want   Window
	}{
		{"user first", &Window{Center: 10, Width: 20, Name: "mine"}, header, stats, Window{Center: 10, Width: 20, Name: "mine", Source: SourceUser}},
		{"header when no user value", nil, header, stats, Window{Center: 40, Width: 350, Name: "file 1", Source: SourceHeader}},
		{"invalid user width falls through", &Window{Center: 10, Width: 0}, header, stats, Window{Center: 40, Width: 350, Name: "file 1", Source: SourceHeader}},
		{"statistics when neither", nil, nil, stats, Window{Center: 100, Width: 2200, Name: "auto", Source: SourceStats}},
		{"presets are not the header's", nil, Presets, stats, Window{Center: 100, Width: 2200, Name: "auto", Source: SourceStats}},
		{"flat image: min..max", nil, nil, Stats{Min: 5, Max: 5, P01: 5, P99: 5}, Window{Center: 5.5, Width: 1, Name: "auto", Source: SourceStats}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if have := DefaultWindow(c.user, c.header, c.stats); have != c.want {
				t.Errorf("have %+v, want %+v", have, c.want)
			}
		})
	}
}

func TestPresets(t *testing.T) {
	// The standard CT presets of issue 3, width/level.
	want := map[string][2]float64{"brain": {80, 40}, "soft tissue": {400, 40}, "lung": {1500, -600}, "bone": {2000, 500}, "liver": {150, 90}, "mediastinum": {400, 40}}
	if len(Presets) != len(want) {
		t.Errorf("%d presets, want %d", len(Presets), len(want))
	}
	for _, p := range Presets {
		if w, ok := want[p.Name]; !ok || w != [2]float64{p.Width, p.Center} {
			t.Errorf("preset %v, want %v", p, w)
		}
	}
	w := Window{Center: 40, Width: 400}
	for _, c := range []struct{ hu, want float64 }{{-160, 0}, {-1000, 0}, {40, 0.5}, {240, 1}, {3000, 1}} {
		if have := w.Apply(c.hu); math.Abs(have-c.want) > 1e-12 {
			t.Errorf("Apply(%v) = %v, want %v", c.hu, have, c.want)
		}
	}
}

func TestStats(t *testing.T) {
	vox := make([]int16, 1000)
	for i := range vox {
		vox[i] = int16(i - 500) // -500..499
	}
	s := statsOf(vox)
	if s.Min != -500 || s.Max != 499 || s.Mean != -0.5 || s.P01 != -490 || s.P99 != 490 || s.Count != 1000 {
		t.Errorf("have %+v", s)
	}
}

func TestDeidentify(t *testing.T) {
	// Every string field of Metadata has a row in the table: a field
	// added without one would be neither extracted nor de-identified.
	rows := map[string]bool{}
	var probe Metadata
	for _, f := range metaFields {
		p := f.field(&probe)
		*p = "x"
		rows[f.name] = true
	}
	rv := reflect.ValueOf(probe)
	for i := range rv.NumField() {
		if rv.Field(i).String() != "x" {
			t.Errorf("Metadata.%s has no row in metaFields", rv.Type().Field(i).Name)
		}
	}

	var m Metadata
	for i, f := range metaFields {
		*f.field(&m) = "value" + strings.Repeat("v", i)
	}
	m.StudyInstanceUID, m.SeriesInstanceUID, m.FrameOfReferenceUID = "1.2.3.4", "1.2.3.4.5", "1.2.3.4.9"
	orig := m
	key := []byte("export-1")
	d := Deidentify(m, key)
	if m != orig {
		t.Error("Deidentify modified its argument")
	}
	uidRE := regexp.MustCompile(`^2\.25\.(0|[1-9][0-9]*)$`)
	for _, f := range metaFields {
		have := *f.field(&d)
		switch f.action {
		case keep:
			if have != *f.field(&orig) {
				t.Errorf("%s (keep): %q → %q", f.name, *f.field(&orig), have)
			}
		case zero, remove:
			if have != "" {
				t.Errorf("%s (%c): still %q", f.name, f.action, have)
			}
		case newUID:
			if have == *f.field(&orig) || !uidRE.MatchString(have) || len(have) > 64 {
				t.Errorf("%s: %q is not a fresh UID (PS3.5 9.1: ≤ 64 chars)", f.name, have)
			}
		}
	}
	if d.PatientIdentityRemoved != "YES" || d.DeidentificationMethod != DeidentificationMethod {
		t.Errorf("(0012,0062)/(0012,0063): %q %q", d.PatientIdentityRemoved, d.DeidentificationMethod)
	}
	// U: consistent within a set (same key), unlinkable across keys.
	if d2 := Deidentify(m, key); d2.SeriesInstanceUID != d.SeriesInstanceUID {
		t.Error("same key, same UID: replacements differ")
	}
	if d3 := Deidentify(m, []byte("export-2")); d3.SeriesInstanceUID == d.SeriesInstanceUID {
		t.Error("different keys give the same replacement UID")
	}
	if d.StudyInstanceUID == d.SeriesInstanceUID {
		t.Error("different UIDs mapped to one")
	}
}
