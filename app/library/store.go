package library

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/hackpadfs"

	"ctlens/volume"
)

// DefaultChunkBytes bounds each voxel chunk file. IndexedDB (through
// hackpadfs) rewrites a whole file on each Write, so each chunk is written
// once, in one call, and kept small enough that one write is cheap.
const DefaultChunkBytes = 4 << 20

// Store keeps series in a hackpadfs file system (IndexedDB in the browser,
// mem natively). A stored series is one generation folder
//
//	dir/series/<id>/<gen>/vox/00000 …  voxels, int16 little endian, chunks of ChunkBytes
//	dir/series/<id>/<gen>/thumb.png    middle slice, lung or soft-tissue window
//	dir/series/<id>/<gen>/meta.json    everything but the voxels (record)
//	dir/series/<id>/<gen>/commit       written last: meta.json's size and CRC
//
// A generation without its commit file was interrupted and is never
// listed; Open removes it, and older generations once a newer one is
// committed, so a re-import replaces a series only once the new copy is
// complete. dir/settings.json holds the library's own choices.
//
// A Store is safe for concurrent use within one page. Two tabs share the
// IndexedDB database but not the Store: a tab opened while another is
// importing removes that import's unfinished folder, and the import then
// fails with a storage error (nothing committed is lost).
type Store struct {
	fs  hackpadfs.FS
	dir string
	// ChunkBytes bounds each voxel chunk (0: DefaultChunkBytes); even.
	ChunkBytes int
	// Yield, when set, is called every yieldVoxels voxels converted by
	// Put and Load (the browser passes a Yielder, so that storing a large
	// series does not hold the page's main thread).
	Yield func()

	mu      sync.Mutex
	busy    map[string]bool // generation folders being written
	lastGen int64
	now     func() time.Time
}

const (
	seriesDir    = "series"
	metaFile     = "meta.json"
	commitFile   = "commit"
	thumbFile    = "thumb.png"
	voxDir       = "vox"
	settingsFile = "settings.json"
)

// Open returns the store rooted at dir in fsys, creating dir, and removes
// what interrupted writes left behind.
func Open(fsys hackpadfs.FS, dir string) (*Store, error) {
	if err := hackpadfs.MkdirAll(fsys, path.Join(dir, seriesDir), 0o755); err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	s := &Store{fs: fsys, dir: dir, busy: map[string]bool{}, now: time.Now}
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		s.tidy(id, "")
	}
	return s, nil
}

// ids lists the series folders.
func (s *Store) ids() ([]string, error) {
	ents, err := hackpadfs.ReadDir(s.fs, path.Join(s.dir, seriesDir))
	if err != nil {
		return nil, fmt.Errorf("library: %w", err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// gens lists a series' generation folders, oldest first, and which of
// them are committed.
func (s *Store) gens(id string) (all []string, committed []string) {
	ents, err := hackpadfs.ReadDir(s.fs, path.Join(s.dir, seriesDir, id))
	if err != nil {
		return nil, nil
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if _, err := strconv.ParseUint(e.Name(), 16, 64); err != nil {
			continue
		}
		all = append(all, e.Name())
	}
	// Names are fixed-width hex, so lexical order is age order.
	slices.Sort(all)
	for _, g := range all {
		if s.committed(id, g) {
			committed = append(committed, g)
		}
	}
	return all, committed
}

// committed reports whether a generation's commit file is whole. Storage
// that tore the commit file (a crash inside the last write) leaves the
// generation uncommitted, as if the write had not begun.
func (s *Store) committed(id, gen string) bool {
	data, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, commitFile))
	if err != nil {
		return false
	}
	var c commitRec
	return json.Unmarshal(data, &c) == nil && c.MetaBytes > 0
}

func (s *Store) genPath(id, gen string, elem ...string) string {
	return path.Join(append([]string{s.dir, seriesDir, id, gen}, elem...)...)
}

// tidy removes every generation of id but the newest committed one,
// sparing keep and folders being written; and the series folder when
// nothing is left.
func (s *Store) tidy(id, keep string) {
	all, committed := s.gens(id)
	newest := ""
	if len(committed) > 0 {
		newest = committed[len(committed)-1]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	left := 0
	for _, g := range all {
		if g == newest || g == keep || s.busy[s.genPath(id, g)] {
			left++
			continue
		}
		// A committed older copy loses its commit first, so a crash half
		// way through this removal cannot resurrect it.
		hackpadfs.Remove(s.fs, s.genPath(id, g, commitFile))
		hackpadfs.RemoveAll(s.fs, s.genPath(id, g))
	}
	if left == 0 {
		hackpadfs.RemoveAll(s.fs, path.Join(s.dir, seriesDir, id))
	}
}

// SeriesID is the ID a volume is stored under: the same study, series and
// geometry give the same ID, so importing a series again replaces it.
func SeriesID(v *volume.Volume) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%d\x00%.3f\x00%.4f\x00%.3f", strings.TrimSpace(v.Meta.StudyInstanceUID),
		strings.TrimSpace(v.Meta.SeriesInstanceUID), v.Dims, v.Phases, v.Origin, v.Direction, v.Spacing)
	return "s" + hex.EncodeToString(h.Sum(nil)[:8])
}

// PutOptions describe a series being stored.
type PutOptions struct {
	Name    string    // shown in the list (default: the metadata's DisplayName)
	Source  string    // where it came from, e.g. "3 files dropped", "sample"
	Sample  bool      // the built-in sample study
	Skipped []Skipped // files left out, with reasons
	// Progress, when set, is called after each chunk with bytes written
	// and the voxel bytes in all.
	Progress func(done, total int64)
}

// Put stores v under SeriesID(v) and returns its list entry. A series
// already stored under that ID is replaced once the new copy is
// complete; on any error the store is as it was.
func (s *Store) Put(ctx context.Context, v *volume.Volume, opt PutOptions) (Entry, error) {
	id := SeriesID(v)
	n := v.Len() * max(v.Phases, 1)
	if n <= 0 || len(v.Voxels) != n {
		return Entry{}, fmt.Errorf("library: %s: %d voxels for a %v volume", id, len(v.Voxels), v)
	}
	s.mu.Lock()
	g := s.now().UnixNano()
	if g <= s.lastGen {
		g = s.lastGen + 1
	}
	s.lastGen = g
	gen := fmt.Sprintf("%016x", g)
	dir := s.genPath(id, gen)
	s.busy[dir] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.busy, dir)
		s.mu.Unlock()
	}()

	rec := newRecord(id, v, opt, s.now())
	e, err := s.write(ctx, dir, rec, v, opt.Progress)
	if err != nil {
		hackpadfs.RemoveAll(s.fs, dir)
		s.tidy(id, "")
		return Entry{}, fmt.Errorf("library: storing %s: %w", rec.Name, err)
	}
	s.tidy(id, gen)
	return e, nil
}

// write writes one generation: chunks, thumbnail, meta.json, commit.
func (s *Store) write(ctx context.Context, dir string, rec *record, v *volume.Volume, progress func(done, total int64)) (Entry, error) {
	if err := hackpadfs.MkdirAll(s.fs, path.Join(dir, voxDir), 0o755); err != nil {
		return Entry{}, err
	}
	size := s.ChunkBytes
	if size <= 0 {
		size = DefaultChunkBytes
	}
	size &^= 1
	per := max(size/2, 1) // voxels per chunk
	buf := make([]byte, 2*min(per, len(v.Voxels)))
	total := int64(2 * len(v.Voxels))
	for i, k := 0, 0; i < len(v.Voxels); i, k = i+per, k+1 {
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		part := v.Voxels[i:min(i+per, len(v.Voxels))]
		b := buf[:2*len(part)]
		for j, x := range part {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(x))
			if j%yieldVoxels == yieldVoxels-1 {
				s.yield()
			}
		}
		if err := writeOnce(s.fs, path.Join(dir, voxDir, chunkName(k)), b); err != nil {
			return Entry{}, err
		}
		s.yield()
		rec.Chunks = append(rec.Chunks, chunkRec{Bytes: int64(len(b)), CRC: crc32.ChecksumIEEE(b)})
		s.yield()
		rec.VoxelBytes += int64(len(b))
		if progress != nil {
			progress(rec.VoxelBytes, total)
		}
	}
	s.yield()
	thumb, err := Thumbnail(v, 128)
	s.yield()
	if err != nil {
		return Entry{}, err
	}
	if err := writeOnce(s.fs, path.Join(dir, thumbFile), thumb); err != nil {
		return Entry{}, err
	}
	rec.ThumbBytes = int64(len(thumb))
	meta, err := json.Marshal(rec)
	if err != nil {
		return Entry{}, fmt.Errorf("meta.json: %v", err)
	}
	if err := writeOnce(s.fs, path.Join(dir, metaFile), meta); err != nil {
		return Entry{}, err
	}
	c, _ := json.Marshal(commitRec{MetaBytes: int64(len(meta)), MetaCRC: crc32.ChecksumIEEE(meta)})
	if err := writeOnce(s.fs, path.Join(dir, commitFile), c); err != nil {
		return Entry{}, err
	}
	e := rec.entry()
	e.Thumb = thumb
	e.Bytes = rec.VoxelBytes + rec.ThumbBytes + int64(len(meta)+len(c))
	return e, nil
}

// commitRec is the commit file: it vouches for meta.json, which vouches
// for the chunks.
type commitRec struct {
	MetaBytes int64  `json:"meta_bytes"`
	MetaCRC   uint32 `json:"meta_crc"`
}

// yieldVoxels is how many voxels Put and Load convert between calls to
// Yield: about a millisecond of work in the browser.
const yieldVoxels = 1 << 18

func (s *Store) yield() {
	if s.Yield != nil {
		s.Yield()
	}
}

func chunkName(i int) string { return fmt.Sprintf("%05d", i) }

// writeOnce creates name and writes data in a single Write call.
func writeOnce(fsys hackpadfs.FS, name string, data []byte) error {
	f, err := hackpadfs.Create(fsys, name)
	if err != nil {
		return err
	}
	_, err = hackpadfs.WriteFile(f, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Entry is one series as the list shows it.
type Entry struct {
	ID       string
	Name     string
	Source   string
	Sample   bool
	Imported time.Time
	Meta     volume.Metadata
	Dims     [3]int
	Phases   int
	Spacing  [3]float64 // mm
	Warnings []string
	Skipped  []Skipped
	Bytes    int64  // stored, all files
	Thumb    []byte // PNG; nil when it could not be read
	// Err is set when the series is damaged in storage (the other fields
	// may then be empty but ID); it can still be deleted.
	Err error
}

// Slices is the slice count of one phase.
func (e Entry) Slices() int { return e.Dims[2] }

// Date is the study date as YYYY-MM-DD, or "" when the files had none.
func (e Entry) Date() string {
	d := strings.TrimSpace(e.Meta.StudyDate)
	if d == "" {
		d = strings.TrimSpace(e.Meta.SeriesDate)
	}
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return d
}

func (r *record) entry() Entry {
	return Entry{ID: r.ID, Name: r.Name, Source: r.Source, Sample: r.Sample, Imported: r.Imported, Meta: r.Meta,
		Dims: r.Dims, Phases: r.Phases, Spacing: r.Spacing, Warnings: r.Warnings, Skipped: r.Skipped}
}

// DamagedError reports a stored series that cannot be read back: a
// missing or altered file in storage.
type DamagedError struct {
	ID, Name string // Name is "" when meta.json itself is unreadable
	Err      error
}

// Error implements error, naming the series.
func (e *DamagedError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("library: stored series %q (%s) is damaged: %v", e.Name, e.ID, e.Err)
	}
	return fmt.Sprintf("library: stored series %s is damaged: %v", e.ID, e.Err)
}

// Unwrap returns the storage error.
func (e *DamagedError) Unwrap() error { return e.Err }

// current reads the newest committed generation's record, checked
// against its commit file.
func (s *Store) current(id string) (string, *record, error) {
	if !validID(id) {
		return "", nil, fmt.Errorf("library: %q is not a series id", id)
	}
	_, committed := s.gens(id)
	if len(committed) == 0 {
		return "", nil, fmt.Errorf("library: series %s: %w", id, fs.ErrNotExist)
	}
	gen := committed[len(committed)-1]
	damaged := func(err error) (string, *record, error) { return gen, nil, &DamagedError{ID: id, Err: err} }
	cdata, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, commitFile))
	if err != nil {
		return damaged(err)
	}
	var c commitRec
	if err := json.Unmarshal(cdata, &c); err != nil {
		return damaged(fmt.Errorf("commit record: %v", err))
	}
	meta, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, metaFile))
	if err != nil {
		return damaged(err)
	}
	if int64(len(meta)) != c.MetaBytes || crc32.ChecksumIEEE(meta) != c.MetaCRC {
		return damaged(fmt.Errorf("meta.json was altered (%d bytes, %d expected)", len(meta), c.MetaBytes))
	}
	rec, err := parseRecord(meta)
	if err != nil {
		return damaged(err)
	}
	if rec.ID != id {
		return damaged(fmt.Errorf("meta.json is for series %s", rec.ID))
	}
	return gen, rec, nil
}

// List returns the stored series, newest import first (then by ID). A
// damaged series is listed with Err set; only a store that cannot be read
// at all is an error.
func (s *Store) List() ([]Entry, error) {
	ids, err := s.ids()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, id := range ids {
		gen, rec, err := s.current(id)
		var de *DamagedError
		if err != nil && !errors.As(err, &de) && errors.Is(err, fs.ErrNotExist) {
			continue // being written, or left by a crash
		}
		if err != nil {
			out = append(out, Entry{ID: id, Name: id, Err: err})
			continue
		}
		e := rec.entry()
		e.Bytes = s.size(s.genPath(id, gen))
		if thumb, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, thumbFile)); err == nil {
			e.Thumb = thumb
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		if c := b.Imported.Compare(a.Imported); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Load reads a stored series back: its volume, voxel for voxel, and its
// entry. A missing or altered chunk is a *DamagedError naming the series.
func (s *Store) Load(ctx context.Context, id string) (*volume.Volume, Entry, error) {
	gen, rec, err := s.current(id)
	if err != nil {
		return nil, Entry{}, err
	}
	damaged := func(err error) (*volume.Volume, Entry, error) {
		return nil, Entry{}, &DamagedError{ID: id, Name: rec.Name, Err: err}
	}
	v := rec.volume()
	v.Voxels = make([]int16, rec.VoxelBytes/2)
	off := 0
	for k, c := range rec.Chunks {
		if err := ctx.Err(); err != nil {
			return nil, Entry{}, fmt.Errorf("library: loading %s: %w", rec.Name, err)
		}
		name := path.Join(voxDir, chunkName(k))
		b, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, name))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return damaged(fmt.Errorf("%s is missing", name))
			}
			return damaged(fmt.Errorf("%s: %w", name, err))
		}
		if int64(len(b)) != c.Bytes || crc32.ChecksumIEEE(b) != c.CRC {
			return damaged(fmt.Errorf("%s was altered (%d bytes, %d expected)", name, len(b), c.Bytes))
		}
		for j := 0; j < len(b); j += 2 {
			v.Voxels[off] = int16(binary.LittleEndian.Uint16(b[j:]))
			off++
			if off%yieldVoxels == 0 {
				s.yield()
			}
		}
	}
	e := rec.entry()
	e.Bytes = s.size(s.genPath(id, gen))
	if thumb, err := hackpadfs.ReadFile(s.fs, s.genPath(id, gen, thumbFile)); err == nil {
		e.Thumb = thumb
	}
	return v, e, nil
}

// Delete removes a stored series, damaged or not. Its commit files go
// first, so an interrupted delete leaves nothing listed.
func (s *Store) Delete(id string) error {
	if !validID(id) {
		return fmt.Errorf("library: %q is not a series id", id)
	}
	all, _ := s.gens(id)
	for _, g := range all {
		if err := hackpadfs.Remove(s.fs, s.genPath(id, g, commitFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("library: deleting %s: %w", id, err)
		}
	}
	if err := hackpadfs.RemoveAll(s.fs, path.Join(s.dir, seriesDir, id)); err != nil {
		return fmt.Errorf("library: deleting %s: %w", id, err)
	}
	return nil
}

// Usage is the bytes of every file under the store's folder.
func (s *Store) Usage() (int64, error) {
	var n int64
	err := hackpadfs.WalkDir(s.fs, s.dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("library: %w", err)
	}
	return n, nil
}

func (s *Store) size(dir string) int64 {
	var n int64
	hackpadfs.WalkDir(s.fs, dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Settings are the library's own choices, kept beside the series.
type Settings struct {
	// SampleOffered is set once the sample study was imported (or failed
	// to be), so a user who deleted it does not get it back.
	SampleOffered bool `json:"sample_offered"`
	// LastOpened is the series to reopen on start.
	LastOpened string `json:"last_opened,omitempty"`
}

// Settings reads the settings; missing or unreadable ones are the zero
// value (a damaged settings file must not lock the user out).
func (s *Store) Settings() Settings {
	var st Settings
	data, err := hackpadfs.ReadFile(s.fs, path.Join(s.dir, settingsFile))
	if err == nil {
		json.Unmarshal(data, &st)
	}
	return st
}

// SaveSettings writes the settings in one call.
func (s *Store) SaveSettings(st Settings) error {
	data, _ := json.Marshal(st)
	if err := writeOnce(s.fs, path.Join(s.dir, settingsFile), data); err != nil {
		return fmt.Errorf("library: settings: %w", err)
	}
	return nil
}
