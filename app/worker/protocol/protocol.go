// Package protocol is the message protocol between the page (the
// assistant panel, app/assistant) and the model engine's Web Worker
// (app/worker): one Go type per message, encoded the same way on both
// sides, so that the page's wasm needs none of the model's code and the
// protocol is tested natively.
//
// On the wire a message is a plain JavaScript object posted with
// postMessage:
//
//	{head: "<JSON envelope>", blob: Uint8Array | undefined, files: [File…] | undefined}
//
// head is Encode's JSON envelope {"kind", "id", "body"}; blob carries the
// one bulk payload, a Generate's grey volume as little-endian float32
// (transferred, not copied); files carries the File objects of a model
// folder the user picked (structured clone), for an Open of SourceFile.
//
// Requests go from the page to the worker, each with an id the page
// chooses; every reply carries its request's id and a request ends with
// exactly one final reply (Final). Messages the worker sends on its own
// (Lost) carry id 0. The page sends one request at a time except Cancel,
// which the worker handles at once:
//
//	Open     → Card | Error
//	Load     → Progress… then Loaded | Error
//	Generate → Text… then Done | Error
//	Unload   → (no reply)
//	Cancel   → (no reply; the running Load or Generate ends with Error{Class: ClassCanceled})
//	           Lost (id 0): the GPU device was lost
package protocol

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"ctlens/model"
)

// Kind names a message type on the wire.
type Kind string

// The message kinds.
const (
	KindOpen     Kind = "open"
	KindLoad     Kind = "load"
	KindGenerate Kind = "generate"
	KindCancel   Kind = "cancel"
	KindUnload   Kind = "unload"
	KindCard     Kind = "card"
	KindProgress Kind = "progress"
	KindLoaded   Kind = "loaded"
	KindText     Kind = "text"
	KindDone     Kind = "done"
	KindError    Kind = "error"
	KindLost     Kind = "lost"
)

// Message is one of the types below.
type Message interface {
	// Kind is the message's name on the wire.
	Kind() Kind
}

// Where a model's files come from.
const (
	SourceBuiltIn = "builtin" // the server's /weights/ (through the cache)
	SourceCache   = "cache"   // offline: the cached copy of the built-in model
	SourceFile    = "file"    // a folder the user picked
)

// Backends.
const (
	BackendGPU = "gpu"
	BackendCPU = "cpu"
)

// Open asks the worker to read a model's card: the built-in model
// (Source SourceBuiltIn; offline it falls back to the cache) or a picked
// folder (Source SourceFile, the files in the envelope's files).
type Open struct {
	Source string `json:"source"`
}

// Card is a model's card, read before its weights: what the page shows
// and the model's config, which the page needs to build the input.
type Card struct {
	Model  string `json:"model"`
	Source string `json:"source"` // SourceBuiltIn, SourceCache, SourceFile
	Folder string `json:"folder,omitempty"`
	Params int64  `json:"params"` // parameter count
	Bytes  int64  `json:"bytes"`  // the weights' size
	// Quantization lists the matrices' storage types, most used first
	// ("int4", "int8 + f32").
	Quantization string `json:"quantization"`
	VRAM         int64  `json:"vram"` // the estimated GPU memory when loaded
	// Config is the manifest's model config (model.ParseConfig reads it).
	Config json.RawMessage `json:"config"`
	// Cached: every file of the model is in this device's cache, verified.
	Cached bool `json:"cached"`
}

// Load asks the worker to load the opened model on a backend.
type Load struct {
	Backend string `json:"backend"` // BackendGPU or BackendCPU
}

// Progress is a load's progress: bytes read, and what it is doing now
// ("" when nothing worth naming).
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Phase string `json:"phase"`
}

// Loaded ends a Load: the model is ready.
type Loaded struct {
	MS           float64 `json:"ms"`            // the load's wall time in the worker
	NetworkBytes int64   `json:"network_bytes"` // bytes fetched over the network (the cache served the rest)
	Cached       bool    `json:"cached"`        // every file is now in the cache
}

// Generate asks for a report (Question "") or an answer, decoded as
// Sampling says (its zero value, and a message from a page that predates
// it, is greedy).
type Generate struct {
	Question  string `json:"question"`
	MaxTokens int    `json:"max_tokens"`
	// Rank answers a closed question — one carrying its choices in the
	// form "… Choices: A. x B. y" — by the model's likelihood of each
	// offered answer (engine.Choose, as `ctlens ask` does) instead of
	// generating: the demo model writes the right answer text far more
	// often than it prints that answer's letter. Done then lists the
	// choices' probabilities; Sampling and MaxTokens do not apply.
	Rank bool `json:"rank,omitempty"`
	Sampling
	// Grey is the series on the model's grid, normalised
	// (volume.ModelInput's (D, H, W)). It travels in the blob.
	Grey []float32 `json:"-"`
}

// Sampling is how the next token is picked: the command line's --temperature,
// --top-k, --top-p and --seed, with the same meaning (model.GenerateOptions),
// so that equal settings give the CLI's text. Every field is omitted when
// zero: the zero value is greedy decoding.
type Sampling struct {
	Temperature float32 `json:"temperature,omitempty"` // ≤ 0: greedy (argmax); at most MaxTemperature
	TopK        int     `json:"top_k,omitempty"`       // keep the TopK most likely tokens; 0: all
	TopP        float32 `json:"top_p,omitempty"`       // nucleus mass in (0, 1]; 0 or 1: off
	Seed        uint32  `json:"seed,omitempty"`        // equal seeds give equal draws
}

// MaxTemperature bounds Sampling.Temperature: beyond it a model's text
// is noise.
const MaxTemperature = 2

// Greedy reports whether s picks the most likely token each step (the
// other settings then do nothing).
func (s Sampling) Greedy() bool { return s.Temperature <= 0 }

// Check says, in words for the user, why s cannot be used (nil when it
// can).
func (s Sampling) Check() error {
	switch {
	case math.IsNaN(float64(s.Temperature)) || s.Temperature < 0 || s.Temperature > MaxTemperature:
		return fmt.Errorf("the temperature must be from 0 to %d (0 is greedy), not %g", MaxTemperature, s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("top-k must be 0 (all tokens) or more, not %d", s.TopK)
	case math.IsNaN(float64(s.TopP)) || s.TopP < 0 || s.TopP > 1:
		return fmt.Errorf("top-p must be more than 0 and at most 1, not %g", s.TopP)
	}
	return nil
}

// Text is generated text as it streams: the part since the last Text.
type Text struct {
	Delta string `json:"delta"`
}

// Done ends a Generate: the whole text and what the model reported.
type Done struct {
	Text       string         `json:"text"`
	Tokens     int            `json:"tokens"`
	StopReason string         `json:"stop_reason"`
	Timings    model.Timings  `json:"timings"`
	Routing    *model.Routing `json:"routing,omitempty"` // nil for a dense model
	// Choices are a ranked answer's offered answers with the model's
	// probability of each (softmax of their summed log-likelihoods), in
	// the question's order; nil for generated text.
	Choices []Choice `json:"choices,omitempty"`
}

// Choice is one offered answer of a ranked closed question.
type Choice struct {
	Letter string  `json:"letter"`
	Text   string  `json:"text"`
	Prob   float64 `json:"prob"`
	Chosen bool    `json:"chosen,omitempty"`
}

// Error classes: what the page does about an error.
const (
	ClassCanceled   = "canceled"    // Cancel stopped it
	ClassDeviceLost = "device-lost" // the GPU device was lost: load again
	ClassBackend    = "backend"     // the backend could not be opened
	// ClassInternal is a bug in the worker (a panic it recovered from)
	// while handling the request: the worker still answers, but after a
	// Load or Generate it holds no loaded model (load again).
	ClassInternal = "internal"
	ClassOther    = ""
)

// Error ends a request that failed. Message is a sentence for the user.
type Error struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Cancel stops the running Load or Generate.
type Cancel struct{}

// Unload releases the loaded model.
type Unload struct{}

// Lost says the GPU device was lost (sent on its own, id 0).
type Lost struct {
	Reason string `json:"reason"`
}

// Kind implements Message.
func (*Open) Kind() Kind     { return KindOpen }
func (*Card) Kind() Kind     { return KindCard }
func (*Load) Kind() Kind     { return KindLoad }
func (*Progress) Kind() Kind { return KindProgress }
func (*Loaded) Kind() Kind   { return KindLoaded }
func (*Generate) Kind() Kind { return KindGenerate }
func (*Text) Kind() Kind     { return KindText }
func (*Done) Kind() Kind     { return KindDone }
func (*Error) Kind() Kind    { return KindError }
func (*Cancel) Kind() Kind   { return KindCancel }
func (*Unload) Kind() Kind   { return KindUnload }
func (*Lost) Kind() Kind     { return KindLost }

// Final reports whether m ends its request.
func Final(m Message) bool {
	switch m.(type) {
	case *Card, *Loaded, *Done, *Error:
		return true
	}
	return false
}

// newMessage makes the zero message of a kind.
func newMessage(k Kind) (Message, error) {
	switch k {
	case KindOpen:
		return &Open{}, nil
	case KindCard:
		return &Card{}, nil
	case KindLoad:
		return &Load{}, nil
	case KindProgress:
		return &Progress{}, nil
	case KindLoaded:
		return &Loaded{}, nil
	case KindGenerate:
		return &Generate{}, nil
	case KindText:
		return &Text{}, nil
	case KindDone:
		return &Done{}, nil
	case KindError:
		return &Error{}, nil
	case KindCancel:
		return &Cancel{}, nil
	case KindUnload:
		return &Unload{}, nil
	case KindLost:
		return &Lost{}, nil
	}
	return nil, fmt.Errorf("protocol: unknown message kind %q", k)
}

// envelope is head's JSON.
type envelope struct {
	Kind Kind            `json:"kind"`
	ID   int             `json:"id"`
	Body json.RawMessage `json:"body"`
}

// Encode writes m, the message of request id, as the envelope's head and
// its blob (nil for all but a Generate).
func Encode(id int, m Message) (head string, blob []byte, err error) {
	body, err := json.Marshal(m)
	if err != nil {
		return "", nil, fmt.Errorf("protocol: encoding %s: %w", m.Kind(), err)
	}
	h, err := json.Marshal(envelope{Kind: m.Kind(), ID: id, Body: body})
	if err != nil {
		return "", nil, err
	}
	if g, ok := m.(*Generate); ok {
		blob = make([]byte, 4*len(g.Grey))
		for i, v := range g.Grey {
			binary.LittleEndian.PutUint32(blob[4*i:], math.Float32bits(v))
		}
	}
	return string(h), blob, nil
}

// Decode reads a head and blob that Encode wrote.
func Decode(head string, blob []byte) (id int, m Message, err error) {
	var e envelope
	if err := json.Unmarshal([]byte(head), &e); err != nil {
		return 0, nil, fmt.Errorf("protocol: bad envelope: %w", err)
	}
	if m, err = newMessage(e.Kind); err != nil {
		return e.ID, nil, err
	}
	if len(e.Body) > 0 && string(e.Body) != "null" {
		if err := json.Unmarshal(e.Body, m); err != nil {
			return e.ID, nil, fmt.Errorf("protocol: %s body: %w", e.Kind, err)
		}
	}
	if g, ok := m.(*Generate); ok {
		if len(blob)%4 != 0 {
			return e.ID, nil, fmt.Errorf("protocol: generate: the grey volume is %d bytes, not whole float32s", len(blob))
		}
		g.Grey = make([]float32, len(blob)/4)
		for i := range g.Grey {
			g.Grey[i] = math.Float32frombits(binary.LittleEndian.Uint32(blob[4*i:]))
		}
	} else if len(blob) > 0 {
		return e.ID, nil, fmt.Errorf("protocol: %s carries a %d-byte blob it does not take", e.Kind, len(blob))
	}
	return e.ID, m, nil
}
