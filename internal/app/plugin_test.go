package app

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cli"
)

func TestDisplayName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"purser":                           "purser",
		"/root/go/bin/purser":              "purser",
		"./bin/purser":                     "purser",
		"/usr/local/bin/kubectl-purser":    "kubectl purser",
		"kubectl-purser":                   "kubectl purser",
		`C:\bin\kubectl-purser.exe`:        "purser", // a Windows path is not split on Linux
		"/home/u/.krew/bin/kubectl-purser": "kubectl purser",
		"/tmp/go-build1/exe/purser-dev":    "purser",
	}
	for arg0, want := range tests {
		if got := DisplayName(arg0); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", arg0, got, want)
		}
	}
}

// As a kubectl plugin, every usage line reads as the user types it.
func TestPluginHelp(t *testing.T) {
	t.Parallel()
	help := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		if err := Run(t.Context(), streams, args, cli.DisplayName(DisplayName("/usr/local/bin/kubectl-purser"))); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	root := help("--help")
	for _, want := range []string{"kubectl purser [command]", `Use "kubectl purser [command] --help"`} {
		if !strings.Contains(root, want) {
			t.Errorf("root help lacks %q:\n%s", want, root)
		}
	}
	if audit := help("audit", "--help"); !strings.Contains(audit, "kubectl purser audit") {
		t.Errorf("audit help lacks %q:\n%s", "kubectl purser audit", audit)
	}
}
