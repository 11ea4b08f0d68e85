// Package decode reads the files of one library import into volumes: the
// header and pixel passes of volume/dicomread over files, folders and zip
// archives, zip-bomb refusals, and every problem in plain words. It
// reports what it finds as app/importer/protocol Events, one series at a
// time, so that the import worker (app/importer) can post each series as
// soon as it is decoded and the library (app/library, which never links
// the DICOM parser) can store it. Natively the same Run feeds the
// library's tests and tools.
package decode

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

	"ctlens/app/importer/protocol"
	"ctlens/volume/dicomread"
)

// MaxZipEntryBytes bounds what one file inside a zip archive may expand
// to. dicomread reads zips lazily and bounds what it keeps, but an
// archive that claims more than this (a "zip bomb") is refused up front
// with a plain message instead of being read at all. 1 GiB is the largest
// volume dicomread accepts (dicomread.DefaultMaxVoxels int16 values).
const MaxZipEntryBytes = 1 << 30

// MaxZipBytes bounds the sum of a zip archive's expanded sizes.
const MaxZipBytes = 16 << 30

// Options tune Run.
type Options struct {
	// Source names the import; "no DICOM images were found" is filed
	// under it.
	Source string
	// MaxVoxels bounds one volume (0: dicomread.DefaultMaxVoxels).
	MaxVoxels int64
	// File, when set, names the file being read now (for progress).
	File func() string
}

// Run reads every file under fsys and emits, in order: Progress events,
// one Scanned after the header pass, then a Series for each series found
// (decoded, or failed with its reasons). A file or a series that fails
// is a problem in the events and the rest goes on; only a cancelled ctx
// or an emit error stops Run, and that error is returned. Run does not
// emit the final Done or Error: the caller does.
func Run(ctx context.Context, fsys fs.FS, opt Options, emit func(protocol.Event) error) error {
	bombs := zipBombs(fsys)
	var general []protocol.Skipped
	for _, name := range slices.Sorted(maps.Keys(bombs)) {
		general = append(general, bombs[name])
	}
	if len(bombs) > 0 {
		fsys = hideFS{fsys, bombs}
	}
	var emitErr error
	stage, series := "headers", ""
	vopt := &dicomread.Options{MaxVoxels: opt.MaxVoxels}
	vopt.Progress = func(pass string, done, total int) {
		st := stage
		if pass == "resample" {
			st = "resampling"
		}
		p := &protocol.Progress{Stage: st, Done: int64(done), Total: int64(total), Series: series}
		if opt.File != nil {
			p.File = opt.File()
		}
		if err := emit(protocol.Event{Progress: p}); err != nil && emitErr == nil {
			emitErr = err
		}
	}
	scan, err := dicomread.Scan(ctx, fsys, vopt)
	if err != nil {
		return err
	}
	if emitErr != nil {
		return emitErr
	}
	for _, fe := range scan.Errors {
		general = append(general, problem(fe))
	}
	if len(scan.Series) == 0 && len(general) == 0 {
		general = append(general, protocol.Skipped{Path: opt.Source, Reason: "no DICOM images were found"})
	}
	if err := emit(protocol.Event{Scanned: &protocol.Scanned{Files: scan.Files + len(bombs), Ignored: scan.Skipped, Problems: general}}); err != nil {
		return err
	}
	stage = "pixels"
	for _, sr := range scan.Series {
		series = sr.Meta.DisplayName()
		v, ferrs, err := sr.Load(ctx, vopt)
		if emitErr != nil {
			return emitErr
		}
		s := &protocol.Series{}
		for _, fe := range ferrs {
			s.Problems = append(s.Problems, problem(fe))
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.Problems = append(s.Problems, protocol.Skipped{Path: sr.Name(), Reason: plain(err)})
		} else {
			s.Volume = v
		}
		if err := emit(protocol.Event{Series: s}); err != nil {
			return err
		}
	}
	return nil
}

// problem turns a file error into a list line.
func problem(fe *dicomread.FileError) protocol.Skipped {
	return protocol.Skipped{Path: fe.Path, Reason: plain(fe.Err)}
}

// plain words for an import error: what kind of problem, then the
// reader's precise message (which names the DICOM tag).
func plain(err error) string {
	var fe *dicomread.FormatError
	var ue *dicomread.UnsupportedError
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
func zipBombs(fsys fs.FS) map[string]protocol.Skipped {
	out := map[string]protocol.Skipped{}
	fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.EqualFold(path.Ext(name), ".zip") {
			return nil
		}
		if reason := zipBomb(fsys, name); reason != "" {
			out[name] = protocol.Skipped{Path: name, Reason: reason}
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
		return "" // dicomread reports a damaged archive in its own words
	}
	var sum uint64
	for _, zf := range zr.File {
		if zf.UncompressedSize64 > MaxZipEntryBytes {
			return fmt.Sprintf("refused: %s inside would expand to %s, over the %s limit for one file (a zip bomb?); nothing from this archive was imported",
				zf.Name, protocol.BytesText(int64(min(zf.UncompressedSize64, 1<<62))), protocol.BytesText(MaxZipEntryBytes))
		}
		sum += zf.UncompressedSize64
	}
	if sum > MaxZipBytes {
		return fmt.Sprintf("refused: the archive would expand to %s, over the %s limit (a zip bomb?); nothing from it was imported",
			protocol.BytesText(int64(min(sum, 1<<62))), protocol.BytesText(MaxZipBytes))
	}
	return ""
}

// hideFS is fsys without some files.
type hideFS struct {
	fs.FS
	hidden map[string]protocol.Skipped
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

// Files is Run over fsys as the library's Decoder (app/library), for
// native imports: tests, benchmarks and tools.
func Files(fsys fs.FS, opt Options) func(ctx context.Context, emit func(protocol.Event) error) error {
	return func(ctx context.Context, emit func(protocol.Event) error) error {
		return Run(ctx, fsys, opt, emit)
	}
}
