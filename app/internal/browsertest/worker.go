//go:build !js

package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Dedicated Web Workers of the page (the model engine runs in one): the
// page's init script and its Eval do not reach into them, so a test that
// must look inside a worker attaches to it as its own CDP target.

// Worker is an attached dedicated worker of the page.
type Worker struct {
	// Ctx is the worker target's chromedp context. It lives as long as
	// the session; cancelling it would close (end) the worker.
	Ctx context.Context
	// URL is the worker's script URL.
	URL string
	ID  target.ID
}

// WaitWorker waits, at most timeout, until the page runs a dedicated
// worker whose script URL ends with suffix and that is not in skip
// (earlier workers: after a reload the page starts a new one), and
// attaches to it. On timeout it is t.Fatal, listing the targets seen.
func (s *Session) WaitWorker(suffix string, timeout time.Duration, skip ...*Worker) *Worker {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for {
		infos, err := chromedp.Targets(s.Ctx)
		if err != nil {
			s.t.Fatalf("listing targets: %v", err)
		}
		seen = seen[:0]
	next:
		for _, in := range infos {
			seen = append(seen, in.Type+" "+in.URL)
			if in.Type != "worker" || !strings.HasSuffix(in.URL, suffix) {
				continue
			}
			for _, w := range skip {
				if w != nil && w.ID == in.TargetID {
					continue next
				}
			}
			ctx, _ := chromedp.NewContext(s.Ctx, chromedp.WithTargetID(in.TargetID))
			if err := chromedp.Do(ctx); err != nil {
				s.t.Fatalf("attaching to the worker %s: %v", in.URL, err)
			}
			return &Worker{Ctx: ctx, URL: in.URL, ID: in.TargetID}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no dedicated worker *%s within %s; targets:\n  %s%s", suffix, timeout, strings.Join(seen, "\n  "), s.consoleTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WorkerEval evaluates a JavaScript expression in the worker (awaiting a
// promise) and returns its value; an error is t.Fatal.
func WorkerEval[T any](s *Session, w *Worker, expr string) T {
	s.t.Helper()
	var v T
	err := chromedp.Do(w.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		r, err := chromedp.Call(ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, AwaitPromise: &yes, ReturnByValue: &yes})
		if err != nil {
			return err
		}
		if e := r.ExceptionDetails; e != nil {
			msg := e.Text
			if e.Exception != nil {
				msg += " " + e.Exception.Description
			}
			return fmt.Errorf("exception: %s", msg)
		}
		if r.Result == nil || len(r.Result.Value) == 0 {
			return fmt.Errorf("no value (type %v)", r.Result.Type)
		}
		return json.Unmarshal([]byte(r.Result.Value), &v)
	}))
	if err != nil {
		s.t.Fatalf("evaluating %s in the worker %s: %v%s", expr, w.URL, err, s.consoleTail())
	}
	return v
}
