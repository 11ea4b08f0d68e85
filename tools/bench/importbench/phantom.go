package importbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ctlens/tools/phantom/synth"
)

// Series is the phantom series every reader reads.
type Series struct {
	Dir   string     `json:"dir"` // the folder of DICOM files
	Size  synth.Size `json:"size"`
	Seed  uint64     `json:"seed"`
	Files int        `json:"files"`
	Bytes int64      `json:"bytes"` // all file bytes: what MB/s counts
	// VolumeBytes is the int16 volume's own size, X·Y·Z·2: what peak
	// memory is compared with.
	VolumeBytes int64 `json:"volume_bytes"`
}

// completeMark is written last into a cached series folder; a folder
// without it (an interrupted run) is generated again.
const completeMark = ".complete"

// series returns the phantom series for (size, seed) under cache, writing it
// with synth.Generate when it is not there yet. Generation happens in a
// temporary folder renamed into place, so a reused folder is always whole.
func series(ctx context.Context, cache string, size synth.Size, seed uint64, log io.Writer) (*Series, error) {
	root := filepath.Join(cache, fmt.Sprintf("phantom-%s-seed%d", size, seed))
	if _, err := os.Stat(filepath.Join(root, completeMark)); err != nil {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			return nil, fmt.Errorf("bench: cache folder: %w; choose another with -dir", err)
		}
		tmp, err := os.MkdirTemp(cache, ".gen-")
		if err != nil {
			return nil, fmt.Errorf("bench: cache folder: %w; choose another with -dir", err)
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintf(log, "generating the %s phantom (seed %d) into %s …\n", size, seed, root)
		t0 := time.Now()
		out := filepath.Join(tmp, "out")
		if err := synth.Generate(ctx, out, 1, 1, synth.Options{Seed: seed, Size: size}, nil); err != nil {
			return nil, fmt.Errorf("bench: phantom: %w", err)
		}
		if err := os.WriteFile(filepath.Join(out, completeMark), nil, 0o644); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		os.RemoveAll(root) // an incomplete earlier attempt
		if err := os.Rename(out, root); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		fmt.Fprintf(log, "generated in %.1f s\n", time.Since(t0).Seconds())
	}
	s := &Series{Dir: filepath.Join(root, "case0001"), Size: size, Seed: seed,
		VolumeBytes: 2 * int64(size.Cols) * int64(size.Rows) * int64(size.Slices)}
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("bench: cached series: %w; delete %s to regenerate it", err, root)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		s.Files++
		s.Bytes += fi.Size()
	}
	// The plain phantom writes one file per slice; anything else means the
	// cache was tampered with and the MB/s would be wrong.
	if s.Files != size.Slices {
		return nil, fmt.Errorf("bench: %s holds %d files for %d slices; delete %s to regenerate it", s.Dir, s.Files, size.Slices, root)
	}
	return s, nil
}

// warm reads every file once so that all readers start from the page cache
// (the first reader would otherwise pay for the disk alone).
func (s *Series) warm() error {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(s.Dir, e.Name()))
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
