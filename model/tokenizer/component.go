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
