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

// The page fails whatever it waits for with this (protocol.Error, id 0),
// and offers to start a new worker.
const fail = (message) => {
  console.error(message);
  self.postMessage({ head: JSON.stringify({ kind: "error", id: 0, body: { class: "", message } }) });
};

// The first line of a Go panic or fatal error the program writes on
// stderr: what the page tells the user when the program ends.
let crash = "";
let errLine = "";
const errText = new TextDecoder();
const writeSync = globalThis.fs.writeSync;
globalThis.fs.writeSync = function (fd, buf) {
  if (fd === 2 && !crash) {
    errLine += errText.decode(buf, { stream: true });
    let nl;
    while (!crash && (nl = errLine.indexOf("\n")) >= 0) {
      const line = errLine.slice(0, nl);
      errLine = errLine.slice(nl + 1);
      if (line.startsWith("panic: ") || line.startsWith("fatal error: ")) crash = line;
    }
    errLine = errLine.slice(-4096);
  }
  return writeSync.call(this, fd, buf);
};

(async () => {
  let go;
  let code = null;
  try {
    go = new Go();
    const exit = go.exit;
    go.exit = (c) => {
      code = c;
      // The timers the program had set would resume a program that is
      // gone (wasm_exec.js throws "Go program has already exited"),
      // the timer that ran the exit among them.
      if (go._scheduledTimeouts) {
        for (const t of go._scheduledTimeouts.values()) clearTimeout(t);
        go._scheduledTimeouts.clear();
      }
      exit(c);
    };
    const wasm = await WebAssembly.instantiateStreaming(fetch(self.origin + "/web/engine.wasm"), go.importObject);
    await go.run(wasm.instance);
  } catch (err) {
    fail("The model worker could not start: " + (err && err.message ? err.message : String(err)));
    return;
  }
  // The program only ends by a bug (main never returns): a panic outside
  // the host's request handling, or an exit. Without this message the
  // page would wait for its replies forever. What the page sends from
  // now on has no one to answer it, and the page sends nothing more.
  self.onmessage = null;
  fail("The model worker stopped: " + (crash || "its program ended") + (code === null ? "" : " (exit code " + code + ")") + ".");
})();
