//go:build js && wasm

package assistant

import (
	"context"
	"errors"
	"syscall/js"

	"ctlens/app/internal/jsawait"
)

// The browser side of the panel: the clipboard, downloads and picked
// files (the model's own — fetch, cache, WebGPU — are the worker's,
// app/worker). Every call that awaits a promise blocks its goroutine:
// call them from ctx.Async, never from an event handler (the UI
// goroutine).

// hasWebGPU reports whether navigator.gpu exists (an adapter may still be
// refused; openGPU says so).
func hasWebGPU() bool { return js.Global().Get("navigator").Get("gpu").Truthy() }

// copyText puts s on the clipboard.
func copyText(ctx context.Context, s string) error {
	cb := js.Global().Get("navigator").Get("clipboard")
	if !cb.Truthy() {
		return errors.New("this browser gives no clipboard access here")
	}
	_, err := jsawait.Await(cb.Call("writeText", s))
	return err
}

// download saves data as a file named name.
func download(name, mime string, data []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	blob := js.Global().Get("Blob").New([]any{u8}, map[string]any{"type": mime})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	doc := js.Global().Get("document")
	a := doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	a.Set("rel", "noopener")
	doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	js.Global().Call("setTimeout", js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		return nil
	}), 60000)
}

// pickedFiles is the File objects of the folder picked in the input
// with id, for the model worker (a FileList is structured-cloned with the
// message).
func pickedFiles(id string) (any, error) {
	in := js.Global().Get("document").Call("getElementById", id)
	if !in.Truthy() {
		return nil, errors.New("no folder input")
	}
	files := in.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return nil, errors.New("no files were picked")
	}
	return files, nil
}

// clearValue empties the form field with id at once. go-app v10 drops an
// empty "value" attribute (it keeps an empty value only for a few
// attribute names, and checks the value instead of the name), so a render
// of an empty report removes the textarea's value attribute, which leaves
// the text it shows, the last report, in place until the first token.
func clearValue(id string) {
	if el := js.Global().Get("document").Call("getElementById", id); el.Truthy() {
		el.Set("value", "")
	}
}
