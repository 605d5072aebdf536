package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// cobra's completion entry point offers the values of enumerated flags,
// the check IDs and the namespaces of the source the line names.
func TestCompletion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"audit", "-o", ""}, []string{"table", "json", "yaml", "markdown", "html", "sarif"}},
		{[]string{"cost", "-o", ""}, []string{"csv", "html"}},
		{[]string{"plan", "--strategy", ""}, []string{"empty", "product", "environment", "file"}},
		{[]string{"audit", "--fail-on", ""}, []string{"info", "warning", "error"}},
		{[]string{"audit", "--checks", ""}, []string{"service-no-endpoints", "pod-crashloop", "namespace-empty"}},
		{[]string{"cost", "--by", ""}, []string{"namespace", "team", "label="}},
		{[]string{"audit", "--demo", "-n", ""}, []string{"jaeger", "kvibe-prod", "monitoring"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			root.SetArgs(append([]string{"__complete"}, tt.args...))
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(out.String(), "\n")
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || l == w
				}
				if !found {
					t.Errorf("completions lack %q:\n%s", w, out.String())
				}
			}
		})
	}
}
