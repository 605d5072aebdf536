package cli

import (
	"sort"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// namespaceAnnotation marks the commands that narrow their output to -n;
// the root refuses -n for the others.
const namespaceAnnotation = "purser.dev/namespace"

// completeNamespaces offers the namespaces of the source the command line
// names: the demo, a --from file, or the live cluster, where one LIST of
// namespaces is enough (a whole snapshot would be too slow for a shell).
func completeNamespaces(kube *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var names []string
		demo, _ := cmd.Flags().GetBool("demo")
		from, _ := cmd.Flags().GetString("from")
		switch {
		case demo:
			if s, err := scenario.DemoSnapshot(); err == nil {
				names = namespaceNames(s)
			}
		case from != "" && from != "-":
			if s, err := snapshot.Load(cmd.Context(), from, nil); err == nil {
				names = namespaceNames(s)
			}
		default:
			cfg, err := kube.ToRESTConfig()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			list, err := cs.CoreV1().Namespaces().List(cmd.Context(), metav1.ListOptions{})
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			for _, n := range list.Items {
				names = append(names, n.Name)
			}
			sort.Strings(names)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

func namespaceNames(s *snapshot.Snapshot) []string {
	names := make([]string, 0, len(s.Namespaces))
	for _, n := range s.Namespaces {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	return names
}

// completeContexts offers the kubeconfig's contexts.
func completeContexts(kube *genericclioptions.ConfigFlags) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		raw, err := kube.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		names := make([]string, 0, len(raw.Contexts))
		for name := range raw.Contexts {
			names = append(names, name)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
