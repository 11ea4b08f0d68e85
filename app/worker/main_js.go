//go:build js && wasm

package main

import (
	"syscall/js"

	"ctlens/app/worker/host"
	"ctlens/app/worker/protocol"
)

// The worker's message loop. engine-worker.js queues the page's messages
// in self.__ctlensPending until this program installs its own handler,
// so nothing sent while the wasm compiles is lost.
func main() {
	self := js.Global()
	h := host.New(browser{}, post)
	onMessage := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			receive(h, args[0].Get("data"))
		}
		return nil
	})
	self.Set("onmessage", onMessage)
	installTestCrash(self)
	if q := self.Get("__ctlensPending"); q.Truthy() {
		for i := range q.Length() {
			receive(h, q.Index(i).Get("data"))
		}
		self.Delete("__ctlensPending")
	}
	select {}
}

// receive decodes one posted message and hands it to the host. A message
// that does not decode is answered with an Error (when it has an id),
// so the page never waits for a reply that will not come.
func receive(h *host.Host, data js.Value) {
	if data.Type() != js.TypeObject || data.Get("head").Type() != js.TypeString {
		js.Global().Get("console").Call("error", "ctlens model worker: a message without a head")
		return
	}
	var blob []byte
	if b := data.Get("blob"); b.Truthy() {
		blob = make([]byte, b.Length())
		js.CopyBytesToGo(blob, b)
	}
	id, m, err := protocol.Decode(data.Get("head").String(), blob)
	if err != nil {
		js.Global().Get("console").Call("error", "ctlens model worker: "+err.Error())
		if id != 0 {
			post(id, &protocol.Error{Message: err.Error()})
		}
		return
	}
	var files any
	if f := data.Get("files"); f.Truthy() {
		files = f
	}
	h.Handle(id, m, files)
}

// post sends a reply to the page; a blob is transferred, not copied.
func post(id int, m protocol.Message) {
	head, blob, err := protocol.Encode(id, m)
	if err != nil {
		head, blob, _ = protocol.Encode(id, &protocol.Error{Message: err.Error()})
	}
	msg := map[string]any{"head": head}
	if blob != nil {
		u8 := js.Global().Get("Uint8Array").New(len(blob))
		js.CopyBytesToJS(u8, blob)
		msg["blob"] = u8
		js.Global().Call("postMessage", msg, []any{u8.Get("buffer")})
		return
	}
	js.Global().Call("postMessage", msg)
}
