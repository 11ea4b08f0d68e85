//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"syscall/js"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/indexeddb"

	"ctlens/app/internal/jsawait"
	"ctlens/app/worker/host"
	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/gpu"
	"ctlens/weights"
	"ctlens/wgpu"
)

// The worker's browser side: fetch, the IndexedDB weights cache, WebGPU
// and picked files, all of which dedicated workers have. Every call that
// awaits a promise blocks its goroutine; the host calls them from its
// request goroutine, never from the message callback.

// weightsBase is where the server serves the built-in model directory.
const weightsBase = "/weights/"

// msgOfflineNone is the card's error offline before the model was ever
// loaded, in UI.md's words.
const msgOfflineNone = "You are offline and this model is not cached on this device yet. Connect once and load it; later visits work offline."

// browser is the host's Platform in the worker.
type browser struct{}

// BuiltIn opens the server's model through the cache: the manifest from
// the network, or offline the one the last load kept in the cache.
func (browser) BuiltIn(ctx context.Context) (*host.Source, error) {
	cache, cerr := openCache(ctx)
	net := new(int64)
	fallback := countingOpener(httpOpener(weightsBase), net)
	opener := fallback
	if cache != nil {
		opener = cache.Opener(fallback, nil)
	}
	kind := protocol.SourceBuiltIn
	var data []byte
	var err error = &NetworkError{URL: weightsBase + weights.ManifestFile, Err: errors.New("offline")}
	if online() || cache == nil {
		// Offline, a fetch would only fail (and log an error): the cache
		// answers first.
		data, err = fetchBytes(ctx, weightsBase+weights.ManifestFile)
	}
	var nerr *NetworkError
	if errors.As(err, &nerr) && cache != nil {
		if name, nerr2 := builtInName(); nerr2 == nil {
			if m, merr := cache.Manifest(name); merr == nil {
				data, _ = json.Marshal(m)
				err, kind = nil, protocol.SourceCache
			}
		}
		if err != nil {
			err = errors.New(msgOfflineNone)
		}
	}
	if err != nil {
		if cerr != nil {
			err = fmt.Errorf("%w (%v)", err, cerr)
		}
		return nil, err
	}
	return &host.Source{Manifest: data, Open: opener, Where: weightsBase, Kind: kind, Cache: cache, Net: net}, nil
}

// Folder opens the model folder whose File objects (a picked
// directory's, sent by the page) are files.
func (browser) Folder(ctx context.Context, files any) (*host.Source, error) {
	list, ok := files.(js.Value)
	if !ok || !list.Truthy() {
		return nil, errors.New("no files were picked")
	}
	byName := map[string]js.Value{}
	folder := ""
	for i := range list.Length() {
		f := list.Index(i)
		rel := f.Get("webkitRelativePath").String()
		if rel == "" {
			rel = f.Get("name").String()
		}
		if folder == "" {
			folder = strings.SplitN(rel, "/", 2)[0]
		}
		byName[path.Base(rel)] = f
	}
	mf, ok := byName[weights.ManifestFile]
	if !ok {
		return nil, fmt.Errorf("the folder %q holds no %s: pick a ctlens model folder (made by tools/convert or `ctlens model tiny`)", folder, weights.ManifestFile)
	}
	manifest, err := readBlob(mf, 0, mf.Get("size").Int())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", weights.ManifestFile, err)
	}
	open := func(ctx context.Context, ref weights.FileRef) (io.ReadCloser, error) {
		f, ok := byName[path.Base(ref.File)]
		if !ok {
			return nil, fmt.Errorf("the folder %q lacks %s, which its manifest names", folder, ref.File)
		}
		return &blobReader{ctx: ctx, f: f, size: int64(f.Get("size").Float())}, nil
	}
	return &host.Source{Manifest: manifest, Open: open, Where: folder, Kind: protocol.SourceFile, Folder: folder, Net: new(int64)}, nil
}

// Backend opens the CPU backend, or a WebGPU device (high performance)
// and the GPU backend on it.
func (browser) Backend(ctx context.Context, backend string, onLost func(string)) (model.Ops, func(), error) {
	if backend == protocol.BackendCPU {
		return cpu.New(), func() {}, nil
	}
	d, err := wgpu.Open(ctx, wgpu.Options{HighPerformance: true, OnLost: onLost})
	if err != nil {
		return nil, nil, err
	}
	return gpu.New(d), d.Close, nil
}

// IsDeviceLost reports whether err came from a lost GPU device.
func (browser) IsDeviceLost(err error) bool { return errors.Is(err, wgpu.ErrDeviceLost) }

// RememberBuiltIn records name in the cache.
func (browser) RememberBuiltIn(name string) error {
	if cacheFS == nil {
		return errors.New("no cache")
	}
	f, err := hackpadfs.Create(cacheFS, lastModelFile)
	if err != nil {
		return err
	}
	_, err = hackpadfs.WriteFile(f, []byte(name))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fetchResponse fetches url and fails on a non-2xx status. The abort
// controller ties the request to ctx.
func fetchResponse(ctx context.Context, url string) (js.Value, error) {
	ac := js.Global().Get("AbortController").New()
	stop := context.AfterFunc(ctx, func() { ac.Call("abort") })
	defer stop()
	resp, err := jsawait.Await(js.Global().Call("fetch", url, map[string]any{"signal": ac.Get("signal")}))
	if err != nil {
		if ctx.Err() != nil {
			return js.Value{}, ctx.Err()
		}
		return js.Value{}, &NetworkError{URL: url, Err: err}
	}
	if !resp.Get("ok").Bool() {
		return js.Value{}, fmt.Errorf("%s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	return resp, nil
}

// fetchBytes fetches url whole.
func fetchBytes(ctx context.Context, url string) ([]byte, error) {
	resp, err := fetchResponse(ctx, url)
	if err != nil {
		return nil, err
	}
	ab, err := jsawait.Await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", url, err)
	}
	u8 := js.Global().Get("Uint8Array").New(ab)
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	return b, nil
}

// httpOpener serves a model directory's files from base (e.g.
// "/weights/"), streaming each body chunk by chunk as it arrives.
func httpOpener(base string) weights.Opener {
	return func(ctx context.Context, f weights.FileRef) (io.ReadCloser, error) {
		url := strings.TrimSuffix(base, "/") + "/" + f.File
		resp, err := fetchResponse(ctx, url)
		if err != nil {
			return nil, err
		}
		body := resp.Get("body")
		if !body.Truthy() { // no streams: the whole body at once
			b, err := fetchBytes(ctx, url)
			if err != nil {
				return nil, err
			}
			return io.NopCloser(strings.NewReader(string(b))), nil
		}
		return &streamReader{ctx: ctx, url: url, rd: body.Call("getReader")}, nil
	}
}

// streamReader reads a ReadableStream's chunks.
type streamReader struct {
	ctx  context.Context
	url  string
	rd   js.Value
	buf  []byte
	done bool
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		res, err := jsawait.Await(r.rd.Call("read"))
		if err != nil {
			return 0, &NetworkError{URL: r.url, Err: err}
		}
		if res.Get("done").Bool() {
			r.done = true
			continue
		}
		v := res.Get("value")
		b := make([]byte, v.Length())
		js.CopyBytesToGo(b, v)
		r.buf = b
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *streamReader) Close() error {
	if !r.done {
		r.rd.Call("cancel")
	}
	return nil
}

// cacheDB is the IndexedDB database of the weights cache, apart from the
// library's.
const cacheDB = "ctlens-weights"

var (
	cacheOnce sync.Once
	cacheFS   *indexeddb.FS
	cacheErr  error
)

// openCache opens the weights cache in IndexedDB (once per worker).
func openCache(ctx context.Context) (*weights.Cache, error) {
	cacheOnce.Do(func() {
		cacheFS, cacheErr = indexeddb.NewFS(context.Background(), cacheDB, indexeddb.Options{})
	})
	if cacheErr != nil {
		return nil, fmt.Errorf("the weights cache (IndexedDB) cannot be opened: %w", cacheErr)
	}
	return weights.NewCache(cacheFS, "weights")
}

// lastModelFile names, in the cache, the built-in model last loaded, so
// that an offline visit knows which cached manifest to use.
const lastModelFile = "weights/builtin-model.txt"

func builtInName() (string, error) {
	if cacheFS == nil {
		return "", errors.New("no cache")
	}
	b, err := hackpadfs.ReadFile(cacheFS, lastModelFile)
	return strings.TrimSpace(string(b)), err
}

func readBlob(f js.Value, from, to int) ([]byte, error) {
	ab, err := jsawait.Await(f.Call("slice", from, to).Call("arrayBuffer"))
	if err != nil {
		return nil, err
	}
	u8 := js.Global().Get("Uint8Array").New(ab)
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	return b, nil
}

// blobReader reads a File in slices of 1 MiB.
type blobReader struct {
	ctx  context.Context
	f    js.Value
	off  int64
	size int64
	buf  []byte
}

func (r *blobReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.size {
			return 0, io.EOF
		}
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		end := min(r.off+1<<20, r.size)
		b, err := readBlob(r.f, int(r.off), int(end))
		if err != nil {
			return 0, err
		}
		r.buf, r.off = b, end
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *blobReader) Close() error { return nil }

// online reports navigator.onLine (WorkerNavigator has it too): false
// means surely offline.
func online() bool { return js.Global().Get("navigator").Get("onLine").Bool() }
