package host_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ctlens/app/worker/host"
	"ctlens/app/worker/protocol"
	"ctlens/model"
	"ctlens/model/cpu"
	"ctlens/model/engine"
	"ctlens/server/serve"
	"ctlens/shaders"
)

// tinyModel writes the server's placeholder model once per machine.
func tinyModel(t *testing.T) string {
	t.Helper()
	root, err := serve.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), "ctlens-host-test", "model")
	if err := serve.EnsureTinyModel(context.Background(), root, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// reply is one message the host posted.
type reply struct {
	id int
	m  protocol.Message
}

func start(t *testing.T, dir string) (*host.Host, chan reply) {
	replies := make(chan reply, 4096)
	h := host.New(host.Dir{Path: dir}, func(id int, m protocol.Message) { replies <- reply{id, m} })
	return h, replies
}

// final waits for request id's final reply, returning it and what came
// before it for that id.
func final(t *testing.T, replies chan reply, id int) (before []protocol.Message, last protocol.Message) {
	t.Helper()
	for {
		select {
		case r := <-replies:
			if r.id != id {
				t.Fatalf("a reply for request %d (%s) while waiting for %d", r.id, r.m.Kind(), id)
			}
			if protocol.Final(r.m) {
				return before, r.m
			}
			before = append(before, r.m)
		case <-time.After(5 * time.Minute):
			t.Fatalf("no final reply to request %d", id)
		}
	}
}

func mustBe[T protocol.Message](t *testing.T, m protocol.Message) T {
	t.Helper()
	v, ok := m.(T)
	if !ok {
		t.Fatalf("reply %s %+v, want a %T", m.Kind(), m, v)
	}
	return v
}

// openAndLoad opens the tiny model and loads it on the CPU backend.
func openAndLoad(t *testing.T, h *host.Host, replies chan reply) *protocol.Card {
	t.Helper()
	h.Handle(1, &protocol.Open{Source: protocol.SourceBuiltIn}, nil)
	_, m := final(t, replies, 1)
	card := mustBe[*protocol.Card](t, m)
	h.Handle(2, &protocol.Load{Backend: protocol.BackendCPU}, nil)
	progress, m := final(t, replies, 2)
	loaded := mustBe[*protocol.Loaded](t, m)
	if loaded.MS <= 0 || loaded.NetworkBytes != 0 {
		t.Errorf("loaded %+v: want a load time and no network bytes", loaded)
	}
	var done int64 = -1
	for _, p := range progress {
		p := mustBe[*protocol.Progress](t, p)
		if p.Done < done || p.Total != card.Bytes {
			t.Errorf("progress %+v after %d bytes, total want %d", p, done, card.Bytes)
		}
		done = p.Done
	}
	if done != card.Bytes {
		t.Errorf("the last progress says %d of %d bytes", done, card.Bytes)
	}
	return card
}

func grey(t *testing.T, c *protocol.Card) []float32 {
	cfg, err := model.ParseConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	g := make([]float32, cfg.Slices()*cfg.Vision.ImageSize*cfg.Vision.ImageSize)
	for i := range g {
		g[i] = float32(i%17) / 17
	}
	return g
}

// TestCardAndLoad: the card describes the model and its config parses;
// the load reports its bytes up to the total and ends loaded.
func TestCardAndLoad(t *testing.T) {
	dir := tinyModel(t)
	h, replies := start(t, dir)
	card := openAndLoad(t, h, replies)
	if !strings.HasPrefix(card.Model, "tiny-") || card.Params <= 0 || card.Bytes <= 0 || card.VRAM <= 0 ||
		card.Quantization == "" || card.Source != protocol.SourceBuiltIn || card.Cached {
		t.Errorf("card %+v", card)
	}
}

// TestStreamAndCancel: a long generation streams Text, and a Cancel ends
// it with a canceled Error; the host then answers the next request.
func TestStreamAndCancel(t *testing.T) {
	h, replies := start(t, tinyModel(t))
	card := openAndLoad(t, h, replies)
	h.Handle(3, &protocol.Generate{MaxTokens: 100_000, Grey: grey(t, card)}, nil)
	select {
	case r := <-replies:
		if r.id != 3 || r.m.Kind() != protocol.KindText {
			t.Fatalf("first reply %d %s, want text for 3", r.id, r.m.Kind())
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("no text")
	}
	h.Handle(0, &protocol.Cancel{}, nil)
	before, m := final(t, replies, 3)
	if e := mustBe[*protocol.Error](t, m); e.Class != protocol.ClassCanceled {
		t.Errorf("after Cancel: %+v, want class %q", e, protocol.ClassCanceled)
	}
	for _, b := range before {
		mustBe[*protocol.Text](t, b)
	}
	// Still serving: a short report completes.
	h.Handle(4, &protocol.Generate{MaxTokens: 3, Grey: grey(t, card)}, nil)
	_, m = final(t, replies, 4)
	if d := mustBe[*protocol.Done](t, m); d.Tokens == 0 || d.Tokens > 3 || d.Text == "" {
		t.Errorf("after the cancel: %+v", d)
	}
}

// TestErrors: requests out of order, a folder with no model, a backend
// the platform lacks and a wrong-sized input are Errors that say so; a
// failed open keeps the model opened before.
func TestErrors(t *testing.T) {
	dir := tinyModel(t)
	h, replies := start(t, dir)
	h.Handle(1, &protocol.Load{Backend: protocol.BackendCPU}, nil)
	if _, m := final(t, replies, 1); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "no model is open") {
		t.Errorf("load before open: %+v", m)
	}
	h.Handle(2, &protocol.Generate{MaxTokens: 3}, nil)
	if _, m := final(t, replies, 2); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "not loaded") {
		t.Errorf("generate before load: %+v", m)
	}
	empty := t.TempDir()
	h.Handle(3, &protocol.Open{Source: protocol.SourceFile}, empty)
	if _, m := final(t, replies, 3); !strings.Contains(mustBe[*protocol.Error](t, m).Message, empty) {
		t.Errorf("open of a folder with no model: %+v, want an error naming %s", m, empty)
	}
	h.Handle(4, &protocol.Open{Source: protocol.SourceFile}, dir)
	_, m := final(t, replies, 4)
	c4 := mustBe[*protocol.Card](t, m)
	if c4.Source != protocol.SourceFile || c4.Folder != filepath.Base(dir) {
		t.Errorf("card of a picked folder: %+v", c4)
	}
	h.Handle(5, &protocol.Load{Backend: protocol.BackendGPU}, nil)
	_, m = final(t, replies, 5)
	if e := mustBe[*protocol.Error](t, m); e.Class != protocol.ClassBackend {
		t.Errorf("a backend the platform lacks: %+v", e)
	}
	h.Handle(6, &protocol.Load{Backend: protocol.BackendCPU}, nil)
	_, m = final(t, replies, 6)
	mustBe[*protocol.Loaded](t, m)
	h.Handle(7, &protocol.Generate{MaxTokens: 3, Grey: []float32{1, 2, 3}}, nil)
	if _, m := final(t, replies, 7); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "grey volume of 3 values") {
		t.Errorf("a wrong-sized input: %+v", m)
	}
	h.Handle(9, &protocol.Generate{MaxTokens: 3, Grey: grey(t, c4), Sampling: protocol.Sampling{Temperature: 5}}, nil)
	if _, m := final(t, replies, 9); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "temperature must be from 0 to 2") {
		t.Errorf("a temperature out of bounds: %+v", m)
	}
	h.Handle(8, &protocol.Card{}, nil)
	if _, m := final(t, replies, 8); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "does not take a card") {
		t.Errorf("a reply sent as a request: %+v", m)
	}
}

// faulty is host.Dir whose backend panics in the kernel named by panicIn
// (while armed), the way a bug deep in a forward pass or a load would,
// and that counts the backends it gave back.
type faulty struct {
	host.Dir
	panicIn  atomic.Value // string: "BuiltIn", "Upload", "MatMul" or ""
	releases atomic.Int32
}

func (f *faulty) armed(where string) bool { s, _ := f.panicIn.Load().(string); return s == where }

func (f *faulty) BuiltIn(ctx context.Context) (*host.Source, error) {
	if f.armed("BuiltIn") {
		panic("injected fault in BuiltIn")
	}
	return f.Dir.BuiltIn(ctx)
}

func (f *faulty) Backend(ctx context.Context, backend string, onLost func(string)) (model.Ops, func(), error) {
	ops, release, err := f.Dir.Backend(ctx, backend, onLost)
	if err != nil {
		return nil, nil, err
	}
	return faultyOps{Ops: ops, f: f}, func() { f.releases.Add(1); release() }, nil
}

// faultyOps is a backend whose Upload (used by a load) or MatMul (used
// by every forward pass) panics while its platform is armed for it.
type faultyOps struct {
	model.Ops
	f *faulty
}

func (o faultyOps) Upload(name string, w shaders.Weights) model.Tensor {
	if o.f.armed("Upload") {
		panic("injected fault in Upload of " + name)
	}
	return o.Ops.Upload(name, w)
}

func (o faultyOps) MatMul(y, x, w model.Tensor, mo model.MatMulOpts, p shaders.MatMulParams) {
	if o.f.armed("MatMul") {
		panic("injected fault in MatMul")
	}
	o.Ops.MatMul(y, x, w, mo, p)
}

// TestPanicIsAnError: a panic while the host handles a request (a bug in
// the engine, the backend or the platform) is that request's Error of
// class internal, in words, instead of the end of the worker: the host
// answers the requests after it. A panic in a generation or a load drops
// the model and gives its backend back; one in an open keeps the model
// loaded before. A model loaded again writes what it wrote before the
// panic.
func TestPanicIsAnError(t *testing.T) {
	f := &faulty{Dir: host.Dir{Path: tinyModel(t)}}
	replies := make(chan reply, 4096)
	h := host.New(f, func(id int, m protocol.Message) { replies <- reply{id, m} })
	card := openAndLoad(t, h, replies)
	g := grey(t, card)
	h.Handle(3, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	_, m := final(t, replies, 3)
	before := mustBe[*protocol.Done](t, m)

	internal := func(id int, m protocol.Message, what string) {
		t.Helper()
		e := mustBe[*protocol.Error](t, m)
		if e.Class != protocol.ClassInternal || !strings.Contains(e.Message, what) || !strings.Contains(e.Message, "injected fault") {
			t.Errorf("request %d: %+v, want class %q naming %q and the panic", id, e, protocol.ClassInternal, what)
		}
	}

	// A panic in the middle of a forward pass.
	f.panicIn.Store("MatMul")
	h.Handle(4, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	_, m = final(t, replies, 4)
	internal(4, m, "while generating")
	if !strings.Contains(m.(*protocol.Error).Message, "the model was unloaded") {
		t.Errorf("the error %q does not say that the model was unloaded", m.(*protocol.Error).Message)
	}
	if n := f.releases.Load(); n != 1 {
		t.Errorf("%d backends given back after the panic, want 1", n)
	}
	f.panicIn.Store("")
	h.Handle(5, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	if _, m := final(t, replies, 5); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "not loaded") {
		t.Errorf("a generation after the panic: %+v, want the model not loaded", m)
	}
	h.Handle(6, &protocol.Load{Backend: protocol.BackendCPU}, nil)
	_, m = final(t, replies, 6)
	mustBe[*protocol.Loaded](t, m)
	h.Handle(7, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	_, m = final(t, replies, 7)
	if after := mustBe[*protocol.Done](t, m); after.Text != before.Text || after.Tokens != before.Tokens {
		t.Errorf("after the panic and a load: %q (%d tokens), before it: %q (%d tokens)", after.Text, after.Tokens, before.Text, before.Tokens)
	}

	// A panic while opening: the loaded model stays.
	f.panicIn.Store("BuiltIn")
	h.Handle(8, &protocol.Open{Source: protocol.SourceBuiltIn}, nil)
	_, m = final(t, replies, 8)
	internal(8, m, "while opening the model")
	f.panicIn.Store("")
	h.Handle(9, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	_, m = final(t, replies, 9)
	if d := mustBe[*protocol.Done](t, m); d.Text != before.Text {
		t.Errorf("after a panic in an open: %q, want %q", d.Text, before.Text)
	}

	// A panic while loading gives the new backend back.
	rel := f.releases.Load()
	f.panicIn.Store("Upload")
	h.Handle(10, &protocol.Load{Backend: protocol.BackendCPU}, nil)
	before10, m := final(t, replies, 10)
	internal(10, m, "while loading the model")
	for _, b := range before10 {
		mustBe[*protocol.Progress](t, b)
	}
	// The loaded model was released when the load began, and the new
	// backend when it panicked.
	if n := f.releases.Load() - rel; n != 2 {
		t.Errorf("%d backends given back by a load that panicked, want 2 (the old model's and its own)", n)
	}
	f.panicIn.Store("")
	h.Handle(11, &protocol.Generate{MaxTokens: 6, Grey: g}, nil)
	if _, m := final(t, replies, 11); !strings.Contains(mustBe[*protocol.Error](t, m).Message, "not loaded") {
		t.Errorf("a generation after a load that panicked: %+v, want the model not loaded", m)
	}
}

// TestRankedAnswer: a Generate with Rank answers a closed question as
// engine.Choose does on the same model and input — the chosen "X. text"
// as one Text and in Done, with every offered answer's probability —
// and a question without choices is an error that says so.
func TestRankedAnswer(t *testing.T) {
	dir := tinyModel(t)
	h, replies := start(t, dir)
	card := openAndLoad(t, h, replies)
	g := grey(t, card)
	q := "Which organ is shown? Choices: A. liver B. spleen C. kidney"
	h.Handle(3, &protocol.Generate{Question: q, Rank: true, Grey: g}, nil)
	before, m := final(t, replies, 3)
	d := mustBe[*protocol.Done](t, m)
	if len(before) != 1 || mustBe[*protocol.Text](t, before[0]).Delta != d.Text {
		t.Errorf("streamed %v before Done %q, want the answer as one Text", before, d.Text)
	}

	// The same through the engine directly.
	src, err := host.Dir{Path: dir}.BuiltIn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info, err := engine.ReadInfo(context.Background(), src.Manifest, src.Open, src.Where)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := info.Load(context.Background(), cpu.New(), src.Open, nil)
	if err != nil {
		t.Fatal(err)
	}
	px, err := eng.Pixels(g)
	if err != nil {
		t.Fatal(err)
	}
	want, err := eng.Choose(context.Background(), engine.Request{Pixels: px, Question: q}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text != want.Text || len(d.Choices) != 3 {
		t.Fatalf("ranked %q with %+v, engine.Choose %q", d.Text, d.Choices, want.Text)
	}
	sum := 0.0
	for i, c := range d.Choices {
		sum += c.Prob
		if c.Letter != string(rune('A'+i)) || c.Chosen != (i == want.Index) || math.Abs(c.Prob-want.Probs[i]) > 1e-9 {
			t.Errorf("choice %d: %+v, engine: prob %g chosen %v", i, c, want.Probs[i], i == want.Index)
		}
	}
	if math.Abs(sum-1) > 1e-9 || d.Choices[1].Text != "spleen" {
		t.Errorf("choices %+v: probabilities sum to %g", d.Choices, sum)
	}

	h.Handle(4, &protocol.Generate{Question: "Which organ is shown?", Rank: true, Grey: g}, nil)
	_, m = final(t, replies, 4)
	if e := mustBe[*protocol.Error](t, m); !strings.Contains(e.Message, "no choices") {
		t.Errorf("ranking without choices: %+v", e)
	}
}
