//go:build !js

package assistant_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"ctlens/app/internal/browsertest"
	"ctlens/server/serve"
)

// maxTokens keeps SwiftShader's share of the test short.
const maxTokens = 24

// engineWorker is the model worker's script (server/serve).
const engineWorker = serve.EngineWorkerURL

// cliReport is what `ctlens report --json` prints that the test compares.
type cliReport struct {
	Model   string `json:"model"`
	Backend string `json:"backend"`
	Text    string `json:"text"`
	Tokens  int    `json:"tokens"`
	Task    string `json:"task"`
	// Choices are a ranked closed answer's (ctlens ask with choices).
	Choices []struct {
		Letter string  `json:"letter"`
		Text   string  `json:"text"`
		Prob   float64 `json:"prob"`
	} `json:"choices"`
	Timings struct {
		LoadMS        float64 `json:"load_ms"`
		VisionMS      float64 `json:"vision_ms"`
		PrefillMS     float64 `json:"prefill_ms"`
		DecodeTokPerS float64 `json:"decode_tok_per_s"`
	} `json:"timings"`
}

// nativeReport runs the command line on the study and model the page is
// served, on wgpu-native (lavapipe here): `ctlens report`, or `ctlens
// ask` when question is not empty, with flags added.
func nativeReport(t *testing.T, study, model, backend, question string, flags ...string) cliReport {
	t.Helper()
	root, err := serve.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "./tools/ctlens", "report", study}
	if question != "" {
		args = []string{"run", "./tools/ctlens", "ask", study, question}
	}
	args = append(args, flags...)
	args = append(args, "--weights", model, "--backend", backend, "--json", "--max-tokens", strconv.Itoa(maxTokens))
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("ctlens report --backend %s: %v\n%s\nhint: apt-get install mesa-vulkan-drivers (lavapipe)", backend, err, msg)
	}
	var r cliReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("ctlens report --json: %v\n%s", err, out)
	}
	return r
}

func poll(t *testing.T, s *browsertest.Session, what, expr string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(s.Ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(timeout))); err != nil {
		msg := browsertest.Eval[string](s, `(document.getElementById("assistant")||{}).innerText || ""`)
		t.Fatalf("%s: %v\nassistant panel:\n%s\nconsole:\n  %s", what, err, msg, strings.Join(s.Console(), "\n  "))
	}
}

func click(t *testing.T, s *browsertest.Session, sel string) {
	t.Helper()
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => { const b = document.querySelector(%q); if (!b || b.disabled) return false; b.click(); return true; })()`, sel))
}

// loadModel clicks Load and waits until the model is on the GPU; it
// returns the card's load time and the bytes that came from the network.
func loadModel(t *testing.T, s *browsertest.Session, backend string) (ms float64, netBytes int64) {
	t.Helper()
	poll(t, s, "the model card", `!!document.querySelector("#model-load") && !document.querySelector("#model-load").disabled`, 5*time.Minute)
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => { const i = document.querySelector("#backend-select"); i.value = %q; i.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, backend))
	poll(t, s, "backend chosen", fmt.Sprintf(`document.querySelector("#backend-select").value === %q`, backend), 10*time.Second)
	click(t, s, "#model-load")
	poll(t, s, "the model loaded", `(document.querySelector("#model-card")||{dataset:{}}).dataset.status === "loaded"`, 10*time.Minute)
	ms, _ = strconv.ParseFloat(browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.loadMs`), 64)
	netBytes, _ = strconv.ParseInt(browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.networkBytes`), 10, 64)
	return ms, netBytes
}

// pageReport is one generation as the page showed it.
type pageReport struct {
	Text     string
	Steps    []string // the distinct values the text area showed while streaming
	Tokens   int
	TTFT     float64 // ms, click to first text
	Vision   float64
	Prefill  float64
	Decode   float64 // tok/s
	Wall     float64
	TaskName string
	// AtStart is what the text area showed when the panel first said it
	// was generating (nil: it never did).
	AtStart *string
}

// generate clicks "Generate report" with maxTokens and records the text
// area as it fills.
func generate(t *testing.T, s *browsertest.Session) pageReport {
	t.Helper()
	poll(t, s, "a series open and the model ready", `!!document.querySelector("#generate-report") && !document.querySelector("#generate-report").disabled`, 10*time.Minute)
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => { const i = document.querySelector("#max-tokens"); i.value = "%d"; i.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, maxTokens))
	browsertest.Eval[bool](s, `(() => {
	  window.__stream = []; clearInterval(window.__streamTimer);
	  window.__streamTimer = setInterval(() => {
	    const v = document.querySelector("#report-text").value;
	    if (window.__stream.length === 0 ? v !== "" : v !== window.__stream[window.__stream.length-1]) window.__stream.push(v);
	  }, 5);
	  // The text area when the panel starts generating, in the same task
	  // as that render (a mutation observer runs before any reply of the
	  // worker can).
	  window.__atStart = null;
	  if (window.__startObs) window.__startObs.disconnect();
	  window.__startObs = new MutationObserver(() => {
	    const t = document.querySelector("#timings");
	    if (window.__atStart === null && t && t.dataset.state === "running") window.__atStart = document.querySelector("#report-text").value;
	  });
	  window.__startObs.observe(document.querySelector("#assistant"), {attributes: true, childList: true, subtree: true, attributeFilter: ["data-state"]});
	  return true; })()`)
	// The change handler runs on the UI goroutine: give it a turn.
	poll(t, s, "max tokens set", fmt.Sprintf(`document.querySelector("#max-tokens").value === "%d"`, maxTokens), 10*time.Second)
	// The timings line counts finished reports: wait for the next one,
	// not the last one's "done".
	before := browsertest.Eval[string](s, `document.querySelector("#timings").dataset.reports || "0"`)
	click(t, s, "#generate-report")
	poll(t, s, "the report generated", fmt.Sprintf(`(document.querySelector("#timings")||{dataset:{}}).dataset.state === "done" && document.querySelector("#timings").dataset.reports !== %q && document.querySelector("#report-text").dataset.streaming === "false"`, before), 10*time.Minute)
	var r pageReport
	r.Text = browsertest.Eval[string](s, `(clearInterval(window.__streamTimer), document.querySelector("#report-text").value)`)
	r.Steps = browsertest.Eval[[]string](s, `window.__stream`)
	r.AtStart = browsertest.Eval[*string](s, `(window.__startObs.disconnect(), window.__atStart)`)
	// A new report clears the last one at once: the old text must not
	// stand there, looking like the new one, until the first token.
	switch {
	case r.AtStart == nil:
		t.Errorf("the panel never said it was generating")
	case *r.AtStart != "":
		t.Errorf("when the generation started, the text area still showed %q", *r.AtStart)
	}
	ds := browsertest.Eval[map[string]string](s, `Object.assign({}, document.querySelector("#timings").dataset)`)
	f := func(k string) float64 { v, _ := strconv.ParseFloat(ds[k], 64); return v }
	r.Tokens, _ = strconv.Atoi(ds["tokens"])
	r.TTFT, r.Vision, r.Prefill, r.Decode, r.Wall = f("ttftMs"), f("visionMs"), f("prefillMs"), f("decodeTps"), f("wallMs")
	r.TaskName = browsertest.Eval[string](s, `document.querySelector("#task-group").dataset.task`)
	return r
}

// TestReportInBrowser: with the sample series open and the served model
// on WebGPU (SwiftShader), "Generate report" streams the text that
// `ctlens report --backend gpu` writes natively (lavapipe) for the same
// model, study and seed; the routing shows in the teaching view; a device
// loss reloads the model without a page reload; and after going offline
// and reloading the page, the model loads from the cache (no network) and
// writes the same text.
func TestReportInBrowser(t *testing.T) { reportInBrowser(t, "gpu") }

// TestReportInBrowserCPU is the same on the CPU backend (the fallback
// without WebGPU), against `ctlens report --backend cpu`.
func TestReportInBrowserCPU(t *testing.T) { reportInBrowser(t, "cpu") }

func reportInBrowser(t *testing.T, backend string) {
	s := browsertest.Start(t, browsertest.Options{Timeout: 4 * time.Minute})
	// Long tasks (main-thread work over 50 ms) per step, so the log says
	// which step made them. Logged, not asserted: speed is measured, not
	// tested.
	seen := 0
	longTasks := func(step string) {
		all := s.LongTasks()
		now := all[seen:]
		seen = len(all)
		if len(now) > 0 {
			t.Logf("long tasks during %s: %d, longest %s", step, len(now), slices.Max(now))
		}
	}
	longTasks("page start and sample import")
	// Record the GPU devices the model worker opens, so the test can lose
	// one. The model runs in its own worker: the recorder goes there.
	w := s.WaitWorker(engineWorker, 2*time.Minute)
	browsertest.WorkerEval[bool](s, w, `(() => {
	  self.__devices = self.__devices || [];
	  if (!self.GPUAdapter) return false;
	  if (!self.__recording) {
	    self.__recording = true;
	    const orig = GPUAdapter.prototype.requestDevice;
	    GPUAdapter.prototype.requestDevice = async function (...a) { const d = await orig.apply(this, a); self.__devices.push(d); return d; };
	  }
	  return true; })()`)
	devices0 := browsertest.WorkerEval[int](s, w, `self.__devices.length`)

	loadMS, net := loadModel(t, s, backend)
	longTasks("first load")
	t.Logf("first load: %.0f ms, %d bytes from the network", loadMS, net)
	if net == 0 {
		t.Errorf("the first load read nothing from the network")
	}
	first := generate(t, s)
	longTasks("first report")
	t.Logf("browser: %d tokens, first token %.0f ms after the click, vision %.0f ms, prefill %.0f ms, decode %.1f tok/s, wall %.0f ms, %d streamed steps",
		first.Tokens, first.TTFT, first.Vision, first.Prefill, first.Decode, first.Wall, len(first.Steps))
	native := nativeReport(t, browsertest.SampleDir(), browsertest.ModelDir(), backend, "")
	t.Logf("native (%s): %d tokens, load %.0f ms, vision %.0f ms, prefill %.0f ms (first token after %.0f ms of model time), decode %.1f tok/s",
		native.Backend, native.Tokens, native.Timings.LoadMS, native.Timings.VisionMS, native.Timings.PrefillMS,
		native.Timings.VisionMS+native.Timings.PrefillMS, native.Timings.DecodeTokPerS)

	if card := browsertest.Eval[string](s, `document.querySelector("#model-card").innerText`); !strings.Contains(card, native.Model) || !strings.Contains(card, "Untrained placeholder") {
		t.Errorf("model card lacks the model name %q or the placeholder note:\n%s", native.Model, card)
	}

	if first.Text != native.Text || first.Tokens != native.Tokens {
		t.Errorf("browser report %q (%d tokens)\nnative report  %q (%d tokens)", first.Text, first.Tokens, native.Text, native.Tokens)
	}
	if len(first.Steps) < 2 {
		t.Errorf("the text arrived in %d step(s), not streamed: %q", len(first.Steps), first.Steps)
	}
	for _, st := range first.Steps {
		if !strings.HasPrefix(first.Text, st) {
			t.Errorf("streamed %q is not a prefix of the final text %q", st, first.Text)
			break
		}
	}
	if first.TaskName != native.Task {
		t.Errorf("teaching view task %q, native %q", first.TaskName, native.Task)
	}
	if timings := browsertest.Eval[string](s, `document.querySelector("#timings").innerText`); !strings.Contains(timings, "Not a diagnosis") {
		t.Errorf("timings line %q", timings)
	}
	checkExports(t, s, first.Text, native.Model, "greedy")

	// A closed question: the choices are lettered after the question, the
	// answer streams into the history, equal to `ctlens ask --choices`.
	const question = "Which organ is enlarged?"
	choices := []string{"liver", "spleen", "", "kidney"}
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => {
	  const set = (el, v) => { el.value = v; el.dispatchEvent(new Event("input", {bubbles: true})); };
	  set(document.querySelector("#ask-input"), %q);
	  const cs = document.querySelectorAll(".choice-input"); const vs = %s;
	  vs.forEach((v, i) => set(cs[i], v));
	  return true; })()`, question, mustJSON(choices)))
	poll(t, s, "question typed", `document.querySelector("#ask-input").value !== ""`, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the input handlers run on the UI goroutine
	click(t, s, "#ask-submit")
	poll(t, s, "the answer", `document.querySelectorAll("#qa-history .qa-t").length === 1`, 10*time.Minute)
	nativeAsk := nativeReport(t, browsertest.SampleDir(), browsertest.ModelDir(), backend, question, "--choices", "liver|spleen|kidney")
	if ts := browsertest.Eval[string](s, `document.querySelector("#qa-history .qa-t").textContent`); !strings.Contains(ts, "ranked among 3 offered answers") {
		t.Errorf("the answer's timings line %q does not say it was ranked among the 3 choices", ts)
	}
	// Ranked as the command line ranks: the same probabilities (to
	// float32 noise between SwiftShader or the browser's CPU backend and
	// the native run), the same answer marked chosen.
	type pageChoice struct {
		Letter string
		Prob   float64
		Chosen bool
	}
	shown := browsertest.Eval[[]pageChoice](s, `[...document.querySelectorAll("#qa-history .qa-choice")].map(e => ({Letter: e.dataset.letter, Prob: +e.dataset.prob, Chosen: e.classList.contains("chosen")}))`)
	if len(shown) != len(nativeAsk.Choices) || len(shown) != 3 {
		t.Errorf("the page shows choices %+v, the command line %+v", shown, nativeAsk.Choices)
	} else {
		for i, c := range shown {
			n := nativeAsk.Choices[i]
			if c.Letter != n.Letter || math.Abs(c.Prob-n.Prob) > 1e-3 || c.Chosen != strings.HasPrefix(nativeAsk.Text, n.Letter+".") {
				t.Errorf("choice %d: page %+v, command line %+v (answer %q)", i, c, n, nativeAsk.Text)
			}
		}
	}
	answer := browsertest.Eval[string](s, `document.querySelector("#qa-history .qa-a").textContent`)
	if want := "A: " + nativeAsk.Text; strings.TrimSpace(answer) != strings.TrimSpace(want) {
		t.Errorf("answer %q, native %q", answer, want)
	}
	if q := browsertest.Eval[string](s, `document.querySelector("#qa-history .qa-q").textContent`); q != "Q: Which organ is enlarged? Choices: A. liver B. spleen C. kidney" {
		t.Errorf("question shown as %q", q)
	}
	if task := browsertest.Eval[string](s, `document.querySelector("#task-group").dataset.task`); task != nativeAsk.Task {
		t.Errorf("teaching view task after the question %q, native %q", task, nativeAsk.Task)
	}
	longTasks("question")

	// The teaching view end to end: the toggle makes the viewer draw the
	// routing of the last generation over the MPR, with a legend of the
	// chosen group's experts.
	axial := `document.querySelector("#canvas-axial").toDataURL()`
	before := browsertest.Eval[string](s, axial)
	click(t, s, "#heatmap-toggle")
	poll(t, s, "heat map on", `document.querySelector("#heatmap-toggle").checked`, 10*time.Second)
	poll(t, s, "the viewer's heat-map legend", `document.querySelectorAll("#heat-legend .legend-item").length > 0`, time.Minute)
	poll(t, s, "the heat map drawn over the axial view", fmt.Sprintf(`document.querySelector("#canvas-axial").toDataURL() !== %q`, before), time.Minute)
	s.Screenshot("report")

	// A device loss: the panel says so and loads the model on a new
	// device (from the cache), without a page reload; the text is kept.
	if n := browsertest.WorkerEval[int](s, w, `self.__devices.length`); backend != "gpu" {
		// No device to lose.
	} else if n > devices0 {
		browsertest.WorkerEval[bool](s, w, fmt.Sprintf(`(self.__devices.slice(%d).forEach(d => d.destroy()), true)`, devices0))
		poll(t, s, "the model reloaded after the device loss", `document.querySelector("#model-card").dataset.deviceLosses === "1" && document.querySelector("#model-card").dataset.status === "loaded"`, 10*time.Minute)
		if msg := browsertest.Eval[string](s, `(document.querySelector("#assistant-message")||{}).innerText || ""`); !strings.Contains(msg, "GPU was reset") {
			t.Errorf("after the device loss the panel says %q", msg)
		}
		if txt := browsertest.Eval[string](s, `document.querySelector("#report-text").value`); txt != first.Text {
			t.Errorf("the report was lost with the device: %q", txt)
		}
		longTasks("device loss and reload")
		again := generate(t, s)
		longTasks("report after the device loss")
		if again.Text != native.Text {
			t.Errorf("after the device loss: %q, want %q", again.Text, native.Text)
		}
	} else {
		t.Errorf("no GPU device was recorded: the model did not load on WebGPU")
	}

	// Offline: the page, the series and the model still work.
	s.Offline(true)
	s.Reload()
	longTasks("going offline")
	loadMS2, net2 := loadModel(t, s, backend)
	longTasks("offline load")
	t.Logf("second load (offline, from the cache): %.0f ms, %d bytes from the network", loadMS2, net2)
	if net2 != 0 {
		t.Errorf("the offline load read %d bytes from the network", net2)
	}
	if src := browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.cached`); src != "true" {
		t.Errorf("offline: the card does not say the model is cached (%q)", src)
	}
	offline := generate(t, s)
	longTasks("offline report")
	if offline.Text != native.Text {
		t.Errorf("offline report %q, want %q", offline.Text, native.Text)
	}
	s.Screenshot("offline")

	// Decoding settings: an invalid temperature is refused in plain words
	// and starts nothing; temperature 0.8, top-k 20 and seed 7 stream the
	// text `ctlens report --temperature 0.8 --top-k 20 --seed 7` writes,
	// and the timings line says how it was decoded.
	setDecoding(t, s, map[string]string{"temperature": "3"})
	poll(t, s, "the decoding problem shown", `((document.querySelector("#decoding-error")||{}).innerText||"").startsWith("Temperature must be a number from 0 to 2")`, 10*time.Second)
	reportsBefore := browsertest.Eval[string](s, `document.querySelector("#timings").dataset.reports || "0"`)
	click(t, s, "#generate-report")
	poll(t, s, "the refusal", `((document.querySelector("#assistant-message")||{}).innerText||"").startsWith("Temperature must be")`, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if st, n := browsertest.Eval[string](s, `document.querySelector("#timings").dataset.state`),
		browsertest.Eval[string](s, `document.querySelector("#timings").dataset.reports || "0"`); st == "running" || n != reportsBefore {
		t.Errorf("an invalid temperature started a generation (timings %s, reports %s → %s)", st, reportsBefore, n)
	}
	setDecoding(t, s, map[string]string{"temperature": "0.8", "top-k": "20", "seed": "7"})
	poll(t, s, "the decoding settings taken", `!document.querySelector("#decoding-error") && document.querySelector("#decoding-summary").innerText === "Decoding: T 0.8 · top-k 20 · seed 7"`, 10*time.Second)
	sampled := generate(t, s)
	longTasks("sampled report")
	nativeSampled := nativeReport(t, browsertest.SampleDir(), browsertest.ModelDir(), backend, "", "--temperature", "0.8", "--top-k", "20", "--seed", "7")
	if sampled.Text != nativeSampled.Text || sampled.Tokens != nativeSampled.Tokens {
		t.Errorf("sampled browser report %q (%d tokens)\nnative --temperature 0.8 --top-k 20 --seed 7 %q (%d tokens)", sampled.Text, sampled.Tokens, nativeSampled.Text, nativeSampled.Tokens)
	}
	if sampled.Text == native.Text {
		t.Errorf("the sampled report equals the greedy one %q: the settings did not reach the model", native.Text)
	}
	// The recorder started before the click: the last report may be its
	// first step (generate checks that it left at the click).
	steps := sampled.Steps
	for len(steps) > 0 && (steps[0] == offline.Text || steps[0] == "") {
		steps = steps[1:]
	}
	if len(steps) == 0 {
		t.Errorf("the sampled report never showed in the text area while streaming: %q", sampled.Steps)
	}
	for _, st := range steps {
		if !strings.HasPrefix(sampled.Text, st) {
			t.Errorf("sampled: streamed %q is not a prefix of the final text %q", st, sampled.Text)
			break
		}
	}
	s.Screenshot("decoding")
	if open := browsertest.Eval[bool](s, `document.querySelector("#decoding").open`); !open {
		t.Errorf("the Decoding section closed itself during the generation")
	}
	if d := browsertest.Eval[string](s, `document.querySelector("#timings").dataset.decoding`); d != "T 0.8 · top-k 20 · seed 7" {
		t.Errorf("timings say decoding %q", d)
	}
	if line := browsertest.Eval[string](s, `document.querySelector("#timings").innerText`); !strings.Contains(line, "; T 0.8 · top-k 20 · seed 7)") {
		t.Errorf("the timings line %q does not show the decoding settings", line)
	}
	// The settings outlive a reload.
	s.Reload()
	poll(t, s, "the decoding settings after a reload", `(document.querySelector("#decoding-summary")||{}).innerText === "Decoding: T 0.8 · top-k 20 · seed 7" && document.querySelector("#decoding-temperature").value === "0.8" && document.querySelector("#decoding-seed").value === "7"`, time.Minute)

	if long := s.LongTasks(); len(long) > 0 {
		t.Logf("long tasks in all: %d, longest %s", len(long), slices.Max(long))
	}
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}

// setDecoding opens the Decoding section and types values into its
// fields (by the suffix of their ids: temperature, top-k, top-p, seed),
// each with the change event a user's edit fires.
func setDecoding(t *testing.T, s *browsertest.Session, values map[string]string) {
	t.Helper()
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => {
	  document.querySelector("#decoding").open = true;
	  for (const [k, v] of Object.entries(%s)) {
	    const i = document.querySelector("#decoding-" + k);
	    i.value = v; i.dispatchEvent(new Event("change", {bubbles: true}));
	  }
	  return true; })()`, mustJSON(values)))
	for k, v := range values {
		poll(t, s, "decoding "+k+" set", fmt.Sprintf(`document.querySelector("#decoding-%s").value === %q`, k, v), 10*time.Second)
	}
	time.Sleep(200 * time.Millisecond) // the change handlers run on the UI goroutine
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// checkExports saves the report as text and as DICOM SR, catching the
// downloads in the page: the text file holds the report, and the SR passes
// dciodvfy and carries the sample study's patient and study identity.
func checkExports(t *testing.T, s *browsertest.Session, text, modelName, decoding string) {
	t.Helper()
	browsertest.Eval[bool](s, `(() => {
	  window.__downloads = [];
	  if (!window.__clickWrapped) {
	    window.__clickWrapped = true;
	    // The page's CSP refuses fetch(blob:): keep the Blob itself.
	    const blobs = new Map(), mk = URL.createObjectURL;
	    URL.createObjectURL = (b) => { const u = mk.call(URL, b); blobs.set(u, b); return u; };
	    const orig = HTMLAnchorElement.prototype.click;
	    HTMLAnchorElement.prototype.click = function () {
	      if (this.download && blobs.has(this.href)) {
	        const name = this.download;
	        blobs.get(this.href).arrayBuffer().then(b => {
	          const u = new Uint8Array(b); let s = "";
	          for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
	          window.__downloads.push({name, data: btoa(s)});
	        });
	        return;
	      }
	      return orig.call(this);
	    };
	  }
	  return true; })()`)
	click(t, s, "#export-txt")
	click(t, s, "#export-sr")
	poll(t, s, "two downloads", `window.__downloads.length === 2`, time.Minute)
	type dl struct{ Name, Data string }
	dls := browsertest.Eval[[]dl](s, `window.__downloads`)
	files := map[string][]byte{}
	for _, d := range dls {
		b, err := base64.StdEncoding.DecodeString(d.Data)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Ext(d.Name)] = b
	}
	if txt := string(files[".txt"]); !strings.HasPrefix(txt, strings.TrimSpace(text)) || !strings.Contains(txt, modelName) ||
		!strings.Contains(txt, "(decoding: "+decoding+")") || !strings.Contains(txt, "Not a diagnosis") {
		t.Errorf("the .txt export:\n%s", txt)
	}
	srb := files[".dcm"]
	p := filepath.Join(t.TempDir(), "report.dcm")
	if err := os.WriteFile(p, srb, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("dciodvfy", p).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		t.Fatal("dciodvfy not found\nhint: apt-get install dicom3tools")
	}
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "Error") {
			t.Errorf("dciodvfy: %s", strings.TrimSpace(line))
		}
	}
	ds, err := dicom.Parse(bytes.NewReader(srb), int64(len(srb)), nil)
	if err != nil {
		t.Fatalf("the SR export does not parse: %v", err)
	}
	// The source's identity, read from the sample's own files.
	srcVol := largestSeries(t, browsertest.SampleDir())
	src := srcVol.Meta
	for tg, want := range map[tag.Tag]string{
		tag.PatientName: src.PatientName, tag.PatientID: src.PatientID, tag.StudyInstanceUID: src.StudyInstanceUID,
		tag.AccessionNumber: src.AccessionNumber, tag.Modality: "SR",
	} {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			t.Errorf("SR export: %v: %v", tg, err)
			continue
		}
		if have := strings.TrimRight(strings.Join(e.Value.GetValue().([]string), `\`), " \x00"); have != want {
			t.Errorf("SR export %v = %q, the source series has %q", tg, have, want)
		}
	}
	found := false
	for e := range ds.FlatIterator() {
		if e.Tag == tag.TextValue && strings.Contains(strings.Join(e.Value.GetValue().([]string), ""), modelName) {
			found = true
		}
	}
	if !found {
		t.Errorf("the SR export has no text naming the model %s", modelName)
	}
	// Its evidence: the sample's images, in slice order.
	var refs, want []string
	for e := range ds.FlatIterator() {
		if e.Tag == tag.ReferencedSOPInstanceUID {
			refs = append(refs, strings.TrimRight(strings.Join(e.Value.GetValue().([]string), ""), " \x00"))
		}
	}
	for _, in := range srcVol.Instances {
		want = append(want, in.InstanceUID)
	}
	if len(want) == 0 || strings.Join(refs, ",") != strings.Join(want, ",") {
		t.Errorf("the SR export cites %d images %.120q, the sample has %d: %.120q", len(refs), refs, len(want), want)
	}
}

// TestNoWebGPU: in a browser without WebGPU the panel says so plainly,
// offers the CPU backend (already chosen), loads and writes there; Stop
// ends a long generation and keeps its text; a model folder opened from
// disk loads with no network.
func TestNoWebGPU(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{Timeout: 4 * time.Minute})
	if _, err := chromedp.Call(s.Ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, "gpu", {get: () => undefined, configurable: true});`,
	}); err != nil {
		t.Fatal(err)
	}
	s.Reload()
	poll(t, s, "the no-WebGPU message", `((document.querySelector("#assistant-message")||{}).innerText||"").includes("This browser has no WebGPU. Try Chrome or Edge, or run on the CPU (slower).")`, time.Minute)
	if b := browsertest.Eval[string](s, `document.querySelector("#backend-select").value`); b != "cpu" {
		t.Errorf("backend %q without WebGPU, want cpu", b)
	}
	poll(t, s, "the model card", `!!document.querySelector("#model-load") && !document.querySelector("#model-load").disabled`, 5*time.Minute)
	click(t, s, "#model-load")
	poll(t, s, "the model loaded", `document.querySelector("#model-card").dataset.status === "loaded"`, 10*time.Minute)

	poll(t, s, "a series open", `!document.querySelector("#generate-report").disabled`, 10*time.Minute)
	browsertest.Eval[bool](s, `(() => { const i = document.querySelector("#max-tokens"); i.value = "900"; i.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`)
	time.Sleep(200 * time.Millisecond)
	click(t, s, "#generate-report")
	poll(t, s, "text streaming", `document.querySelector("#report-text").value.length > 0 && document.querySelector("#report-text").dataset.streaming === "true"`, 5*time.Minute)
	click(t, s, "#stop")
	poll(t, s, "stopped", `((document.querySelector("#assistant-notice")||{}).innerText||"") === "Stopped." && document.querySelector("#report-text").dataset.streaming === "false"`, time.Minute)
	if txt := browsertest.Eval[string](s, `document.querySelector("#report-text").value`); txt == "" {
		t.Errorf("Stop threw the streamed text away")
	}
	if n, _ := strconv.Atoi(browsertest.Eval[string](s, `document.querySelector("#timings").dataset.tokens || "0"`)); n >= 900 {
		t.Errorf("%d tokens: Stop did not stop the generation", n)
	}

	// "Open weights from disk": the picked model folder's files load.
	ents, err := os.ReadDir(browsertest.ModelDir())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range ents {
		paths = append(paths, filepath.Join(browsertest.ModelDir(), e.Name()))
	}
	if err := chromedp.Do(s.Ctx, chromedp.SetUploadFiles(chromedp.ID("weights-folder"), paths, chromedp.NodeReady)); err != nil {
		t.Fatal(err)
	}
	poll(t, s, "the picked model loaded", `document.querySelector("#model-card").dataset.source.startsWith("file on this device") && document.querySelector("#model-card").dataset.status === "loaded"`, 5*time.Minute)
	if net := browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.networkBytes`); net != "0" {
		t.Errorf("a model from disk read %s bytes from the network", net)
	}
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}

// TestOfflineNothingCached: offline before the model was ever loaded, the
// card says plainly that the model is not on this device yet.
func TestOfflineNothingCached(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{Timeout: 4 * time.Minute})
	s.Offline(true)
	s.Reload()
	poll(t, s, "the not-cached message", `((document.querySelector("#model-error")||{}).innerText||"").includes("not cached on this device yet")`, 2*time.Minute)
	if dis := browsertest.Eval[bool](s, `document.querySelector("#model-load").disabled`); !dis {
		t.Errorf("Load is offered with no model to load")
	}
}

// TestResponsiveWhileGenerating: while the model worker writes a long
// report on the CPU backend, the page's main thread runs no task over
// 200 ms (the browser's longtask entries, issue #6's budget): the vision
// pass and every decode step run in the worker, and the page only renders
// the text the worker streams.
func TestResponsiveWhileGenerating(t *testing.T) {
	const tokens = 400
	s := browsertest.Start(t, browsertest.Options{Timeout: 4 * time.Minute})
	loadModel(t, s, "cpu")
	poll(t, s, "a series open", `!document.querySelector("#generate-report").disabled`, 10*time.Minute)
	browsertest.Eval[bool](s, fmt.Sprintf(`(() => { const i = document.querySelector("#max-tokens"); i.value = "%d"; i.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, tokens))
	poll(t, s, "max tokens set", fmt.Sprintf(`document.querySelector("#max-tokens").value === "%d"`, tokens), 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the change handler runs on the UI goroutine
	// The longest gap between ticks of a 10 ms timer on the page: what a
	// user would feel as a stall (logged; the longtask entries are the
	// budget).
	browsertest.Eval[bool](s, `(() => {
	  window.__beat = {last: performance.now(), max: 0};
	  window.__beatTimer = setInterval(() => { const n = performance.now(); window.__beat.max = Math.max(window.__beat.max, n - window.__beat.last); window.__beat.last = n; }, 10);
	  return true; })()`)
	before := len(s.LongTasks())
	click(t, s, "#generate-report")
	poll(t, s, "the report generated", `(document.querySelector("#timings")||{dataset:{}}).dataset.state === "done"`, 10*time.Minute)
	during := s.LongTasks()[before:]
	gap := browsertest.Eval[float64](s, `(clearInterval(window.__beatTimer), window.__beat.max)`)
	ds := browsertest.Eval[map[string]string](s, `Object.assign({}, document.querySelector("#timings").dataset)`)
	n, _ := strconv.Atoi(ds["tokens"])
	t.Logf("%d tokens in %s ms (vision %s ms, decode %s tok/s); main-thread long tasks meanwhile: %v; longest timer gap %.0f ms",
		n, ds["wallMs"], ds["visionMs"], ds["decodeTps"], during, gap)
	if n < 2 {
		t.Fatalf("the report has %d tokens: nothing to measure", n)
	}
	for _, d := range during {
		if d > 200*time.Millisecond {
			t.Errorf("a main-thread task of %s while the worker generated (budget 200 ms)", d)
		}
	}
	// The model ran in the worker: the page has one, and it answered.
	if w := s.WaitWorker(engineWorker, time.Minute); !strings.HasSuffix(w.URL, engineWorker) {
		t.Errorf("worker %s", w.URL)
	}
	if errs := s.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}

// TestWorkerStops: when the model worker's Go program ends in the middle
// of a report (a panic outside its request handling; then an exit while
// idle), the page hears of it at once: the generation ends, the panel
// says plainly that the worker stopped and why, and offers a restart
// instead of staying dead; the restart starts a new worker, whose model
// loads again from the cache (no network) and writes. After a crash, and
// after Stop, "Generate report" clears the last text at once.
func TestWorkerStops(t *testing.T) {
	s := browsertest.Start(t, browsertest.Options{Timeout: 4 * time.Minute})
	w := s.WaitWorker(engineWorker, 2*time.Minute)
	loadModel(t, s, "cpu")
	poll(t, s, "a series open", `!document.querySelector("#generate-report").disabled`, 10*time.Minute)
	setMaxTokens := func(n int) {
		browsertest.Eval[bool](s, fmt.Sprintf(`(() => { const i = document.querySelector("#max-tokens"); i.value = "%d"; i.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, n))
		time.Sleep(200 * time.Millisecond) // the change handler runs on the UI goroutine
	}
	setMaxTokens(100_000)
	click(t, s, "#generate-report")
	poll(t, s, "text streaming", `document.querySelector("#report-text").value.length > 0 && document.querySelector("#report-text").dataset.streaming === "true"`, 5*time.Minute)

	// The test hook refuses without its flag.
	if ok := browsertest.WorkerEval[bool](s, w, `self.__ctlensTestCrash("panic")`); ok {
		t.Fatalf("the worker's test hook ran without self.__ctlensTestHooks")
	}
	if !browsertest.WorkerEval[bool](s, w, `(self.__ctlensTestHooks = true, self.__ctlensTestCrash("panic"))`) {
		t.Fatal("the worker's test hook refused to crash it")
	}
	poll(t, s, "the worker's stop told", `((document.querySelector("#worker-dead-text")||{}).innerText||"").startsWith("The model worker stopped: panic: ctlens test crash (exit code 2).")`, time.Minute)
	poll(t, s, "the generation ended", `document.querySelector("#report-text").dataset.streaming === "false" && document.querySelector("#timings").dataset.state !== "running"`, 10*time.Second)
	if txt := browsertest.Eval[string](s, `document.querySelector("#worker-dead-text").innerText`); !strings.Contains(txt, "Restart it to go on") {
		t.Errorf("the panel does not offer the restart: %q", txt)
	}
	if msg := browsertest.Eval[string](s, `(document.querySelector("#assistant-message")||{}).innerText || ""`); msg != "" {
		t.Errorf("a second message beside the worker's stop: %q", msg)
	}
	for _, id := range []string{"generate-report", "ask-submit", "model-load"} {
		if !browsertest.Eval[bool](s, fmt.Sprintf(`document.querySelector("#%s").disabled`, id)) {
			t.Errorf("#%s is offered with the worker stopped", id)
		}
	}
	if st := browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.status`); st != "not loaded" {
		t.Errorf("the card says %q with the worker stopped", st)
	}
	partial := browsertest.Eval[string](s, `document.querySelector("#report-text").value`)
	if partial == "" {
		t.Errorf("the worker's stop threw the streamed text away")
	}

	restart := func(skip ...*browsertest.Worker) *browsertest.Worker {
		t.Helper()
		restarts := browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.workerRestarts`)
		click(t, s, "#worker-restart")
		nw := s.WaitWorker(engineWorker, 2*time.Minute, skip...)
		poll(t, s, "the model loaded in the new worker", fmt.Sprintf(`document.querySelector("#model-card").dataset.status === "loaded" && document.querySelector("#model-card").dataset.workerRestarts !== %q`, restarts), 5*time.Minute)
		if net := browsertest.Eval[string](s, `document.querySelector("#model-card").dataset.networkBytes`); net != "0" {
			t.Errorf("the model reloaded after a restart read %s bytes from the network, not the cache", net)
		}
		if msg := browsertest.Eval[string](s, `(document.querySelector("#assistant-message")||{}).innerText || ""`); msg != "The model worker was restarted and the model reloaded. Nothing was lost." {
			t.Errorf("after the restart the panel says %q", msg)
		}
		if browsertest.Eval[bool](s, `!!document.querySelector("#worker-dead")`) {
			t.Errorf("the worker's stop is still shown after the restart")
		}
		return nw
	}
	w2 := restart(w)
	if txt := browsertest.Eval[string](s, `document.querySelector("#report-text").value`); txt != partial {
		t.Errorf("the restart changed the report on screen: %q, was %q", txt, partial)
	}

	// An exit while idle: no request waits, and the page hears of it all
	// the same.
	browsertest.WorkerEval[bool](s, w2, `(self.__ctlensTestHooks = true, self.__ctlensTestCrash("exit"))`)
	poll(t, s, "the worker's exit told", `((document.querySelector("#worker-dead-text")||{}).innerText||"").startsWith("The model worker stopped: its program ended (exit code 3).")`, time.Minute)
	restart(w, w2)

	// A report after the crash clears its partial text at once (generate
	// checks), and so does one after Stop.
	generate(t, s)
	setMaxTokens(100_000)
	click(t, s, "#generate-report")
	poll(t, s, "text streaming", `document.querySelector("#report-text").value.length > 0 && document.querySelector("#report-text").dataset.streaming === "true"`, 5*time.Minute)
	click(t, s, "#stop")
	poll(t, s, "stopped", `((document.querySelector("#assistant-notice")||{}).innerText||"") === "Stopped." && document.querySelector("#report-text").dataset.streaming === "false"`, time.Minute)
	if browsertest.Eval[string](s, `document.querySelector("#report-text").value`) == "" {
		t.Errorf("Stop threw the streamed text away")
	}
	generate(t, s)
	// The worker logs its two stops as errors; nothing else may.
	var errs []string
	for _, e := range s.ConsoleErrors() {
		if !strings.Contains(e, "The model worker stopped: ") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("console errors:\n  %s", strings.Join(errs, "\n  "))
	}
}
