package dicomread

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"

	"ctlens/volume"
)

// Options tune an import. The zero value is ready to use.
type Options struct {
	// MaxVoxels bounds one volume's voxel count (0: volume.DefaultMaxVoxels).
	MaxVoxels int64
	// HeadersOnly stops Import after the header pass (no Volumes).
	HeadersOnly bool
	// Progress, when set, is called after each file of each pass with the
	// pass ("headers" or "pixels"), the files done and the files in it,
	// and, for a series resampled onto a regular grid (tilt, gaps, uneven
	// spacing), before each output plane with "resample", the planes done
	// and the planes in all phases. A browser caller yields to the page
	// there.
	Progress func(pass string, done, total int)
}

func (o *Options) maxVoxels() int64 {
	if o == nil || o.MaxVoxels <= 0 {
		return volume.DefaultMaxVoxels
	}
	return o.MaxVoxels
}

// Result is what an import found: the series (and, after the pixel pass,
// their volumes) and one error per file that could not be used.
type Result struct {
	Series []*Series // in study, series number, UID order
	// Volumes[i] is the volume of Series[i]; nil when the import stopped
	// after the headers or the series could not be loaded (see Errors).
	Volumes []*volume.Volume
	// Errors lists per-file problems: not DICOM, not an image, truncated,
	// unsupported transfer syntax... Each is a *FileError; its Path is the
	// series' Name for a series that could not be loaded at all.
	Errors []*FileError
	// Files counts the files looked at; Skipped lists those passed over
	// on purpose (DICOMDIR, hidden files).
	Files   int
	Skipped []string
}

// pathHeader is one image file's header and how to open it again.
type pathHeader struct {
	path string
	h    *Header
}

// opener opens one file for reading.
type opener func() (io.ReadCloser, error)

// Scan runs the header pass over every file under fsys (folders, zip
// archives inside it, DICOMDIR media), groups and sorts the image files into
// series and plans each volume's grid. It reads no pixel data. fsys must
// stay readable until the series are loaded.
func Scan(ctx context.Context, fsys fs.FS, opt *Options) (*Result, error) {
	res := &Result{}
	var found []pathHeader
	srcs := map[string]opener{}
	var todo []fileSource
	if err := listFiles(fsys, "", &todo, res); err != nil {
		return nil, fmt.Errorf("volume: %w", err)
	}
	br := bufio.NewReaderSize(nil, 64<<10)
	for i, src := range todo {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("volume: header pass: %w", err)
		}
		res.Files++
		h, err := readHeaderFrom(src, br)
		switch {
		case err != nil:
			res.Errors = append(res.Errors, err)
		case h == nil:
			res.Skipped = append(res.Skipped, src.path)
		default:
			if ierr := h.imageError(); ierr != nil {
				res.Errors = append(res.Errors, &FileError{Path: src.path,
					Err: fmt.Errorf("%w; in %s", ierr, headerSeriesName(h))})
				break
			}
			if n := int64(h.Rows) * int64(h.Columns) * int64(h.NumberOfFrames); n > opt.maxVoxels() {
				res.Errors = append(res.Errors, &FileError{Path: src.path, Err: tagged(tFrames, "Number of Frames",
					unsupportedf("%d×%d×%d voxels exceed the limit of %d", h.Columns, h.Rows, h.NumberOfFrames, opt.maxVoxels()))})
				break
			}
			found = append(found, pathHeader{src.path, h})
			srcs[src.path] = src.open
		}
		if opt != nil && opt.Progress != nil {
			opt.Progress("headers", i+1, len(todo))
		}
	}
	res.Series = groupSeries(found)
	for _, s := range res.Series {
		s.src = srcs
	}
	return res, nil
}

// Import runs Scan and then loads every series (unless opt.HeadersOnly).
// A series that cannot be loaded leaves a nil volume and its errors in
// Result.Errors; the others are still loaded.
func Import(ctx context.Context, fsys fs.FS, opt *Options) (*Result, error) {
	res, err := Scan(ctx, fsys, opt)
	if err != nil {
		return nil, err
	}
	res.Volumes = make([]*volume.Volume, len(res.Series))
	if opt != nil && opt.HeadersOnly {
		return res, nil
	}
	for i, s := range res.Series {
		v, ferrs, err := s.Load(ctx, opt)
		res.Errors = append(res.Errors, ferrs...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			res.Errors = append(res.Errors, &FileError{Path: s.Name(), Err: err})
			continue
		}
		res.Volumes[i] = v
	}
	return res, nil
}

// headerSeriesName names a file's series for messages.
func headerSeriesName(h *Header) string {
	s := Series{Meta: h.Meta, SeriesInstanceUID: h.Meta.SeriesInstanceUID}
	return s.Name()
}

// fileSource is one regular file found by listFiles.
type fileSource struct {
	path string // display path, through any zip ("a/b.zip/IM1")
	open opener
}

// listFiles lists the regular files under fsys in lexical order, opening
// zip archives it meets (when the file can be read at random, as files on
// disk can). prefix is prepended to paths for display.
func listFiles(fsys fs.FS, prefix string, out *[]fileSource, res *Result) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		disp := path.Join(prefix, name)
		if err != nil {
			res.Errors = append(res.Errors, &FileError{Path: disp, Err: err})
			if d != nil && d.IsDir() && name != "." {
				return fs.SkipDir
			}
			return nil
		}
		base := path.Base(name)
		if d.IsDir() {
			if name != "." && (strings.HasPrefix(base, ".") || base == "__MACOSX") {
				res.Skipped = append(res.Skipped, disp+"/")
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// Follow links to files (DICOM media copied with links).
			if fi, err := fs.Stat(fsys, name); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if strings.HasPrefix(base, ".") || strings.EqualFold(base, "DICOMDIR") {
			// A DICOMDIR only indexes the files that the walk reads anyway.
			res.Skipped = append(res.Skipped, disp)
			return nil
		}
		open := func() (io.ReadCloser, error) { return fsys.Open(name) }
		if isZip(fsys, name) {
			if err := listZip(fsys, name, disp, out, res); err != nil {
				res.Errors = append(res.Errors, &FileError{Path: disp, Err: err})
			}
			return nil
		}
		*out = append(*out, fileSource{path: disp, open: open})
		return nil
	})
}

// isZip reports whether the file starts with a zip local header.
func isZip(fsys fs.FS, name string) bool {
	f, err := fsys.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == "PK\x03\x04"
}

// listZip lists a zip archive found inside fsys. Each of its files is
// reopened through the archive when read, so nothing stays open between
// the passes but what the caller holds.
func listZip(fsys fs.FS, name, disp string, out *[]fileSource, res *Result) error {
	openZip := func() (*zip.Reader, io.Closer, error) {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, nil, err
		}
		ra, ok := f.(io.ReaderAt)
		fi, serr := f.Stat()
		if !ok || serr != nil {
			f.Close()
			return nil, nil, unsupportedf("a zip archive inside a zip archive: extract the outer one first")
		}
		zr, err := zip.NewReader(ra, fi.Size())
		if err != nil {
			f.Close()
			return nil, nil, formatErrorf("zip archive: %v", err)
		}
		return zr, f, nil
	}
	zr, c, err := openZip()
	if err != nil {
		return err
	}
	defer c.Close()
	var inner []fileSource
	if err := listFiles(zr, disp, &inner, res); err != nil {
		return err
	}
	for _, src := range inner {
		rel := strings.TrimPrefix(src.path, disp+"/")
		*out = append(*out, fileSource{path: src.path, open: func() (io.ReadCloser, error) {
			zr, c, err := openZip()
			if err != nil {
				return nil, err
			}
			f, err := zr.Open(rel)
			if err != nil {
				c.Close()
				return nil, err
			}
			return nestedFile{f, c}, nil
		}})
	}
	return nil
}

// nestedFile is a file inside a zip inside fsys; closing it closes both.
type nestedFile struct {
	fs.File
	outer io.Closer
}

// Close closes the entry and the archive it was opened from.
func (n nestedFile) Close() error { return errors.Join(n.File.Close(), n.outer.Close()) }

type noClose struct{}

// Close does nothing: os.DirFS and fileFS hold nothing open.
func (noClose) Close() error { return nil }

// readHeaderFrom opens and reads one file's header; a nil header with a
// nil error means the file is skipped on purpose (a DICOMDIR). A panic is
// turned into an error at this per-file boundary, as a last resort.
func readHeaderFrom(src fileSource, br *bufio.Reader) (h *Header, ferr *FileError) {
	defer func() {
		if p := recover(); p != nil {
			h, ferr = nil, &FileError{Path: src.path, Err: fmt.Errorf("internal error (please report): %v\n%s", p, debug.Stack())}
		}
	}()
	f, err := src.open()
	if err != nil {
		return nil, &FileError{Path: src.path, Err: err}
	}
	defer f.Close()
	h, err = readHeader(f, br)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return nil, &FileError{Path: src.path, Err: fe.Err}
		}
		return nil, &FileError{Path: src.path, Err: err}
	}
	if h.SOPClassUID == "1.2.840.10008.1.3.10" {
		return nil, nil
	}
	return h, nil
}

// Open returns a file system for a path on disk: a folder, a zip archive,
// or a single file. Close the returned Closer when done with the import.
func Open(p string) (fs.FS, io.Closer, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("volume: %w", err)
	}
	if fi.IsDir() {
		return os.DirFS(p), noClose{}, nil
	}
	if f, err := os.Open(p); err == nil {
		var magic [4]byte
		_, rerr := io.ReadFull(f, magic[:])
		f.Close()
		if rerr == nil && bytes.Equal(magic[:], []byte("PK\x03\x04")) {
			zr, err := zip.OpenReader(p)
			if err != nil {
				return nil, nil, fmt.Errorf("volume: %s: %w", p, &FormatError{Msg: "zip archive: " + err.Error()})
			}
			return zr, zr, nil
		}
	}
	return fileFS{dir: os.DirFS(filepath.Dir(p)), name: filepath.Base(p)}, noClose{}, nil
}

// fileFS is a file system holding one file of dir.
type fileFS struct {
	dir  fs.FS
	name string
}

// Open opens "." (the folder) or the one file.
func (f fileFS) Open(name string) (fs.File, error) {
	if name == "." || name == f.name {
		return f.dir.Open(name)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists the one file.
func (f fileFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	fi, err := fs.Stat(f.dir, f.name)
	if err != nil {
		return nil, err
	}
	return []fs.DirEntry{fs.FileInfoToDirEntry(fi)}, nil
}
