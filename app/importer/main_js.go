//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"syscall/js"

	"ctlens/app/importer/blobfs"
	"ctlens/app/importer/decode"
	"ctlens/app/importer/protocol"
)

// The worker's message loop. import-worker.js queues the page's messages
// in self.__ctlensPending until this program installs its own handler,
// so nothing sent while the wasm compiles is lost.
func main() {
	self := js.Global()
	self.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			receive(args[0].Get("data"))
		}
		return nil
	}))
	if q := self.Get("__ctlensPending"); q.Truthy() {
		for i := range q.Length() {
			receive(q.Index(i).Get("data"))
		}
		self.Delete("__ctlensPending")
	}
	select {}
}

// pending are the imports whose files are still coming, by id.
var pending = map[int]*gathering{}

// gathering is an import's files so far.
type gathering struct {
	start protocol.Start
	paths []string
	blobs []js.Value
}

// receive takes one batch of an import's files and starts the import
// once all have come. A message that does not decode is answered with an
// Error when it has an id, so the page never waits for nothing.
func receive(data js.Value) {
	if data.Type() != js.TypeObject || data.Get("head").Type() != js.TypeString {
		js.Global().Get("console").Call("error", "ctlens import worker: a message without a head")
		return
	}
	id, start, err := protocol.DecodeStart(data.Get("head").String())
	if err != nil {
		js.Global().Get("console").Call("error", "ctlens import worker: "+err.Error())
		if id != 0 {
			post(id, protocol.Event{Error: err.Error()})
		}
		return
	}
	paths, files := data.Get("paths"), data.Get("files")
	if paths.Type() != js.TypeObject || files.Type() != js.TypeObject || paths.Length() != files.Length() {
		post(id, protocol.Event{Error: "the import worker got a list of files it cannot read (paths and files differ)"})
		return
	}
	g := pending[id]
	if g == nil {
		g = &gathering{start: start}
		pending[id] = g
	}
	for i := range paths.Length() {
		g.paths = append(g.paths, paths.Index(i).String())
		g.blobs = append(g.blobs, files.Index(i))
	}
	if len(g.paths) > start.Files {
		delete(pending, id)
		post(id, protocol.Event{Error: fmt.Sprintf("the import worker got %d files for an import of %d", len(g.paths), start.Files)})
		return
	}
	if len(g.paths) == start.Files {
		delete(pending, id)
		go run(id, start, blobfs.New(g.paths, g.blobs))
	}
}

// run decodes one import, posting every event, and ends it with Done or
// Error. A panic in the reader (a bug, on some file nobody foresaw) ends
// this import with a message naming it instead of leaving the page
// waiting; the worker goes on serving the next import.
func run(id int, start protocol.Start, fsys *blobfs.FS) {
	defer func() {
		if r := recover(); r != nil {
			js.Global().Get("console").Call("error", fmt.Sprintf("ctlens import worker: %v\n%s", r, debug.Stack()))
			msg := fmt.Sprintf("the import stopped on an internal error while reading %s: %v", fsys.Last(), r)
			post(id, protocol.Event{Error: msg})
		}
	}()
	err := decode.Run(context.Background(), fsys, decode.Options{Source: start.Source, MaxVoxels: start.MaxVoxels, File: fsys.Last},
		func(ev protocol.Event) error {
			post(id, ev)
			return nil
		})
	if err != nil {
		post(id, protocol.Event{Error: err.Error()})
		return
	}
	post(id, protocol.Event{Done: true})
}

// post sends an event to the page; a series' voxels follow its head in
// pieces, each transferred, not copied a second time.
func post(id int, ev protocol.Event) {
	head, voxels, err := protocol.EncodeEvent(id, ev)
	if err != nil {
		head, voxels, _ = protocol.EncodeEvent(id, protocol.Event{Error: err.Error()})
	}
	js.Global().Call("postMessage", map[string]any{"head": head})
	b := protocol.Bytes(voxels)
	for off := 0; off < len(b); off += protocol.PieceBytes {
		piece := b[off:min(off+protocol.PieceBytes, len(b))]
		u8 := js.Global().Get("Uint8Array").New(len(piece))
		js.CopyBytesToJS(u8, piece)
		js.Global().Call("postMessage", map[string]any{"head": protocol.EncodePiece(id, int64(off/2)), "blob": u8}, []any{u8.Get("buffer")})
	}
}
