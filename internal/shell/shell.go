// Package shell quotes words for a POSIX shell, so that commands printed for
// an operator to paste carry every value as the argument it was meant to be.
package shell

import "strings"

// safe reports whether c needs no quoting anywhere in a word.
func safe(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-_./:=@%+,", c) >= 0
}

// Quote returns s as a single shell word. A word made only of letters, digits
// and -_./:=@%+, is returned bare; anything else is put in single quotes,
// each single quote in it closed, escaped and reopened. The empty string
// becomes a pair of single quotes.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	bare := true
	for i := 0; i < len(s); i++ {
		if !safe(s[i]) {
			bare = false
			break
		}
	}
	if bare {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each argument and joins them with spaces.
func Join(args ...string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
