package logging

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestNewLevels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    int
		want []string // messages shown, of debug, info, warn, error
	}{
		{-1, []string{"warn", "error"}},
		{0, []string{"warn", "error"}},
		{1, []string{"info", "warn", "error"}},
		{2, []string{"debug", "info", "warn", "error"}},
		{6, []string{"debug", "info", "warn", "error"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		l := New(&buf, tt.v)
		l.Debug("debug")
		l.Info("info")
		l.Warn("warn")
		l.Error("error")
		if got := messages(buf.String()); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("-v %d shows %v, want %v", tt.v, got, tt.want)
		}
		if hasTime := strings.Contains(buf.String(), "time="); hasTime != (tt.v >= 2) {
			t.Errorf("-v %d: time shown = %v\n%s", tt.v, hasTime, buf.String())
		}
	}
}

// TestRouteKlog changes klog's process-wide state, so it does not run in
// parallel and puts klog back as it found it.
func TestRouteKlog(t *testing.T) {
	t.Cleanup(ResetKlog)
	tests := []struct {
		v    int
		want []string
	}{
		{0, []string{"warning", "error", "server warning"}},
		{1, []string{"warning", "error", "server warning", "v1"}},
		{6, []string{"warning", "error", "server warning", "v1", "v2", "v6"}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := RouteKlog(New(&buf, tt.v), tt.v); err != nil {
			t.Fatal(err)
		}
		klog.Warning("warning")
		klog.Error("error")
		// What client-go's default warning handler does with the API
		// server's Warning headers.
		klog.Background().Info("server warning")
		klog.V(1).Info("v1")
		klog.V(2).InfoS("v2", "key", "value")
		klog.FromContext(context.Background()).V(6).Info("v6")
		klog.V(7).Info("v7")
		if got := messages(buf.String()); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("-v %d shows %v, want %v\n%s", tt.v, got, tt.want, buf.String())
		}
		if !strings.Contains(buf.String(), "level=WARN msg=warning logger=klog") {
			t.Errorf("-v %d: klog.Warning is not a warning:\n%s", tt.v, buf.String())
		}
		if tt.v == 6 && !strings.Contains(buf.String(), "level=V6 msg=v6") {
			t.Errorf("-v 6: V(6) is not named V6:\n%s", buf.String())
		}
	}
	ResetKlog()
	if klog.V(1).Enabled() {
		t.Error("klog verbosity still above 0 after ResetKlog")
	}
}

// messages returns the msg of each text record, in order.
func messages(out string) []string {
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		got = append(got, slogText(line))
	}
	return got
}

func slogText(line string) string {
	_, rest, ok := strings.Cut(line, "msg=")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, `"`) {
		end := strings.Index(rest[1:], `"`)
		return rest[1 : end+1]
	}
	msg, _, _ := strings.Cut(rest, " ")
	return msg
}
