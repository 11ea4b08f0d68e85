// Package host is the model engine's side of app/worker/protocol: it
// answers the page's requests (open a model's card, load it on a
// backend, generate) with ctlens/model/engine, the same code the command
// line runs. What differs between the browser worker and a native test —
// where the files come from, the GPU, the cache — is a Platform.
//
// A Host runs one request at a time, in the order Handle receives them;
// Cancel acts at once on the running one.
package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/engine"
	"ctlens/weights"
)

// Source is an opened model directory.
type Source struct {
	Manifest []byte         // manifest.json's bytes
	Open     weights.Opener // reads the directory's files
	Where    string         // names the directory in errors
	Kind     string         // protocol.SourceBuiltIn, SourceCache or SourceFile
	Folder   string         // a picked folder's name
	// Cache, when not nil, holds the files Open read from the network
	// (Open reads through it), and the manifest after a load.
	Cache *weights.Cache
	// Net counts the bytes Open fetched from the network (nil: none).
	Net *int64
}

// Platform is what the host needs from where it runs.
type Platform interface {
	// BuiltIn opens the server's model directory (offline: the cache).
	BuiltIn(ctx context.Context) (*Source, error)
	// Folder opens a folder the user picked; files is the platform's
	// handle on it (the File objects in the browser).
	Folder(ctx context.Context, files any) (*Source, error)
	// Backend opens a backend; onLost is called when its device is lost.
	Backend(ctx context.Context, backend string, onLost func(reason string)) (ops model.Ops, release func(), err error)
	// RememberBuiltIn records, in the cache, the name of the built-in
	// model last loaded, so that an offline visit finds it.
	RememberBuiltIn(name string) error
	// IsDeviceLost reports whether err came from a lost GPU device.
	IsDeviceLost(err error) bool
}

// Host answers requests. Post sends a reply (and the id it answers).
type Host struct {
	post     func(id int, m protocol.Message)
	platform Platform

	mu      sync.Mutex
	pending []request          // requests waiting their turn, in order
	wake    chan struct{}      // signals a new pending request
	cancel  context.CancelFunc // of the running Load or Generate

	// Owned by the request goroutine.
	src     *Source
	info    *engine.Info
	eng     *engine.Engine
	backend string
	release func()
}

type request struct {
	id    int
	m     protocol.Message
	files any
}

// New starts a host that replies through post, which it calls from its
// own goroutines, one call at a time.
func New(p Platform, post func(id int, m protocol.Message)) *Host {
	h := &Host{platform: p, wake: make(chan struct{}, 1)}
	var mu sync.Mutex
	h.post = func(id int, m protocol.Message) {
		mu.Lock()
		defer mu.Unlock()
		post(id, m)
	}
	go h.run()
	return h
}

// Handle takes a request: Cancel acts at once, the rest wait their turn.
// files goes with an Open of a picked folder. Handle never blocks on the
// model, so it may be called from a JavaScript callback.
func (h *Host) Handle(id int, m protocol.Message, files any) {
	if _, ok := m.(*protocol.Cancel); ok {
		h.mu.Lock()
		if h.cancel != nil {
			h.cancel()
		}
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	h.pending = append(h.pending, request{id: id, m: m, files: files})
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default: // already signalled
	}
}

// next waits for the next request.
func (h *Host) next() request {
	for {
		h.mu.Lock()
		if len(h.pending) > 0 {
			r := h.pending[0]
			h.pending = h.pending[1:]
			h.mu.Unlock()
			return r
		}
		h.mu.Unlock()
		<-h.wake
	}
}

func (h *Host) run() {
	for {
		h.serve(h.next())
	}
}

// serve handles one request. A panic while handling it (a bug) is that
// request's Error, so that the page is answered and the worker goes on
// serving: it would otherwise take the whole Go program down, and every
// request the page waits for with it.
func (h *Host) serve(r request) {
	defer func() {
		if v := recover(); v != nil {
			h.recovered(r, v)
		}
	}()
	switch m := r.m.(type) {
	case *protocol.Open:
		h.open(r.id, m, r.files)
	case *protocol.Load:
		h.load(r.id, m)
	case *protocol.Generate:
		h.generate(r.id, m)
	case *protocol.Unload:
		h.unload()
	default:
		h.post(r.id, &protocol.Error{Message: "the model worker does not take a " + string(r.m.Kind()) + " request"})
	}
}

// recovered answers a request whose handling panicked. An Open changes
// nothing until it succeeds, so the model opened (and loaded) before
// stays. After a Load or a Generate the model is dropped and its backend
// released: the generation's State was freed on the way out and the
// weights are only read, but the backend's own state cannot be vouched
// for — on the GPU a batch half recorded, an error scope pushed and not
// popped, a buffer left mapped — and a forward pass that panicked once
// would run the same code on the next request. Loading again starts from
// a new device and the weights cache.
func (h *Host) recovered(r request, v any) {
	what := map[protocol.Kind]string{protocol.KindOpen: "opening the model", protocol.KindLoad: "loading the model",
		protocol.KindGenerate: "generating", protocol.KindUnload: "unloading the model"}[r.m.Kind()]
	if what == "" {
		what = "handling a " + string(r.m.Kind()) + " request"
	}
	fmt.Fprintf(os.Stderr, "ctlens model worker: recovered from a panic while %s (request %d): %v\n%s", what, r.id, v, debug.Stack())
	msg := fmt.Sprintf("the model worker hit a bug while %s (%v)", what, v)
	if _, isOpen := r.m.(*protocol.Open); !isOpen {
		func() {
			// A release that panics too leaves the model dropped all
			// the same.
			defer func() { recover() }()
			h.unload()
		}()
		h.eng, h.release = nil, nil
		msg += "; the model was unloaded"
	}
	if r.id != 0 {
		h.post(r.id, &protocol.Error{Class: protocol.ClassInternal, Message: msg})
	}
}

// start makes the context of a cancellable request.
func (h *Host) start() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	h.mu.Lock()
	h.cancel = cancel
	h.mu.Unlock()
	return ctx, func() {
		h.mu.Lock()
		h.cancel = nil
		h.mu.Unlock()
		cancel()
	}
}

func (h *Host) fail(id int, err error) {
	e := &protocol.Error{Message: err.Error()}
	switch {
	case engine.IsCanceled(err):
		e.Class = protocol.ClassCanceled
	case h.platform.IsDeviceLost(err):
		e.Class = protocol.ClassDeviceLost
	}
	h.post(id, e)
}

// open reads a model's card. A failed open keeps the model opened before.
func (h *Host) open(id int, m *protocol.Open, files any) {
	ctx := context.Background()
	var src *Source
	var err error
	if m.Source == protocol.SourceFile {
		src, err = h.platform.Folder(ctx, files)
	} else {
		src, err = h.platform.BuiltIn(ctx)
	}
	var info *engine.Info
	if err == nil {
		info, err = engine.ReadInfo(ctx, src.Manifest, src.Open, src.Where)
	}
	if err == nil {
		err = info.CanGenerate()
	}
	if err != nil {
		h.post(id, &protocol.Error{Message: err.Error()})
		return
	}
	h.unload()
	h.src, h.info = src, info
	card := CardOf(info)
	card.Source, card.Folder = src.Kind, src.Folder
	card.Cached = src.Cache != nil && len(src.Cache.Missing(info.Manifest)) == 0
	h.post(id, card)
}

// CardOf is the card of a model (Source, Folder and Cached left to the
// caller).
func CardOf(in *engine.Info) *protocol.Card {
	return &protocol.Card{Model: in.Manifest.Model, Params: in.Params(), Bytes: in.Manifest.Bytes(),
		Quantization: Quantization(in), VRAM: in.VRAM().Total, Config: in.Manifest.Config}
}

// Quantization lists the matrices' storage types, most used first ("int4",
// "int8 + f32").
func Quantization(in *engine.Info) string {
	n := map[string]int64{}
	for _, t := range in.Manifest.Tensors {
		if !t.Matrix {
			continue
		}
		e := int64(1)
		for _, s := range t.Shape {
			e *= int64(s)
		}
		n[t.DType] += e
	}
	if len(n) == 0 {
		return "f32"
	}
	types := make([]string, 0, len(n))
	for k := range n {
		types = append(types, k)
	}
	slices.SortFunc(types, func(a, b string) int {
		if n[a] != n[b] {
			return int(max(-1, min(1, n[b]-n[a])))
		}
		return strings.Compare(a, b)
	})
	return strings.Join(types, " + ")
}

func (h *Host) unload() {
	if h.release != nil {
		h.release()
	}
	h.eng, h.release = nil, nil
}

// load opens the backend and loads the opened model's weights onto it,
// reporting bytes as they arrive. The cache stores what came from the
// network.
func (h *Host) load(id int, m *protocol.Load) {
	h.unload()
	if h.info == nil {
		h.post(id, &protocol.Error{Message: "no model is open"})
		return
	}
	ctx, done := h.start()
	defer done()
	src, info := h.src, h.info
	t0 := time.Now()
	var net0 int64
	if src.Net != nil {
		net0 = atomic.LoadInt64(src.Net)
	}
	total := info.Manifest.Bytes()
	phase := func(s string) { h.post(id, &protocol.Progress{Total: total, Phase: s}) }
	phase("opening the " + map[string]string{protocol.BackendGPU: "GPU", protocol.BackendCPU: "CPU backend"}[m.Backend])
	ops, release, err := h.platform.Backend(ctx, m.Backend, func(reason string) {
		h.post(0, &protocol.Lost{Reason: reason})
	})
	if err != nil {
		h.post(id, &protocol.Error{Class: protocol.ClassBackend, Message: err.Error()})
		return
	}
	kept := false
	defer func() {
		// A failed load, or one that panicked, gives the device back.
		if !kept {
			release()
		}
	}()
	var last time.Time
	phase("reading the weights")
	eng, err := info.Load(ctx, ops, src.Open, func(done, total int64) {
		ph := "reading the weights"
		if done == total {
			// Load builds the model and warms it next: on the GPU that
			// compiles every pipeline, the longest part on a slow GPU.
			ph = "preparing the model"
			if m.Backend == protocol.BackendGPU {
				ph = "preparing the model (compiling GPU programs)"
			}
		}
		if now := time.Now(); now.Sub(last) > 100*time.Millisecond || done == total {
			last = now
			h.post(id, &protocol.Progress{Done: done, Total: total, Phase: ph})
		}
	})
	if err != nil {
		h.fail(id, err)
		return
	}
	cached := false
	if c := src.Cache; c != nil {
		if cerr := c.SaveManifest(info.Manifest); cerr == nil && src.Kind == protocol.SourceBuiltIn {
			h.platform.RememberBuiltIn(info.Manifest.Model)
		}
		cached = len(c.Missing(info.Manifest)) == 0
	}
	var net int64
	if src.Net != nil {
		net = atomic.LoadInt64(src.Net) - net0
	}
	h.eng, h.release, h.backend = eng, release, m.Backend
	kept = true
	h.post(id, &protocol.Loaded{MS: float64(time.Since(t0).Microseconds()) / 1000, NetworkBytes: net, Cached: cached})
}

// TextInterval is how often Text goes to the page while a generation
// streams: often enough to read as live, seldom enough that rendering
// does not take the page's time.
const TextInterval = 50 * time.Millisecond

// generate streams a report or an answer.
func (h *Host) generate(id int, m *protocol.Generate) {
	if h.eng == nil {
		h.post(id, &protocol.Error{Message: "the model is not loaded"})
		return
	}
	if err := m.Sampling.Check(); err != nil {
		h.post(id, &protocol.Error{Message: err.Error()})
		return
	}
	ctx, done := h.start()
	defer done()
	px, err := h.eng.Pixels(m.Grey)
	if err != nil {
		h.post(id, &protocol.Error{Message: err.Error()})
		return
	}
	if m.Rank {
		h.rank(ctx, id, px, m.Question)
		return
	}
	var (
		pending strings.Builder
		sent    bool
		last    time.Time
	)
	flush := func() {
		if pending.Len() > 0 {
			h.post(id, &protocol.Text{Delta: pending.String()})
			pending.Reset()
		}
	}
	opts := model.TextOptions{
		// The sampling settings as the command line passes them, so that
		// equal settings give equal text.
		GenerateOptions: model.GenerateOptions{MaxTokens: m.MaxTokens, Temperature: m.Temperature,
			TopK: m.TopK, TopP: m.TopP, Seed: m.Seed},
		OnText: func(delta string) {
			pending.WriteString(delta)
			// The first text goes at once: the page measures the time
			// to it.
			if now := time.Now(); !sent || now.Sub(last) >= TextInterval {
				sent, last = true, now
				flush()
			}
		},
	}
	if h.backend == protocol.BackendCPU {
		// The CPU backend never blocks on the browser: give the worker's
		// event loop a turn between tokens, so that a Cancel gets in.
		opts.OnToken = func(int) { time.Sleep(time.Millisecond) }
	}
	res, err := h.eng.Generate(ctx, engine.Request{Pixels: px, Question: m.Question, Options: opts})
	flush()
	if err != nil {
		h.fail(id, err)
		return
	}
	h.post(id, &protocol.Done{Text: res.Text, Tokens: len(res.Tokens), StopReason: res.StopReason, Timings: res.Timings, Routing: res.Routing})
}

// rank answers a closed question by ranking its offered answers; the
// answer goes as one Text, then Done with every choice's probability.
func (h *Host) rank(ctx context.Context, id int, px []float32, question string) {
	res, err := h.eng.Choose(ctx, engine.Request{Pixels: px, Question: question}, nil)
	if err != nil {
		h.fail(id, err)
		return
	}
	h.post(id, &protocol.Text{Delta: res.Text})
	_, choices, _ := engine.ClosedPrompt(question, nil)
	done := &protocol.Done{Text: res.Text, Tokens: len(res.Tokens[res.Index]), StopReason: "ranked", Timings: res.Timings, Routing: res.Routing}
	for i, c := range choices {
		done.Choices = append(done.Choices, protocol.Choice{Letter: string(rune('A' + i)), Text: c, Prob: res.Probs[i], Chosen: i == res.Index})
	}
	h.post(id, done)
}

// Dir is a Platform over a model folder on disk with the CPU backend
// only, and no cache: the host natively, for tests. Its BuiltIn is the
// folder Path; its Folder takes the folder's path as files.
type Dir struct{ Path string }

// BuiltIn opens d.Path.
func (d Dir) BuiltIn(ctx context.Context) (*Source, error) {
	return d.open(d.Path, protocol.SourceBuiltIn)
}

// Folder opens the folder whose path is files (a string).
func (d Dir) Folder(ctx context.Context, files any) (*Source, error) {
	p, ok := files.(string)
	if !ok {
		return nil, fmt.Errorf("host.Dir: a folder is a path, not %T", files)
	}
	return d.open(p, protocol.SourceFile)
}

func (d Dir) open(path, kind string) (*Source, error) {
	b, err := os.ReadFile(filepath.Join(path, weights.ManifestFile))
	if err != nil {
		return nil, err
	}
	return &Source{Manifest: b, Open: weights.FSOpener(os.DirFS(path)), Where: path, Kind: kind,
		Folder: filepath.Base(path), Net: new(int64)}, nil
}

// Backend opens the CPU backend; natively here there is no GPU.
func (d Dir) Backend(ctx context.Context, backend string, onLost func(string)) (model.Ops, func(), error) {
	if backend != protocol.BackendCPU {
		return nil, nil, fmt.Errorf("host.Dir has no %s backend, only %s", backend, protocol.BackendCPU)
	}
	return cpu.New(), func() {}, nil
}

// RememberBuiltIn does nothing: there is no cache.
func (d Dir) RememberBuiltIn(name string) error { return nil }

// IsDeviceLost is false: the CPU has no device to lose.
func (d Dir) IsDeviceLost(err error) bool { return false }
