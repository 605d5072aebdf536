package cli

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestServeFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"auth none off loopback", []string{"serve", "--store", "h.db", "--auth", "none"}, "loopback address only"},
		{"auth none on all addresses", []string{"serve", "--store", "h.db", "--auth", "none", "--listen", "0.0.0.0:8080"}, "loopback address only"},
		{"unknown auth", []string{"serve", "--store", "h.db", "--auth", "basic"}, "expected kubernetes or none"},
		{"no store", []string{"serve", "--listen", "127.0.0.1:0", "--auth", "none"}, "--store is required"},
		{"interval too short", []string{"serve", "--store", "h.db", "--interval", "5s"}, "at least 1m"},
		{"bad auth resource", []string{"serve", "--store", "h.db", "--auth-resource", "reports"}, "expected GROUP/RESOURCE"},
		{"leader election of the demo", []string{"serve", "--demo", "--leader-elect", "--listen", "127.0.0.1:0", "--auth", "none"}, "the demo has none"},
		{"namespace refused", []string{"serve", "--store", "h.db", "-n", "shop"}, "does not narrow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			root.SetArgs(tt.args)
			err := root.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "127.0.0.2:1": true,
		":8080": false, "0.0.0.0:8080": false, "10.0.0.1:8080": false, "example.com:80": false, "garbage": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
