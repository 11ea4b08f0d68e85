//go:build js && wasm

package library

import (
	"context"
	"errors"
	"sync"
	"syscall/js"

	"ctlens/app/importer/protocol"
)

// importWorkerURL is the DICOM import worker's script (server/serve).
const importWorkerURL = "/web/import-worker.js"

// importConn is the page's end of the DICOM import worker
// (app/importer). The worker starts with the first import and stays; if
// it dies (it could not load, or its Go program stopped) the running
// import ends with the reason and the next import starts a new one.
type importConn struct {
	mu   sync.Mutex
	w    js.Value // the Worker; undefined until started, and after it died
	next int
	cur  int         // the running import's id, 0 when none
	q    *eventQueue // the running import's events
}

// importer is the page's one import worker: the panel runs one import
// at a time.
var importer importConn

// eventQueue hands the worker's events, which arrive in message
// callbacks that must not block, to the import's goroutine.
type eventQueue struct {
	mu   sync.Mutex
	evs  []protocol.Event
	wake chan struct{}
	// asm puts a series back together from its pieces: each piece
	// arrives in a callback (a browser task) of its own, and copying it
	// takes a few milliseconds, where copying a 250 MB series in one go
	// held the page for 150–300 ms.
	asm protocol.Assembler
}

func (q *eventQueue) push(ev protocol.Event) {
	q.mu.Lock()
	q.evs = append(q.evs, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop(ctx context.Context) (protocol.Event, error) {
	for {
		q.mu.Lock()
		if len(q.evs) > 0 {
			ev := q.evs[0]
			q.evs = q.evs[1:]
			q.mu.Unlock()
			return ev, nil
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return protocol.Event{}, ctx.Err()
		}
	}
}

// workerDecoder is the Decoder that reads these files in the import
// worker. The Blobs are posted, not read here: File objects clone by
// reference, so nothing is copied on the page.
func workerDecoder(paths []string, blobs []js.Value, source string) Decoder {
	return func(ctx context.Context, emit func(protocol.Event) error) error {
		q, id, err := importer.begin(paths, blobs, source)
		if err != nil {
			return err
		}
		defer importer.end(id)
		for {
			ev, err := q.pop(ctx)
			if err != nil {
				// The worker may still be decoding; a new worker serves
				// the next import rather than queueing behind it.
				importer.stop()
				return err
			}
			switch {
			case ev.Error != "":
				return errors.New(ev.Error)
			case ev.Done:
				return nil
			}
			if err := emit(ev); err != nil {
				importer.stop()
				return err
			}
		}
	}
}

// postBatch is how many files go in one message: cloning a File costs
// the page ~0.35 ms, so 500 in one postMessage held it for 175 ms.
const postBatch = 64

// begin starts an import in the worker (starting the worker first when
// needed) and returns the queue of its events. The files go in batches,
// the page's thread yielding between them; the worker starts once it
// has them all.
func (c *importConn) begin(paths []string, blobs []js.Value, source string) (*eventQueue, int, error) {
	c.mu.Lock()
	if !c.w.Truthy() {
		if err := c.startLocked(); err != nil {
			c.mu.Unlock()
			return nil, 0, err
		}
	}
	c.next++
	id := c.next
	head, err := protocol.EncodeStart(id, protocol.Start{Source: source, Files: len(paths)})
	if err != nil {
		c.mu.Unlock()
		return nil, 0, err
	}
	c.cur, c.q = id, &eventQueue{wake: make(chan struct{}, 1)}
	w, q := c.w, c.q
	c.mu.Unlock()
	yield := Yielder(yieldEvery)
	for i := 0; i == 0 || i < len(paths); i += postBatch {
		end := min(i+postBatch, len(paths))
		ps := make([]any, 0, end-i)
		fs := make([]any, 0, end-i)
		for k := i; k < end; k++ {
			ps, fs = append(ps, paths[k]), append(fs, blobs[k])
		}
		w.Call("postMessage", map[string]any{"head": head, "paths": ps, "files": fs})
		yield()
	}
	return q, id, nil
}

// end forgets import id: late events of it are dropped.
func (c *importConn) end(id int) {
	c.mu.Lock()
	if c.cur == id {
		c.cur, c.q = 0, nil
	}
	c.mu.Unlock()
}

// stop terminates the worker; the next import starts a new one.
func (c *importConn) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w.Truthy() {
		c.w.Call("terminate")
	}
	c.w = js.Undefined()
}

func (c *importConn) startLocked() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("the browser did not start the import worker: " + jsErrorText(r))
		}
	}()
	w := js.Global().Get("Worker").New(importWorkerURL)
	w.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			c.receive(w, args[0].Get("data"))
		}
		return nil
	}))
	w.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "the import worker failed"
		if len(args) > 0 {
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg += ": " + m.String()
			}
		}
		c.died(w, msg)
		return nil
	}))
	c.w = w
	return nil
}

// receive runs in the worker's message callback: it puts the running
// import's messages together into events and queues them, and never
// blocks.
func (c *importConn) receive(w js.Value, data js.Value) {
	if data.Type() != js.TypeObject || data.Get("head").Type() != js.TypeString {
		return
	}
	head := data.Get("head").String()
	id, err := protocol.EventID(head)
	if err != nil {
		c.deliver(0, protocol.Event{Error: "the import worker's reply: " + err.Error()})
		return
	}
	if id == 0 {
		// Only the worker's script sends id 0: the worker is gone.
		_, ev, err := protocol.DecodeEvent(head, nil)
		why := ev.Error
		if err != nil || why == "" {
			why = "the import worker stopped"
		}
		c.died(w, why)
		return
	}
	c.mu.Lock()
	q := c.q
	if id != c.cur {
		q = nil
	}
	c.mu.Unlock()
	if q == nil {
		return // a late message of an import that ended
	}
	blob := data.Get("blob")
	n := 0
	if blob.Truthy() {
		n = blob.Length()
	}
	_, ev, ok, err := q.asm.Add(head, n, func(dst []byte) { js.CopyBytesToGo(dst, blob) })
	switch {
	case err != nil:
		q.push(protocol.Event{Error: "the import worker's reply: " + err.Error()})
	case ok:
		q.push(ev)
	}
}

// deliver queues ev for import id (0: whatever import is running).
func (c *importConn) deliver(id int, ev protocol.Event) {
	c.mu.Lock()
	q := c.q
	if id != 0 && id != c.cur {
		q = nil
	}
	c.mu.Unlock()
	if q != nil {
		q.push(ev)
	}
}

// died ends the running import with why the worker w is gone and drops
// it, so the next import starts a fresh one.
func (c *importConn) died(w js.Value, why string) {
	js.Global().Get("console").Call("error", "ctlens: "+why)
	c.mu.Lock()
	q := c.q
	if c.w.Equal(w) {
		w.Call("terminate")
		c.w = js.Undefined()
	}
	c.mu.Unlock()
	if q != nil {
		q.push(protocol.Event{Error: why})
	}
}

// jsErrorText is a recovered js panic's message.
func jsErrorText(r any) string {
	if e, ok := r.(js.Error); ok {
		return e.Error()
	}
	if e, ok := r.(error); ok {
		return e.Error()
	}
	return "unknown error"
}
