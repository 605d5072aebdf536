package snapshot

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// A saved snapshot holds quantities as text inside Kubernetes protobuf,
// and the generated Unmarshal parses them with resource.ParseQuantity as
// manifests' JSON does: a crafted snapshot could hold "1e-999999999" too.
// The records are checked before they are decoded, the same way: a fast
// scan of the bytes, then, on the rare record it flags, a walk of the wire
// format guided by the Go types' protobuf tags that finds the quantities
// and names the field.

// checkProtoQuantities refuses a record, the protobuf form of a value of
// type t, holding a quantity that quantityProblem refuses.
func checkProtoQuantities(t reflect.Type, b []byte) error {
	if !mayHoldSlowProtoQuantity(b) {
		return nil
	}
	return walkProto(t, b, "")
}

// mayHoldSlowProtoQuantity tells whether b holds a run of quantity text
// that quantityProblem could refuse: an exponent above the bound after a
// digit, or a run of quantity bytes longer than the longest quantity.
func mayHoldSlowProtoQuantity(b []byte) bool {
	for i := 0; i < len(b); {
		// Skip to the next run of quantity text, then take it whole.
		for i < len(b) && !quantityText[b[i]] {
			i++
		}
		start := i
		for i < len(b) && quantityText[b[i]] {
			i++
		}
		if i-start > maxQuantityLen {
			return true
		}
		if i-start > 4 && slowExponent(b[start:i]) {
			return true
		}
	}
	return false
}

// quantityText is quantityBytes without white space, which a quantity in
// protobuf never holds.
var quantityText = func() (set [256]bool) {
	set = quantityBytes
	for _, c := range []byte(" \t\r\n") {
		set[c] = false
	}
	return set
}()

// slowExponent tells whether run, a run of quantity text, holds an
// exponent beyond the bound after a digit or a point.
func slowExponent(run []byte) bool {
	for i := 1; i < len(run); i++ {
		if c := run[i]; c != 'e' && c != 'E' || !(run[i-1] >= '0' && run[i-1] <= '9' || run[i-1] == '.') {
			continue
		}
		j := i + 1
		if j < len(run) && (run[j] == '+' || run[j] == '-') {
			j++
		}
		for j < len(run) && run[j] == '0' {
			j++
		}
		k := j
		for k < len(run) && run[k] >= '0' && run[k] <= '9' {
			k++
		}
		if n, err := strconv.Atoi(string(run[j:k])); k-j > 3 || err == nil && n > maxQuantityExponent {
			return true
		}
	}
	return false
}

// walkProto walks b, the protobuf encoding of a value of type t, and
// checks each quantity it holds. Bytes it cannot read are left to the
// generated Unmarshal to report.
func walkProto(t reflect.Type, b []byte, path string) error {
	t = deref(t)
	if t == quantityType {
		// message Quantity { optional string string = 1; }
		var err error
		eachProtoField(b, func(num int, payload []byte) bool {
			if num == 1 {
				if p := quantityProblem(string(payload)); p != "" {
					err = fmt.Errorf("%s: quantity %q is refused: %s", path, truncate(string(payload), 24), p)
				}
			}
			return err == nil
		})
		return err
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := protoFields(t)
	if len(fields) == 0 {
		return nil
	}
	counts := map[int]int{}
	var err error
	eachProtoField(b, func(num int, payload []byte) bool {
		f, ok := fields[num]
		if !ok {
			return true
		}
		p := joinField(path, f.name)
		ft := deref(f.typ)
		switch ft.Kind() {
		case reflect.Slice:
			i := counts[num]
			counts[num]++
			err = walkProto(ft.Elem(), payload, fmt.Sprintf("%s[%d]", p, i))
		case reflect.Map:
			// A map entry: key 1, value 2.
			var key string
			var value []byte
			eachProtoField(payload, func(n int, v []byte) bool {
				switch n {
				case 1:
					key = string(v)
				case 2:
					value = v
				}
				return true
			})
			err = walkProto(ft.Elem(), value, joinField(p, key))
		default:
			err = walkProto(ft, payload, p)
		}
		return err == nil
	})
	return err
}

// eachProtoField calls fn with the number and payload of each
// length-delimited field of the message b, until fn returns false; fields
// of other wire types are skipped.
func eachProtoField(b []byte, fn func(num int, payload []byte) bool) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			return
		}
		b = b[n:]
		switch tag & 7 {
		case 0: // varint
			if _, n = binary.Uvarint(b); n <= 0 {
				return
			}
			b = b[n:]
		case 1: // fixed64
			if len(b) < 8 {
				return
			}
			b = b[8:]
		case 5: // fixed32
			if len(b) < 4 {
				return
			}
			b = b[4:]
		case 2:
			size, n := binary.Uvarint(b)
			if n <= 0 || size > uint64(len(b)-n) {
				return
			}
			payload := b[n : n+int(size)]
			b = b[n+int(size):]
			if !fn(int(tag>>3), payload) {
				return
			}
		default:
			return
		}
	}
}

type protoField struct {
	name string // the JSON name, for messages
	typ  reflect.Type
}

// protoFields maps the protobuf field numbers of a generated Kubernetes
// struct to its fields, from their protobuf tags
// (`protobuf:"bytes,2,rep,name=items"`).
func protoFields(t reflect.Type) map[int]protoField {
	out := map[int]protoField{}
	for i := range t.NumField() {
		f := t.Field(i)
		parts := strings.Split(f.Tag.Get("protobuf"), ",")
		if len(parts) < 2 || parts[0] != "bytes" {
			continue
		}
		num, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" {
			name = f.Name
		}
		out[num] = protoField{name: name, typ: f.Type}
	}
	return out
}
