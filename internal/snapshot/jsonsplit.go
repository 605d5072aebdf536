package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	kjson "sigs.k8s.io/json"
)

// The JSON loader reads a List (a `kubectl get -A -o json` export) without
// copying it: the value and each of its items are slices of the bytes
// read. json.Decoder buffered the whole value once more, json.RawMessage
// copied each item again, and a large export cost several times its size
// before any object was decoded.

// jsonItems is a List's items as slices of the text they were decoded
// from. The decoder has checked the whole text before it hands the array
// over, so splitting it needs no second check.
type jsonItems []json.RawMessage

// errItemsNotArray makes unmarshalHeader decode again the way it always
// did, so that an items field that is not an array fails with the same
// message. Any other error is reproduced the same way: its text names the
// header type.
var errItemsNotArray = errors.New("items is not an array")

func (it *jsonItems) UnmarshalJSON(b []byte) error {
	t := bytes.TrimSpace(b)
	if bytes.Equal(t, []byte("null")) {
		return nil
	}
	if len(t) == 0 || t[0] != '[' {
		return errItemsNotArray
	}
	items, err := splitJSONArray(t)
	if err != nil {
		return err
	}
	*it = items
	return nil
}

// fastHeader is header with items held as slices (jsonItems).
type fastHeader struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Metadata   *headerMeta `json:"metadata"`
	Items      jsonItems   `json:"items"`
}

func unmarshalHeaderFast(raw []byte, h *header) error {
	var f fastHeader
	strict, err := kjson.UnmarshalStrict(raw, &f, kjson.DisallowDuplicateFields)
	if err != nil {
		return unmarshalHeaderCopying(raw, h)
	}
	*h = header{APIVersion: f.APIVersion, Kind: f.Kind, Metadata: f.Metadata, Items: []json.RawMessage(f.Items)}
	if len(strict) > 0 {
		return strict[0]
	}
	return nil
}

// splitJSONArray returns the elements of a valid JSON array as slices of
// it, without the space around them.
func splitJSONArray(arr []byte) ([]json.RawMessage, error) {
	i := skipJSONSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil, fmt.Errorf("not a JSON array")
	}
	out := []json.RawMessage{}
	i = skipJSONSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := jsonValueEnd(arr, i)
		if end <= i {
			return nil, fmt.Errorf("malformed JSON array at offset %d", i)
		}
		out = append(out, arr[i:end:end])
		i = skipJSONSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipJSONSpace(arr, i+1)
		}
	}
	if i >= len(arr) {
		return nil, fmt.Errorf("unterminated JSON array")
	}
	return out, nil
}

// jsonValueEnd returns the offset just past the JSON value that starts
// at i, scanning strings and nesting only: the text is known to be valid,
// or is checked afterwards (json.Valid). It returns i when nothing ends.
func jsonValueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		if end := jsonStringEnd(b, i); end < len(b) {
			return end + 1
		}
		return i
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = jsonStringEnd(b, j)
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return i
	}
	// A number or a literal runs to the next delimiter.
	j := i
	for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}
