package library

import (
	"context"
	"errors"
	"sync"
	"time"

	"ctlens/app/importer/protocol"
	"ctlens/app/internal/taskyield"
	"ctlens/volume"
)

// Progress is how far an import is (decoding in the import worker, then
// storing here).
type Progress = protocol.Progress

// Skipped is a file (or series) left out of an import or of a series,
// and why, in plain words.
type Skipped = protocol.Skipped

// A Decoder reads one import's files and emits what it finds, in order:
// Progress events, one Scanned after the header pass, then a Series per
// series; it returns when it is done (nil) or stopped (the reason). In
// the browser it is the import worker (the page never links the DICOM
// parser); natively it is app/importer/decode.Files.
type Decoder func(ctx context.Context, emit func(protocol.Event) error) error

// ImportOptions tune Store.Import.
type ImportOptions struct {
	Source string // where the files came from, shown in the list
	Sample bool   // the built-in sample study
	// Progress, when set, is called after each file and each chunk.
	Progress func(Progress)
	// Yield, when set, is called as often as Progress: the browser uses it
	// to hand the main thread back to the page (see Yielder).
	Yield func()
}

// ImportResult is what an import stored and what it could not use.
type ImportResult struct {
	Stored []Entry // in the order the decoder found the series
	// First is the volume of Stored[0], already in memory, so the caller
	// can show it without reading it back.
	First *volume.Volume
	// Problems are the files (or series) that could not be used, with the
	// reason in plain words.
	Problems []Skipped
	// Ignored are files passed over on purpose (DICOMDIR, hidden files).
	Ignored []string
	Files   int // files looked at
}

// errNoScan is a decoder that sent a series before its header pass ended.
var errNoScan = errors.New("the decoder sent a series before the file list")

// Import stores each series dec decodes and collects the per-file
// problems. Only a cancelled ctx, a decoder that stops, or a store that
// cannot be written ends it early (with what was stored so far); a file
// or a series that fails is listed in Problems and the rest goes on.
func (s *Store) Import(ctx context.Context, dec Decoder, opt ImportOptions) (*ImportResult, error) {
	res := &ImportResult{}
	report := func(p Progress) {
		if opt.Progress != nil {
			opt.Progress(p)
		}
		if opt.Yield != nil {
			opt.Yield()
		}
	}
	var general []Skipped
	scanned := false
	err := dec(ctx, func(ev protocol.Event) error {
		switch {
		case ev.Progress != nil:
			report(*ev.Progress)
		case ev.Scanned != nil:
			scanned = true
			res.Files, res.Ignored = ev.Scanned.Files, ev.Scanned.Ignored
			general = ev.Scanned.Problems
			res.Problems = append(res.Problems, general...)
		case ev.Series != nil:
			if !scanned {
				return errNoScan
			}
			sr := ev.Series
			res.Problems = append(res.Problems, sr.Problems...)
			if sr.Volume == nil {
				return nil
			}
			v := sr.Volume
			name := v.Meta.DisplayName()
			// Files that failed the header pass cannot be tied to a
			// series; each series of the import lists them, so none is
			// forgotten.
			skipped := append(append([]Skipped(nil), sr.Problems...), general...)
			e, err := s.Put(ctx, v, PutOptions{
				Source:  opt.Source,
				Sample:  opt.Sample,
				Skipped: skipped,
				Progress: func(done, total int64) {
					report(Progress{Stage: "storing", Done: done, Total: total, Series: name})
				},
			})
			if err != nil {
				return err
			}
			res.Stored = append(res.Stored, e)
			if res.First == nil {
				res.First = v
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, nil
}

// Yielder returns a Yield function that ends the browser task
// (taskyield.Yield) whenever budget has passed since it last did: in
// Go's js/wasm port the page's event loop runs only between tasks, so a
// long import must yield now and then or the page freezes. It is safe for concurrent
// use.
func Yielder(budget time.Duration) func() {
	var mu sync.Mutex
	last := time.Now()
	return func() {
		mu.Lock()
		due := time.Since(last) >= budget
		if due {
			last = time.Now()
		}
		mu.Unlock()
		if due {
			taskyield.Yield()
			mu.Lock()
			last = time.Now()
			mu.Unlock()
		}
	}
}
