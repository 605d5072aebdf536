package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
)

// generator is a generator with a file of its own: it returns objects to
// print or write, or a whole tree for --out.
type generator struct {
	help string
	run  func(ctx context.Context, o *GenerateOptions, env *action.Env, in govern.Input, warn func(string, ...any)) ([]govern.Object, []manifest.File, error)
}

func generatorNames() []string {
	return append([]string{generateNamespaces, generateNetworkPolicies, generateQuotas, admissionGatekeeper}, sortedNames(generators())...)
}

func generatorsHelp() string {
	var b strings.Builder
	for _, n := range sortedNames(generators()) {
		fmt.Fprintf(&b, "  %-16s %s\n", n, generators()[n].help)
	}
	return strings.TrimRight(b.String(), "\n")
}

func sortedNames(m map[string]generator) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
