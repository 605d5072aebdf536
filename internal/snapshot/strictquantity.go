package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Bounds on a quantity's text, checked before resource.ParseQuantity sees
// it. ParseQuantity rounds through arbitrary-precision decimals: the 12
// characters "1e-999999999" keep it busy for minutes (measured: 1e-9999
// takes 0.2 ms, 1e-99999 1.5 ms, 1e-999999 35 ms, each further digit of
// the exponent ten to twenty times more), and 100,000 digits take 30 ms. No quantity Kubernetes can hold needs more: int64
// nano-units span 1e-9 to 9.2e18.
const (
	maxQuantityLen      = 64
	maxQuantityExponent = 100
)

// quantityBytes are the bytes a quantity's text is made of: digits, sign,
// point, exponent and the suffixes (Ki Mi Gi Ti Pi Ei, n u m k M G T P E),
// and the white space that Quantity's JSON decoding trims.
var quantityBytes = func() (set [256]bool) {
	for _, c := range []byte("0123456789+-.eEinumkKMGTP \t\r\n") {
		set[c] = true
	}
	return set
}()

// quantityProblem says why s, the text of a quantity, is refused before
// it is parsed, or "" when ParseQuantity may have it (valid or not: a
// text it cannot parse fails fast).
func quantityProblem(s string) string {
	s = strings.TrimSpace(s)
	digits := false
	for i := 0; i < len(s); i++ {
		if !quantityBytes[s[i]] {
			return "" // not a quantity: ParseQuantity refuses it at once
		}
		digits = digits || s[i] >= '0' && s[i] <= '9'
	}
	if !digits {
		return ""
	}
	if len(s) > maxQuantityLen {
		return fmt.Sprintf("longer than %d characters", maxQuantityLen)
	}
	i := strings.IndexAny(s, "eE")
	if i < 0 || i == len(s)-1 {
		return ""
	}
	exp := strings.TrimLeft(s[i+1:], "+-")
	if exp == "" || strings.Trim(exp, "0123456789") != "" {
		return "" // a suffix such as Ei, not an exponent
	}
	exp = strings.TrimLeft(exp, "0")
	if n, err := strconv.Atoi(exp); len(exp) > 3 || err == nil && n > maxQuantityExponent {
		return fmt.Sprintf("its exponent is beyond ±%d", maxQuantityExponent)
	}
	return ""
}

// mayHoldSlowQuantity is a fast scan of an object's JSON for a string or
// number that quantityProblem would refuse, wherever it is. It runs on
// every object; the exact check, which knows where the quantities are,
// runs only on the rare object it finds.
func mayHoldSlowQuantity(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '"':
			j, shaped, escaped := i+1, true, false
			for ; j < len(raw) && raw[j] != '"'; j++ {
				b := raw[j]
				if b == '\\' {
					escaped = true
					j++ // the escaped byte; \u's hex digits follow as text
					continue
				}
				// Hex digits and 'u' may spell an escaped quantity.
				shaped = shaped && (quantityBytes[b] || escaped && (b == 'u' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'))
			}
			if shaped {
				text := string(raw[i+1 : min(j, len(raw))])
				if escaped {
					if json.Unmarshal(raw[i:min(j+1, len(raw))], &text) != nil {
						return true // let the decoder report it
					}
				}
				if quantityProblem(text) != "" {
					return true
				}
			}
			i = j
		case c == '-' || c >= '0' && c <= '9':
			j := i
			for j < len(raw) && quantityBytes[raw[j]] && raw[j] != ' ' && raw[j] != '\n' && raw[j] != '\t' && raw[j] != '\r' {
				j++
			}
			if quantityProblem(string(raw[i:j])) != "" {
				return true
			}
			i = j - 1
		}
	}
	return false
}

var quantityType = reflect.TypeFor[resource.Quantity]()

// checkQuantities refuses an object whose quantities ParseQuantity would
// take too long over, naming the field; t is the object's Go type. It must
// run before the typed decode, which parses quantities as it goes.
func checkQuantities(t reflect.Type, raw []byte) error {
	if !mayHoldSlowQuantity(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil // the typed decode reports malformed JSON
	}
	return walkQuantities(t, v, "")
}

// walkQuantities checks the quantities of v, a decoded JSON value of the
// Go type t at path.
func walkQuantities(t reflect.Type, v any, path string) error {
	t = deref(t)
	if t == quantityType {
		var text string
		switch q := v.(type) {
		case string:
			text = q
		case json.Number:
			text = q.String()
		default:
			return nil
		}
		if p := quantityProblem(text); p != "" {
			return fmt.Errorf("%s: quantity %q is refused: %s", path, truncate(text, 24), p)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		fields := jsonFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if ft, ok := fields[k]; ok {
				if err := walkQuantities(ft, m[k], joinField(path, k)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if err := walkQuantities(t.Elem(), m[k], joinField(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, item := range items {
			if err := walkQuantities(t.Elem(), item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinField(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
