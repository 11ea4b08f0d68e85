//go:build js && wasm

package main

import (
	"os"
	"syscall/js"
	"time"
)

// installTestCrash sets self.__ctlensTestCrash(how), a test's way to end
// this program as a bug outside the host's request handling would: "panic"
// panics in a goroutine of its own (the host cannot recover it), "exit"
// exits with status 3, both a moment after the call has returned true.
// It does nothing (and returns false) unless self.__ctlensTestHooks is
// true: only a browser test sets that, through the DevTools protocol
// attached to this worker (app/internal/browsertest's WorkerEval), and no
// message from the page reaches either name.
func installTestCrash(self js.Value) {
	self.Set("__ctlensTestCrash", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if self.Get("__ctlensTestHooks").Type() != js.TypeBoolean || !self.Get("__ctlensTestHooks").Bool() || len(args) == 0 {
			return false
		}
		switch args[0].String() {
		case "panic":
			time.AfterFunc(time.Millisecond, func() { panic("ctlens test crash") })
		case "exit":
			time.AfterFunc(time.Millisecond, func() { os.Exit(3) })
		default:
			return false
		}
		return true
	}))
}
