package output

import (
	"io"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// TerminalWidth returns the number of columns output to fd should fit in,
// or 0 for no limit. COLUMNS wins when it holds a positive number, as in
// ls and git: it is how a user or a script asks for a width, through a
// pipe too. Otherwise it is the width of the terminal on fd, and 0 when fd
// is no terminal, so that text piped to a file or to grep is not cut.
func TerminalWidth(fd uintptr, getenv func(string) string) int {
	if n := columnsEnv(getenv); n > 0 {
		return n
	}
	w, _, err := term.GetSize(int(fd))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

func columnsEnv(getenv func(string) string) int {
	n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS")))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// ColorEnabled reports whether output may carry colour escape codes: only
// to a terminal, never when NO_COLOR is set to anything but the empty
// string (https://no-color.org), and never when TERM is "dumb", a
// terminal that would print the codes as text.
func ColorEnabled(isTTY bool, getenv func(string) string) bool {
	return isTTY && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// Terminal returns the width (0 for no limit) and the colour choice for
// output written to w (streams.Out, usually). w is a terminal only when it
// is a file that is one: a buffer or a pipe gets no colour and, unless
// COLUMNS says otherwise, no width limit.
func Terminal(w io.Writer, getenv func(string) string) (width int, color bool) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return columnsEnv(getenv), false
	}
	fd := f.Fd()
	return TerminalWidth(fd, getenv), ColorEnabled(term.IsTerminal(int(fd)), getenv)
}
