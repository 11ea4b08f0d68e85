//go:build js && wasm

package boot

import (
	"syscall/js"

	"ctlens/app/internal/taskyield"
)

// InBrowser is true in the browser build.
const InBrowser = true

// init runs early (it depends only on syscall/js and taskyield, which
// the runtime's own dependencies initialise first): it holds the loader and
// ends the browser task that compiled and instantiated the wasm.
func init() {
	hold()
	taskyield.Yield()
}

// hold replaces go-app's loader with a copy: app.js keeps a reference to
// the original and removes that one when the wasm first returns; the
// copy stays on screen until Release.
func hold() {
	doc := js.Global().Get("document")
	if !doc.Truthy() {
		return // not a page (a worker, or node running tests)
	}
	l := doc.Call("getElementById", LoaderID)
	if !l.Truthy() {
		return
	}
	l.Call("replaceWith", l.Call("cloneNode", true))
}

// Release removes the loading overlay: the app has mounted.
func Release() {
	doc := js.Global().Get("document")
	if !doc.Truthy() {
		return
	}
	if l := doc.Call("getElementById", LoaderID); l.Truthy() {
		l.Call("remove")
	}
}
