// The start shared by ctlens' Web Workers (engine-worker.js runs the
// model engine, import-worker.js the DICOM importer): Go's wasm_exec.js
// is imported already; ctlensRunWorker instantiates the worker's wasm and
// runs it. A worker's Go program never ends but by a bug, and a worker
// that could not start answers nothing: either way the page must hear
// of it, or it would wait for its replies forever. So the worker posts
// one last message — id 0, in the worker's own protocol, made by
// stoppedHead(message) — naming the panic (its first line on stderr)
// when there is one.
"use strict";

function ctlensRunWorker(wasmURL, name, stoppedHead) {
  const fail = (message) => {
    console.error(message);
    self.postMessage({ head: stoppedHead(message) });
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
    let code = null;
    try {
      const go = new Go();
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
      const wasm = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject);
      await go.run(wasm.instance);
    } catch (err) {
      fail("The " + name + " could not start: " + (err && err.message ? err.message : String(err)));
      return;
    }
    // What the page sends from now on has no one to answer it, and the
    // page sends nothing more.
    self.onmessage = null;
    fail("The " + name + " stopped: " + (crash || "its program ended") + (code === null ? "" : " (exit code " + code + ")") + ".");
  })();
}
