package output

import (
	"bytes"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/snapshot"
)

func TestProgressBar(t *testing.T) {
	t.Parallel()
	const erase = "\r\033[K"
	tests := []struct {
		name  string
		event snapshot.ListEvent
		want  string
	}{
		{"started", snapshot.ListEvent{Type: snapshot.ListStarted, GroupResource: "pods", Total: 4},
			erase + "collecting prod [          ] 0/4 kinds  listing pods"},
		{"page", snapshot.ListEvent{Type: snapshot.ListPage, GroupResource: "pods", Items: 500, Total: 4},
			erase + "collecting prod [          ] 0/4 kinds  pods: 500"},
		{"done", snapshot.ListEvent{Type: snapshot.ListDone, GroupResource: "pods", Items: 812, Done: 1, Total: 4},
			erase + "collecting prod [==        ] 1/4 kinds  pods: 812"},
		{"unreadable", snapshot.ListEvent{Type: snapshot.ListUnreadable, GroupResource: "secrets", Done: 2, Total: 4, Reason: "forbidden"},
			erase + "collecting prod [=====     ] 2/4 kinds  secrets: not read"},
		{"last ends the line", snapshot.ListEvent{Type: snapshot.ListDone, GroupResource: "deployments.apps", Items: 3, Done: 4, Total: 4},
			erase + "collecting prod [==========] 4/4 kinds  deployments.apps: 3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			b := NewProgressBar(&buf, "collecting prod")
			b.width = 10
			b.Event(tt.event)
			if buf.String() != tt.want {
				t.Errorf("got  %q\nwant %q", buf.String(), tt.want)
			}
		})
	}
}

// TestProgressBarSequence feeds the events of a whole collection in the
// order a collector sends them: one line, redrawn, ended once.
func TestProgressBarSequence(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	sink := snapshot.ListEventSink(NewProgressBar(&buf, "collecting").Event)
	for i, gr := range []string{"nodes", "pods", "secrets"} {
		sink(snapshot.ListEvent{Type: snapshot.ListStarted, GroupResource: gr, Done: i, Total: 3})
		sink(snapshot.ListEvent{Type: snapshot.ListPage, GroupResource: gr, Items: 10, Done: i, Total: 3})
		sink(snapshot.ListEvent{Type: snapshot.ListDone, GroupResource: gr, Items: 10, Done: i + 1, Total: 3})
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("%d line ends, want one at the end: %q", n, out)
	}
	if n := strings.Count(out, "\r\033[K"); n != 9 {
		t.Fatalf("%d redraws, want 9", n)
	}
}

func TestProgressBarEnd(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	bar := NewProgressBar(&b, "collecting")
	bar.End()
	if b.Len() != 0 {
		t.Errorf("End before any event wrote %q", b.String())
	}
	bar.Event(snapshot.ListEvent{Type: snapshot.ListStarted, GroupResource: "pods", Total: 3})
	bar.End()
	bar.End()
	if !strings.HasSuffix(b.String(), "listing pods\n") || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("an interrupted bar ended as %q, want one newline", b.String())
	}
}
