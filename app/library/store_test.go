package library

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"image/png"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/mem"

	"ctlens/app/importer/decode"
	"ctlens/app/importer/protocol"
	"ctlens/tools/phantom/synth"
	"ctlens/volume"
	"ctlens/volume/dicomread"
)

// phantomZip renders a small synthetic case into a zip archive.
func phantomZip(t testing.TB, seed uint64, size synth.Size, variants string) []byte {
	t.Helper()
	vs, err := synth.ParseVariants(variants)
	if err != nil {
		t.Fatal(err)
	}
	c, err := synth.NewCase(synth.Options{Seed: seed, Size: size, Variants: vs, Findings: []synth.FindingSpec{}, Workers: 1}, 1)
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
	return b.Bytes()
}

var small = synth.Size{Cols: 32, Rows: 24, Slices: 6}

// phantomVolume imports a small synthetic case.
func phantomVolume(t testing.TB, seed uint64, variants string) *volume.Volume {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(phantomZip(t, seed, small, variants)), int64(len(phantomZip(t, seed, small, variants))))
	if err != nil {
		t.Fatal(err)
	}
	res, err := dicomread.Import(context.Background(), zr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Volumes) == 0 || res.Volumes[0] == nil {
		t.Fatalf("phantom import found no volume: %v", res.Errors)
	}
	return res.Volumes[0]
}

func memStore(t testing.TB) (*Store, *mem.FS) {
	t.Helper()
	m, err := mem.NewFS()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(m, "lib")
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

// clock makes each Put one minute later than the last.
func clock(s *Store) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	s.now = func() time.Time { n++; return t0.Add(time.Duration(n) * time.Minute) }
}

func sameVolume(t *testing.T, have, want *volume.Volume) {
	t.Helper()
	if have.Dims != want.Dims || have.Phases != want.Phases || have.Spacing != want.Spacing ||
		have.Origin != want.Origin || have.Direction != want.Direction {
		t.Fatalf("geometry: have %v origin %v dir %v, want %v origin %v dir %v", have, have.Origin, have.Direction, want, want.Origin, want.Direction)
	}
	if len(have.Voxels) != len(want.Voxels) {
		t.Fatalf("have %d voxels, want %d", len(have.Voxels), len(want.Voxels))
	}
	for i := range want.Voxels {
		if have.Voxels[i] != want.Voxels[i] {
			t.Fatalf("voxel %d: have %d, want %d", i, have.Voxels[i], want.Voxels[i])
		}
	}
	for _, f := range []struct {
		name       string
		have, want any
	}{
		{"windows", have.Windows, want.Windows},
		{"meta", have.Meta, want.Meta},
		{"invert", have.Invert, want.Invert},
		{"warnings", have.Warnings, want.Warnings},
		{"transfer syntaxes", have.TransferSyntaxes, want.TransferSyntaxes},
		{"files", have.Files, want.Files},
		{"instances", have.Instances, want.Instances},
		{"phase labels", have.PhaseLabels, want.PhaseLabels},
		{"resampled", have.Resampled, want.Resampled},
	} {
		if !reflect.DeepEqual(f.have, f.want) {
			t.Errorf("%s: have %v, want %v", f.name, f.have, f.want)
		}
	}
}

func TestStoreRoundTrip(t *testing.T) {
	for _, variants := range []string{"", "tilt", "missing"} {
		t.Run("variants="+variants, func(t *testing.T) {
			s, _ := memStore(t)
			s.ChunkBytes = 1000 // many chunks, the last one short
			v := phantomVolume(t, 3, variants)
			if len(v.Instances) == 0 {
				t.Fatal("the phantom volume lists no source instances: the round trip would not test them")
			}
			skipped := []Skipped{{Path: "x.txt", Reason: "not DICOM"}}
			e, err := s.Put(context.Background(), v, PutOptions{Source: "test", Skipped: skipped})
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != SeriesID(v) || e.Slices() != v.Dims[2] || e.Name != v.Meta.DisplayName() {
				t.Errorf("entry %+v", e)
			}
			have, he, err := s.Load(context.Background(), e.ID)
			if err != nil {
				t.Fatal(err)
			}
			sameVolume(t, have, v)
			if !reflect.DeepEqual(he.Skipped, skipped) || he.Source != "test" {
				t.Errorf("entry skipped %v source %q", he.Skipped, he.Source)
			}
			if variants != "" && len(he.Warnings) == 0 {
				t.Errorf("variant %s: no warnings stored", variants)
			}
			list, err := s.List()
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %v, %v", list, err)
			}
			img, err := png.Decode(bytes.NewReader(list[0].Thumb))
			if err != nil {
				t.Fatalf("thumbnail: %v", err)
			}
			if b := img.Bounds(); max(b.Dx(), b.Dy()) != 128 {
				t.Errorf("thumbnail is %v, want 128 on the long side", b)
			}
			u, err := s.Usage()
			if err != nil || u < int64(2*len(v.Voxels)) || u != list[0].Bytes {
				t.Errorf("Usage %d (%v), entry bytes %d, voxel bytes %d", u, err, list[0].Bytes, 2*len(v.Voxels))
			}
		})
	}
}

// variant returns a copy of v with another series UID (another ID) and
// its voxels shifted by d HU.
func variant(v *volume.Volume, uid string, d int16) *volume.Volume {
	w := *v
	w.Meta.SeriesInstanceUID = uid
	w.Voxels = make([]int16, len(v.Voxels))
	for i, x := range v.Voxels {
		w.Voxels[i] = x + d
	}
	return &w
}

func TestListOrderAndDelete(t *testing.T) {
	s, _ := memStore(t)
	clock(s)
	v := phantomVolume(t, 1, "")
	var ids []string
	for i := range 3 {
		e, err := s.Put(context.Background(), variant(v, fmt.Sprintf("1.2.3.%d", i), int16(i)), PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range list {
		have = append(have, e.ID)
	}
	want := []string{ids[2], ids[1], ids[0]} // newest first
	if !reflect.DeepEqual(have, want) {
		t.Fatalf("order: have %v, want %v", have, want)
	}
	before, _ := s.Usage()
	if err := s.Delete(ids[1]); err != nil {
		t.Fatal(err)
	}
	list, _ = s.List()
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[0] {
		t.Fatalf("after delete: %v", list)
	}
	after, _ := s.Usage()
	if after >= before {
		t.Errorf("usage %d → %d after a delete", before, after)
	}
	if _, _, err := s.Load(context.Background(), ids[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a deleted series: %v", err)
	}
	// A reopened store lists the same.
	s2, err := Open(s.fs, "lib")
	if err != nil {
		t.Fatal(err)
	}
	list2, _ := s2.List()
	if len(list2) != 2 {
		t.Errorf("reopened: %d series", len(list2))
	}
}

func TestReimportReplaces(t *testing.T) {
	s, m := memStore(t)
	v := phantomVolume(t, 2, "")
	e1, err := s.Put(context.Background(), v, PutOptions{Source: "first"})
	if err != nil {
		t.Fatal(err)
	}
	v2 := variant(v, v.Meta.SeriesInstanceUID, 7)
	e2, err := s.Put(context.Background(), v2, PutOptions{Source: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if e1.ID != e2.ID {
		t.Fatalf("same series, two ids: %s %s", e1.ID, e2.ID)
	}
	list, _ := s.List()
	if len(list) != 1 || list[0].Source != "second" {
		t.Fatalf("list %+v", list)
	}
	have, _, err := s.Load(context.Background(), e1.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameVolume(t, have, v2)
	gens, _ := hackpadfs.ReadDir(m, path.Join("lib", seriesDir, e1.ID))
	if len(gens) != 1 {
		t.Errorf("%d generation folders left, want 1", len(gens))
	}
}

// failFS fails the nth Write (after writing half of it, as a torn write
// would) and, when crash is set, every change after it, as if the tab
// had been closed.
type failFS struct {
	*mem.FS
	writes int // writes that succeed
	crash  bool
	failed bool
}

var errInjected = errors.New("injected storage failure")

func (f *failFS) OpenFile(name string, flag int, perm hackpadfs.FileMode) (hackpadfs.File, error) {
	if f.failed && f.crash && flag != hackpadfs.FlagReadOnly {
		return nil, errInjected
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &failFile{file, f}, nil
}

func (f *failFS) Mkdir(name string, perm hackpadfs.FileMode) error {
	if f.failed && f.crash {
		return errInjected
	}
	return f.FS.Mkdir(name, perm)
}

func (f *failFS) MkdirAll(name string, perm hackpadfs.FileMode) error {
	if f.failed && f.crash {
		return errInjected
	}
	return f.FS.MkdirAll(name, perm)
}

func (f *failFS) Remove(name string) error {
	if f.failed && f.crash {
		return errInjected
	}
	return f.FS.Remove(name)
}

type failFile struct {
	hackpadfs.File
	fs *failFS
}

func (f *failFile) Write(p []byte) (int, error) {
	if f.fs.failed || f.fs.writes == 0 {
		f.fs.failed = true
		n, _ := hackpadfs.WriteFile(f.File, p[:len(p)/2])
		return n, errInjected
	}
	f.fs.writes--
	return hackpadfs.WriteFile(f.File, p)
}

func TestInterruptedWrite(t *testing.T) {
	v := phantomVolume(t, 4, "")
	other := variant(v, "9.9.9", 0)
	newer := variant(v, v.Meta.SeriesInstanceUID, 100)
	for _, crash := range []bool{false, true} {
		// Chunks are 1000 bytes: fail at the first chunk, in the middle,
		// at the thumbnail, meta.json and the commit file.
		n := (2*len(v.Voxels) + 999) / 1000
		for _, failAt := range []int{0, n / 2, n, n + 1, n + 2} {
			t.Run(fmt.Sprintf("crash=%v/write%d", crash, failAt), func(t *testing.T) {
				m, _ := mem.NewFS()
				ffs := &failFS{FS: m, writes: -1, crash: crash}
				s, err := Open(ffs, "lib")
				if err != nil {
					t.Fatal(err)
				}
				s.ChunkBytes = 1000
				clock(s)
				for _, w := range []*volume.Volume{v, other} {
					if _, err := s.Put(context.Background(), w, PutOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				ffs.writes = failAt
				if _, err := s.Put(context.Background(), newer, PutOptions{}); !errors.Is(err, errInjected) {
					t.Fatalf("Put: %v, want the injected failure", err)
				}
				// The tab is reopened on healthy storage.
				s2, err := Open(m, "lib")
				if err != nil {
					t.Fatal(err)
				}
				list, err := s2.List()
				if err != nil || len(list) != 2 {
					t.Fatalf("List after the failure: %v %v", list, err)
				}
				for _, w := range []*volume.Volume{v, other} {
					have, _, err := s2.Load(context.Background(), SeriesID(w))
					if err != nil {
						t.Fatal(err)
					}
					sameVolume(t, have, w)
				}
				gens, _ := hackpadfs.ReadDir(m, path.Join("lib", seriesDir, SeriesID(v)))
				if len(gens) != 1 {
					t.Errorf("%d generation folders after reopening, want 1 (the partial one cleaned up)", len(gens))
				}
			})
		}
	}
}

func TestDamagedSeries(t *testing.T) {
	setup := func(t *testing.T) (*Store, *mem.FS, *volume.Volume, *volume.Volume) {
		s, m := memStore(t)
		s.ChunkBytes = 1000
		v := phantomVolume(t, 5, "")
		w := variant(v, "7.7.7", 1)
		for _, x := range []*volume.Volume{v, w} {
			if _, err := s.Put(context.Background(), x, PutOptions{Name: "CHEST " + x.Meta.SeriesInstanceUID}); err != nil {
				t.Fatal(err)
			}
		}
		return s, m, v, w
	}
	genDir := func(t *testing.T, s *Store, id string) string {
		_, committed := s.gens(id)
		if len(committed) != 1 {
			t.Fatalf("%d committed generations", len(committed))
		}
		return s.genPath(id, committed[0])
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, m *mem.FS, dir string)
		inList bool   // List reports the damage (else only Load)
		want   string // in the error
	}{
		{"meta garbage", func(t *testing.T, m *mem.FS, dir string) {
			writeOnce(m, path.Join(dir, metaFile), []byte("{not json"))
		}, true, "meta.json was altered"},
		{"meta valid json but wrong", func(t *testing.T, m *mem.FS, dir string) {
			data := []byte(`{"version":1}`)
			writeOnce(m, path.Join(dir, metaFile), data)
			c := fmt.Sprintf(`{"meta_bytes":%d,"meta_crc":%d}`, len(data), crc32.ChecksumIEEE(data))
			writeOnce(m, path.Join(dir, commitFile), []byte(c))
		}, true, "bad series id"},
		{"meta missing", func(t *testing.T, m *mem.FS, dir string) {
			m.Remove(path.Join(dir, metaFile))
		}, true, "meta.json"},
		{"chunk missing", func(t *testing.T, m *mem.FS, dir string) {
			m.Remove(path.Join(dir, voxDir, "00001"))
		}, false, "vox/00001 is missing"},
		{"chunk altered", func(t *testing.T, m *mem.FS, dir string) {
			writeOnce(m, path.Join(dir, voxDir, "00002"), make([]byte, 1000))
		}, false, "vox/00002 was altered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, m, v, w := setup(t)
			id := SeriesID(v)
			c.damage(t, m, genDir(t, s, id))
			list, err := s.List()
			if err != nil || len(list) != 2 {
				t.Fatalf("List: %v %v", list, err)
			}
			var bad Entry
			for _, e := range list {
				if e.ID == id {
					bad = e
				} else if e.Err != nil {
					t.Errorf("undamaged series listed with %v", e.Err)
				}
			}
			if c.inList != (bad.Err != nil) {
				t.Errorf("List error %v; want one: %v", bad.Err, c.inList)
			}
			_, _, err = s.Load(context.Background(), id)
			var de *DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), id) {
				t.Fatalf("Load: %v; want a *DamagedError naming %s and %q", err, id, c.want)
			}
			if !c.inList && !strings.Contains(err.Error(), "CHEST ") {
				t.Errorf("Load error %q does not name the series", err)
			}
			if have, _, err := s.Load(context.Background(), SeriesID(w)); err != nil {
				t.Errorf("the other series: %v", err)
			} else {
				sameVolume(t, have, w)
			}
			if err := s.Delete(id); err != nil {
				t.Fatal(err)
			}
			if list, _ := s.List(); len(list) != 1 {
				t.Errorf("after deleting the damaged series: %d listed", len(list))
			}
		})
	}
}

func TestSettings(t *testing.T) {
	s, m := memStore(t)
	if st := s.Settings(); st != (Settings{}) {
		t.Errorf("fresh settings %+v", st)
	}
	want := Settings{SampleOffered: true, LastOpened: "s0123456789abcdef"}
	if err := s.SaveSettings(want); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(m, "lib")
	if have := s2.Settings(); have != want {
		t.Errorf("have %+v, want %+v", have, want)
	}
	writeOnce(m, "lib/"+settingsFile, []byte("garbage"))
	if st := s2.Settings(); st != (Settings{}) {
		t.Errorf("damaged settings read as %+v", st)
	}
}

func TestThumbnailWindow(t *testing.T) {
	for _, c := range []struct {
		meta volume.Metadata
		want string
	}{
		{volume.Metadata{BodyPartExamined: "CHEST"}, "lung"},
		{volume.Metadata{SeriesDescription: "Thorax 1.25mm"}, "lung"},
		{volume.Metadata{BodyPartExamined: "ABDOMEN"}, "soft tissue"},
		{volume.Metadata{}, "soft tissue"},
	} {
		if have := ThumbnailWindow(c.meta).Name; have != c.want {
			t.Errorf("%+v: have %s, want %s", c.meta, have, c.want)
		}
	}
}

func TestThumbnailAspect(t *testing.T) {
	v := &volume.Volume{Dims: [3]int{40, 20, 3}, Phases: 1, Spacing: [3]float64{1, 1, 1}, Voxels: make([]int16, 40*20*3)}
	for i := range v.Voxels {
		v.Voxels[i] = 40 // the soft-tissue window's centre
	}
	b, err := Thumbnail(v, 64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 64 || r.Dy() != 32 {
		t.Errorf("bounds %v, want 64×32", r)
	}
	if g, _, _, _ := img.At(10, 10).RGBA(); g>>8 < 126 || g>>8 > 129 {
		t.Errorf("centre of the window drawn as %d, want mid-grey", g>>8)
	}
}

// FuzzParseRecord checks that no meta.json makes the parser panic, and
// that any record it accepts is one Load can allocate for safely.
func FuzzParseRecord(f *testing.F) {
	s, _ := memStore(f)
	v := phantomVolume(f, 6, "")
	e, err := s.Put(context.Background(), v, PutOptions{Skipped: []Skipped{{Path: "a", Reason: "b"}}})
	if err != nil {
		f.Fatal(err)
	}
	_, committed := s.gens(e.ID)
	meta, err := hackpadfs.ReadFile(s.fs, s.genPath(e.ID, committed[0], metaFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(meta)
	f.Add([]byte(`{"version":1,"id":"s0000000000000000","dims":[1,1,1],"phases":1,"spacing":[1,1,1],"voxel_bytes":2,"chunks":[{"bytes":2}]}`))
	f.Add([]byte(`{"version":1,"id":"s0000000000000000","dims":[65536,65536,65536],"phases":4096}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRecord(data)
		if err != nil {
			return
		}
		n := int64(r.Dims[0]) * int64(r.Dims[1]) * int64(r.Dims[2]) * int64(r.Phases)
		if n > maxStoredVoxels || 2*n != r.VoxelBytes || !validID(r.ID) {
			t.Fatalf("accepted %d voxels, %d bytes, id %q", n, r.VoxelBytes, r.ID)
		}
		var sum int64
		for _, c := range r.Chunks {
			sum += c.Bytes
		}
		if sum != r.VoxelBytes {
			t.Fatalf("accepted chunks of %d bytes for %d", sum, r.VoxelBytes)
		}
		_ = r.volume()
	})
}

func TestParseRecordErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`nope`, "not readable"},
		{`{"version":2}`, "format version 2"},
		{`{"version":1,"id":"../../x"}`, "bad series id"},
		{`{"version":1,"id":"s0000000000000000","dims":[0,1,1],"phases":1}`, "dimension 0 is 0"},
		{`{"version":1,"id":"s0000000000000000","dims":[1,1,1],"phases":1,"voxel_bytes":4}`, "4 voxel bytes for 1 voxels"},
		{`{"version":1,"id":"s0000000000000000","dims":[1,1,1],"phases":1,"voxel_bytes":2,"chunks":[{"bytes":3}]}`, "chunk 0 has 3 bytes"},
		{`{"version":1,"id":"s0000000000000000","dims":[1,1,1],"phases":1,"voxel_bytes":2,"chunks":[{"bytes":2}],"spacing":[1,0,1]}`, "spacing"},
		{`{"version":1,"id":"s0000000000000000","dims":[65536,65536,65536],"phases":1}`, "exceed the limit"},
	} {
		_, err := parseRecord([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}

// zipBombBytes is a small zip whose one entry claims to expand to 2 GiB.
// archive/zip refuses to inflate past the claim, so the claim is what an
// importer must check.
func zipBombBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bomb.dcm", Method: zip.Store, CompressedSize64: 4, UncompressedSize64: 2 << 30})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("DICM"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImport(t *testing.T) {
	s, _ := memStore(t)
	good := phantomZip(t, 8, small, "")
	uneven := phantomZip(t, 9, small, "uneven")
	zr, _ := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	first, err := fs.ReadFile(zr, zr.File[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"study/case.zip":   {Data: good},
		"study/uneven.zip": {Data: uneven},
		"x.dcm":            {Data: []byte("this is a text file, not DICOM\n")},
		"cut.dcm":          {Data: first[:len(first)-500]},
		"header-cut.dcm":   {Data: first[:300]},
		"bomb.zip":         {Data: zipBombBytes(t)},
	}
	var stages []string
	res, err := s.Import(context.Background(), decode.Files(fsys, decode.Options{Source: "test"}), ImportOptions{Source: "test", Progress: func(p Progress) {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Done > p.Total || p.Done < 0 {
			t.Errorf("progress %+v", p)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stored) != 2 || res.First == nil {
		t.Fatalf("stored %d series: %+v", len(res.Stored), res.Problems)
	}
	want := map[string]string{
		"bomb.zip":       "over the 1.0 GiB limit",
		"x.dcm":          "not a readable DICOM file",
		"header-cut.dcm": "",
		"cut.dcm":        "",
	}
	for name, msg := range want {
		found := false
		for _, p := range res.Problems {
			if p.Path == name && strings.Contains(p.Reason, msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem for %s containing %q in %+v", name, msg, res.Problems)
		}
	}
	// The uneven series is resampled onto a regular grid after its pixels
	// are decoded (volume reports each plane; the browser yields there).
	if !reflect.DeepEqual(stages, []string{"headers", "pixels", "storing", "pixels", "resampling", "storing"}) {
		t.Errorf("stages %v", stages)
	}
	list, _ := s.List()
	warned := false
	for _, e := range list {
		if len(e.Skipped) == 0 {
			t.Errorf("%s lists no skipped files", e.Name)
		}
		for _, w := range e.Warnings {
			warned = warned || strings.Contains(w, "spacing") || strings.Contains(w, "uneven")
		}
	}
	if !warned {
		t.Errorf("the uneven variant has no spacing warning: %+v", list)
	}
	for _, p := range res.Problems {
		t.Logf("%s: %s", p.Path, p.Reason)
	}
}

func TestImportNothing(t *testing.T) {
	s, _ := memStore(t)
	res, err := s.Import(context.Background(), decode.Files(fstest.MapFS{}, decode.Options{Source: "an empty folder"}), ImportOptions{Source: "an empty folder"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Reason, "no DICOM") {
		t.Errorf("problems %+v", res.Problems)
	}
}

func TestStoreYields(t *testing.T) {
	s, _ := memStore(t)
	n := 0
	s.Yield = func() { n++ }
	v := &volume.Volume{Dims: [3]int{128, 128, 40}, Phases: 1, Spacing: [3]float64{1, 1, 1},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	v.Voxels = make([]int16, v.Len())
	for i := range v.Voxels {
		v.Voxels[i] = int16(i)
	}
	e, err := s.Put(context.Background(), v, PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 655360 voxels: two conversion yields, two around the one chunk's
	// CRC, two around the thumbnail.
	if n < 6 {
		t.Errorf("Put yielded %d times", n)
	}
	n = 0
	have, _, err := s.Load(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameVolume(t, have, v)
	if n < 2 {
		t.Errorf("Load yielded %d times", n)
	}
}

func TestYielder(t *testing.T) {
	y := Yielder(time.Hour)
	start := time.Now()
	for range 1000 {
		y()
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a Yielder within its budget slept: 1000 calls took %s", d)
	}
	y = Yielder(0)
	start = time.Now()
	for range 5 {
		y()
	}
	if d := time.Since(start); d < 5*time.Millisecond {
		t.Errorf("a Yielder past its budget did not block: 5 calls took %s", d)
	}
}

// TestImportDecoderContract: Import stores what a decoder sends in order,
// refuses a series before the file list, and stops on the decoder's
// error with what it stored so far.
func TestImportDecoderContract(t *testing.T) {
	s, _ := memStore(t)
	vol := func(seed int16) *volume.Volume {
		v := &volume.Volume{Dims: [3]int{8, 8, 4}, Phases: 1, Spacing: [3]float64{1, 1, 1},
			Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, Meta: volume.Metadata{SeriesDescription: fmt.Sprint("series ", seed)}}
		v.Voxels = make([]int16, v.Len())
		for i := range v.Voxels {
			v.Voxels[i] = seed + int16(i)
		}
		return v
	}
	stop := errors.New("the worker stopped")
	script := func(evs ...protocol.Event) Decoder {
		return func(ctx context.Context, emit func(protocol.Event) error) error {
			for _, ev := range evs {
				if ev.Error != "" {
					return stop
				}
				if err := emit(ev); err != nil {
					return err
				}
			}
			return nil
		}
	}
	general := []Skipped{{Path: "x.txt", Reason: "not DICOM"}}
	res, err := s.Import(context.Background(), script(
		protocol.Event{Progress: &protocol.Progress{Stage: "headers", Done: 1, Total: 3}},
		protocol.Event{Scanned: &protocol.Scanned{Files: 3, Ignored: []string{"DICOMDIR"}, Problems: general}},
		protocol.Event{Series: &protocol.Series{Volume: vol(1), Problems: []Skipped{{Path: "IM3", Reason: "truncated"}}}},
		protocol.Event{Series: &protocol.Series{Problems: []Skipped{{Path: "series 9", Reason: "no slices"}}}},
		protocol.Event{Error: "x"},
		protocol.Event{Series: &protocol.Series{Volume: vol(2)}},
	), ImportOptions{Source: "scripted"})
	if !errors.Is(err, stop) {
		t.Fatalf("err %v, want the decoder's", err)
	}
	if res == nil || len(res.Stored) != 1 || res.Files != 3 || len(res.Ignored) != 1 || len(res.Problems) != 3 {
		t.Fatalf("result %+v", res)
	}
	if e := res.Stored[0]; e.Name != "series 1" || len(e.Skipped) != 2 {
		t.Errorf("stored %q with skipped %+v, want its own problem and the import's", e.Name, e.Skipped)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("the library lists %d series", len(list))
	}
	_, err = s.Import(context.Background(), script(protocol.Event{Series: &protocol.Series{Volume: vol(3)}}), ImportOptions{})
	if !errors.Is(err, errNoScan) {
		t.Errorf("a series before the file list: err %v", err)
	}
}
