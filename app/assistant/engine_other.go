//go:build !(js && wasm)

package assistant

import "ctlens/app/worker/protocol"

// Natively the server only renders the page: there is no worker, and
// every request fails.
type noEngine struct{}

func startEngine(onLost, onDead func(string)) engineConn { return noEngine{} }

func (noEngine) call(m protocol.Message, files any, reply func(protocol.Message)) {
	if reply != nil {
		go reply(&protocol.Error{Message: errNotBrowser.Error()})
	}
}

func (noEngine) cancel() {}
