package cli

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"version"})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasPrefix(got, "purser ") || !strings.Contains(got, ", go1.") || strings.Count(got, "\n") != 1 {
		t.Fatalf("stdout %q", got)
	}
}

// version reads no cluster: its help does not list the connection flags,
// which it still accepts.
func TestVersionHelpHidesConnectionFlags(t *testing.T) {
	t.Parallel()
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs(args)
		if err := root.ExecuteContext(t.Context()); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	help := run("version", "--help")
	if !strings.Contains(help, "purser version") {
		t.Fatalf("help %q", help)
	}
	for _, flag := range []string{"--kubeconfig", "--context", "Global Flags"} {
		if strings.Contains(help, flag) {
			t.Errorf("version --help lists %s:\n%s", flag, help)
		}
	}
	if !strings.HasPrefix(run("version", "--context", "x"), "purser ") {
		t.Error("version rejects --context")
	}
	if !strings.Contains(run("--help"), "--kubeconfig") {
		t.Error("the root's help lost --kubeconfig")
	}
}
