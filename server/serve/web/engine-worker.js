// ctlens model engine worker: loads Go's wasm_exec.js and the engine's
// wasm (app/worker), which answers the page in app/worker/protocol's
// messages. The page's messages that arrive while the wasm compiles wait
// in __ctlensPending; the Go program takes them over when it starts.
// URLs are absolute on this origin, so the script also runs from a
// blob: URL (a test wraps it so).
"use strict";
self.__ctlensPending = [];
self.onmessage = (e) => self.__ctlensPending.push(e);

importScripts(self.origin + "/wasm_exec.js");

(async () => {
  try {
    const go = new Go();
    const wasm = await WebAssembly.instantiateStreaming(fetch(self.origin + "/web/engine.wasm"), go.importObject);
    await go.run(wasm.instance);
  } catch (err) {
    // The page fails whatever it waits for with this (protocol.Error,
    // id 0).
    const message = "The model worker could not start: " + (err && err.message ? err.message : String(err));
    console.error(message);
    self.postMessage({ head: JSON.stringify({ kind: "error", id: 0, body: { class: "", message } }) });
  }
})();
