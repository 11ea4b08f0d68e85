package tokenizer

// Post-processors (HF "post_processor"): add the special tokens around an
// encoded sequence. Supported: TemplateProcessing (single sequence),
// ByteLevel (nothing to do for ids), Sequence, BertProcessing and
// RobertaProcessing. Like tokenizers.js, TemplateProcessing looks its
// special tokens up by their string ("<s>"), not by the ids in the file.

import (
	"encoding/json"
	"fmt"
)

type postProcessor interface {
	process(ids []int, addSpecial bool) []int
}

// templateItem is one entry of a template: a special token (its string,
// resolved to an id at load) or the sequence.
type templateItem struct {
	token    string
	id       int // -1: the token has no id (dropped, as tokenizers.js yields undefined)
	sequence bool
}

// templateProcessor is TemplateProcessing's "single" template.
type templateProcessor struct{ items []templateItem }

func (t *templateProcessor) process(ids []int, addSpecial bool) []int {
	out := make([]int, 0, len(ids)+len(t.items))
	for _, it := range t.items {
		switch {
		case it.sequence:
			out = append(out, ids...)
		case addSpecial && it.id >= 0:
			out = append(out, it.id)
		}
	}
	return out
}

// wrapProcessor is BertProcessing / RobertaProcessing: cls, ids, sep.
type wrapProcessor struct{ cls, sep templateItem }

func (w *wrapProcessor) process(ids []int, addSpecial bool) []int {
	if !addSpecial {
		return ids
	}
	out := make([]int, 0, len(ids)+2)
	if w.cls.id >= 0 {
		out = append(out, w.cls.id)
	}
	out = append(out, ids...)
	if w.sep.id >= 0 {
		out = append(out, w.sep.id)
	}
	return out
}

// identityProcessor is ByteLevel: its offset trimming has no effect on ids.
type identityProcessor struct{}

func (identityProcessor) process(ids []int, _ bool) []int { return ids }

// seqProcessor is Sequence.
type seqProcessor []postProcessor

func (q seqProcessor) process(ids []int, addSpecial bool) []int {
	for _, p := range q {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

// newPostProcessor builds the post-processor at path (nil for JSON null).
// lookup resolves a token string to its id.
func newPostProcessor(raw json.RawMessage, path string, lookup func(string) (int, bool)) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, componentError(path, "", err)
	}
	p, err := buildPostProcessor(typ, raw, path, lookup)
	if err != nil {
		return nil, componentError(path, typ, err)
	}
	return p, nil
}

func buildPostProcessor(typ string, raw json.RawMessage, path string, lookup func(string) (int, bool)) (postProcessor, error) {
	item := func(tok string) templateItem {
		id, ok := lookup(tok)
		if !ok {
			id = -1
		}
		return templateItem{token: tok, id: id}
	}
	switch typ {
	case "TemplateProcessing":
		var c struct {
			Single []struct {
				SpecialToken *struct {
					ID string `json:"id"`
				} `json:"SpecialToken"`
				Sequence *struct {
					ID string `json:"id"`
				} `json:"Sequence"`
			} `json:"single"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		t := &templateProcessor{}
		for i, it := range c.Single {
			switch {
			case it.SpecialToken != nil:
				t.items = append(t.items, item(it.SpecialToken.ID))
			case it.Sequence != nil && it.Sequence.ID == "A":
				t.items = append(t.items, templateItem{sequence: true, id: -1})
			case it.Sequence != nil:
				// "B" in a single template: tokenizers.js adds nothing for it.
			default:
				return nil, formatErr("single[%d] is neither SpecialToken nor Sequence", i)
			}
		}
		return t, nil
	case "ByteLevel":
		return identityProcessor{}, nil
	case "BertProcessing", "RobertaProcessing":
		var c struct {
			Sep []json.RawMessage `json:"sep"`
			Cls []json.RawMessage `json:"cls"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		var sep, cls string
		if len(c.Sep) == 0 || len(c.Cls) == 0 || json.Unmarshal(c.Sep[0], &sep) != nil || json.Unmarshal(c.Cls[0], &cls) != nil {
			return nil, formatErr(`"sep" and "cls" must be [token, id]`)
		}
		return &wrapProcessor{cls: item(cls), sep: item(sep)}, nil
	case "Sequence":
		var c struct {
			Processors json.RawMessage `json:"processors"`
		}
		if err := decodeFields(raw, &c); err != nil {
			return nil, err
		}
		list, err := decodeList(c.Processors)
		if err != nil {
			return nil, err
		}
		var seq seqProcessor
		for i, it := range list {
			p, err := newPostProcessor(it, fmt.Sprintf("%s[%d]", path, i), lookup)
			if err != nil {
				return nil, err
			}
			if p == nil {
				return nil, formatErr("%s[%d] is null", path, i)
			}
			seq = append(seq, p)
		}
		return seq, nil
	}
	return nil, unsupported("unknown post-processor type %q", typ)
}
