//go:build js && wasm

package library

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/hack-pad/hackpadfs"
	"github.com/hack-pad/hackpadfs/indexeddb"
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/importer/blobfs"
	"ctlens/app/internal/jsawait"
	"ctlens/app/internal/taskyield"
)

// platform binds the panel to the browser.
type platform struct {
	listeners []func() // removes one page-wide listener each

	persistOnce sync.Once
	persisted   bool
}

// openStorage opens the library's IndexedDB database.
func (pl *platform) openStorage(ctx context.Context) (hackpadfs.FS, error) {
	return indexeddb.NewFS(ctx, "ctlens-library", indexeddb.Options{})
}

// askPersist asks the browser, once per page, to keep the library's data
// under storage pressure, and reports whether it will.
func (pl *platform) askPersist() bool {
	pl.persistOnce.Do(func() {
		st := js.Global().Get("navigator").Get("storage")
		if !st.Truthy() || !st.Get("persist").Truthy() {
			return
		}
		v, err := jsawait.Await(st.Call("persist"))
		pl.persisted = err == nil && v.Type() == js.TypeBoolean && v.Bool()
	})
	return pl.persisted
}

// estimate is navigator.storage.estimate(): bytes used by this site and
// available to it.
func (pl *platform) estimate() (used, quota int64) {
	st := js.Global().Get("navigator").Get("storage")
	if !st.Truthy() || !st.Get("estimate").Truthy() {
		return 0, 0
	}
	v, err := jsawait.Await(st.Call("estimate"))
	if err != nil || !v.Truthy() {
		return 0, 0
	}
	num := func(k string) int64 {
		if x := v.Get(k); x.Type() == js.TypeNumber {
			return int64(x.Float())
		}
		return 0
	}
	return num("usage"), num("quota")
}

// idle waits until the page is idle (requestIdleCallback), at most 3 s,
// so the sample study's import does not compete with the app's start.
func (pl *platform) idle() {
	w := js.Global()
	if !w.Get("requestIdleCallback").Truthy() {
		return
	}
	opts := js.Global().Get("Object").New()
	opts.Set("timeout", 3000)
	jsawait.Await(promise(func(res, _ js.Value) { w.Call("requestIdleCallback", res, opts) }))
}

// sampleIndex is /sample/index.json, as the server writes it.
type sampleIndex struct {
	Name  string   `json:"name"`
	Files []string `json:"files"`
	Bytes int64    `json:"bytes"`
}

// fetchSample fetches the sample study from the app's own origin into
// Blobs (the browser keeps them, not the Go heap) for the import worker.
func (pl *platform) fetchSample(progress func(done, total int)) (Decoder, string, error) {
	fetch := func(u string) (js.Value, error) {
		resp, err := jsawait.Await(js.Global().Call("fetch", u))
		if err != nil {
			return js.Value{}, fmt.Errorf("the sample study could not be fetched (%s): %v", u, err)
		}
		if !resp.Get("ok").Bool() {
			return js.Value{}, fmt.Errorf("the sample study is not available: %s answered HTTP %d", u, resp.Get("status").Int())
		}
		return resp, nil
	}
	resp, err := fetch("/sample/index.json")
	if err != nil {
		return nil, "", err
	}
	txt, err := jsawait.Await(resp.Call("text"))
	if err != nil {
		return nil, "", fmt.Errorf("the sample study index could not be read: %v", err)
	}
	var idx sampleIndex
	if err := json.Unmarshal([]byte(txt.String()), &idx); err != nil {
		return nil, "", fmt.Errorf("the sample study index is damaged: %v", err)
	}
	if len(idx.Files) == 0 {
		return nil, "", fmt.Errorf("the sample study index lists no files")
	}
	blobs := make([]js.Value, len(idx.Files))
	// A few requests at a time: the server is local, the round trips are
	// what costs.
	const batch = 8
	for i := 0; i < len(idx.Files); i += batch {
		var ps []js.Value
		for _, f := range idx.Files[i:min(i+batch, len(idx.Files))] {
			u := (&url.URL{Path: path.Join("/sample", f)}).EscapedPath()
			resp, err := fetch(u)
			if err != nil {
				return nil, "", err
			}
			ps = append(ps, resp.Call("blob"))
		}
		for k, p := range ps {
			b, err := jsawait.Await(p)
			if err != nil {
				return nil, "", fmt.Errorf("the sample study file %s could not be read: %v", idx.Files[i+k], err)
			}
			blobs[i+k] = b
			progress(i+k+1, len(idx.Files))
		}
	}
	name := idx.Name
	if name == "" {
		name = "sample study"
	}
	return workerDecoder(idx.Files, blobs, name), name, nil
}

// perfNow is performance.now(), ms since the page started, the clock of
// longtask entries.
func perfNow() float64 { return js.Global().Get("performance").Call("now").Float() }

// logInfo writes to the browser console.
func logInfo(s string) { js.Global().Get("console").Call("info", s) }

// setData publishes a number for tests and curious users under
// window.__ctlensLibrary.
func setData(k string, v any) {
	w := js.Global()
	o := w.Get("__ctlensLibrary")
	if !o.Truthy() {
		o = js.Global().Get("Object").New()
		w.Set("__ctlensLibrary", o)
	}
	o.Set(k, v)
}

// onInput imports the files chosen in one of the file inputs.
func (p *Panel) onInput(ctx app.Context, e app.Event) {
	// go-app's Value hides the js.Value; find the input again by id.
	input := js.Global().Get("document").Call("getElementById", e.Get("target").Get("id").String())
	if !input.Truthy() {
		return
	}
	setData("input-start", perfNow())
	list := input.Get("files")
	if list.Get("length").Int() == 0 {
		return
	}
	// The File objects stay valid; clearing the input lets the same
	// files be chosen again.
	files := js.Global().Get("Array").Call("from", list)
	input.Set("value", "")
	// The browser built the FileList in this task (for a 500-file folder,
	// most of 200 ms): the rest runs in tasks of its own.
	ctx.Async(func() {
		taskyield.Yield()
		n := files.Length()
		paths := make([]string, n)
		blobs := make([]js.Value, n)
		for i := range n {
			f := files.Index(i)
			name := f.Get("webkitRelativePath").String()
			if name == "" || name == "undefined" {
				name = f.Get("name").String()
			}
			paths[i], blobs[i] = name, f
		}
		source := describe(paths)
		p.importFiles(workerDecoder(paths, blobs, source), source)
	})
}

// describe names what was imported: "IM0001.dcm", "study.zip and 2 more".
func describe(paths []string) string {
	if len(paths) == 0 {
		return "nothing"
	}
	first := blobfs.CleanPath(paths[0])
	if i := strings.IndexByte(first, '/'); i > 0 {
		first = first[:i] + "/"
	}
	if len(paths) == 1 {
		return first
	}
	return fmt.Sprintf("%s and %d more", first, len(paths)-1)
}

// mount installs the page-wide drag-and-drop listeners. They are raw
// listeners, not go-app handlers: go-app runs handlers later on its UI
// goroutine, when preventDefault is too late and the drop's
// DataTransfer has been emptied.
func (pl *platform) mount(ctx app.Context, p *Panel) {
	doc := js.Global().Get("document")
	depth := 0
	hasFiles := func(ev js.Value) bool {
		dt := ev.Get("dataTransfer")
		if !dt.Truthy() {
			return false
		}
		types := dt.Get("types")
		for i := range types.Get("length").Int() {
			if types.Index(i).String() == "Files" {
				return true
			}
		}
		return false
	}
	setDragging := func(on bool) { ctx.Dispatch(func(app.Context) { p.dragging = on }) }
	on := func(event string, h func(ev js.Value)) {
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) > 0 && hasFiles(args[0]) {
				h(args[0])
			}
			return nil
		})
		doc.Call("addEventListener", event, f)
		pl.listeners = append(pl.listeners, func() {
			doc.Call("removeEventListener", event, f)
			f.Release()
		})
	}
	on("dragenter", func(ev js.Value) {
		ev.Call("preventDefault")
		if depth++; depth == 1 {
			setDragging(true)
		}
	})
	on("dragover", func(ev js.Value) {
		ev.Call("preventDefault")
		ev.Get("dataTransfer").Set("dropEffect", "copy")
	})
	on("dragleave", func(ev js.Value) {
		if depth--; depth <= 0 {
			depth = 0
			setDragging(false)
		}
	})
	on("drop", func(ev js.Value) {
		ev.Call("preventDefault")
		depth = 0
		setDragging(false)
		// The items are readable only during the event: take the entries
		// now, walk them later.
		items := ev.Get("dataTransfer").Get("items")
		var entries, files []js.Value
		for i := range items.Get("length").Int() {
			it := items.Index(i)
			if it.Get("kind").String() != "file" {
				continue
			}
			if it.Get("webkitGetAsEntry").Truthy() {
				if en := it.Call("webkitGetAsEntry"); en.Truthy() {
					entries = append(entries, en)
					continue
				}
			}
			if f := it.Call("getAsFile"); f.Truthy() {
				files = append(files, f)
			}
		}
		ctx.Async(func() {
			var paths []string
			var blobs []js.Value
			for _, f := range files {
				paths = append(paths, f.Get("name").String())
				blobs = append(blobs, f)
			}
			var problems []Skipped
			for _, en := range entries {
				walkEntry(en, &paths, &blobs, &problems)
			}
			if len(paths) == 0 && len(problems) == 0 {
				// An empty folder (or a drop of nothing readable) would
				// otherwise leave the page silent.
				for _, en := range entries {
					problems = append(problems, Skipped{Path: en.Get("name").String(), Reason: "no files in this folder: nothing was imported"})
				}
			}
			if len(problems) > 0 {
				ctx.Dispatch(func(app.Context) { p.problems = problems })
			}
			if len(paths) > 0 {
				p.plat.askPersist()
				source := describe(paths)
				p.runImport(ctx, workerDecoder(paths, blobs, source), ImportOptions{Source: source}, time.Now())
			}
		})
	})
}

// walkEntry collects the files under a dropped FileSystemEntry.
func walkEntry(en js.Value, paths *[]string, blobs *[]js.Value, problems *[]Skipped) {
	full := en.Get("fullPath").String()
	if en.Get("isFile").Bool() {
		f, err := jsawait.Await(promise(func(res, rej js.Value) { en.Call("file", res, rej) }))
		if err != nil {
			*problems = append(*problems, Skipped{Path: blobfs.CleanPath(full), Reason: "the browser did not allow reading this file: " + err.Error()})
			return
		}
		*paths = append(*paths, full)
		*blobs = append(*blobs, f)
		return
	}
	if !en.Get("isDirectory").Bool() {
		return
	}
	r := en.Call("createReader")
	for {
		// readEntries returns at most ~100 entries per call.
		batch, err := jsawait.Await(promise(func(res, rej js.Value) { r.Call("readEntries", res, rej) }))
		if err != nil {
			*problems = append(*problems, Skipped{Path: blobfs.CleanPath(full) + "/", Reason: "the folder could not be read: " + err.Error()})
			return
		}
		n := batch.Get("length").Int()
		if n == 0 {
			return
		}
		for i := range n {
			walkEntry(batch.Index(i), paths, blobs, problems)
		}
	}
}

// promise wraps a callback-style API in a Promise.
func promise(start func(resolve, reject js.Value)) js.Value {
	var exec js.Func
	exec = js.FuncOf(func(_ js.Value, args []js.Value) any {
		exec.Release()
		start(args[0], args[1])
		return nil
	})
	return js.Global().Get("Promise").New(exec)
}

// dismount removes the listeners.
func (pl *platform) dismount() {
	for _, rm := range pl.listeners {
		rm()
	}
	pl.listeners = nil
}
