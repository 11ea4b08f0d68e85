package library

import (
	"errors"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/volume"
)

// html renders the panel as the server would.
func html(p *Panel) string { return app.HTMLString(p.Render()) }

func TestPanelRender(t *testing.T) {
	p := &Panel{
		store:    &Store{},
		selected: "s0000000000000001",
		thumbs:   map[string]string{"s0000000000000001": "data:image/png;base64,AAAA"},
		entries: []Entry{
			{ID: "s0000000000000001", Name: "Sample chest", Sample: true, Dims: [3]int{128, 128, 48}, Phases: 1,
				Meta:     volume.Metadata{StudyDate: "20191002", BodyPartExamined: "CHEST"},
				Warnings: []string{"uneven slice spacing"}, Skipped: []Skipped{{Path: "a.txt", Reason: "not DICOM"}}},
			{ID: "s0000000000000002", Name: "s0000000000000002", Err: &DamagedError{ID: "s0000000000000002", Err: errors.New("vox/00001 is missing")}},
		},
		problems: []Skipped{{Path: "x.dcm", Reason: "not a readable DICOM file"}},
	}
	have := html(p)
	for _, want := range []string{
		`id="library"`, `data-series="2"`, `id="import-input"`, `webkitdirectory`,
		`class="series-item selected"`, `data-id="s0000000000000001"`, `data-sample="yes"`, `aria-current="page"`,
		`48 slices`, `2019-10-02`, `Sample</span>`, `⚠ uneven slice spacing`, `1 file(s) skipped`,
		`src="data:image/png;base64,AAAA"`,
		`class="series-item damaged"`, `vox/00001 is missing`,
		`class="import-error"`, `data-path="x.dcm"`, // go-app writes attributes in map order
	} {
		if !strings.Contains(have, want) {
			t.Errorf("render lacks %s", want)
		}
	}
	if strings.Contains(have, `id="drop-overlay"`) || strings.Contains(have, `id="import-progress"`) {
		t.Errorf("overlay or progress shown while idle")
	}

	// Delete asks first.
	if strings.Contains(have, "series-delete-yes") {
		t.Errorf("a confirm button before any delete was asked for")
	}
	p.confirm = "s0000000000000001"
	if have := html(p); !strings.Contains(have, "series-delete-yes") || !strings.Contains(have, "the sample study (it will not come back)") {
		t.Errorf("no confirmation step for the sample")
	}

	// Importing: a determinate bar with counts; dragging: the overlay.
	p.importing, p.dragging = true, true
	p.prog = Progress{Stage: "pixels", Done: 12, Total: 48, Series: "CHEST"}
	have = html(p)
	for _, want := range []string{`id="import-progress"`, `max="48"`, `value="12"`, `12 / 48 files`, `Decoding slices · CHEST`, `id="drop-overlay"`} {
		if !strings.Contains(have, want) {
			t.Errorf("importing render lacks %s", want)
		}
	}
	p.prog = Progress{Stage: "storing", Done: 3 << 20, Total: 6 << 20}
	if have := html(p); !strings.Contains(have, "3.0 MiB / 6.0 MiB") {
		t.Errorf("storing progress is not in bytes")
	}
}

func TestSeriesLabel(t *testing.T) {
	e := Entry{Name: "Lung 1.25", Meta: volume.Metadata{BodyPartExamined: "CHEST", StudyDate: "20240301"}}
	if have, want := seriesLabel(e), "Lung 1.25 · CHEST · 2024-03-01"; have != want {
		t.Errorf("have %q, want %q", have, want)
	}
	e.Name = "CHEST CT"
	if have, want := seriesLabel(e), "CHEST CT · 2024-03-01"; have != want {
		t.Errorf("have %q, want %q", have, want)
	}
}
