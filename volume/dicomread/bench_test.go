package dicomread

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"testing/fstest"
	"time"

	"ctlens/volume"
)

// BenchmarkImport imports a synthetic 512×512×64 CT series (explicit VR
// little endian, 32 MiB of files) from memory: header pass, grouping and
// pixel pass. It reports MB/s of file bytes, slices/s, and the peak heap
// of an import (above the in-memory files) against the int16 volume's size.
//
//	go test ./volume -run '^$' -bench Import -benchtime 5x
func BenchmarkImport(b *testing.B) {
	const n, size = 64, 512
	fsys := fstest.MapFS{}
	var total int64
	stored := make([]int, size*size)
	for i := range stored {
		stored[i] = (i*7919)%3000 - 1024
	}
	for k := range n {
		s := slice{series: uid("bench"), sop: uid("bench", k), rows: size, cols: size, signed: true,
			pos: [3]float64{-200, -200, 2.5 * float64(k)}, stored: stored, intercept: -1024}
		data := s.encode()
		total += int64(len(data))
		fsys[fmt.Sprintf("s/%04d", k)] = &fstest.MapFile{Data: data}
	}
	b.SetBytes(total)
	b.ReportAllocs()
	var v *volume.Volume
	for b.Loop() {
		res, err := Import(context.Background(), fsys, nil)
		if err != nil || len(res.Errors) > 0 || res.Volumes[0] == nil {
			b.Fatal(err, res.Errors)
		}
		v = res.Volumes[0]
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "slices/s")

	// Peak heap during one more import, above what was live before it
	// (the in-memory files), against the volume's own bytes.
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var p uint64
		for {
			metrics.Read(sample)
			p = max(p, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- p
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	res, _ := Import(context.Background(), fsys, nil)
	close(done)
	p := <-peak
	b.ReportMetric(float64(p-base)/float64(2*len(res.Volumes[0].Voxels)), "peak/volume")
	_ = v
}
