package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/output"
)

// clusterTarget is one cluster of a command over several: the name its
// results are labelled with, its kubeconfig context, and the kubeconfig
// and price book purser.yaml may give it.
type clusterTarget struct {
	name, context, kubeconfig, priceBook string
}

// collectParallel bounds how many clusters are collected at once: each
// collection already lists several kinds in parallel.
const collectParallel = 4

// clusters returns the clusters the command covers when they are several:
// the repeated --context values, else purser.yaml's clusters section when
// no --context is given. Nil means one cluster, read exactly as before.
func (f *EnvFlags) clusters(ctx context.Context) ([]clusterTarget, error) {
	names := contextsFrom(ctx)
	if len(names) > 1 {
		if f.Demo || f.From != "" {
			return nil, fmt.Errorf("--context is given %d times: several clusters are read live, not with --demo or --from", len(names))
		}
		out := make([]clusterTarget, len(names))
		for i, n := range names {
			out[i] = clusterTarget{name: n, context: n}
		}
		return out, nil
	}
	if len(names) == 1 || f.Demo || f.From != "" || f.ConfigPath == "" {
		return nil, nil
	}
	cfg, err := action.LoadConfig(f.ConfigPath, false)
	if err != nil {
		return nil, err
	}
	switch len(cfg.Clusters) {
	case 0:
		return nil, nil
	case 1:
		if f.Kube == nil || f.Kube.Context == nil || f.Kube.KubeConfig == nil {
			return nil, nil
		}
		// One cluster listed is read as if --context had named it, with
		// its own kubeconfig and price book: a run over one cluster.
		c := cfg.Clusters[0]
		*f.Kube.Context = c.Context
		if c.Kubeconfig != "" && ptrValue(f.Kube.KubeConfig) == "" {
			*f.Kube.KubeConfig = cfg.ClusterPath(c.Kubeconfig)
		}
		if f.PriceBook == "" {
			f.PriceBook = cfg.ClusterPath(c.PriceBook)
		}
		return nil, nil
	}
	out := make([]clusterTarget, len(cfg.Clusters))
	for i, c := range cfg.Clusters {
		out[i] = clusterTarget{name: c.Label(), context: c.Context, kubeconfig: cfg.ClusterPath(c.Kubeconfig), priceBook: cfg.ClusterPath(c.PriceBook)}
	}
	return out, nil
}

// validateClusters refuses, before anything is read, the flags a command
// over several clusters cannot honour for each of them.
func (f *EnvFlags) validateClusters(targets []clusterTarget) error {
	if len(targets) < 2 || f.Kube == nil {
		return nil
	}
	for _, fl := range []struct {
		name string
		v    *string
	}{{"--server", f.Kube.APIServer}, {"--cluster", f.Kube.ClusterName}, {"--user", f.Kube.AuthInfoName}, {"--token", f.Kube.BearerToken}} {
		if ptrValue(fl.v) != "" {
			return fmt.Errorf("%s overrides one cluster's kubeconfig entry; with several contexts (%s) give each its own in the kubeconfig", fl.name, targetNames(targets))
		}
	}
	return nil
}

func targetNames(targets []clusterTarget) string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// restConfigFor builds one cluster's client config from the kubeconfig
// (its own, --kubeconfig, $KUBECONFIG or ~/.kube/config) and its
// context, with --request-timeout; each cluster gets its own client.
func (f *EnvFlags) restConfigFor(t clusterTarget) func() (*rest.Config, string, error) {
	return func() (*rest.Config, string, error) {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		switch {
		case t.kubeconfig != "":
			rules.ExplicitPath = t.kubeconfig
		case f.Kube != nil && ptrValue(f.Kube.KubeConfig) != "":
			rules.ExplicitPath = ptrValue(f.Kube.KubeConfig)
		}
		if rules.ExplicitPath != "" {
			if _, err := os.Stat(rules.ExplicitPath); err != nil {
				return nil, "", fmt.Errorf("kubeconfig %s: %w", rules.ExplicitPath, err)
			}
		}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: t.context}
		if f.Kube != nil {
			overrides.Timeout = ptrValue(f.Kube.Timeout)
		}
		raw, err := rules.Load()
		if err != nil {
			return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
		}
		if _, ok := raw.Contexts[t.context]; !ok {
			return nil, "", fmt.Errorf("context %q not found in the kubeconfig", t.context)
		}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, "", fmt.Errorf("context %s: %w", t.context, err)
		}
		return cfg, t.context, nil
	}
}

// completeClusters builds the Env of every target, in parallel, and
// prints each one's warnings prefixed with its name; the clusters that
// could not be read are returned apart, each error naming its cluster.
func (f *EnvFlags) completeClusters(ctx context.Context, streams genericiooptions.IOStreams, targets []clusterTarget) ([]action.ClusterEnv, []*action.ClusterError) {
	envToken := ""
	if f.withConfig {
		envToken = os.Getenv("DIGITALOCEAN_TOKEN")
	}
	clusters := make([]action.Cluster, len(targets))
	for i, t := range targets {
		book := f.PriceBook
		if book == "" {
			book = t.priceBook
		}
		clusters[i] = action.Cluster{Name: t.name, Options: action.Options{
			Source:     action.Source{REST: f.restConfigFor(t)},
			ConfigPath: f.ConfigPath,
			Prices:     action.PriceOptions{Book: book, DOToken: f.DOToken, EnvToken: envToken},
			Log:        loggerFrom(ctx).With("cluster", t.name),
		}}
	}
	envs, failed := action.NewEnvs(ctx, clusters, collectParallel)
	for _, e := range envs {
		for _, w := range e.Env.Warnings {
			fmt.Fprintf(streams.ErrOut, "Warning: cluster %s: %s\n", output.TerminalText(e.Name), output.TerminalText(w))
		}
	}
	return envs, failed
}

// clustersFailed reports the clusters that could not be read, once the
// others are rendered: each on stderr naming its cluster, and an error
// that exits with status 1, as kubectl does when one of several resources
// it was asked for is missing.
func clustersFailed(streams genericiooptions.IOStreams, failed []*action.ClusterError, total int) error {
	if len(failed) == 0 {
		return nil
	}
	names := make([]string, len(failed))
	for i, e := range failed {
		names[i] = e.Name
		fmt.Fprintf(streams.ErrOut, "Error: %s\n", output.TerminalText(e.Error()))
	}
	return &ExitError{Code: 1, Err: fmt.Errorf("%d of %d clusters could not be read: %s", len(failed), total, strings.Join(names, ", "))}
}

// allFailed is the error of a command none of whose clusters could be read.
func allFailed(failed []*action.ClusterError) error {
	errs := make([]error, len(failed))
	for i, e := range failed {
		errs[i] = e
	}
	return errors.Join(errs...)
}
