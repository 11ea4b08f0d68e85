package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// componentError wraps err with the component's place in the file and its
// type, e.g. "pre_tokenizer[1] (Split): …".
func componentError(path, typ string, err error) error {
	if typ == "" {
		return fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Errorf("%s (%s): %w", path, typ, err)
}

// isNull reports whether a JSON value is absent or null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// componentType reads the "type" of a component object.
func componentType(raw json.RawMessage) (string, error) {
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", formatErr("not a component object: %v", err)
	}
	if head.Type == nil {
		return "", formatErr(`component has no "type"`)
	}
	return *head.Type, nil
}

// decodeFields decodes a component's fields into v.
func decodeFields(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return formatErr("%v", err)
	}
	return nil
}

// decodeList decodes a JSON array of components (nulls kept as nil).
func decodeList(raw json.RawMessage) ([]json.RawMessage, error) {
	if isNull(raw) {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, formatErr("not a list: %v", err)
	}
	return list, nil
}

// newComponent builds the component at path with build, which switches on
// its "type"; JSON null is no component (the zero T). Errors name the path
// and the type.
func newComponent[T any](raw json.RawMessage, path string, build func(typ string, raw json.RawMessage, path string) (T, error)) (T, error) {
	var zero T
	if isNull(raw) {
		return zero, nil
	}
	typ, err := componentType(raw)
	if err != nil {
		return zero, componentError(path, "", err)
	}
	c, err := build(typ, raw, path)
	if err != nil {
		return zero, componentError(path, typ, err)
	}
	return c, nil
}

// sequenceOf builds the items of a Sequence component's list, item i at
// path[i] with newOne. Null items are dropped, or refused where the JS
// reference would crash on them (nullOK false).
func sequenceOf[T any](list json.RawMessage, path string, nullOK bool, newOne func(json.RawMessage, string) (T, error)) ([]T, error) {
	items, err := decodeList(list)
	if err != nil {
		return nil, err
	}
	var out []T
	for i, item := range items {
		if !nullOK && isNull(item) {
			return nil, formatErr("%s[%d] is null", path, i)
		}
		c, err := newOne(item, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		if any(c) != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
