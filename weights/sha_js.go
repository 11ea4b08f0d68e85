//go:build js && wasm

package weights

import (
	"crypto/sha256"
	"encoding/hex"
	"syscall/js"
)

// sha256Hex is the sha256 of b in lowercase hex, from the browser's
// SubtleCrypto when it is there: Go's sha256 compiled to wasm runs at about
// 80 MB/s, which would make hashing the slowest step of a load. SubtleCrypto
// exists only in secure contexts (https, localhost); elsewhere Go's is
// used. Like every blocking call in wasm it must not run inside a JS
// callback: it waits for a promise.
func sha256Hex(b []byte) string {
	if s, ok := subtleSHA256(b); ok {
		return s
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func subtleSHA256(b []byte) (string, bool) {
	crypto := js.Global().Get("crypto")
	if !crypto.Truthy() || !crypto.Get("subtle").Truthy() {
		return "", false
	}
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	done := make(chan string, 1) // "" on failure
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		digest := js.Global().Get("Uint8Array").New(args[0])
		out := make([]byte, digest.Length())
		js.CopyBytesToGo(out, digest)
		done <- hex.EncodeToString(out)
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		done <- ""
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	// then(ok, err), not then(ok).catch(err): exactly one of them runs.
	crypto.Get("subtle").Call("digest", "SHA-256", arr).Call("then", onOK, onErr)
	s := <-done
	return s, len(s) == 64
}
