// Package cli holds purser's cobra commands. Each command has an Options
// type: Validate checks the flags without changing them, EnvFlags.Complete
// builds the action.Env they describe, and Run calls one action verb and
// hands its result to a renderer. The work itself lives in internal/action
// and the engines.
package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// ExitError carries a specific exit code (2: findings at or above
// --fail-on). Err, when set, is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// NewRoot builds the purser command tree.
func NewRoot(streams genericiooptions.IOStreams) *cobra.Command {
	kube := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:   "purser",
		Short: "Keep a Kubernetes cluster clean, cheap and governed",
		Long: `Purser reads a cluster once into a snapshot, then audits it, prices it and plans
its consolidation. It works on a live cluster (your kubeconfig, read-only), on
exported YAML or JSON, on a saved snapshot, or on the embedded BlueOcean demo.`,
		Example: `  # Summarise the embedded demo cluster
  purser snapshot --demo

  # Save a snapshot of the current cluster, then summarise it offline
  purser snapshot -o cluster.snap
  purser snapshot --from cluster.snap

  # Summarise a kubectl export
  kubectl get nodes,namespaces,pods,services,endpointslices -A -o yaml | purser snapshot --from -`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	kube.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newSnapshotCmd(streams, kube),
		newDemoCmd(streams),
		newVersionCmd(streams),
		newCostCmd(streams, kube),
		newPlanCmd(streams, kube),
		newAuditCmd(streams, kube),
	)
	return root
}
