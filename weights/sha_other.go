//go:build !(js && wasm)

package weights

import (
	"crypto/sha256"
	"encoding/hex"
)

// sha256Hex is the sha256 of b in lowercase hex.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
