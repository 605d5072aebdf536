package app

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/klog/v2"

	"github.com/purserhq/purser/internal/logging"
)

// TestMainRoutesKlog checks that Main, the process's entry point, sends
// client-go's klog output to stderr through Purser's logger. It changes
// klog's process-wide state, so it does not run in parallel and restores
// that state.
func TestMainRoutesKlog(t *testing.T) {
	t.Cleanup(logging.ResetKlog)
	var out, errOut bytes.Buffer
	if code := Main([]string{"version", "-v", "6"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !klog.V(6).Enabled() || klog.V(7).Enabled() {
		t.Fatal("klog verbosity is not 6")
	}
	klog.V(6).Info("from client-go")
	if !strings.Contains(errOut.String(), `msg="from client-go" logger=klog`) {
		t.Fatalf("klog output did not reach stderr: %q", errOut.String())
	}
}
