// ctlens model engine worker: runs the engine's wasm (app/worker), which
// answers the page in app/worker/protocol's messages (worker-boot.js
// starts it, and tells the page if it cannot start or stops). The page's
// messages that arrive while the wasm compiles wait in __ctlensPending;
// the Go program takes them over when it starts. URLs are absolute on
// this origin, so the script also runs from a blob: URL (a test wraps it
// so).
"use strict";
self.__ctlensPending = [];
self.onmessage = (e) => self.__ctlensPending.push(e);

importScripts(self.origin + "/wasm_exec.js", self.origin + "/web/worker-boot.js");

ctlensRunWorker(self.origin + "/web/engine.wasm", "model worker",
  (message) => JSON.stringify({ kind: "error", id: 0, body: { class: "", message } }));
