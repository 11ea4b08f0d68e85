package library

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"ctlens/volume"
)

// MaxZipEntryBytes bounds what one file inside a zip archive may expand
// to. volume reads zips lazily and bounds what it keeps, but an archive
// that claims more than this (a "zip bomb") is refused up front with a
// plain message instead of being read at all. 1 GiB is the largest volume
// volume accepts (volume.DefaultMaxVoxels int16 values).
const MaxZipEntryBytes = 1 << 30

// MaxZipBytes bounds the sum of a zip archive's expanded sizes.
const MaxZipBytes = 16 << 30

// Progress is how far an import is.
type Progress struct {
	// Stage is "reading" (fetching files), "headers" (the header pass),
	// "pixels" (decoding), "resampling" (a tilted or uneven series onto a
	// regular grid) or "storing" (writing to the library).
	Stage string
	// Done and Total count files for reading, headers and pixels, planes
	// for resampling, and bytes for storing.
	Done, Total int64
	// Series is the series being decoded or stored, when known.
	Series string
}

// ImportOptions tune Store.Import.
type ImportOptions struct {
	Source string // where the files came from, shown in the list
	Sample bool   // the built-in sample study
	// Progress, when set, is called after each file and each chunk.
	Progress func(Progress)
	// Yield, when set, is called as often as Progress: the browser uses it
	// to hand the main thread back to the page (see Yielder).
	Yield func()
	// MaxVoxels bounds one volume (0: volume.DefaultMaxVoxels).
	MaxVoxels int64
}

// ImportResult is what an import stored and what it could not use.
type ImportResult struct {
	Stored []Entry // in the order volume found the series
	// First is the volume of Stored[0], already in memory, so the caller
	// can show it without reading it back.
	First *volume.Volume
	// Problems are the files (or series) that could not be used, with the
	// reason in plain words.
	Problems []Skipped
	// Ignored are files passed over on purpose (DICOMDIR, hidden files).
	Ignored []string
	Files   int // files looked at
}

// Import reads every file under fsys (files, folders, zip archives),
// stores each series it finds and reports per-file problems. Only a
// cancelled ctx or a store that cannot be written stops it; a file or a
// series that fails is listed in Problems and the rest goes on.
func (s *Store) Import(ctx context.Context, fsys fs.FS, opt ImportOptions) (*ImportResult, error) {
	res := &ImportResult{}
	report := func(p Progress) {
		if opt.Progress != nil {
			opt.Progress(p)
		}
		if opt.Yield != nil {
			opt.Yield()
		}
	}
	bombs := zipBombs(fsys)
	for _, name := range slices.Sorted(maps.Keys(bombs)) {
		res.Problems = append(res.Problems, bombs[name])
	}
	if len(bombs) > 0 {
		fsys = hideFS{fsys, bombs}
	}
	vopt := &volume.Options{MaxVoxels: opt.MaxVoxels}
	stage := "headers"
	series := ""
	vopt.Progress = func(pass string, done, total int) {
		st := stage
		if pass == "resample" {
			st = "resampling"
		}
		report(Progress{Stage: st, Done: int64(done), Total: int64(total), Series: series})
	}
	scan, err := volume.Scan(ctx, fsys, vopt)
	if err != nil {
		return nil, err
	}
	res.Files = scan.Files + len(bombs)
	res.Ignored = scan.Skipped
	var general []Skipped
	for _, fe := range scan.Errors {
		general = append(general, problem(fe))
	}
	res.Problems = append(res.Problems, general...)
	if len(scan.Series) == 0 && len(res.Problems) == 0 {
		res.Problems = append(res.Problems, Skipped{Path: opt.Source, Reason: "no DICOM images were found"})
	}
	stage = "pixels"
	for _, sr := range scan.Series {
		series = DisplayName(sr.Meta)
		v, ferrs, err := sr.Load(ctx, vopt)
		var skipped []Skipped
		for _, fe := range ferrs {
			skipped = append(skipped, problem(fe))
		}
		res.Problems = append(res.Problems, skipped...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			res.Problems = append(res.Problems, Skipped{Path: sr.Name(), Reason: plain(err)})
			continue
		}
		// Files that failed the header pass cannot be tied to a series;
		// each series of the import lists them, so none is forgotten.
		skipped = append(skipped, general...)
		e, err := s.Put(ctx, v, PutOptions{
			Source:  opt.Source,
			Sample:  opt.Sample,
			Skipped: skipped,
			Progress: func(done, total int64) {
				report(Progress{Stage: "storing", Done: done, Total: total, Series: series})
			},
		})
		if err != nil {
			return res, err
		}
		res.Stored = append(res.Stored, e)
		if res.First == nil {
			res.First = v
		}
	}
	return res, nil
}

// problem turns a volume file error into a list line.
func problem(fe *volume.FileError) Skipped {
	return Skipped{Path: fe.Path, Reason: plain(fe.Err)}
}

// plain words for an import error: what kind of problem, then volume's
// precise message (which names the DICOM tag).
func plain(err error) string {
	var fe *volume.FormatError
	var ue *volume.UnsupportedError
	msg := strings.TrimPrefix(err.Error(), "volume: ")
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the file is cut short (truncated): " + msg
	case errors.As(err, &fe):
		return "not a readable DICOM file: " + strings.TrimPrefix(fe.Msg, "invalid DICOM: ")
	case errors.As(err, &ue):
		return "not supported: " + ue.Msg
	case errors.Is(err, fs.ErrPermission):
		return "the browser did not allow reading this file: " + msg
	}
	return msg
}

// zipBombs finds the zip archives under fsys (by name and magic) whose
// entries claim more than MaxZipEntryBytes each or MaxZipBytes in all.
// Go's archive/zip refuses to inflate past the size an entry claims, so
// the claims are a hard bound.
func zipBombs(fsys fs.FS) map[string]Skipped {
	out := map[string]Skipped{}
	fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(path.Ext(name), ".zip") {
			return nil
		}
		if reason := zipBomb(fsys, name); reason != "" {
			out[name] = Skipped{Path: name, Reason: reason}
		}
		return nil
	})
	return out
}

func zipBomb(fsys fs.FS, name string) string {
	f, err := fsys.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	fi, serr := f.Stat()
	if !ok || serr != nil {
		return ""
	}
	zr, err := zip.NewReader(ra, fi.Size())
	if err != nil {
		return "" // volume reports a damaged archive in its own words
	}
	var sum uint64
	for _, zf := range zr.File {
		if zf.UncompressedSize64 > MaxZipEntryBytes {
			return fmt.Sprintf("refused: %s inside would expand to %s, over the %s limit for one file (a zip bomb?); nothing from this archive was imported",
				zf.Name, bytesText(int64(min(zf.UncompressedSize64, 1<<62))), bytesText(MaxZipEntryBytes))
		}
		sum += zf.UncompressedSize64
	}
	if sum > MaxZipBytes {
		return fmt.Sprintf("refused: the archive would expand to %s, over the %s limit (a zip bomb?); nothing from it was imported",
			bytesText(int64(min(sum, 1<<62))), bytesText(MaxZipBytes))
	}
	return ""
}

// hideFS is fsys without some files.
type hideFS struct {
	fs.FS
	hidden map[string]Skipped
}

func (h hideFS) Open(name string) (fs.File, error) {
	if _, ok := h.hidden[name]; ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return h.FS.Open(name)
}

func (h hideFS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, err := fs.ReadDir(h.FS, name)
	return slices.DeleteFunc(ents, func(e fs.DirEntry) bool {
		_, ok := h.hidden[path.Join(name, e.Name())]
		return ok
	}), err
}

// bytesText writes a byte count for people: "1.5 GiB", "320 KiB".
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	for f /= unit; f >= unit && i < len(units)-1; f /= unit {
		i++
	}
	if f < 10 {
		return fmt.Sprintf("%.1f %s", f, units[i])
	}
	return fmt.Sprintf("%.0f %s", f, units[i])
}

// Yielder returns a Yield function that blocks for a moment whenever
// budget has passed since it last did. In Go's js/wasm port the page's
// event loop runs only while every goroutine is blocked, so a long import
// must block now and then or the page freezes. It is safe for concurrent
// use.
func Yielder(budget time.Duration) func() {
	var mu sync.Mutex
	last := time.Now()
	return func() {
		mu.Lock()
		due := time.Since(last) >= budget
		if due {
			last = time.Now()
		}
		mu.Unlock()
		if due {
			time.Sleep(time.Millisecond)
			mu.Lock()
			last = time.Now()
			mu.Unlock()
		}
	}
}
