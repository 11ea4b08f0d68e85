//go:build js && wasm

package taskyield

import (
	"syscall/js"
	"testing"
	"time"
)

// TestYieldEndsTheTask checks that Yield returns only after the browser
// (here node: GOOS=js GOARCH=wasm go test -exec=$(go env GOROOT)/lib/wasm/go_js_wasm_exec)
// has run the JavaScript queued before it, while another goroutine keeps
// the wasm busy for longer than a millisecond at a time — the case in
// which a plain time.Sleep(time.Millisecond) wakes up again without the
// wasm ever returning to the event loop.
func TestYieldEndsTheTask(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			for start := time.Now(); time.Since(start) < 3*time.Millisecond; {
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := range 5 {
		ran := false
		f := js.FuncOf(func(js.Value, []js.Value) any {
			ran = true
			return nil
		})
		js.Global().Call("setTimeout", f, 0)
		Yield()
		f.Release()
		if !ran {
			t.Fatalf("yield %d: Yield returned before the JavaScript queued ahead of it ran: the wasm never gave the event loop a turn", i)
		}
	}
}
