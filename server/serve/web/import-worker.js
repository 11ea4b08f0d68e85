// ctlens DICOM import worker: runs the importer's wasm (app/importer),
// which decodes the files the library panel posts and answers in
// app/importer/protocol's messages (worker-boot.js starts it, and tells
// the page if it cannot start or stops: the page then fails the running
// import and starts a new worker for the next). The page's messages that
// arrive while the wasm compiles wait in __ctlensPending; the Go program
// takes them over when it starts.
"use strict";
self.__ctlensPending = [];
self.onmessage = (e) => self.__ctlensPending.push(e);

importScripts(self.origin + "/wasm_exec.js", self.origin + "/web/worker-boot.js");

ctlensRunWorker(self.origin + "/web/import.wasm", "import worker",
  (message) => JSON.stringify({ id: 0, event: { error: message } }));
