package dataset

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"io/fs"

	"ctlens/tools/phantom/synth"
	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// Render writes c's series as DICOM into an in-memory zip archive and
// imports it through volume exactly as the app and `ctlens report` do:
// dicomread.Import (header pass, grouping, geometry, Series.Load), the
// largest series, then volume.ModelInput onto the d×h×w grid with norm.
// It returns the (d, h, w) model input, w fastest.
func Render(ctx context.Context, c *synth.Case, d, h, w int, norm volume.Norm) ([]float32, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	// The archive lives for one import: storing beats compressing. synth
	// asks for Deflate; level 0 writes stored deflate blocks.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.NoCompression)
	})
	if err := c.Write(ctx, "", zw); err != nil {
		return nil, fmt.Errorf("dataset: %s: render: %w", c.Name, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("dataset: %s: zip: %w", c.Name, err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: zip: %w", c.Name, err)
	}
	return Import(ctx, zr, c.Name, d, h, w, norm)
}

// Import reads the DICOM under fsys as `ctlens report` does (dicomread.Import,
// the largest series) and returns its model input on the d×h×w grid. name
// labels errors.
func Import(ctx context.Context, fsys fs.FS, name string, d, h, w int, norm volume.Norm) ([]float32, error) {
	res, err := dicomread.Import(ctx, fsys, nil)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: import: %w", name, err)
	}
	var best *volume.Volume
	for _, v := range res.Volumes {
		if v != nil && (best == nil || v.Len() > best.Len()) {
			best = v
		}
	}
	if best == nil {
		msg := "no series"
		if len(res.Errors) > 0 {
			msg = res.Errors[0].Error()
		}
		return nil, fmt.Errorf("dataset: %s: import found no volume: %s", name, msg)
	}
	x, err := volume.ModelInput(best, 0, d, h, w, norm)
	if err != nil {
		return nil, fmt.Errorf("dataset: %s: %w", name, err)
	}
	return x, nil
}
