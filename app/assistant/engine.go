package assistant

import "ctlens/app/worker/protocol"

// engineConn is the page's end of the model worker (app/worker): it sends
// protocol requests and hands each reply to the request's reply func, in
// order, on one goroutine of its own (never the UI goroutine: reply funcs
// use ctx.Dispatch).
type engineConn interface {
	// call sends m; reply gets every reply to it, the last one final
	// (protocol.Final). files goes with an Open of a picked folder.
	call(m protocol.Message, files any, reply func(protocol.Message))
	// cancel stops the running Load or Generate: it ends with an Error
	// of protocol.ClassCanceled.
	cancel()
}
