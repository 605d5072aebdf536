package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxSegment is the longest file name (one path segment) Purser writes:
// what most file systems take (ext4, XFS, APFS, NTFS: 255 bytes).
const MaxSegment = 255

// SafeName returns s as one path segment that stays inside its directory
// on every common file system, whatever s holds. Kubernetes names are DNS
// subdomains and come out unchanged; anything else (a name from a file no
// cluster validated) is escaped: every byte other than a-z, 0-9, '-' and
// a '.' that does not start the name becomes "_" and two hex digits, so
// '/', "..", NUL, control characters, upper case (which case-insensitive
// file systems would fold) and '_' itself never appear raw. A result
// longer than 255 bytes is cut and ends in "__" and a digest of s. The
// mapping is one-to-one: distinct names never share a file.
func SafeName(s string) string {
	return escape(s, MaxSegment)
}

// FileName returns the file name of an object in a tree, "<kind>-<name>.yaml"
// with the kind in lower case ("deployment-api.yaml"), both made safe as
// SafeName does; the kind is escaped down to letters and digits so the
// first '-' always ends it.
func FileName(kind, name string) string {
	var k strings.Builder
	for _, c := range []byte(strings.ToLower(kind)) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			k.WriteByte(c)
		} else {
			escapeByte(&k, c)
		}
	}
	if k.Len() == 0 {
		k.WriteString("object")
	}
	const ext = ".yaml"
	prefix := k.String() + "-"
	return prefix + escape(name, max(MaxSegment-len(prefix)-len(ext), 32)) + ext
}

func escape(s string, limit int) string {
	if s == "" {
		return "_" // no escape produces a lone '_'
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			escapeByte(&b, c)
		}
	}
	out := b.String()
	if len(out) <= limit {
		return out
	}
	// "__" never occurs in an escaped name (every '_' starts "_hh"), so a
	// cut name cannot equal an uncut one.
	sum := sha256.Sum256([]byte(s))
	tail := "__" + hex.EncodeToString(sum[:8])
	cut := limit - len(tail)
	// Do not split an escape: it would read as another byte.
	if i := strings.LastIndexByte(out[:cut], '_'); i >= 0 && i > cut-3 {
		cut = i
	}
	return out[:cut] + tail
}

func escapeByte(b *strings.Builder, c byte) {
	const digits = "0123456789abcdef"
	b.WriteByte('_')
	b.WriteByte(digits[c>>4])
	b.WriteByte(digits[c&0xf])
}

// File is one file of a tree: a slash-separated path relative to the
// tree's root, and its content.
type File struct {
	Path string
	Data []byte
}
