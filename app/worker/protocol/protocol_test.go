package protocol_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"ctlens/app/worker/protocol"
	"ctlens/model"
)

// TestRoundTrip: every message decodes to what was encoded, with its id
// and kind, and only Generate carries a blob.
func TestRoundTrip(t *testing.T) {
	grey := []float32{0, -0.5, 1e-30, 3.25, float32(math.Inf(1)), -7}
	msgs := []protocol.Message{
		&protocol.Open{Source: protocol.SourceFile},
		&protocol.Card{Model: "tiny-x", Source: protocol.SourceCache, Folder: "m", Params: 2_000_000, Bytes: 1 << 20,
			Quantization: "int8 + f32", VRAM: 3 << 20, Config: json.RawMessage(`{"a":1}`), Cached: true},
		&protocol.Load{Backend: protocol.BackendCPU},
		&protocol.Progress{Done: 10, Total: 20, Phase: "reading the weights"},
		&protocol.Loaded{MS: 12.5, NetworkBytes: 99, Cached: true},
		&protocol.Generate{Question: "Is there an effusion? «ü»", MaxTokens: 24, Grey: grey},
		&protocol.Generate{MaxTokens: 12, Grey: grey[:2],
			Sampling: protocol.Sampling{Temperature: 0.8, TopK: 20, TopP: 0.95, Seed: 4_000_000_007}},
		&protocol.Text{Delta: "FINDINGS:\n"},
		&protocol.Done{Text: "FINDINGS: none.", Tokens: 5, StopReason: "stop",
			Timings: model.Timings{VisionMS: 1.5, PrefillMS: 2, PrefillTokens: 40, DecodeMS: 3.25, DecodeTokens: 4},
			Routing: &model.Routing{Task: 1, TaskName: "closed_vqa", TaskProbs: []float32{0.1, 0.7, 0.2},
				Layers: []model.LayerRouting{{Layer: 3, Tokens: 2, K: 2, Experts: []int{0, 3, 1, 2}, Gates: []float32{0.6, 0.4, 0.55, 0.45}, Probs: []float32{0.3, 0.1, 0.2, 0.4, 0.25, 0.25, 0.25, 0.25}}}}},
		&protocol.Error{Class: protocol.ClassDeviceLost, Message: "lost"},
		&protocol.Cancel{},
		&protocol.Unload{},
		&protocol.Lost{Reason: "destroyed"},
	}
	for i, m := range msgs {
		head, blob, err := protocol.Encode(i+1, m)
		if err != nil {
			t.Fatalf("Encode %s: %v", m.Kind(), err)
		}
		if _, isGen := m.(*protocol.Generate); isGen != (blob != nil) {
			t.Errorf("%s: blob of %d bytes", m.Kind(), len(blob))
		}
		if !strings.Contains(head, `"kind":"`+string(m.Kind())+`"`) {
			t.Errorf("%s: head %s does not name the kind", m.Kind(), head)
		}
		id, got, err := protocol.Decode(head, blob)
		if err != nil {
			t.Fatalf("Decode %s: %v", m.Kind(), err)
		}
		if id != i+1 || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: decoded id %d %#v\nwant id %d %#v", m.Kind(), id, got, i+1, m)
		}
	}
	// The grey volume's bits survive exactly, NaN included.
	nan := []float32{float32(math.NaN()), float32(math.Copysign(0, -1))}
	head, blob, _ := protocol.Encode(7, &protocol.Generate{Grey: nan})
	_, m, err := protocol.Decode(head, blob)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.(*protocol.Generate).Grey {
		if math.Float32bits(v) != math.Float32bits(nan[i]) {
			t.Errorf("grey[%d] bits %08x, want %08x", i, math.Float32bits(v), math.Float32bits(nan[i]))
		}
	}
}

// TestFinal: exactly the replies that end a request are final.
func TestFinal(t *testing.T) {
	final := map[protocol.Kind]bool{protocol.KindCard: true, protocol.KindLoaded: true, protocol.KindDone: true, protocol.KindError: true}
	for _, m := range []protocol.Message{&protocol.Open{}, &protocol.Card{}, &protocol.Load{}, &protocol.Progress{}, &protocol.Loaded{},
		&protocol.Generate{}, &protocol.Text{}, &protocol.Done{}, &protocol.Error{}, &protocol.Cancel{}, &protocol.Unload{}, &protocol.Lost{}} {
		if protocol.Final(m) != final[m.Kind()] {
			t.Errorf("Final(%s) = %v", m.Kind(), protocol.Final(m))
		}
	}
}

// TestDecodeErrors: malformed input is an error that says what is wrong.
func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct {
		head string
		blob []byte
		want string
	}{
		{`not json`, nil, "bad envelope"},
		{`{"kind":"explode","id":1,"body":{}}`, nil, `unknown message kind "explode"`},
		{`{"kind":"load","id":1,"body":{"backend":3}}`, nil, "load body"},
		{`{"kind":"generate","id":1,"body":{}}`, []byte{1, 2, 3}, "not whole float32s"},
		{`{"kind":"text","id":1,"body":{}}`, []byte{1, 2, 3, 4}, "does not take"},
	} {
		_, _, err := protocol.Decode(c.head, c.blob)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%s): err %v, want one saying %q", c.head, err, c.want)
		}
	}
	// A body-less message decodes to its zero value.
	if _, m, err := protocol.Decode(`{"kind":"cancel","id":3}`, nil); err != nil || m.Kind() != protocol.KindCancel {
		t.Errorf("cancel without a body: %v %v", m, err)
	}
}

// TestGenerateSampling: a greedy Generate puts no sampling field on the
// wire, a sampled one names each, and a message from a page that
// predates them (no such fields) decodes as greedy.
func TestGenerateSampling(t *testing.T) {
	head, _, err := protocol.Encode(1, &protocol.Generate{Question: "q", MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"temperature", "top_k", "top_p", "seed"} {
		if strings.Contains(head, `"`+k+`"`) {
			t.Errorf("greedy generate head %s carries %q", head, k)
		}
	}
	s := protocol.Sampling{Temperature: 0.8, TopK: 20, TopP: 0.5, Seed: 7}
	head, _, err = protocol.Encode(1, &protocol.Generate{Sampling: s})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{`"temperature":0.8`, `"top_k":20`, `"top_p":0.5`, `"seed":7`} {
		if !strings.Contains(head, kv) {
			t.Errorf("sampled generate head %s lacks %s", head, kv)
		}
	}
	old := `{"kind":"generate","id":4,"body":{"question":"Is it?","max_tokens":5}}`
	id, m, err := protocol.Decode(old, []byte{0, 0, 128, 63})
	if err != nil {
		t.Fatal(err)
	}
	g := m.(*protocol.Generate)
	if id != 4 || g.Question != "Is it?" || g.MaxTokens != 5 || len(g.Grey) != 1 || g.Grey[0] != 1 {
		t.Errorf("old generate decoded as id %d %+v", id, g)
	}
	if g.Sampling != (protocol.Sampling{}) || !g.Greedy() {
		t.Errorf("old generate: sampling %+v, want greedy (zero)", g.Sampling)
	}
	if (protocol.Sampling{Temperature: 0.01}).Greedy() {
		t.Errorf("temperature 0.01 reads as greedy")
	}
}

// TestSamplingCheck: the bounds the worker enforces, in words that name
// the setting.
func TestSamplingCheck(t *testing.T) {
	for _, ok := range []protocol.Sampling{{}, {Temperature: 2, TopK: 1, TopP: 1, Seed: 1<<32 - 1}, {Temperature: 0.7, TopP: 0.01}} {
		if err := ok.Check(); err != nil {
			t.Errorf("Check(%+v): %v", ok, err)
		}
	}
	for _, c := range []struct {
		s    protocol.Sampling
		want string
	}{
		{protocol.Sampling{Temperature: -0.1}, "temperature must be from 0 to 2"},
		{protocol.Sampling{Temperature: 2.5}, "temperature must be from 0 to 2"},
		{protocol.Sampling{Temperature: float32(math.NaN())}, "temperature"},
		{protocol.Sampling{TopK: -1}, "top-k must be 0"},
		{protocol.Sampling{TopP: 1.5}, "top-p must be"},
		{protocol.Sampling{TopP: -0.5}, "top-p must be"},
	} {
		if err := c.s.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%+v) = %v, want an error saying %q", c.s, err, c.want)
		}
	}
}
