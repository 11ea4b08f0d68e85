package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"ctlens/weights"
)

// dirServer serves the regular files under one directory, with Range,
// ETag and If-None-Match (through http.ServeContent), no listings, and no
// way out of the directory (os.Root refuses "..", absolute paths and
// symlinks that leave it).
type dirServer struct {
	root  *os.Root
	dir   string
	flat  bool              // only plain names (a model directory), no subfolders
	etags map[string]string // name → strong ETag known ahead (the weights' sha256)
	ctype map[string]string // extension → Content-Type beyond mime's table
}

func newDirServer(dir string, flat bool) (*dirServer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &dirServer{root: root, dir: dir, flat: flat, etags: map[string]string{},
		ctype: map[string]string{".dcm": "application/dicom", ".safetensors": "application/octet-stream", ".json": "application/json"}}, nil
}

// serve answers GET/HEAD for rel, a slash-separated path inside the
// directory.
func (d *dirServer) serve(w http.ResponseWriter, r *http.Request, rel string) {
	if !validRel(rel, d.flat) {
		http.NotFound(w, r)
		return
	}
	f, err := d.root.Open(filepath.FromSlash(rel))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	etag, ok := d.etags[rel]
	if !ok {
		etag = fmt.Sprintf(`"%x-%x"`, st.Size(), st.ModTime().UnixNano())
	}
	h := w.Header()
	h.Set("ETag", etag)
	// Revalidate each time: the ETag makes that a 304 when nothing changed,
	// and a replaced model or sample is never served stale.
	h.Set("Cache-Control", "no-cache")
	if ct, ok := d.ctype[strings.ToLower(path.Ext(rel))]; ok {
		h.Set("Content-Type", ct)
	}
	http.ServeContent(w, r, path.Base(rel), st.ModTime(), f)
}

// validRel refuses empty, absolute, dotted and hidden paths: only what a
// listing of the directory would name.
func validRel(rel string, flat bool) bool {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.Contains(rel, "\\") || strings.ContainsRune(rel, 0) {
		return false
	}
	parts := strings.Split(rel, "/")
	if flat && len(parts) != 1 {
		return false
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." || strings.HasPrefix(p, ".") {
			return false
		}
	}
	return true
}

// weightsETags reads the model directory's manifest for its files'
// sha256, the strongest ETag there is. A directory without a manifest
// gets size+mtime ETags; one with a broken manifest is an error, named.
func weightsETags(dir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, weights.ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	var m weights.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, weights.ManifestFile), err)
	}
	tags := map[string]string{}
	for _, f := range append([]weights.FileRef{m.Tokenizer}, m.Shards...) {
		if f.File != "" && len(f.SHA256) == 64 {
			tags[f.File] = `"sha256-` + f.SHA256 + `"`
		}
	}
	return tags, nil
}

// SampleIndex is /sample/index.json: what the app fetches to import the
// built-in sample study. Files are relative to /sample/, in path order.
type SampleIndex struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
	Bytes int64    `json:"bytes"`
}

// sampleIndex lists the regular files under dir (hidden ones skipped).
func sampleIndex(dir, name string) (SampleIndex, error) {
	idx := SampleIndex{Name: name, Files: []string{}}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "index.json" {
			return nil // it would shadow the index itself
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		idx.Files = append(idx.Files, rel)
		idx.Bytes += info.Size()
		return nil
	})
	if err != nil {
		return idx, fmt.Errorf("sample study %s: %w", dir, err)
	}
	if len(idx.Files) == 0 {
		return idx, fmt.Errorf("sample study %s: no files in the folder", dir)
	}
	sort.Strings(idx.Files)
	return idx, nil
}
