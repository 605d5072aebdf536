// Package cli holds purser's cobra commands. Each command has an Options
// type: Validate checks the flags without changing them, EnvFlags.Complete
// builds the action.Env they describe, and Run calls one action verb and
// hands its result to a renderer. The work itself lives in internal/action
// and the engines.
package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/logging"
	"github.com/purserhq/purser/internal/output"
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

// RootOption adjusts the command tree NewRoot builds.
type RootOption func(*rootOptions)

type rootOptions struct {
	onLogger    func(l *slog.Logger, verbosity int) error
	displayName string
}

// OnLogger has f called with the logger and the -v verbosity once the
// flags are parsed, before the command runs. The process's entry point
// uses it to route klog, whose state is process-wide; NewRoot itself
// leaves klog alone so that tests can run commands in parallel.
func OnLogger(f func(l *slog.Logger, verbosity int) error) RootOption {
	return func(o *rootOptions) { o.onLogger = f }
}

// DisplayName has help and usage name the program as name, "kubectl
// purser" when kubectl runs purser as its plugin, while the command keeps
// its name "purser" (cobra takes a command's name from the first word of
// Use, so Use itself cannot say "kubectl purser").
func DisplayName(name string) RootOption {
	return func(o *rootOptions) { o.displayName = name }
}

// NewRoot builds the purser command tree. Before any command runs, the
// root puts the logger -v asks for into the command's context (WithLogger):
// commands take it from there and pass it on. A subcommand must not set
// PersistentPreRunE, which would replace the root's (cobra runs only the
// nearest one).
func NewRoot(streams genericiooptions.IOStreams, opts ...RootOption) *cobra.Command {
	var ro rootOptions
	for _, o := range opts {
		o(&ro)
	}
	kube := genericclioptions.NewConfigFlags(true)
	verbosity := 0
	root := &cobra.Command{
		Use:   "purser",
		Short: "Keep a Kubernetes cluster clean, cheap and governed",
		Long: `Purser reads a cluster once into a snapshot, then audits it, prices it and plans
its consolidation. It works on a live cluster (your kubeconfig, read-only), on
exported YAML or JSON, on a saved snapshot, or on the embedded BlueOcean demo.

Exit codes: 0 ok, 1 error, 2 findings at or above --fail-on, 130 interrupted
by Ctrl-C (SIGINT), 143 stopped by SIGTERM. The first signal stops the command
at its next step, leaving the files it was writing as they were; a second one
exits at once.`,
		Example: `  # Summarise the embedded demo cluster
  purser snapshot --demo

  # Save a snapshot of the current cluster, then summarise it offline
  purser snapshot save cluster.snap
  purser snapshot --from cluster.snap

  # Summarise a kubectl export
  kubectl get nodes,namespaces,pods,services,endpointslices -A -o yaml | purser snapshot --from -`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if ro.displayName != "" {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: ro.displayName}
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	kube.AddFlags(root.PersistentFlags())
	contexts := repeatableContext(root.PersistentFlags(), kube)
	// kubectl's -v; ConfigFlags defines no -v of its own.
	root.PersistentFlags().IntVarP(&verbosity, "v", "v", 0,
		"log verbosity on stderr, as in kubectl: 0 warnings, 1 info, 2 and more debug, 6 each API request, 8 request and response bodies")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if verbosity < 0 {
			return fmt.Errorf("-v %d: verbosity is 0 or more", verbosity)
		}
		// -n is honoured or refused, never ignored.
		if ns := *kube.Namespace; ns != "" && cmd.Annotations[namespaceAnnotation] != "narrows" {
			return fmt.Errorf("-n %s: %s does not narrow to a namespace (audit and cost do)", output.TerminalText(ns), cmd.CommandPath())
		}
		l := logging.New(streams.ErrOut, verbosity)
		if ro.onLogger != nil {
			if err := ro.onLogger(l, verbosity); err != nil {
				return err
			}
		}
		cmd.SetContext(withContexts(WithLogger(cmd.Context(), l), contexts))
		return nil
	}
	_ = root.RegisterFlagCompletionFunc("namespace", completeNamespaces(kube))
	_ = root.RegisterFlagCompletionFunc("context", completeContexts(kube))
	root.AddCommand(
		newSnapshotCmd(streams, kube),
		newDemoCmd(streams),
		newVersionCmd(streams),
		newCostCmd(streams, kube),
		newPlanCmd(streams, kube),
		newAuditCmd(streams, kube),
		newConfigCmd(streams, kube),
		newApplyCmd(streams, kube), newRollbackCmd(streams, kube),
		newFixCmd(streams, kube),
		newGenerateCmd(streams, kube), newPolicyCmd(streams, kube),
		newDiffCmd(streams),
		newServeCmd(streams, kube),
		newPhaseCmd(streams, kube),
		newDownscaleCmd(streams, kube),
		newBudgetCmd(streams, kube),
		newRightsizeCmd(streams, kube),
	)
	return root
}
