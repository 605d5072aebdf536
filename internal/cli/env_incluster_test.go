package cli

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Without any kubeconfig the live commands refuse to guess, except in a
// pod, where client-go reads the pod's service account as kubectl does
// (the Helm chart's CronJob and `purser serve` run there).
func TestCheckKubeconfigInCluster(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	for _, tc := range []struct {
		name      string
		inCluster bool
		wantErr   string
	}{
		{"outside a pod", false, "no kubeconfig names a cluster"},
		{"in a pod", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &EnvFlags{Kube: genericclioptions.NewConfigFlags(true), inCluster: func() bool { return tc.inCluster }}
			err := f.checkKubeconfig()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused in a pod: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
