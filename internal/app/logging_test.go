package app

import (
	"bytes"
	"flag"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/logging"
)

// TestVerbosityReachesCommands runs a command that logs through the logger
// its context carries, at each -v.
func TestVerbosityReachesCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		v         int
		want      []string
		notWanted []string
		err       string
	}{
		{name: "default", want: []string{"msg=warned"}, notWanted: []string{"msg=informed", "msg=debugged"}},
		{name: "info", args: []string{"-v", "1"}, v: 1, want: []string{"msg=warned", "msg=informed"}, notWanted: []string{"msg=debugged"}},
		{name: "debug", args: []string{"--v=2"}, v: 2, want: []string{"msg=warned", "msg=informed", "msg=debugged"}},
		{name: "negative", args: []string{"-v", "-1"}, err: "-v -1: verbosity is 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			hooked := -1
			root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
				cli.OnLogger(func(_ *slog.Logger, v int) error { hooked = v; return nil }))
			root.AddCommand(&cobra.Command{Use: "talk", RunE: func(cmd *cobra.Command, _ []string) error {
				l := logging.FromContext(cmd.Context())
				l.Warn("warned")
				l.Info("informed")
				l.Debug("debugged")
				return nil
			}})
			root.SetArgs(append([]string{"talk"}, tt.args...))
			err := root.ExecuteContext(t.Context())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
				}
			}
			for _, w := range tt.notWanted {
				if strings.Contains(errOut.String(), w) {
					t.Errorf("stderr has %q:\n%s", w, errOut.String())
				}
			}
			if out.Len() != 0 {
				t.Errorf("logs on stdout: %q", out.String())
			}
			if hooked != tt.v {
				t.Errorf("OnLogger got verbosity %d, want %d", hooked, tt.v)
			}
		})
	}
}

// TestMainRoutesKlog checks that Main, the process's entry point, sends
// client-go's klog output to stderr through Purser's logger. It changes
// klog's process-wide state, so it does not run in parallel and restores
// that state.
func TestMainRoutesKlog(t *testing.T) {
	t.Cleanup(func() {
		klog.ClearLogger()
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("v", "0")
	})
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
