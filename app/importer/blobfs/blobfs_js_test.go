//go:build js && wasm

package blobfs

import (
	"bytes"
	"io"
	"io/fs"
	"syscall/js"
	"testing"
	"testing/fstest"
)

// blobOf makes a JavaScript Blob holding data (Node has Blob too, so this
// runs under go_js_wasm_exec as well as in a browser).
func blobOf(data []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	arr := js.Global().Get("Array").New(u8)
	return js.Global().Get("Blob").New(arr)
}

func TestBlobFS(t *testing.T) {
	big := make([]byte, readAhead+12345)
	for i := range big {
		big[i] = byte(i * 7)
	}
	files := map[string][]byte{
		"a.dcm":             []byte("hello"),
		"dir/b.dcm":         big,
		"dir/sub/c.dcm":     {},
		"/abs/d.dcm":        []byte("d"),
		"a.dcm#dup":         []byte("second a"),
		"win\\style\\e.zip": []byte("PK"),
	}
	var paths []string
	var blobs []js.Value
	for _, p := range []string{"a.dcm", "dir/b.dcm", "dir/sub/c.dcm", "/abs/d.dcm", "a.dcm#dup", "win\\style\\e.zip"} {
		name := p
		if p == "a.dcm#dup" {
			name = "a.dcm"
		}
		paths = append(paths, name)
		blobs = append(blobs, blobOf(files[p]))
	}
	fsys := New(paths, blobs)
	if err := fstest.TestFS(fsys, "a.dcm", "a (2).dcm", "dir/b.dcm", "dir/sub/c.dcm", "abs/d.dcm", "win/style/e.zip"); err != nil {
		t.Fatal(err)
	}
	have, err := fs.ReadFile(fsys, "dir/b.dcm")
	if err != nil || !bytes.Equal(have, big) {
		t.Fatalf("big file: %d bytes, %v", len(have), err)
	}
	if have, _ := fs.ReadFile(fsys, "a (2).dcm"); string(have) != "second a" {
		t.Errorf("the duplicate name holds %q", have)
	}
	f, _ := fsys.Open("dir/b.dcm")
	ra := f.(io.ReaderAt)
	buf := make([]byte, 100)
	for _, off := range []int64{readAhead - 50, 3, int64(len(big)) - 100} {
		if n, err := ra.ReadAt(buf, off); n != 100 || err != nil || !bytes.Equal(buf, big[off:off+100]) {
			t.Errorf("ReadAt %d: %d, %v", off, n, err)
		}
	}
	if n, err := ra.ReadAt(buf, int64(len(big))-10); n != 10 || err != io.EOF {
		t.Errorf("ReadAt at the end: %d, %v; want 10, EOF", n, err)
	}
	if fsys.Last() != "dir/b.dcm" {
		t.Errorf("Last = %q", fsys.Last())
	}
}
