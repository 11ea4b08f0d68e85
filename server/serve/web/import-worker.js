// ctlens DICOM import worker: loads Go's wasm_exec.js and the importer's
// wasm (app/importer), which decodes the files the library panel posts
// and answers in app/importer/protocol's messages. The page's messages
// that arrive while the wasm compiles wait in __ctlensPending; the Go
// program takes them over when it starts.
"use strict";
self.__ctlensPending = [];
self.onmessage = (e) => self.__ctlensPending.push(e);

importScripts(self.origin + "/wasm_exec.js");

// fail tells the page the worker is gone (id 0 ends whatever import is
// running); the page starts a new worker for the next import.
function fail(message) {
  console.error(message);
  self.postMessage({ head: JSON.stringify({ id: 0, event: { error: message } }) });
}

(async () => {
  try {
    const go = new Go();
    let code = "unknown";
    const exit = go.exit;
    go.exit = (c) => { code = c; exit(c); };
    const wasm = await WebAssembly.instantiateStreaming(fetch(self.origin + "/web/import.wasm"), go.importObject);
    await go.run(wasm.instance);
    fail("The import worker stopped unexpectedly (exit code " + code + ")");
  } catch (err) {
    fail("The import worker could not start: " + (err && err.message ? err.message : String(err)));
  }
})();
