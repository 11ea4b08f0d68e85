// Command importer is the DICOM import Web Worker: a js/wasm program,
// apart from the app's, that the library panel starts with
// new Worker("/web/import-worker.js"). The page posts it an import's
// files (Blobs with their paths); it reads them with volume/dicomread
// (app/importer/decode) and posts back progress, the problems in plain
// words, and each decoded series with its voxels, in
// app/importer/protocol's messages. The page stores the series
// (app/library); it never links the DICOM parser, whose tag dictionary
// alone made a 100–200 ms main-thread task at every page start, and
// decoding a large series no longer competes with the page.
//
//	GOOS=js GOARCH=wasm go build -o import.wasm ./app/importer
//
// `go run ./server` builds and serves it (server/serve); natively it
// only says so.
package main
