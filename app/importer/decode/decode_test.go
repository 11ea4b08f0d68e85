package decode

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"ctlens/app/importer/protocol"
	"ctlens/tools/phantom/synth"
)

// studyFS is a small phantom series as loose files, plus a text file.
func studyFS(t *testing.T) fstest.MapFS {
	t.Helper()
	c, err := synth.NewCase(synth.Options{Seed: 3, Size: synth.Size{Cols: 32, Rows: 32, Slices: 6}, Findings: []synth.FindingSpec{}, Workers: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	if err := c.Write(context.Background(), "", zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"notes.txt": {Data: []byte("not DICOM at all, just words")}}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var d bytes.Buffer
		d.ReadFrom(r)
		r.Close()
		fsys["study/"+f.Name] = &fstest.MapFile{Data: d.Bytes()}
	}
	return fsys
}

// TestRunOrder: progress, then one Scanned naming the bad file, then the
// decoded series with its voxels; an emit error and a cancelled context
// stop the run with that error.
func TestRunOrder(t *testing.T) {
	fsys := studyFS(t)
	var kinds []string
	var series *protocol.Series
	var scanned *protocol.Scanned
	err := Run(context.Background(), fsys, Options{Source: "test"}, func(ev protocol.Event) error {
		switch {
		case ev.Progress != nil:
			if len(kinds) == 0 || kinds[len(kinds)-1] != "progress" {
				kinds = append(kinds, "progress")
			}
		case ev.Scanned != nil:
			kinds, scanned = append(kinds, "scanned"), ev.Scanned
		case ev.Series != nil:
			kinds, series = append(kinds, "series"), ev.Series
		default:
			t.Errorf("an event with nothing set (or a final one) from Run: %+v", ev)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "progress,scanned,progress,series" {
		t.Errorf("events %v", kinds)
	}
	if scanned == nil || len(scanned.Problems) != 1 || scanned.Problems[0].Path != "notes.txt" || !strings.Contains(scanned.Problems[0].Reason, "not a readable DICOM file") {
		t.Errorf("scanned %+v, want notes.txt named as not DICOM", scanned)
	}
	if series == nil || series.Volume == nil || series.Volume.Dims != [3]int{32, 32, 6} || len(series.Volume.Voxels) != 32*32*6 {
		t.Fatalf("series %+v", series)
	}

	stop := errors.New("the page went away")
	n := 0
	if err := Run(context.Background(), fsys, Options{}, func(protocol.Event) error { n++; return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error: Run returned %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, fsys, Options{}, func(protocol.Event) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: Run returned %v", err)
	}
}
