//go:build js && wasm

package assistant

import (
	"errors"
	"sync"
	"syscall/js"

	"ctlens/app/worker/protocol"
)

// engineWorkerURL is the model worker's script (server/serve serves it).
const engineWorkerURL = "/web/engine-worker.js"

var (
	engineMu sync.Mutex
	engineW  *workerConn
)

// startEngine returns the page's model worker, starting one when there
// is none yet or the last one stopped (a restart: the old Worker is
// terminated, and the new one's requests start afresh). onLost is called
// (on the connection's goroutine) when the worker's GPU device is lost,
// onDead once when the worker itself stops, with the sentence that says
// why. The worker starts with the page's panel, so its wasm compiles
// while the user looks at the card.
func startEngine(onLost, onDead func(reason string)) engineConn {
	engineMu.Lock()
	defer engineMu.Unlock()
	if engineW != nil && engineW.failed() != nil {
		engineW.w.Call("terminate")
		engineW = nil
	}
	if engineW == nil {
		engineW = newWorkerConn()
	}
	engineW.mu.Lock()
	engineW.onLost, engineW.onDead = onLost, onDead
	engineW.mu.Unlock()
	return engineW
}

// workerConn is engineConn over a dedicated Web Worker.
type workerConn struct {
	w js.Value

	mu     sync.Mutex
	next   int
	calls  map[int]func(protocol.Message)
	onLost func(string)
	onDead func(string)
	dead   error // the worker failed; every call fails with it
	inbox  []inbound
	wake   chan struct{}
}

type inbound struct {
	id int
	m  protocol.Message
}

func newWorkerConn() *workerConn {
	c := &workerConn{calls: map[int]func(protocol.Message){}, wake: make(chan struct{}, 1)}
	c.w = js.Global().Get("Worker").New(engineWorkerURL)
	c.w.Set("onmessage", js.FuncOf(func(_ js.Value, args []js.Value) any {
		c.receive(args[0].Get("data"))
		return nil
	}))
	c.w.Set("onerror", js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "The model worker failed"
		if len(args) > 0 {
			if m := args[0].Get("message"); m.Type() == js.TypeString {
				msg += ": " + m.String()
			}
		}
		c.push(0, &protocol.Error{Message: msg})
		return nil
	}))
	go c.deliver()
	return c
}

// receive runs in the message callback: it decodes and queues, and never
// blocks.
func (c *workerConn) receive(data js.Value) {
	if data.Type() != js.TypeObject || data.Get("head").Type() != js.TypeString {
		return
	}
	var blob []byte
	if b := data.Get("blob"); b.Truthy() {
		blob = make([]byte, b.Length())
		js.CopyBytesToGo(blob, b)
	}
	id, m, err := protocol.Decode(data.Get("head").String(), blob)
	if err != nil {
		m = &protocol.Error{Message: "the model worker's reply: " + err.Error()}
	}
	c.push(id, m)
}

func (c *workerConn) push(id int, m protocol.Message) {
	c.mu.Lock()
	c.inbox = append(c.inbox, inbound{id, m})
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// deliver hands replies to their calls, in the order they came.
func (c *workerConn) deliver() {
	for {
		c.mu.Lock()
		if len(c.inbox) == 0 {
			c.mu.Unlock()
			<-c.wake
			continue
		}
		in := c.inbox[0]
		c.inbox = c.inbox[1:]
		var replies []func(protocol.Message)
		var onLost, onDead func(string)
		switch m := in.m.(type) {
		case *protocol.Lost:
			onLost = c.onLost
		case *protocol.Error:
			if in.id == 0 && c.dead == nil {
				// The worker itself failed (it could not start, or its
				// Go program ended: engine-worker.js says so): fail
				// everything waiting. Only the first word counts: a
				// dead worker's later errors say less.
				c.dead = errors.New(m.Message)
				onDead = c.onDead
				for id, r := range c.calls {
					replies = append(replies, r)
					delete(c.calls, id)
				}
			}
		}
		if r, ok := c.calls[in.id]; ok && in.id != 0 {
			replies = append(replies, r)
			if protocol.Final(in.m) {
				delete(c.calls, in.id)
			}
		}
		c.mu.Unlock()
		if onLost != nil {
			onLost(in.m.(*protocol.Lost).Reason)
		}
		// The page hears of the death before the failed calls, so that
		// their handlers know why they failed.
		if onDead != nil {
			onDead(c.dead.Error())
		}
		for _, r := range replies {
			r(in.m)
		}
	}
}

func (c *workerConn) call(m protocol.Message, files any, reply func(protocol.Message)) {
	c.mu.Lock()
	if c.dead != nil {
		err := c.dead
		c.mu.Unlock()
		go reply(&protocol.Error{Message: err.Error()})
		return
	}
	c.next++
	id := c.next
	if reply != nil {
		c.calls[id] = reply
	}
	c.mu.Unlock()
	c.post(id, m, files)
}

func (c *workerConn) cancel() {
	if c.failed() == nil {
		c.post(0, &protocol.Cancel{}, nil)
	}
}

// failed is why the worker stopped (nil: it runs).
func (c *workerConn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

// post sends a message; a blob is transferred, not copied.
func (c *workerConn) post(id int, m protocol.Message, files any) {
	head, blob, err := protocol.Encode(id, m)
	if err != nil {
		c.push(id, &protocol.Error{Message: err.Error()})
		return
	}
	msg := map[string]any{"head": head}
	if f, ok := files.(js.Value); ok && f.Truthy() {
		msg["files"] = f
	}
	if blob != nil {
		u8 := js.Global().Get("Uint8Array").New(len(blob))
		js.CopyBytesToJS(u8, blob)
		msg["blob"] = u8
		c.w.Call("postMessage", msg, []any{u8.Get("buffer")})
		return
	}
	c.w.Call("postMessage", msg)
}
