//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"syscall/js"
)

// main runs the suite in a goroutine, so that the awaits inside it leave
// the JS event loop free, then keeps the program alive: the device's
// callbacks (device.lost after Close) are Go functions, and an exited
// program would make them throw.
func main() {
	q, _ := url.ParseQuery(strings.TrimPrefix(js.Global().Get("location").Get("search").String(), "?"))
	opt, err := parseOptions(q.Get("case"), q.Get("heavy") == "1")
	if err != nil {
		publish(&Report{Error: err.Error(), Done: true})
		select {}
	}
	done := make(chan *Report)
	go func() { done <- runSuite(context.Background(), opt, publish) }()
	r := <-done
	fmt.Printf("gpucheck: done: %d passed, %d failed, %d skipped of %d; runtime checks failed: %d; %.1f s\n",
		r.Passed, r.Failed, r.Skipped, r.Total, r.RuntimeFailed, r.WallMS/1000)
	select {}
}

// publish puts the report on globalThis.ctlensGPUCheck (a plain object,
// parsed from the JSON) and in the page: a status line while it runs, the
// whole JSON in #report when done.
func publish(r *Report) {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(Report{Error: "gpucheck: encoding the report: " + err.Error(), Done: true})
	}
	g := js.Global()
	g.Set("ctlensGPUCheck", g.Get("JSON").Call("parse", string(b)))
	doc := g.Get("document")
	if st := doc.Call("getElementById", "status"); st.Truthy() {
		msg := fmt.Sprintf("running %d/%d: %s", len(r.Results), r.Total, r.Current)
		if r.Done {
			msg = fmt.Sprintf("done: %d passed, %d failed, %d skipped", r.Passed, r.Failed, r.Skipped)
			if r.Error != "" {
				msg += " — error: " + r.Error
			}
		}
		st.Set("textContent", msg)
	}
	if r.Done {
		if pre := doc.Call("getElementById", "report"); pre.Truthy() {
			pretty, _ := json.MarshalIndent(r, "", "  ")
			pre.Set("textContent", string(pretty))
		}
	}
}
