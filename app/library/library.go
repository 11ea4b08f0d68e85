// Package library is the app's offline study library: import of files,
// folders and zips, the series list with thumbnails and warnings, and
// storage in IndexedDB through hackpadfs.
//
// The storage layer (Store) and the import pipeline (Store.Import, which
// stores what a Decoder reads) are plain Go over hackpadfs, tested
// natively on hackpadfs' mem file system with app/importer/decode as the
// Decoder. In the browser the Decoder is the DICOM import worker
// (app/importer): the page never links the DICOM parser. Panel is the
// go-app component, and the *_js.go files bind it to the browser
// (IndexedDB, File objects, drag and drop, fetch of the sample study, the
// import worker).
package library

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"ctlens/app/state"
	"ctlens/volume"
)

// Panel is the library panel: the series list, the import controls and
// the whole-page drop overlay.
type Panel struct {
	app.Compo

	store   *Store
	entries []Entry
	thumbs  map[string]string // id → data: URL
	loadErr string            // the store could not be opened or listed

	selected string // series on screen
	opening  string // series being loaded
	confirm  string // series whose delete awaits confirmation

	importing bool
	prog      Progress
	file      string // the file being read, when known
	problems  []Skipped
	summary   string // of the last import
	dragging  bool

	used, quota int64 // navigator.storage.estimate, bytes
	stored      int64 // the library's own files
	persisted   bool

	importMu sync.Mutex // one import at a time
	plat     platform

	// ctx is the panel's own context from OnMount. Work started by a
	// click must use it: the context of a handler belongs to the element
	// clicked, and once that element is gone (a confirm button after the
	// confirmation) go-app silently drops its Dispatch calls.
	ctx app.Context
	// shared is the store, for goroutines (store is for rendering).
	shared atomic.Pointer[Store]
}

// OnMount opens the store (IndexedDB in the browser), lists it, offers
// the sample study on first open and reopens the last series.
func (p *Panel) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	p.thumbs = map[string]string{}
	p.ctx = ctx
	p.plat.mount(ctx, p)
	ctx.Async(func() {
		fsys, err := p.plat.openStorage(context.Background())
		if err != nil {
			ctx.Dispatch(func(app.Context) { p.loadErr = "The library cannot be opened: " + err.Error() })
			return
		}
		st, err := Open(fsys, "library")
		if err != nil {
			ctx.Dispatch(func(app.Context) { p.loadErr = "The library cannot be opened: " + err.Error() })
			return
		}
		st.Yield = Yielder(yieldEvery)
		p.shared.Store(st)
		persisted := p.plat.askPersist()
		ctx.Dispatch(func(app.Context) { p.store, p.persisted = st, persisted })
		p.refresh(ctx)
		set := st.Settings()
		list, _ := st.List()
		switch {
		case !set.SampleOffered && len(list) == 0:
			p.importSample(ctx)
		case set.LastOpened != "":
			for _, e := range list {
				if e.ID == set.LastOpened && e.Err == nil {
					p.open(ctx, e.ID)
				}
			}
		}
	})
}

// OnDismount removes the page-wide drop listeners.
func (p *Panel) OnDismount() { p.plat.dismount() }

// refresh lists the store and the storage estimate (off the UI goroutine).
func (p *Panel) refresh(ctx app.Context) {
	st := p.storeNow()
	if st == nil {
		return
	}
	list, err := st.List()
	usage, _ := st.Usage()
	used, quota := p.plat.estimate()
	thumbs := map[string]string{}
	for _, e := range list {
		if len(e.Thumb) > 0 {
			thumbs[e.ID] = "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.Thumb)
		}
	}
	ctx.Dispatch(func(app.Context) {
		p.entries, p.thumbs, p.stored, p.used, p.quota = list, thumbs, usage, used, quota
		if err != nil {
			p.loadErr = "The library cannot be listed: " + err.Error()
		}
	})
}

// storeNow is the store, from any goroutine (nil until it is open).
func (p *Panel) storeNow() *Store { return p.shared.Load() }

// importSample fetches /sample/index.json and its files and imports them
// as the sample study, once: the settings remember it was offered.
func (p *Panel) importSample(ctx app.Context) {
	st := p.storeNow()
	p.plat.idle()
	setData("sample-start", perfNow())
	start := time.Now()
	dec, name, err := p.plat.fetchSample(func(done, total int) {
		ctx.Dispatch(func(app.Context) {
			p.importing = true
			p.prog = Progress{Stage: "reading", Done: int64(done), Total: int64(total)}
		})
	})
	if err != nil {
		ctx.Dispatch(func(app.Context) {
			p.importing = false
			p.problems = []Skipped{{Path: "sample study", Reason: err.Error()}}
		})
		return
	}
	res := p.runImport(ctx, dec, ImportOptions{Source: name, Sample: true}, start)
	if res == nil || len(res.Stored) == 0 {
		return // offered again next time
	}
	set := st.Settings()
	set.SampleOffered = true
	st.SaveSettings(set)
}

// runImport imports fsys into the store, showing progress, and opens the
// first series stored. It returns nil when the import failed as a whole.
// For the sample study, the time from start (its fetch) to stored is
// logged and published for tests, before the series is opened, so the
// viewer's work on it is not counted.
func (p *Panel) runImport(ctx app.Context, dec Decoder, opt ImportOptions, start time.Time) *ImportResult {
	p.importMu.Lock()
	defer p.importMu.Unlock()
	st := p.storeNow()
	if st == nil {
		return nil
	}
	ctx.Dispatch(func(app.Context) {
		p.importing, p.problems, p.summary = true, nil, ""
		p.prog = Progress{Stage: "headers"}
	})
	last := time.Time{}
	opt.Progress = func(pr Progress) {
		// Redraw at most every 50 ms (and at each stage's end): a redraw
		// per file would cost more than the file.
		if now := time.Now(); now.Sub(last) >= 50*time.Millisecond || pr.Done == pr.Total {
			last = now
			ctx.Dispatch(func(app.Context) { p.prog, p.file = pr, pr.File })
		}
	}
	opt.Yield = st.Yield
	setData("last-start", perfNow())
	res, err := st.Import(context.Background(), dec, opt)
	setData("last-end", perfNow())
	if opt.Sample && err == nil && len(res.Stored) > 0 {
		ms := time.Since(start).Milliseconds()
		setData("sample-end", perfNow())
		setData("sample-ms", ms)
		setData("sample-bytes", res.Stored[0].Bytes)
		logInfo(fmt.Sprintf("library: sample study imported in %d ms (fetch to stored), %d bytes stored", ms, res.Stored[0].Bytes))
	}
	ctx.Dispatch(func(app.Context) {
		p.importing, p.file = false, ""
		if err != nil {
			p.problems = append(p.problems, Skipped{Path: opt.Source, Reason: err.Error()})
		}
		if res != nil {
			p.problems = append(p.problems, res.Problems...)
			p.summary = importSummary(res)
		}
	})
	p.refresh(ctx)
	if res != nil && len(res.Stored) > 0 {
		e := res.Stored[0]
		p.show(ctx, st, e, res.First)
	}
	return res
}

// yieldEvery is how long (wall time) an import runs before it lets the
// page run, half of what a browser calls a long task. Each yield costs a
// timer turn (1-4 ms), so yielding after every file would slow a
// 500-file import by seconds.
const yieldEvery = 25 * time.Millisecond

func importSummary(res *ImportResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d file(s) read: %d series stored", res.Files, len(res.Stored))
	if n := len(res.Problems); n > 0 {
		fmt.Fprintf(&b, ", %d problem(s)", n)
	}
	return b.String()
}

// importFiles imports files the user picked or dropped.
func (p *Panel) importFiles(dec Decoder, source string) {
	ctx := p.ctx
	ctx.Async(func() {
		p.plat.askPersist()
		p.runImport(ctx, dec, ImportOptions{Source: source}, time.Now())
	})
}

// open loads a stored series and puts it on screen (off the UI goroutine).
func (p *Panel) open(ctx app.Context, id string) {
	st := p.storeNow()
	if st == nil {
		return
	}
	ctx.Dispatch(func(app.Context) { p.opening = id })
	v, e, err := st.Load(context.Background(), id)
	if err != nil {
		ctx.Dispatch(func(app.Context) {
			p.opening = ""
			p.problems = []Skipped{{Path: id, Reason: err.Error()}}
		})
		return
	}
	p.show(ctx, st, e, v)
}

// show publishes a loaded series through app/state and remembers it.
func (p *Panel) show(ctx app.Context, st *Store, e Entry, v *volume.Volume) {
	state.SetCurrent(&state.Series{ID: e.ID, Name: seriesLabel(e), Volume: v, Sample: e.Sample})
	set := st.Settings()
	if set.LastOpened != e.ID {
		set.LastOpened = e.ID
		st.SaveSettings(set)
	}
	ctx.Dispatch(func(ctx app.Context) {
		p.selected, p.opening = e.ID, ""
		ctx.NewActionWithValue(state.ActionSeriesOpened, e.ID)
	})
}

// remove deletes a series after the user confirmed.
func (p *Panel) remove(id string) {
	ctx := p.ctx
	st := p.store
	wasOpen := p.selected == id
	p.confirm = ""
	ctx.Async(func() {
		if err := st.Delete(id); err != nil {
			ctx.Dispatch(func(app.Context) { p.problems = []Skipped{{Path: id, Reason: err.Error()}} })
		}
		if wasOpen {
			state.SetCurrent(nil)
			ctx.Dispatch(func(ctx app.Context) {
				p.selected = ""
				ctx.NewActionWithValue(state.ActionSeriesOpened, "")
			})
		}
		set := st.Settings()
		if set.LastOpened == id {
			set.LastOpened = ""
			st.SaveSettings(set)
		}
		p.refresh(ctx)
	})
}

// seriesLabel is what the rest of the app calls a series: name, body
// part, date.
func seriesLabel(e Entry) string {
	parts := []string{e.Name}
	if b := strings.TrimSpace(e.Meta.BodyPartExamined); b != "" && !strings.Contains(strings.ToUpper(e.Name), strings.ToUpper(b)) {
		parts = append(parts, b)
	}
	if d := e.Date(); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}
