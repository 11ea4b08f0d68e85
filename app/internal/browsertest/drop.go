//go:build !js

package browsertest

import (
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// DropFiles drags files and folders from the disk onto the page at p and
// drops them, as a user dragging them from a file manager would:
// dragenter, dragover and drop through CDP's Input.dispatchDragEvent, so
// the page gets the browser's own DataTransfer, where a folder is a
// FileSystemDirectoryEntry (webkitGetAsEntry) with its files inside. A
// DataTransfer built in JavaScript can hold only File objects, never a
// folder. paths are absolute; a t.Fatal on failure.
func (s *Session) DropFiles(p Point, paths ...string) {
	s.t.Helper()
	data := &input.DragData{Items: []*input.DragDataItem{}, Files: paths, DragOperationsMask: 1} // copy
	// The browser drops only what the page accepted: the page's answer to
	// the last dragover (its preventDefault) must be back before the drop.
	// A sleep alone lost drops in CI with several browsers on 2 cores, so
	// each step waits for a round trip through the page's main thread,
	// which handles the queued drag event first, and the dragover is sent
	// again once the page has answered the first.
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver,
		input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(s.Ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: p.X, Y: p.Y, Data: data}); err != nil {
			s.t.Fatalf("drag %s of %v at %v: %v%s", typ, paths, p, err, s.consoleTail())
		}
		Eval[bool](s, "true")
		time.Sleep(gestureStep) // the page's handlers see each event on its own
	}
}
