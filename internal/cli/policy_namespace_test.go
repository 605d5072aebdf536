package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestNamespaceRefusalNamesTheCommand: a subcommand that refuses -n is
// named by its whole path (purser policy lint), not its last word, which
// names another command or none.
func TestNamespaceRefusalNamesTheCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "lint", "-n", "shop", "policy.yaml"}, "-n shop: purser policy lint does not narrow to a namespace"},
		{[]string{"phase", "status", "--demo", "-n", "shop"}, "-n shop: purser phase status does not narrow to a namespace"},
		{[]string{"plan", "--demo", "-n", "shop"}, "-n shop: purser plan does not narrow to a namespace"},
	} {
		var out, errOut bytes.Buffer
		root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		root.SetArgs(tc.args)
		err := root.ExecuteContext(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, DisplayName("kubectl purser"))
	root.SetArgs([]string{"policy", "lint", "-n", "shop", "policy.yaml"})
	if err := root.ExecuteContext(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "-n shop: kubectl purser policy lint does not") {
		t.Errorf("as a kubectl plugin: got %v", err)
	}
}
