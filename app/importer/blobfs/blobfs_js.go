//go:build js && wasm

// Package blobfs is a read-only io/fs.FS over JavaScript Blobs, so that
// the import worker (app/importer) reads the File objects the page posts
// it (a picker's or a drop's, or the fetched sample study) like files on
// disk.
package blobfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"ctlens/app/internal/jsawait"
)

// FS is a read-only io/fs.FS over JavaScript Blobs (File objects the
// user picked or dropped, or fetched responses), so that dicomread can read
// them like files on disk. Reads are ranged (Blob.slice().arrayBuffer()),
// awaited off the UI goroutine, and served from a window of readAhead
// bytes, so a 500-file study never sits in memory twice.
type FS struct {
	files map[string]*blobEntry    // by slash path, no leading "/"
	dirs  map[string][]fs.DirEntry // by folder path, "." the root

	mu   sync.Mutex
	last string // the file opened last, for the progress line
}

type blobEntry struct {
	name string
	blob js.Value
	size int64
	mod  time.Time
}

// readAhead is how much one ranged read fetches: each read is a promise
// round trip through the event loop, so reads of a few bytes (headers)
// must not each cost one.
const readAhead = 1 << 20

// New builds the tree from (path, blob) pairs; a path met twice
// gets " (2)" before its extension, since two dropped folders may hold
// files of the same name.
func New(paths []string, blobs []js.Value) *FS {
	f := &FS{files: map[string]*blobEntry{}, dirs: map[string][]fs.DirEntry{".": nil}}
	for i, p := range paths {
		p = CleanPath(p)
		if p == "" {
			continue
		}
		for n := 2; f.files[p] != nil || f.dirs[p] != nil; n++ {
			ext := path.Ext(p)
			p = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(p, ext), n, ext)
		}
		b := blobs[i]
		e := &blobEntry{name: path.Base(p), blob: b, size: int64(b.Get("size").Float())}
		if lm := b.Get("lastModified"); lm.Type() == js.TypeNumber {
			e.mod = time.UnixMilli(int64(lm.Float()))
		}
		f.files[p] = e
		f.addDirs(p, blobInfo{e})
	}
	for d := range f.dirs {
		slices.SortFunc(f.dirs[d], func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	}
	return f
}

// CleanPath makes a browser path ("/a/b.dcm", "a\\b") an fs.FS one.
func CleanPath(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	p = path.Clean("/" + p)
	p = strings.TrimPrefix(p, "/")
	if p == "." || !fs.ValidPath(p) {
		return ""
	}
	return p
}

func (f *FS) addDirs(p string, info fs.FileInfo) {
	dir := path.Dir(p)
	f.dirs[dir] = append(f.dirs[dir], fs.FileInfoToDirEntry(info))
	for d := dir; d != "."; d = path.Dir(d) {
		parent := path.Dir(d)
		if f.hasDirEntry(parent, path.Base(d)) {
			break
		}
		f.dirs[parent] = append(f.dirs[parent], fs.FileInfoToDirEntry(dirInfo(path.Base(d))))
	}
}

func (f *FS) hasDirEntry(dir, name string) bool {
	for _, e := range f.dirs[dir] {
		if e.Name() == name {
			return true
		}
	}
	return false
}

// Open opens a file or folder.
func (f *FS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if e := f.files[name]; e != nil {
		f.mu.Lock()
		f.last = name
		f.mu.Unlock()
		return &blobFile{e: e}, nil
	}
	if ents, ok := f.dirs[name]; ok {
		return &blobDir{name: path.Base(name), ents: ents}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists a folder.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	ents, ok := f.dirs[name]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(ents), nil
}

// Last is the file opened last.
func (f *FS) Last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

type blobInfo struct{ e *blobEntry }

func (i blobInfo) Name() string       { return i.e.name }
func (i blobInfo) Size() int64        { return i.e.size }
func (i blobInfo) Mode() fs.FileMode  { return 0o444 }
func (i blobInfo) ModTime() time.Time { return i.e.mod }
func (i blobInfo) IsDir() bool        { return false }
func (i blobInfo) Sys() any           { return nil }

type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

type blobDir struct {
	name string
	ents []fs.DirEntry
	off  int
}

func (d *blobDir) Stat() (fs.FileInfo, error) { return dirInfo(d.name), nil }
func (d *blobDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *blobDir) Close() error { return nil }
func (d *blobDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.ents[d.off:]
	if n <= 0 {
		d.off = len(d.ents)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return slices.Clone(rest[:n]), nil
}

// blobFile reads one Blob; it implements io.ReaderAt and io.Seeker, as
// dicomread needs for zip archives.
type blobFile struct {
	e   *blobEntry
	off int64
	// buf holds the blob's bytes from bufOff on.
	buf    []byte
	bufOff int64
}

func (b *blobFile) Stat() (fs.FileInfo, error) { return blobInfo{b.e}, nil }
func (b *blobFile) Close() error               { b.buf = nil; return nil }

func (b *blobFile) Read(p []byte) (int, error) {
	n, err := b.ReadAt(p, b.off)
	b.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (b *blobFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.e.size
	default:
		return 0, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	b.off = offset
	return offset, nil
}

func (b *blobFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= b.e.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), b.e.size-off)
	if off < b.bufOff || off+want > b.bufOff+int64(len(b.buf)) {
		end := min(b.e.size, off+max(want, readAhead))
		data, err := readBlob(b.e.blob, off, end)
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: b.e.name, Err: err}
		}
		b.buf, b.bufOff = data, off
	}
	n := copy(p[:want], b.buf[off-b.bufOff:])
	if int64(n) < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// readBlob reads bytes [from, to) of a Blob (blocks on a promise: never
// on the UI goroutine).
func readBlob(blob js.Value, from, to int64) ([]byte, error) {
	ab, err := jsawait.Await(blob.Call("slice", from, to).Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	u8 := js.Global().Get("Uint8Array").New(ab)
	out := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(out, u8)
	if int64(len(out)) != to-from {
		return nil, fmt.Errorf("read %d bytes of %d: the file changed or is no longer readable", len(out), to-from)
	}
	return out, nil
}
