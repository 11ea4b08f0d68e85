package library

import (
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"ctlens/app/importer/decode"
	"ctlens/tools/phantom/synth"
)

// sampleFS is the sample study's shape (browsertest serves 128×128×48) as
// loose files.
func sampleFS(b *testing.B) fstest.MapFS {
	z := phantomZip(b, 1, synth.Size{Cols: 128, Rows: 128, Slices: 48}, "")
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		b.Fatal(err)
	}
	m := fstest.MapFS{}
	for _, f := range zr.File {
		data, err := fs.ReadFile(zr, f.Name)
		if err != nil {
			b.Fatal(err)
		}
		m[f.Name] = &fstest.MapFile{Data: data}
	}
	return m
}

// BenchmarkImportSample imports the sample-sized study into a fresh store
// and reports the longest stretch between two progress calls, which bounds
// how long the page would wait for a yield.
func BenchmarkImportSample(b *testing.B) {
	fsys := sampleFS(b)
	var size int64
	for _, f := range fsys {
		size += int64(len(f.Data))
	}
	b.SetBytes(size)
	b.ReportAllocs()
	var stretch time.Duration
	var at Progress
	perStage := map[string][2]time.Duration{}
	for b.Loop() {
		s, _ := memStore(b)
		last := time.Now()
		_, err := s.Import(context.Background(), decode.Files(fsys, decode.Options{}), ImportOptions{Progress: func(p Progress) {
			d := time.Since(last)
			if d > stretch {
				stretch, at = d, p
			}
			ps := perStage[p.Stage]
			ps[0] += d
			ps[1] = max(ps[1], d)
			perStage[p.Stage] = ps
			last = time.Now()
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(stretch.Microseconds())/1000, "max-ms-between-progress")
	b.Logf("longest stretch before %+v", at)
	for st, d := range perStage {
		b.Logf("stage %s: %s in all, longest step %s", st, d[0], d[1])
	}
}

// BenchmarkLoad reads a stored series back.
func BenchmarkLoad(b *testing.B) {
	s, _ := memStore(b)
	res, err := s.Import(context.Background(), decode.Files(sampleFS(b), decode.Options{}), ImportOptions{})
	if err != nil || len(res.Stored) != 1 {
		b.Fatal(err, res)
	}
	b.SetBytes(2 * int64(len(res.First.Voxels)))
	for b.Loop() {
		if _, _, err := s.Load(context.Background(), res.Stored[0].ID); err != nil {
			b.Fatal(err)
		}
	}
}
