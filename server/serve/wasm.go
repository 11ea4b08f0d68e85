package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/andybalholm/brotli"
)

// Compression levels, chosen by measurement on a busy two-core machine.
// On the 18.9 MB app wasm: brotli 5 gives 3.79 MB in 2.3 s, 7 gives 3.71
// MB in 4.8 s, 9 gives 3.66 MB in 11 s; on a 7.3 MB build 10 and 11 were
// 10% smaller than 9 but took 47 s and 85 s. A rebuild pays this once
// (the outputs are cached by the wasm's hash), but `go run ./server`
// after an edit should start in seconds, and on localhost the bytes are
// nearly free: 7 is the knee. gzip 6 is within 1% of 9 at a third of
// the time; it goes only to browsers without brotli.
const (
	brotliLevel = 7
	gzipLevel   = 6
)

// wasmAsset is the app's wasm in its three encodings.
type wasmAsset struct {
	raw, gz, br []byte
	hash        string // hex sha256 of raw
	modTime     time.Time
	// CompressTime is how long compressing took (0 when read from cache).
	compressTime time.Duration
}

// loadWasm reads the wasm at path and its compressed forms, from cacheDir
// when they are there (named by the wasm's hash), else compressing and
// storing them. cacheDir "" compresses in memory each time.
func loadWasm(path, cacheDir string) (*wasmAsset, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the app's wasm: %w", err)
	}
	if len(raw) < 8 || !bytes.Equal(raw[:4], []byte("\x00asm")) {
		return nil, fmt.Errorf("%s is not a WebAssembly module (no \\0asm header)", path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	a := &wasmAsset{raw: raw, hash: hex.EncodeToString(sum[:]), modTime: st.ModTime()}
	start := time.Now()
	// The two encodings compress in parallel: startup waits for the
	// slower one only.
	var gzMade, brMade bool
	var gzErr, brErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		a.gz, gzMade, gzErr = cached(cacheDir, fmt.Sprintf("%s.gz%d", a.hash, gzipLevel), func() ([]byte, error) { return gzipBytes(raw) })
	})
	wg.Go(func() {
		a.br, brMade, brErr = cached(cacheDir, fmt.Sprintf("%s.br%d", a.hash, brotliLevel), func() ([]byte, error) { return brotliBytes(raw) })
	})
	wg.Wait()
	if err := errors.Join(gzErr, brErr); err != nil {
		return nil, fmt.Errorf("compressing the wasm: %w", err)
	}
	if gzMade || brMade {
		a.compressTime = time.Since(start)
	}
	return a, nil
}

// cached returns the bytes stored under name in dir, or makes and stores
// them (made reports that). A failure to store is not an error: the next
// start compresses again.
func cached(dir, name string, build func() ([]byte, error)) (b []byte, made bool, err error) {
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return b, false, nil
		}
	}
	b, err = build()
	if err != nil {
		return nil, true, err
	}
	if dir != "" && os.MkdirAll(dir, 0o755) == nil {
		tmp := filepath.Join(dir, name+".tmp"+strconv.Itoa(os.Getpid()))
		if os.WriteFile(tmp, b, 0o644) == nil {
			os.Rename(tmp, filepath.Join(dir, name))
		}
	}
	return b, true, nil
}

// keepBuilds is how many builds keep their compressed forms in the
// cache: every rebuild adds a few MB, and switching between a few
// branches should not recompress.
const keepBuilds = 4

// pruneCache deletes the compressed forms of all but the keepBuilds most
// recent builds (current included), a build being len(current) wasm
// files (the app's and its two workers'). Errors are ignored: the
// cache only saves time.
func pruneCache(dir string, current ...string) {
	if dir == "" {
		return
	}
	isCurrent := map[string]bool{}
	for _, h := range current {
		isCurrent[h] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	newest := map[string]time.Time{} // hash → newest file time
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || len(e.Name()) < 64 {
			continue
		}
		h := e.Name()[:64]
		if t := info.ModTime(); t.After(newest[h]) {
			newest[h] = t
		}
	}
	var hashes []string
	for h := range newest {
		if !isCurrent[h] {
			hashes = append(hashes, h)
		}
	}
	sort.Slice(hashes, func(i, j int) bool { return newest[hashes[i]].After(newest[hashes[j]]) })
	keep := (keepBuilds - 1) * len(current)
	if len(hashes) <= keep {
		return
	}
	drop := map[string]bool{}
	for _, h := range hashes[keep:] {
		drop[h] = true
	}
	for _, e := range ents {
		if len(e.Name()) >= 64 && drop[e.Name()[:64]] {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func gzipBytes(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzipLevel)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func brotliBytes(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotliLevel, LGWin: 24})
	if _, err := bw.Write(raw); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serve sends the best encoding the client accepts: brotli, then gzip,
// else the raw bytes. Content-Length is the length of what is sent; the
// page learns the decoded size from go-app's WasmContentLength instead.
func (a *wasmAsset) serve(w http.ResponseWriter, r *http.Request) {
	body, enc := a.raw, ""
	switch {
	case accepts(r, "br"):
		body, enc = a.br, "br"
	case accepts(r, "gzip"):
		body, enc = a.gz, "gzip"
	}
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache")
	etag := `"` + a.hash[:32]
	if enc != "" {
		h.Set("Content-Encoding", enc)
		etag += "-" + enc
	}
	etag += `"`
	h.Set("ETag", etag)
	if enc == "" {
		http.ServeContent(w, r, "app.wasm", a.modTime, bytes.NewReader(body))
		return
	}
	// Encoded: no ranges (a range of the compressed bytes means nothing
	// to a client that asked for the wasm), so not ServeContent, which
	// would offer them and leave Content-Length out.
	if noneMatch(r.Header.Get("If-None-Match"), etag) {
		// As net/http does for a 304: no body, so no body headers.
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// noneMatch reports whether an If-None-Match header names etag (or *).
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// accepts reports whether the request's Accept-Encoding lists coding with
// a non-zero q.
func accepts(r *http.Request, coding string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		params = strings.ReplaceAll(params, " ", "")
		if q, ok := strings.CutPrefix(params, "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
