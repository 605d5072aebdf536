package output

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/purserhq/purser/internal/snapshot"
)

// ProgressBar draws a live collection's progress on one terminal line: a
// bar of the lists finished, and the list that moved last with its
// objects so far. It redraws the line in place with a carriage return and
// an erase-line escape, so it belongs on a terminal, on stderr: data goes
// to stdout and must not be interleaved with it.
type ProgressBar struct {
	w     io.Writer
	label string
	width int

	mu   sync.Mutex
	open bool // a line is drawn and not ended
}

// NewProgressBar returns a bar that writes to w, its line starting with
// label ("collecting prod").
func NewProgressBar(w io.Writer, label string) *ProgressBar {
	return &ProgressBar{w: w, label: label, width: 30}
}

// Event redraws the line for e, and ends it once every list has finished.
// Its signature is a snapshot.ListEventSink's.
func (b *ProgressBar) Event(e snapshot.ListEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var detail string
	switch e.Type {
	case snapshot.ListStarted:
		detail = "listing " + e.GroupResource
	case snapshot.ListUnreadable:
		detail = e.GroupResource + ": not read"
	default:
		detail = fmt.Sprintf("%s: %d", e.GroupResource, e.Items)
	}
	fmt.Fprintf(b.w, "\r\033[K%s [%s] %d/%d kinds  %s", TerminalText(b.label), bar(e.Done, e.Total, b.width), e.Done, e.Total, TerminalText(detail))
	b.open = true
	if e.Total > 0 && e.Done == e.Total {
		fmt.Fprintln(b.w)
		b.open = false
	}
}

// End ends a line the bar left open, so that what follows (an error, a
// warning) starts on a line of its own.
func (b *ProgressBar) End() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.open {
		fmt.Fprintln(b.w)
		b.open = false
	}
}

// bar is width characters, the share done of total filled with '='.
func bar(done, total, width int) string {
	n := 0
	if total > 0 {
		n = min(done, total) * width / total
	}
	return strings.Repeat("=", n) + strings.Repeat(" ", width-n)
}
