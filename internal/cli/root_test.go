package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
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
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
				OnLogger(func(_ *slog.Logger, v int) error { hooked = v; return nil }))
			root.AddCommand(&cobra.Command{Use: "talk", RunE: func(cmd *cobra.Command, _ []string) error {
				l := loggerFrom(cmd.Context())
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
